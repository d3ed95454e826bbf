//! Unix-domain sockets over real sockets: stream echo of 1 MiB with a
//! half-close, pairs, split halves, abstract names, peer credentials,
//! datagrams (bound, unbound, pairs, truncation), send_file, and futures
//! dropped mid-operation.

mod util;

use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind};
use std::net::Shutdown;
use std::path::PathBuf;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use ember_io::net::{UnixDatagram, UnixListener, UnixStream};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_error_kind, assert_same_bytes, child, join_independent, pattern, run};

const MIB: usize = 1024 * 1024;

/// A fresh directory for socket files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ember-unix-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Polls `future` once from inside a task: `Some(output)` if it completed.
async fn poll_once<F: Future>(future: Pin<&mut F>) -> Option<F::Output> {
    let mut future = Some(future);
    poll_fn(|cx| {
        let future = future.take().expect("polled once");
        Poll::Ready(match future.poll(cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

/// Echoes until end of stream, then closes the write side.
async fn echo(mut stream: UnixStream) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.close().await;
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// Sends `data` through an echo server listening on `listener` and checks
/// what comes back after the half-close.
async fn echo_through(
    listener: &UnixListener,
    connect_to: &std::path::Path,
    data: &[u8],
) -> io::Result<()> {
    join_independent(vec![
        child(async {
            let (stream, _addr) = listener.accept().await?;
            echo(stream).await
        }),
        child(async {
            let mut stream = UnixStream::connect(connect_to).await?;
            let (mut reader, mut writer) = UnixStream::split(&mut stream);
            let mut received = Vec::with_capacity(data.len());
            join_independent(vec![
                child(async {
                    for chunk in data.chunks(7919) {
                        writer.write_all(chunk).await?;
                    }
                    writer.close().await // half-close: the server sees the end
                }),
                child(async {
                    reader.read_to_end(&mut received).await?;
                    Ok(())
                }),
            ])
            .await?;
            assert_same_bytes(&received, data);
            Ok(())
        }),
    ])
    .await
}

#[test]
fn echoes_1_mib_with_a_half_close() {
    let dir = TempDir::new();
    let path = dir.path("echo.sock");
    run(async {
        let listener = UnixListener::bind(&path)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
        echo_through(&listener, &path, &pattern(MIB, 0x11)).await
    });
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn abstract_names_leave_no_file() {
    run(async {
        let name = format!("\0ember-test-abstract-{}", std::process::id());
        let listener = UnixListener::bind(&name)?;
        {
            use std::os::linux::net::SocketAddrExt;
            let addr = listener.local_addr()?;
            assert_eq!(addr.as_abstract_name(), Some(name.as_bytes()[1..].as_ref()));
        }
        echo_through(&listener, name.as_ref(), &pattern(100_000, 3)).await?;
        // Binding it twice fails while the first is alive...
        assert_error_kind(UnixListener::bind(&name), ErrorKind::AddrInUse);
        drop(listener);
        // ...and the name is free again once it is gone: no file to remove.
        drop(UnixListener::bind(&name)?);
        Ok(())
    });
}

#[test]
fn connect_errors() {
    let dir = TempDir::new();
    run(async {
        assert_error_kind(
            UnixStream::connect(dir.path("nothing-here")).await,
            ErrorKind::NotFound,
        );
        // A socket file whose listener is gone.
        let stale = dir.path("stale.sock");
        drop(UnixListener::bind(&stale)?);
        assert_error_kind(
            UnixStream::connect(&stale).await,
            ErrorKind::ConnectionRefused,
        );
        // An existing path cannot be bound.
        let listener_path = dir.path("taken.sock");
        let _listener = UnixListener::bind(&listener_path)?;
        assert_error_kind(UnixListener::bind(&listener_path), ErrorKind::AddrInUse);
        Ok(())
    });
}

#[test]
fn pairs_talk_both_ways_and_know_their_peer() {
    run(async {
        let (mut a, mut b) = UnixStream::pair()?;
        a.write_all(b"from a").await?;
        b.write_all(b"from b").await?;
        let mut buf = [0; 6];
        b.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"from a");
        a.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"from b");

        let cred = a.peer_cred()?;
        // SAFETY: getuid and getgid have no preconditions and cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!((cred.uid(), cred.gid()), (uid, gid));
        #[cfg(target_os = "linux")]
        assert_eq!(cred.pid(), Some(std::process::id() as libc::pid_t));
        assert!(a.local_addr()?.is_unnamed() && a.peer_addr()?.is_unnamed());
        assert!(a.take_error()?.is_none());
        Ok(())
    });
}

#[test]
fn shutdown_write_and_poll_close_half_close() {
    run(async {
        let (mut a, mut b) = UnixStream::pair()?;
        a.shutdown(Shutdown::Write)?;
        assert_eq!(b.read(&mut [0; 8]).await?, 0);
        b.write_all(b"reply").await?;
        b.close().await?;
        b.close().await?; // idempotent
        let mut got = Vec::new();
        a.read_to_end(&mut got).await?;
        assert_eq!(got, b"reply");
        assert!(a.write_all(b"x").await.is_err(), "the write side is shut");
        Ok(())
    });
}

#[test]
fn owned_halves_move_apart_and_reunite() {
    run(async {
        let (a, mut b) = UnixStream::pair()?;
        let (mut read, mut write) = a.into_split();
        join_independent(vec![
            child(async {
                write.write_all(&pattern(300_000, 5)).await?;
                Ok(())
            }),
            child(async {
                let mut got = vec![0; 300_000];
                b.read_exact(&mut got).await?;
                assert_same_bytes(&got, &pattern(300_000, 5));
                b.write_all(b"back").await?;
                Ok(())
            }),
        ])
        .await?;
        let mut buf = [0; 4];
        read.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"back");
        assert!(read.peer_addr()?.is_unnamed());
        let a = read.reunite(write).expect("halves of one stream");
        // Dropping an owned write half shuts the write side down.
        let (_read, write) = a.into_split();
        drop(write);
        assert_eq!(b.read(&mut buf).await?, 0);
        Ok(())
    });
}

#[test]
fn try_read_would_block_then_readable_waits() {
    run(async {
        let (mut a, b) = UnixStream::pair()?;
        let mut buf = [0; 16];
        assert_error_kind(b.try_read(&mut buf), ErrorKind::WouldBlock);
        let mut readable = pin!(b.readable());
        assert!(poll_once(readable.as_mut()).await.is_none());
        a.write_all(b"x").await?;
        readable.await?;
        assert_eq!(b.try_read(&mut buf)?, 1);
        // The short read cleared the readiness: `readable` waits again.
        let mut readable = pin!(b.readable());
        assert!(poll_once(readable.as_mut()).await.is_none());
        Ok(())
    });
}

#[test]
fn std_round_trips() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let a = UnixStream::try_from(a.into_std()?)?;
        let mut a = a;
        let mut b = UnixStream::from_std(b.into_std()?)?;
        a.write_all(b"still works").await?;
        let mut buf = [0; 11];
        b.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"still works");
        Ok(())
    });
}

