//! UDP over real loopback sockets: echo of hundreds of datagrams, connected
//! and not; truncation; peeking; the readiness API; several tasks on one
//! socket; multicast where the kernel allows it; futures dropped while
//! waiting lose no datagram.

mod util;

use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use ember_io::net::UdpSocket;
use ember_io::Interest;
use util::{assert_error_kind, child, join_independent, pattern, run};

/// Datagrams per echo test.
const DATAGRAMS: usize = 400;

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

/// The size of datagram `i`: from empty to 8 KiB, never in order.
fn size_of(i: usize) -> usize {
    (i * 7919) % 8193
}

/// An echo server for `count` datagrams: each goes back where it came from.
async fn echo_server(server: &UdpSocket, count: usize) -> io::Result<()> {
    let mut buf = vec![0; 65_536];
    for _ in 0..count {
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(server.send_to(&buf[..n], from).await?, n);
    }
    Ok(())
}

#[test]
fn echoes_hundreds_of_datagrams_unconnected() {
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        let server_addr = server.local_addr()?;
        let client_addr = client.local_addr()?;
        join_independent(vec![
            child(echo_server(&server, DATAGRAMS)),
            child(async {
                let mut buf = vec![0; 65_536];
                // One in flight at a time: loopback never drops it.
                for i in 0..DATAGRAMS {
                    let data = pattern(size_of(i), i as u64);
                    assert_eq!(client.send_to(&data, server_addr).await?, data.len());
                    let (n, from) = client.recv_from(&mut buf).await?;
                    assert_eq!(from, server_addr);
                    assert_eq!(&buf[..n], &data[..], "datagram {i}");
                }
                Ok(())
            }),
        ])
        .await?;
        assert_eq!(server.local_addr()?, server_addr);
        assert_eq!(client.local_addr()?, client_addr);
        Ok(())
    });
}

#[test]
fn echoes_hundreds_of_datagrams_connected() {
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        client.connect(server.local_addr()?).await?;
        assert_eq!(client.peer_addr()?, server.local_addr()?);
        join_independent(vec![
            child(echo_server(&server, DATAGRAMS)),
            child(async {
                let mut buf = vec![0; 65_536];
                for i in 0..DATAGRAMS {
                    let data = pattern(size_of(i), !(i as u64));
                    assert_eq!(client.send(&data).await?, data.len());
                    let n = client.recv(&mut buf).await?;
                    assert_eq!(&buf[..n], &data[..], "datagram {i}");
                }
                Ok(())
            }),
        ])
        .await
    });
}

#[test]
fn a_connected_socket_only_hears_its_peer() {
    run(async {
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        let peer = UdpSocket::bind("127.0.0.1:0").await?;
        let stranger = UdpSocket::bind("127.0.0.1:0").await?;
        client.connect(peer.local_addr()?).await?;
        stranger.send_to(b"noise", client.local_addr()?).await?;
        peer.send_to(b"signal", client.local_addr()?).await?;
        let mut buf = [0; 16];
        let n = client.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"signal");
        Ok(())
    });
}

#[test]
fn a_long_datagram_is_truncated_and_the_next_is_intact() {
    run(async {
        let receiver = UdpSocket::bind("127.0.0.1:0").await?;
        let sender = UdpSocket::bind("127.0.0.1:0").await?;
        let to = receiver.local_addr()?;
        let long = pattern(1000, 1);
        for _ in 0..4 {
            sender.send_to(&long, to).await?;
        }
        sender.send_to(b"next", to).await?;

        let mut small = [0; 10];
        // recv_from, recv, try_recv and peek_from all truncate to the buffer.
        let (n, from) = receiver.peek_from(&mut small).await?;
        assert_eq!((n, from), (10, sender.local_addr()?));
        assert_eq!(small, long[..10]);
        let (n, _) = receiver.recv_from(&mut small).await?;
        assert_eq!(n, 10);
        assert_eq!(small, long[..10]);
        receiver.connect(sender.local_addr()?).await?;
        assert_eq!(receiver.recv(&mut small).await?, 10);
        receiver.readable().await?;
        assert_eq!(receiver.try_recv(&mut small)?, 10);
        assert_eq!(poll_fn(|cx| receiver.poll_recv(cx, &mut small)).await?, 10);
        assert_eq!(small, long[..10]);

        let mut buf = [0; 64];
        let n = receiver.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"next");
        Ok(())
    });
}

#[test]
fn empty_datagrams_are_datagrams() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        assert_eq!(a.send_to(&[], b.local_addr()?).await?, 0);
        a.send_to(b"after", b.local_addr()?).await?;
        let mut buf = [0; 8];
        assert_eq!(b.recv_from(&mut buf).await?, (0, a.local_addr()?));
        assert_eq!(b.recv_from(&mut buf).await?.0, 5);
        Ok(())
    });
}

#[test]
fn try_methods_would_block_then_readable_waits() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0; 8];
        assert_error_kind(a.try_recv_from(&mut buf), ErrorKind::WouldBlock);
        assert_error_kind(a.try_peek_from(&mut buf), ErrorKind::WouldBlock);
        // Nothing arrived: `readable` waits (polled once, it is pending).
        let mut readable = pin!(a.readable());
        assert!(poll_once(readable.as_mut()).await.is_none());

        b.writable().await?;
        assert_eq!(b.try_send_to(b"x", a.local_addr()?)?, 1);
        readable.await?;
        let (n, from) = a.try_recv_from(&mut buf)?;
        assert_eq!((n, from), (1, b.local_addr()?));
        // Drained: the next try clears the readiness, and `readable` waits again.
        assert_error_kind(a.try_recv_from(&mut buf), ErrorKind::WouldBlock);
        let mut readable = pin!(a.readable());
        assert!(poll_once(readable.as_mut()).await.is_none());

        let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        assert!(ready.is_writable() && !ready.is_readable());
        Ok(())
    });
}

