//! TCP over real loopback sockets: echo, half-close, reset, refused
//! connections, zero-length I/O, split halves, listener behaviour.

mod util;

use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use ember_io::net::{TcpListener, TcpStream};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use futures_util::StreamExt;
use util::{assert_error_kind, assert_same_bytes, child, join_independent, pattern, run};

const MIB: usize = 1024 * 1024;

/// Echoes everything read from `stream` back until end of stream, then
/// shuts down the write side.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.close().await;
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// Connects to a listener on `addr`, sends `data` while reading the echo
/// concurrently (so neither side's buffers can deadlock), and checks the
/// echo byte for byte.
async fn echo_round_trip(listen_addr: &str, data: &[u8]) -> io::Result<()> {
    let listener = TcpListener::bind(listen_addr).await?;
    let addr = listener.local_addr()?;
    let server = async {
        let (stream, peer) = listener.accept().await?;
        assert_eq!(peer, stream.peer_addr()?);
        echo(stream).await
    };
    let client = async {
        let mut stream = TcpStream::connect(addr).await?;
        assert_eq!(stream.peer_addr()?, addr);
        // Spelled out: with `AsyncReadExt` in scope, `stream.split()` would
        // pick that trait's by-value `split`.
        let (mut reader, mut writer) = TcpStream::split(&mut stream);
        let mut received = Vec::with_capacity(data.len());
        join_independent(vec![
            child(async {
                // Uneven chunks, to exercise short writes and reads.
                for chunk in data.chunks(7919) {
                    writer.write_all(chunk).await?;
                }
                writer.close().await
            }),
            child(async {
                reader.read_to_end(&mut received).await?;
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&received, data);
        Ok(())
    };
    join_independent(vec![child(server), child(client)]).await
}

#[test]
fn echo_one_mebibyte_ipv4() {
    let data = pattern(MIB, 1);
    run(echo_round_trip("127.0.0.1:0", &data));
}

#[test]
fn echo_one_mebibyte_ipv6() {
    // Skip quietly on hosts without IPv6 loopback.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipping");
        return;
    }
    let data = pattern(MIB, 2);
    run(echo_round_trip("[::1]:0", &data));
}

#[test]
fn half_close_still_gets_the_reply() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;

        client.write_all(b"request").await?;
        client.shutdown(Shutdown::Write)?;

        let mut request = Vec::new();
        server.read_to_end(&mut request).await?;
        assert_eq!(request, b"request");
        server.write_all(b"reply").await?;
        server.close().await?;
        // Closing twice is harmless.
        server.close().await?;

        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await?;
        assert_eq!(reply, b"reply");
        Ok(())
    });
}

/// Accepts a connection and aborts it with a reset (`SO_LINGER` 0 + close).
async fn reset_peer(listener: &TcpListener) -> io::Result<()> {
    let (server, _) = listener.accept().await?;
    server.set_linger(Some(Duration::ZERO))?;
    assert_eq!(server.linger()?, Some(Duration::ZERO));
    drop(server);
    Ok(())
}

#[test]
fn peer_reset_wakes_a_pending_read_with_an_error() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        join_independent(vec![
            // Polled first: waits in read before the reset happens.
            child(async {
                let mut buf = [0; 16];
                assert_error_kind(client.read(&mut buf).await, ErrorKind::ConnectionReset);
                // The socket is dead for writing too.
                assert!(client.write_all(&[1; 1024]).await.is_err());
                // Shutting down a reset connection is not an error.
                client.close().await
            }),
            child(reset_peer(&listener)),
        ])
        .await
    });
}

#[test]
fn peer_reset_fails_writes() {
    // A writer that never reads must see the reset too, not spin or hang.
    // (SO_LINGER set through socket2 directly, as any user could.)
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        socket2::SockRef::from(&server).set_linger(Some(Duration::ZERO))?;
        drop(server);
        let chunk = vec![0x5a; 64 * 1024];
        // The first write may still be accepted before the RST is processed;
        // within a bounded number of writes one must fail.
        for _ in 0..1024 {
            if let Err(e) = client.write_all(&chunk).await {
                assert!(
                    matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
                    "unexpected error: {e}"
                );
                return Ok(());
            }
        }
        panic!("64 MiB written to a reset connection without an error");
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    run(async {
        // Bind then drop, so the port is known to be closed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        assert_error_kind(
            TcpStream::connect(closed).await,
            ErrorKind::ConnectionRefused,
        );
        Ok(())
    });
}