#[test]
fn a_dropped_accept_loses_no_connection() {
    let dir = TempDir::new();
    let path = dir.path("accept.sock");
    run(async {
        let listener = UnixListener::bind(&path)?;
        {
            let mut accept = pin!(listener.accept());
            assert!(poll_once(accept.as_mut()).await.is_none());
        }
        let mut client = UnixStream::connect(&path).await?;
        client.write_all(b"hello").await?;
        let (mut server, _) = listener.accept().await?;
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hello");
        Ok(())
    });
}

#[test]
fn poll_accept_accepts() {
    let dir = TempDir::new();
    let path = dir.path("poll.sock");
    run(async {
        let listener = UnixListener::bind(&path)?;
        let _client = UnixStream::connect(&path).await?;
        let (server, addr) = poll_fn(|cx| listener.poll_accept(cx)).await?;
        assert!(addr.is_unnamed());
        assert_eq!(server.local_addr()?.as_pathname(), Some(path.as_path()));
        let std_listener = listener.into_std()?;
        let listener = UnixListener::from_std(std_listener)?;
        let _client = UnixStream::connect(&path).await?;
        listener.accept().await?;
        Ok(())
    });
}

#[test]
fn datagrams_between_bound_sockets() {
    let dir = TempDir::new();
    let (server_path, client_path) = (dir.path("server"), dir.path("client"));
    run(async {
        let server = UnixDatagram::bind(&server_path)?;
        let client = UnixDatagram::bind(&client_path)?;
        let mut buf = vec![0; 65_536];
        for i in 0..200 {
            let data = pattern((i * 331) % 4000, i as u64);
            assert_eq!(client.send_to(&data, &server_path).await?, data.len());
            let (n, from) = server.recv_from(&mut buf).await?;
            assert_eq!(from.as_pathname(), Some(client_path.as_path()));
            assert_eq!(&buf[..n], &data[..]);
            server.send_to(&buf[..n], &client_path).await?;
            let n = client.recv(&mut buf).await?;
            assert_eq!(&buf[..n], &data[..]);
        }
        Ok(())
    });
}

