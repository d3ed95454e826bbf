//! TCP on real loopback sockets, through the example echo server.

mod util;

#[allow(dead_code)]
#[path = "../examples/echo.rs"]
mod echo_example;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use futures_util::future::join;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;
use util::{random_bytes, watchdog};

/// Starts the example's echo server on an ephemeral port of `ip`.
async fn start_echo_server(ip: &str) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((ip, 0)).await?;
    let addr = listener.local_addr()?;
    ember::spawn(echo_example::serve(listener));
    Ok(addr)
}

/// Sends `data` through an echo server at `addr`, writing and reading at the
/// same time so neither side's socket buffer can fill up and deadlock, and
/// returns what came back.
async fn echo_through(addr: SocketAddr, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let write = async {
        writer.write_all(data).await?;
        writer.close().await
    };
    let mut echoed = Vec::with_capacity(data.len());
    let read = reader.read_to_end(&mut echoed);
    let (written, read) = join(write, read).await;
    written?;
    read?;
    Ok(echoed)
}

per_flavor! {
    #[test]
    fn echoes_4_mib_of_random_bytes() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let addr = start_echo_server("127.0.0.1").await.unwrap();
            let data = random_bytes(0x5eed, 4 << 20);
            let echoed = echo_through(addr, &data).await.unwrap();
            assert_eq!(echoed.len(), data.len());
            assert!(echoed == data, "echoed bytes differ from those sent");
        });
    }

    #[test]
    fn echoes_over_ipv6_loopback() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let addr = match start_echo_server("::1").await {
                Ok(addr) => addr,
                // A machine without IPv6 on loopback: nothing to test here.
                Err(e) if e.kind() == ErrorKind::AddrNotAvailable => return,
                Err(e) => panic!("bind [::1]: {e}"),
            };
            let data = random_bytes(6, 100_000);
            assert!(echo_through(addr, &data).await.unwrap() == data);
        });
    }

    #[test]
    fn five_hundred_concurrent_connections_each_echo_64_kib() {
        const CONNECTIONS: usize = 500;
        let _guard = watchdog(Duration::from_secs(120));
        block_on(async {
            let addr = start_echo_server("127.0.0.1").await.unwrap();
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|i| {
                    ember::spawn(async move {
                        let data = random_bytes(i as u64 + 1, 64 * 1024);
                        let echoed = echo_through(addr, &data).await?;
                        std::io::Result::Ok(echoed == data)
                    })
                })
                .collect();
            for (i, client) in clients.into_iter().enumerate() {
                let same = client.await.unwrap().unwrap();
                assert!(same, "connection {i} got different bytes back");
            }
        });
    }

    #[test]
    fn half_close_still_gets_the_reply() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = ember::spawn(async move {
                let (mut socket, _) = listener.accept().await?;
                let mut request = Vec::new();
                // EOF arrives only because the client shut its write side down.
                socket.read_to_end(&mut request).await?;
                let reply = format!("got {} bytes", request.len());
                socket.write_all(reply.as_bytes()).await?;
                socket.close().await
            });

            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(&[7u8; 10_000]).await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut reply = String::new();
            client.read_to_string(&mut reply).await.unwrap();
            assert_eq!(reply, "got 10000 bytes");
            server.await.unwrap().unwrap();
        });
    }

    #[test]
    fn peer_reset_is_an_error_not_a_hang() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server_side, _) = listener.accept().await.unwrap();
            client.write_all(b"two").await.unwrap();
            let mut first = [0u8; 1];
            server_side.read_exact(&mut first).await.unwrap();
            // Closing a socket with unread bytes makes the kernel send a reset.
            drop(server_side);

            let mut buf = [0u8; 64];
            let outcome = loop {
                match client.read(&mut buf).await {
                    Ok(0) => break Ok(0),
                    Ok(_) => continue,
                    Err(e) => break Err(e),
                }
            };
            let err = outcome.expect_err("a reset connection must report an error");
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
            // Writing after the reset fails too, rather than blocking.
            let write_err = client
                .write_all(b"more")
                .await
                .expect_err("write after reset");
            assert!(
                matches!(
                    write_err.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ),
                "{write_err}"
            );
        });
    }

    #[test]
    fn connect_to_a_closed_port_is_refused() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let addr = {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                listener.local_addr().unwrap()
            };
            let err = TcpStream::connect(addr).await.expect_err("nobody listens");
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        });
    }

    #[test]
    fn connect_accepts_host_port_strings_and_tuples() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
            let port = listener.local_addr().unwrap().port();
            // "localhost" may resolve to ::1 first, where nobody listens: connect
            // must go on to the next address rather than give up.
            let by_name = TcpStream::connect(format!("localhost:{port}").as_str())
                .await
                .unwrap();
            let by_str = TcpStream::connect(format!("127.0.0.1:{port}").as_str())
                .await
                .unwrap();
            let by_tuple = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            for stream in [by_name, by_str, by_tuple] {
                assert_eq!(stream.peer_addr().unwrap().port(), port);
            }
        });
    }

    #[test]
    fn zero_length_reads_and_writes_complete_at_once() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, _server_side) = util::tcp_pair().await;
            // Nothing was sent, so a non-empty read would wait forever; an empty
            // one must not.
            assert_eq!(client.read(&mut []).await.unwrap(), 0);
            assert_eq!(client.write(&[]).await.unwrap(), 0);
        });
    }

    #[test]
    fn nodelay_ttl_and_peek() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, mut server_side) = util::tcp_pair().await;
            client.set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());
            client.set_ttl(42).unwrap();
            assert_eq!(client.ttl().unwrap(), 42);

            client.write_all(b"peek-a-boo").await.unwrap();
            let mut peeked = [0u8; 4];
            let n = server_side.peek(&mut peeked).await.unwrap();
            assert_eq!(&peeked[..n], &b"peek"[..n]);
            let mut all = [0u8; 10];
            server_side.read_exact(&mut all).await.unwrap();
            assert_eq!(&all, b"peek-a-boo");
        });
    }

    #[test]
    fn incoming_yields_each_connection() {
        use futures_util::StreamExt;
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = ember::spawn(async move {
                let mut streams = Vec::new();
                for _ in 0..3 {
                    streams.push(TcpStream::connect(addr).await?);
                }
                std::io::Result::Ok(streams)
            });
            let accepted: Vec<_> = listener.incoming().take(3).collect().await;
            assert_eq!(accepted.len(), 3);
            for stream in accepted {
                stream.unwrap();
            }
            assert_eq!(clients.await.unwrap().unwrap().len(), 3);
        });
    }

    #[test]
    fn split_halves_wake_independently() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (client, mut peer) = util::tcp_pair().await;
            let (mut reader, mut writer) = client.into_split();

            // The reader waits on its own task while the writer task sends; the
            // peer answers only after it has the whole request, so the read can
            // complete only if the writer ran while the reader was parked.
            let read_task = ember::spawn(async move {
                let mut buf = [0u8; 5];
                reader.read_exact(&mut buf).await.map(|_| buf)
            });
            let write_task = ember::spawn(async move { writer.write_all(b"ping!").await });
            let mut request = [0u8; 5];
            peer.read_exact(&mut request).await.unwrap();
            peer.write_all(b"pong!").await.unwrap();
            write_task.await.unwrap().unwrap();
            assert_eq!(&read_task.await.unwrap().unwrap(), b"pong!");
        });
    }

    #[test]
    fn borrowed_halves_read_write_peek_and_vectored() {
        use std::io::IoSlice;
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, mut server) = util::tcp_pair().await;
            let peer = client.peer_addr().unwrap();
            let (mut read, mut write) = TcpStream::split(&mut client);
            let _: &ember::net::tcp::ReadHalf<'_> = &read;
            let _: &ember::net::tcp::WriteHalf<'_> = &write;
            assert_eq!(read.peer_addr().unwrap(), peer);
            assert_eq!(write.local_addr().unwrap(), read.local_addr().unwrap());

            // One writev for all three slices, through the half.
            assert!(write.is_write_vectored());
            let parts = [IoSlice::new(b"a"), IoSlice::new(b"bc"), IoSlice::new(b"def")];
            assert_eq!(write.write_vectored(&parts).await.unwrap(), 6);
            write.writable().await.unwrap();
            assert_eq!(write.try_write(b"g").unwrap(), 1);
            let mut got = [0; 7];
            server.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"abcdefg");

            server.write_all(b"pong").await.unwrap();
            let mut buf = [0; 4];
            let n = read.peek(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &b"pong"[..n]);
            read.readable().await.unwrap();
            let n = read.try_read(&mut buf).unwrap();
            read.read_exact(&mut buf[n..]).await.unwrap();
            assert_eq!(&buf, b"pong");

            // `poll_close` of the write half shuts down the write side.
            write.close().await.unwrap();
            let mut rest = Vec::new();
            server.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        });
    }

    #[test]
    fn owned_halves_move_to_tasks_and_reunite() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (client, mut server) = util::tcp_pair().await;
            let local = client.local_addr().unwrap();
            let (mut read, mut write) = client.into_split();
            assert_eq!(read.local_addr().unwrap(), local);
            assert_eq!(write.local_addr().unwrap(), local);
            let reader = ember::spawn(async move {
                let mut buf = [0; 4];
                read.read_exact(&mut buf).await.map(|_| (read, buf))
            });
            let writer = ember::spawn(async move { write.write_all(b"ping").await.map(|_| write) });
            let mut got = [0; 4];
            server.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"ping");
            server.write_all(b"pong").await.unwrap();
            let (read, buf) = reader.await.unwrap().unwrap();
            let write = writer.await.unwrap().unwrap();
            assert_eq!(&buf, b"pong");

            // Halves of different streams come back in the error, whole.
            let (other, _other_server) = util::tcp_pair().await;
            let (other_read, other_write) = other.into_split();
            let ember::net::tcp::ReuniteError(read, other_write) =
                read.reunite(other_write).expect_err("halves of different streams");
            let _other = other_write.reunite(other_read).expect("same stream");
            let client: TcpStream = write.reunite(read).expect("same stream");
            assert_eq!(client.local_addr().unwrap(), local);
            // Reuniting did not shut the write side down.
            let mut client = client;
            client.write_all(b"still open").await.unwrap();
            let mut got = [0; 10];
            server.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"still open");
        });
    }
}

/// `ember::io` (futures' `ReadHalf`, `WriteHalf`, `ReuniteError`, `split`)
/// and `ember::net` (TCP halves only under `ember::net::tcp`) can both be
/// glob-imported: the names no longer collide.
#[allow(unused_imports, dead_code)]
mod globs_do_not_collide {
    use ember::io::*;
    use ember::net::*;

    fn futures_halves(stream: TcpStream) -> (ReadHalf<TcpStream>, WriteHalf<TcpStream>) {
        split(stream)
    }

    fn tcp_halves(stream: TcpStream) -> (tcp::OwnedReadHalf, tcp::OwnedWriteHalf) {
        stream.into_split()
    }

    fn errors(_: ReuniteError<TcpStream>, _: tcp::ReuniteError) {}
}