#[test]
fn connect_tries_each_address_in_turn() {
    run(async {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let open = listener.local_addr()?;

        let stream = TcpStream::connect(&[closed, open][..]).await?;
        assert_eq!(stream.peer_addr()?, open);

        // All refused: the last error is returned.
        let none = [closed, closed];
        assert_error_kind(
            TcpStream::connect(&none[..]).await,
            ErrorKind::ConnectionRefused,
        );
        // Nothing to try at all.
        let empty: [SocketAddr; 0] = [];
        assert_error_kind(
            TcpStream::connect(&empty[..]).await,
            ErrorKind::InvalidInput,
        );
        Ok(())
    });
}

#[test]
fn bind_reports_an_address_in_use() {
    run(async {
        let first = TcpListener::bind("127.0.0.1:0").await?;
        let taken = first.local_addr()?;
        assert_error_kind(TcpListener::bind(taken).await, ErrorKind::AddrInUse);
        Ok(())
    });
}

#[test]
fn zero_length_reads_and_writes_return_at_once() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;

        // No data is pending, yet the empty read does not wait.
        assert_eq!(server.read(&mut []).await?, 0);
        assert_eq!(server.read_vectored(&mut []).await?, 0);
        assert_eq!(server.peek(&mut []).await?, 0);
        assert_eq!(client.write(&[]).await?, 0);
        assert_eq!(client.write_vectored(&[]).await?, 0);
        client.flush().await?;

        // And the stream still works normally afterwards.
        client.write_all(b"after").await?;
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"after");
        Ok(())
    });
}

#[test]
fn vectored_io_round_trips() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;

        let parts = [io::IoSlice::new(b"hello "), io::IoSlice::new(b"world")];
        let n = client.write_vectored(&parts).await?;
        // A fresh loopback socket takes 11 bytes in one go, but only the
        // count returned is promised.
        client.write_all(&b"hello world"[n..]).await?;
        client.close().await?;

        let mut got = [0; 11];
        let (head, tail) = got.split_at_mut(6);
        let n = server
            .read_vectored(&mut [io::IoSliceMut::new(head), io::IoSliceMut::new(tail)])
            .await?;
        assert!(n > 0, "early end of stream");
        server.read_exact(&mut got[n..]).await?;
        assert_eq!(&got, b"hello world");
        Ok(())
    });
}

#[test]
fn owned_halves_wake_independently_and_reunite() {
    let data = pattern(MIB, 3);
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stream = TcpStream::connect(addr).await?;
        let local = stream.local_addr()?;
        let (server, _) = listener.accept().await?;
        let (mut reader, mut writer) = stream.into_split();
        let mut received = Vec::with_capacity(data.len());
        // The writer fills the socket and waits for writability while the
        // reader waits for readability on the same socket: each must be
        // woken through its own slot.
        join_independent(vec![
            child(echo(server)),
            child(async {
                for chunk in data.chunks(65_537) {
                    writer.write_all(chunk).await?;
                }
                // End of stream lets the echo server finish.
                writer.close().await
            }),
            child(async {
                let mut buf = vec![0; 32 * 1024];
                while received.len() < data.len() {
                    let n = reader.read(&mut buf).await?;
                    assert!(n > 0, "early end of stream");
                    received.extend_from_slice(&buf[..n]);
                }
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&received, &data);

        let stream = reader.reunite(writer).expect("halves of the same stream");
        // Both directions are closed by now, so there is no peer address
        // left to ask for; the local address still identifies the socket.
        assert_eq!(stream.local_addr()?, local);
        Ok(())
    });
}

#[test]
fn halves_of_different_streams_do_not_reunite() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (r1, w1) = TcpStream::connect(addr).await?.into_split();
        let (r2, w2) = TcpStream::connect(addr).await?.into_split();
        let err = r1.reunite(w2).expect_err("different streams");
        assert!(err.to_string().contains("not from the same"));
        let ember_io::net::tcp::ReuniteError(r1, w2) = err;
        w2.reunite(r2).expect("same stream");
        w1.reunite(r1).expect("same stream");
        Ok(())
    });
}

