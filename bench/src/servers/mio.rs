//! The limit: a single-threaded mio loop with no executor, no tasks and no wakers,
//! doing the same syscalls an echo server must do. Edge-triggered, so each
//! connection is driven until `WouldBlock` on every event.

use std::io::{self, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::BUF_SIZE;

/// The listener's token; connection `i` uses `Token(i)` for its slab slot.
const LISTENER: Token = Token(usize::MAX);

/// One connection: its socket and the echo bytes not yet written back.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// `buf[written..filled]` still has to go out before reading more.
    filled: usize,
    written: usize,
}

/// Serve forever.
pub(super) fn serve(listener: std::net::TcpListener) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            // A signal (a tracer attaching, say) is no reason to stop serving.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            if event.token() == LISTENER {
                accept_all(&poll, &listener, &mut conns, &mut free)?;
                continue;
            }
            let slot = event.token().0;
            let alive = match conns.get_mut(slot).and_then(Option::as_mut) {
                Some(conn) => drive(conn).unwrap_or(false),
                None => continue,
            };
            if !alive {
                if let Some(mut conn) = conns[slot].take() {
                    // Deregistering a socket about to close cannot usefully fail.
                    let _ = poll.registry().deregister(&mut conn.stream);
                }
                free.push(slot);
            }
        }
    }
}

/// Accept until `WouldBlock`, registering each connection in a free slot.
fn accept_all(
    poll: &Poll,
    listener: &TcpListener,
    conns: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
) -> io::Result<()> {
    loop {
        let (mut stream, _) = match listener.accept() {
            Ok(pair) => pair,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        stream.set_nodelay(true)?;
        let slot = free.pop().unwrap_or_else(|| {
            conns.push(None);
            conns.len() - 1
        });
        poll.registry().register(
            &mut stream,
            Token(slot),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let mut conn = Conn {
            stream,
            buf: vec![0_u8; BUF_SIZE],
            filled: 0,
            written: 0,
        };
        // Data may already be waiting; the edge for it may have come before registration.
        if drive(&mut conn).unwrap_or(false) {
            conns[slot] = Some(conn);
        } else {
            free.push(slot);
        }
    }
}

/// Echo as much as possible without blocking. Returns false when the connection is done.
fn drive(conn: &mut Conn) -> io::Result<bool> {
    loop {
        while conn.written < conn.filled {
            match conn.stream.write(&conn.buf[conn.written..conn.filled]) {
                Ok(0) => return Ok(false),
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        conn.written = 0;
        conn.filled = 0;
        match conn.stream.read(&mut conn.buf) {
            Ok(0) => return Ok(false),
            Ok(n) => conn.filled = n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