#[test]
fn unbound_and_connected_datagrams() {
    let dir = TempDir::new();
    let path = dir.path("server");
    run(async {
        let server = UnixDatagram::bind(&path)?;
        let client = UnixDatagram::unbound()?;
        assert!(client.local_addr()?.is_unnamed());
        assert_error_kind(client.send(b"nowhere").await, ErrorKind::NotConnected);
        client.connect(&path)?;
        assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
        client.send(b"one").await?;
        client.writable().await?;
        assert_eq!(client.try_send(b"two")?, 3);
        let mut buf = [0; 8];
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from.is_unnamed()), (&b"one"[..], true));
        server.readable().await?;
        let (n, _) = server.try_recv_from(&mut buf)?;
        assert_eq!(&buf[..n], b"two");
        assert_error_kind(server.try_recv(&mut buf), ErrorKind::WouldBlock);
        Ok(())
    });
}

#[test]
fn datagram_pairs_keep_boundaries_and_truncate() {
    run(async {
        let (a, b) = UnixDatagram::pair()?;
        let long = pattern(1000, 9);
        a.send(&long).await?;
        a.send(b"short").await?;
        let mut small = [0; 10];
        assert_eq!(b.recv(&mut small).await?, 10);
        assert_eq!(small, long[..10]);
        let mut buf = [0; 64];
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"short");
        Ok(())
    });
}

#[test]
fn a_full_datagram_receiver_makes_the_sender_wait_not_drop() {
    run(async {
        let (a, b) = UnixDatagram::pair()?;
        // Fill b's queue until a would block.
        let mut sent = 0u32;
        loop {
            a.writable().await?;
            match a.try_send(&sent.to_le_bytes()) {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        // The next send waits; draining makes room, and nothing was lost.
        join_independent(vec![
            child(async {
                a.send(&sent.to_le_bytes()).await?;
                Ok(())
            }),
            child(async {
                let mut buf = [0; 4];
                for i in 0..=sent {
                    assert_eq!(b.recv(&mut buf).await?, 4);
                    assert_eq!(u32::from_le_bytes(buf), i);
                }
                Ok(())
            }),
        ])
        .await
    });
}

#[test]
fn send_file_over_a_unix_stream() {
    let dir = TempDir::new();
    let path = dir.path("file");
    let data = pattern(3 * MIB, 42);
    std::fs::write(&path, &data).expect("write the file");
    let file = std::fs::File::open(&path).expect("open the file");
    run(async {
        let (mut a, mut b) = UnixStream::pair()?;
        let mut received = Vec::new();
        join_independent(vec![
            child(async {
                assert_eq!(
                    a.send_file(&file, 1000, 2 * MIB as u64).await?,
                    2 * MIB as u64
                );
                a.close().await
            }),
            child(async {
                b.read_to_end(&mut received).await?;
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&received, &data[1000..1000 + 2 * MIB]);
        Ok(())
    });
}

#[test]
fn dropped_stream_writes_lose_nothing_that_was_reported() {
    run(async {
        let (mut a, mut b) = UnixStream::pair()?;
        let data = pattern(4 * MIB, 8);
        let (mut pos, mut dropped) = (0, 0);
        let mut received = Vec::with_capacity(data.len());
        let mut buf = vec![0; 256 * 1024];
        while pos < data.len() {
            {
                let mut write = pin!(a.write(&data[pos..]));
                match poll_once(write.as_mut()).await {
                    Some(n) => pos += n?, // reported written
                    None => dropped += 1, // dropped while waiting for room
                }
            }
            if received.len() < pos {
                // Make room: take some of what was written.
                let n = b.read(&mut buf).await?;
                received.extend_from_slice(&buf[..n]);
            } else {
                // Nothing in flight: only the reactor's word is missing.
                a.writable().await?;
            }
        }
        a.close().await?;
        b.read_to_end(&mut received).await?;
        assert!(dropped > 0, "no write ever waited: the test proves nothing");
        assert_same_bytes(&received, &data);
        Ok(())
    });
}

#[test]
fn a_dropped_datagram_send_sends_nothing() {
    run(async {
        let (a, b) = UnixDatagram::pair()?;
        let mut sent = 0u32;
        loop {
            a.writable().await?;
            match a.try_send(&sent.to_le_bytes()) {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        {
            let mut send = pin!(a.send(b"dropped!"));
            assert!(
                poll_once(send.as_mut()).await.is_none(),
                "the queue is full"
            );
        }
        let mut buf = [0; 16];
        for i in 0..sent {
            let n = b.recv(&mut buf).await?;
            assert_eq!(&buf[..n], &i.to_le_bytes());
        }
        // Room again: the next datagram is the next one sent, not the dropped one.
        a.send(b"after").await?;
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"after");
        Ok(())
    });
}