#[test]
fn dropping_the_owned_write_half_sends_end_of_stream() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stream = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;
        let (mut reader, mut writer) = stream.into_split();
        writer.write_all(b"bye").await?;
        drop(writer);

        let mut got = Vec::new();
        server.read_to_end(&mut got).await?;
        assert_eq!(got, b"bye");
        // The read half still works.
        server.write_all(b"ok").await?;
        let mut buf = [0; 2];
        reader.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ok");
        Ok(())
    });
}

#[test]
fn shared_references_read_and_write() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        (&client).write_all(b"via &TcpStream").await?;
        let mut buf = [0; 14];
        (&server).read_exact(&mut buf).await?;
        assert_eq!(&buf, b"via &TcpStream");
        Ok(())
    });
}

#[test]
fn peek_leaves_data_in_place() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        let (mut reader, _writer) = server.into_split();
        client.write_all(b"peekaboo").await?;

        let mut buf = [0; 8];
        let n = reader.peek(&mut buf).await?;
        assert!(n > 0);
        assert_eq!(&buf[..n], &b"peekaboo"[..n]);
        reader.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"peekaboo");
        Ok(())
    });
}

#[test]
fn accepts_every_queued_connection() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut clients = Vec::new();
        for _ in 0..8 {
            clients.push(TcpStream::connect(addr).await?);
        }
        // One readiness event for several queued connections: accept must
        // keep going until the queue is empty.
        let mut incoming = listener.incoming();
        let mut peers = Vec::new();
        for _ in 0..clients.len() {
            let stream = incoming.next().await.expect("incoming never ends")?;
            peers.push(stream.peer_addr()?);
        }
        let mut expected: Vec<SocketAddr> = clients
            .iter()
            .map(TcpStream::local_addr)
            .collect::<io::Result<_>>()?;
        expected.sort();
        peers.sort();
        assert_eq!(peers, expected);
        Ok(())
    });
}

#[test]
fn socket_options() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        listener.set_ttl(42)?;
        assert_eq!(listener.ttl()?, 42);

        let stream = TcpStream::connect(listener.local_addr()?).await?;
        stream.set_nodelay(true)?;
        assert!(stream.nodelay()?);
        stream.set_nodelay(false)?;
        assert!(!stream.nodelay()?);
        stream.set_ttl(7)?;
        assert_eq!(stream.ttl()?, 7);
        assert_eq!(stream.local_addr()?.ip(), listener.local_addr()?.ip());
        Ok(())
    });
}

#[test]
fn std_conversions_round_trip() {
    run(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std_listener.local_addr()?;
        let listener = TcpListener::from_std(std_listener)?;
        let std_client = std::net::TcpStream::connect(addr)?;
        let mut client = TcpStream::try_from(std_client)?;
        let (server, _) = listener.accept().await?;

        // Out of the reactor and back in: registration is released.
        let server = TcpStream::from_std(server.into_std()?)?;
        let listener = TcpListener::from_std(listener.into_std()?)?;
        assert_eq!(listener.local_addr()?, addr);

        client.write_all(b"x").await?;
        let mut buf = [0; 1];
        (&server).read_exact(&mut buf).await?;
        assert_eq!(&buf, b"x");
        Ok(())
    });
}

#[test]
fn bind_accepts_host_port_strings() {
    run(async {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).await?;
        assert_eq!(stream.peer_addr()?.port(), port);
        Ok(())
    });
}