#[test]
fn try_io_runs_only_when_ready() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let recv = || a.try_io(Interest::READABLE, || a_std(&a).recv_from(&mut [0; 8]));
        // Never polled ready for reading yet: the operation does not even run.
        assert_error_kind(recv(), ErrorKind::WouldBlock);
        b.send_to(b"abc", a.local_addr()?).await?;
        a.readable().await?;
        assert_eq!(recv()?.0, 3);
        Ok(())
    });
}

/// The socket's std twin, for `try_io` (a dup of the descriptor).
fn a_std(socket: &UdpSocket) -> std::net::UdpSocket {
    use std::os::fd::AsFd;
    let fd = socket.as_fd().try_clone_to_owned().expect("dup");
    std::net::UdpSocket::from(fd)
}

#[test]
fn several_tasks_receive_on_one_socket() {
    const TASKS: usize = 4;
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        let to = server.local_addr()?;
        let mut children = Vec::new();
        // All wait before anything is sent; each must get one datagram.
        for _ in 0..TASKS {
            children.push(child(async {
                let mut buf = [0; 8];
                let (n, _) = server.recv_from(&mut buf).await?;
                assert_eq!(n, 4);
                Ok(())
            }));
        }
        children.push(child(async {
            for i in 0..TASKS as u32 {
                client.send_to(&i.to_le_bytes(), to).await?;
            }
            Ok(())
        }));
        join_independent(children).await
    });
}

#[test]
fn a_dropped_recv_loses_no_datagram() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0; 8];
        let mut peek_buf = [0; 8];
        {
            // Waiting, then dropped before anything arrives.
            let mut recv = pin!(a.recv_from(&mut buf));
            assert!(poll_once(recv.as_mut()).await.is_none());
            let mut peek = pin!(a.peek_from(&mut peek_buf));
            assert!(poll_once(peek.as_mut()).await.is_none());
        }
        b.send_to(b"kept", a.local_addr()?).await?;
        let (n, _) = a.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"kept");
        Ok(())
    });
}

#[test]
fn bind_and_send_to_resolve_host_names() {
    run(async {
        // Both bound through the resolver, so both get the family "localhost"
        // resolves to first, and `send_to` uses that same first address.
        let a = UdpSocket::bind("localhost:0").await?;
        let b = UdpSocket::bind(("localhost", 0)).await?;
        let port = a.local_addr()?.port();
        b.send_to(b"by name", ("localhost", port)).await?;
        let mut buf = [0; 16];
        let (n, from) = a.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"by name");
        assert_eq!(from, b.local_addr()?);
        Ok(())
    });
}

#[test]
fn options_and_std_round_trip() {
    run(async {
        let socket = UdpSocket::bind("0.0.0.0:0").await?;
        socket.set_broadcast(true)?;
        assert!(socket.broadcast()?);
        socket.set_ttl(9)?;
        assert_eq!(socket.ttl()?, 9);
        socket.set_multicast_loop_v4(false)?;
        assert!(!socket.multicast_loop_v4()?);
        socket.set_multicast_ttl_v4(3)?;
        assert_eq!(socket.multicast_ttl_v4()?, 3);
        assert!(socket.take_error()?.is_none());
        let addr = socket.local_addr()?;
        let std_socket = socket.into_std()?;
        assert_eq!(std_socket.local_addr()?, addr);
        let socket = UdpSocket::try_from(std_socket)?;
        assert_eq!(socket.local_addr()?, addr);
        Ok(())
    });
}

#[test]
fn multicast_on_loopback_where_the_kernel_allows_it() {
    run(async {
        let group = Ipv4Addr::new(239, 255, 77, 1);
        let receiver = UdpSocket::bind("0.0.0.0:0").await?;
        let port = receiver.local_addr()?.port();
        // Joining on the loopback interface needs a multicast-capable `lo`
        // (or a route): a sandbox may refuse, and there is nothing to test.
        if let Err(e) = receiver.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
            eprintln!("skipped: cannot join {group} on 127.0.0.1: {e}");
            return Ok(());
        }
        let sender = UdpSocket::bind("127.0.0.1:0").await?;
        socket2::SockRef::from(&sender).set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?;
        sender.set_multicast_loop_v4(true)?;
        let to = SocketAddr::from((group, port));
        if let Err(e) = sender.send_to(b"to the group", to).await {
            eprintln!("skipped: cannot send to {to}: {e}");
            return Ok(());
        }
        let mut buf = [0; 32];
        // Accepted by the kernel but perhaps routed away from `lo`: bounded.
        let received = ember_timer::timeout(Duration::from_secs(2), receiver.recv_from(&mut buf));
        let Ok(received) = received.await else {
            eprintln!("skipped: the kernel accepted the datagram but did not loop it back");
            return Ok(());
        };
        let (n, from) = received?;
        assert_eq!(&buf[..n], b"to the group");
        assert_eq!(from, sender.local_addr()?);
        receiver.leave_multicast_v4(group, Ipv4Addr::LOCALHOST)?;
        Ok(())
    });
}
