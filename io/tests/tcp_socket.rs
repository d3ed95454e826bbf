//! `TcpSocket` and the TCP socket options: two listeners on one port with
//! SO_REUSEPORT, bind-before-connect, buffer sizes, and the linger rules of
//! `TcpStream` (a non-zero linger refused, a zero linger resets).

mod util;

use std::cell::{Cell, RefCell};
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use ember_io::net::{TcpListener, TcpSocket, TcpStream};
use futures_util::future::{select, try_join, Either};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_error_kind, run};

/// Connections spread over the two listeners.
const CONNECTIONS: usize = 64;

fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseport(true)?;
    assert!(socket.reuseport()?);
    socket.bind(addr)?;
    socket.listen(128)
}

/// Accepts forever, counting, acknowledging each connection with a byte and
/// keeping it open.
async fn accept_loop(
    listener: &TcpListener,
    accepted: &Cell<usize>,
    servers: &RefCell<Vec<TcpStream>>,
) -> io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        accepted.set(accepted.get() + 1);
        stream.write_all(b"k").await?;
        servers.borrow_mut().push(stream);
    }
}

#[test]
fn two_listeners_share_a_port_with_reuseport() {
    run(async {
        let first = reuseport_listener("127.0.0.1:0".parse().unwrap())?;
        let addr = first.local_addr()?;
        let second = reuseport_listener(addr)?;
        assert_eq!(second.local_addr()?, addr);
        // Without SO_REUSEPORT on the newcomer, the port is taken.
        let third = TcpSocket::new_v4()?;
        assert_error_kind(third.bind(addr), ErrorKind::AddrInUse);

        let accepted = [Cell::new(0), Cell::new(0)];
        let servers = RefCell::new(Vec::new());
        let servers_side = pin!(try_join(
            accept_loop(&first, &accepted[0], &servers),
            accept_loop(&second, &accepted[1], &servers),
        ));
        let clients = async {
            for _ in 0..CONNECTIONS {
                let mut client = TcpStream::connect(addr).await?;
                let mut ack = [0; 1];
                client.read_exact(&mut ack).await?; // accepted by one of them
            }
            io::Result::Ok(())
        };
        match select(servers_side, pin!(clients)).await {
            Either::Left((result, _)) => result.map(|_| ())?,
            Either::Right((result, _)) => result?,
        }
        let (a, b) = (accepted[0].get(), accepted[1].get());
        assert_eq!(a + b, CONNECTIONS);
        // Linux hashes each connection's addresses to one listener: with 64
        // connections from 64 ports, both get some.
        #[cfg(target_os = "linux")]
        assert!(
            a > 0 && b > 0,
            "one listener got every connection: {a} + {b}"
        );
        Ok(())
    });
}

#[test]
fn bind_before_connect_chooses_the_source_address() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind("127.0.0.1:0".parse().unwrap())?;
        let from = socket.local_addr()?;
        assert_ne!(from.port(), 0);
        let mut client = socket.connect(listener.local_addr()?).await?;
        let (mut server, peer) = listener.accept().await?;
        assert_eq!(peer, from);
        client.write_all(b"hi").await?;
        let mut buf = [0; 2];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hi");
        Ok(())
    });
}

#[test]
fn connect_refused_and_listen_without_bind() {
    run(async {
        // A port nobody listens on: bind one, note it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let refused = TcpSocket::new_v4()?
            .connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .await;
        assert_error_kind(refused, ErrorKind::ConnectionRefused);
        // listen() without bind() picks an ephemeral port.
        let listener = TcpSocket::new_v4()?.listen(16)?;
        assert_ne!(listener.local_addr()?.port(), 0);
        Ok(())
    });
}

#[test]
fn options_read_back() -> io::Result<()> {
    let socket = TcpSocket::new_v4()?;
    socket.set_keepalive(true)?;
    assert!(socket.keepalive()?);
    socket.set_reuseaddr(true)?;
    assert!(socket.reuseaddr()?);
    socket.set_nodelay(true)?;
    assert!(socket.nodelay()?);
    socket.set_send_buffer_size(100_000)?;
    socket.set_recv_buffer_size(100_000)?;
    // Linux doubles what it is given, within its limits.
    assert!(socket.send_buffer_size()? >= 50_000);
    assert!(socket.recv_buffer_size()? >= 50_000);
    assert!(socket.take_error()?.is_none());
    if let Ok(v6) = TcpSocket::new_v6() {
        v6.bind("[::1]:0".parse().unwrap()).or_else(|e| {
            // No IPv6 on loopback here: nothing to check.
            if e.kind() == ErrorKind::AddrNotAvailable {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    }
    Ok(())
}

#[test]
fn a_non_zero_linger_is_refused_everywhere() {
    run(async {
        let socket = TcpSocket::new_v4()?;
        assert_error_kind(
            socket.set_linger(Some(Duration::from_secs(3))),
            ErrorKind::InvalidInput,
        );
        socket.set_linger(None)?;
        assert_eq!(socket.linger()?, None);

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stream = TcpStream::connect(listener.local_addr()?).await?;
        assert_error_kind(
            stream.set_linger(Some(Duration::from_millis(1))),
            ErrorKind::InvalidInput,
        );
        assert_eq!(stream.linger()?, None, "a refused linger is not half set");
        stream.set_linger(Some(Duration::ZERO))?;
        assert_eq!(stream.linger()?, Some(Duration::ZERO));
        Ok(())
    });
}

#[test]
fn zero_linger_closes_with_a_reset() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        server.set_zero_linger()?;
        assert_eq!(server.linger()?, Some(Duration::ZERO));
        assert!(server.take_error()?.is_none());
        drop(server);
        let mut buf = [0; 8];
        assert_error_kind(client.read(&mut buf).await, ErrorKind::ConnectionReset);
        Ok(())
    });
}

#[test]
fn a_graceful_close_is_a_fin_not_a_reset() {
    // The contrast to the test above: the default closes with a FIN.
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        drop(server);
        assert_eq!(client.read(&mut [0; 8]).await?, 0);
        Ok(())
    });
}