#[test]
fn a_waiting_reader_and_a_waiting_writer_are_woken_separately() {
    // Deterministic: the reader waits for data that the peer sends only
    // after the writer has blocked on a full socket and been drained. If the
    // two shared a waker slot, the writer (registered last) would swallow
    // the reader's wake-up and the reader would never be polled again.
    const TOTAL: usize = 4 * 1024 * 1024;
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = std_listener.local_addr().expect("local_addr");
    let (blocked, on_blocked) = std::sync::mpsc::channel::<()>();
    let peer = std::thread::spawn(move || -> io::Result<()> {
        use std::io::{Read, Write};
        let (mut stream, _) = std_listener.accept()?;
        on_blocked
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| io::Error::other("the writer never blocked"))?;
        let mut sink = vec![0; TOTAL];
        stream.read_exact(&mut sink)?;
        assert!(sink.iter().all(|&b| b == 7), "corrupted data");
        stream.write_all(b"pong")
    });

    run(async {
        let stream = TcpStream::connect(addr).await?;
        // A small send buffer, so the writer blocks early.
        socket2::SockRef::from(&stream).set_send_buffer_size(16 * 1024)?;
        let (mut reader, mut writer) = stream.into_split();
        let mut sent = 0;
        let mut announced = false;
        let chunk = vec![7; 64 * 1024];
        join_independent(vec![
            // Polled first: waits for "pong".
            child(async {
                let mut pong = [0; 4];
                reader.read_exact(&mut pong).await?;
                assert_eq!(&pong, b"pong");
                Ok(())
            }),
            child(std::future::poll_fn(|cx| {
                use futures_io::AsyncWrite;
                use std::pin::Pin;
                use std::task::Poll;
                while sent < TOTAL {
                    let len = chunk.len().min(TOTAL - sent);
                    match Pin::new(&mut writer).poll_write(cx, &chunk[..len]) {
                        Poll::Ready(Ok(n)) => sent += n,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {
                            if !announced {
                                announced = true;
                                let _ = blocked.send(());
                            }
                            return Poll::Pending;
                        }
                    }
                }
                Poll::Ready(Ok(()))
            })),
        ])
        .await
    });
    peer.join()
        .expect("the peer thread panicked")
        .expect("the peer failed");
}

#[test]
fn types_and_futures_are_send() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<TcpStream>();
    assert_send_sync::<TcpListener>();
    assert_send_sync::<ember_io::net::tcp::OwnedReadHalf>();
    assert_send_sync::<ember_io::net::tcp::OwnedWriteHalf>();
    assert_send_sync::<ember_io::net::tcp::ReadHalf<'static>>();
    assert_send_sync::<ember_io::net::tcp::WriteHalf<'static>>();
    assert_send_sync::<ember_io::Async<std::os::unix::net::UnixStream>>();
    assert_send_sync::<ember_io::ReadyGuard<'static, std::os::unix::net::UnixStream>>();

    // Futures that `ember::spawn` will need to move across threads. They
    // are only built, never polled: no runtime is needed.
    assert_send(&TcpStream::connect("127.0.0.1:1"));
    assert_send(&TcpStream::connect(("localhost", 1)));
    assert_send(&TcpListener::bind("127.0.0.1:0"));
    assert_send(&ember_io::signal::ctrl_c());
    fn listener_futures(listener: &TcpListener, stream: &TcpStream) {
        assert_send(&listener.accept());
        assert_send(&stream.peek(&mut []));
        assert_send(&stream.readable());
        assert_send(&stream.writable());
        assert_send(&stream.ready(ember_io::Interest::READABLE));
    }
    fn async_futures(io: &ember_io::Async<std::os::unix::net::UnixStream>) {
        assert_send(&io.readable());
        assert_send(&io.writable());
        assert_send(&io.read_with(|_| Ok(())));
        assert_send(&io.write_with(|_| Ok(())));
    }
    fn half_futures(
        read: &ember_io::net::tcp::OwnedReadHalf,
        write: &ember_io::net::tcp::WriteHalf<'_>,
    ) {
        assert_send(&read.readable());
        assert_send(&write.writable());
    }
    let _ = (async_futures, half_futures);
    let _ = listener_futures;
}

#[test]
fn huge_buffers_pass_through() {
    // One 8 MiB buffer per call on each side: writes and reads come back
    // short and are continued, nothing is split or capped by ember.
    let data = pattern(8 * MIB, 5);
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;
        let mut received = vec![0; data.len()];
        join_independent(vec![
            child(async {
                client.write_all(&data).await?;
                client.close().await
            }),
            child(async {
                server.read_exact(&mut received).await?;
                // And nothing more after it.
                assert_eq!(server.read(&mut [0; 1]).await?, 0);
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&received, &data);
        Ok(())
    });
}
