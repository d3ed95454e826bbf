//! `copy` and `copy_bidirectional`: a proxy over real loopback sockets
//! carrying megabytes both ways, the half-close travelling through it, errors
//! ending the whole copy, and the corner cases of readers and writers.

mod util;

use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ember_io::net::{TcpListener, TcpStream};
use ember_io::{copy, copy_bidirectional, duplex};
use futures_io::AsyncWrite;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_error_kind, assert_same_bytes, child, join_independent, pattern, run};

const MB: usize = 2 * 1000 * 1000;

/// Fails the test, instead of hanging into the watchdog, if `future` takes
/// longer than a generous bound.
async fn bounded<T>(future: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    ember_timer::timeout(Duration::from_secs(15), future)
        .await
        .map_err(|_| io::Error::new(ErrorKind::TimedOut, "the copy did not end within 15 s"))?
}

/// client <-> (inbound | proxy | outbound) <-> upstream, all on loopback.
struct Proxied {
    client: TcpStream,
    inbound: TcpStream,
    outbound: TcpStream,
    upstream: TcpStream,
}

async fn proxied() -> io::Result<Proxied> {
    let front = TcpListener::bind("127.0.0.1:0").await?;
    let back = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(front.local_addr()?).await?;
    let (inbound, _) = front.accept().await?;
    let outbound = TcpStream::connect(back.local_addr()?).await?;
    let (upstream, _) = back.accept().await?;
    Ok(Proxied {
        client,
        inbound,
        outbound,
        upstream,
    })
}

/// Writes `data` in uneven chunks, then shuts down the write side.
async fn send(mut writer: impl AsyncWrite + Unpin, data: &[u8]) -> io::Result<()> {
    for chunk in data.chunks(7919) {
        writer.write_all(chunk).await?;
    }
    writer.close().await
}

#[test]
fn proxy_carries_two_megabytes_each_way_with_counts() {
    run(bounded(async {
        let Proxied {
            mut client,
            mut inbound,
            mut outbound,
            mut upstream,
        } = proxied().await?;
        let up = pattern(MB, 1);
        let down = pattern(MB, 2);
        let (mut client_rx, client_tx) = TcpStream::split(&mut client);
        let (mut upstream_rx, upstream_tx) = TcpStream::split(&mut upstream);
        let mut got_up = Vec::new();
        let mut got_down = Vec::new();
        let mut counts = None;
        join_independent(vec![
            child(async {
                counts = Some(copy_bidirectional(&mut inbound, &mut outbound).await?);
                Ok(())
            }),
            child(send(client_tx, &up)),
            child(send(upstream_tx, &down)),
            child(async {
                client_rx.read_to_end(&mut got_down).await?;
                Ok(())
            }),
            child(async {
                upstream_rx.read_to_end(&mut got_up).await?;
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&got_up, &up);
        assert_same_bytes(&got_down, &down);
        assert_eq!(counts, Some((MB as u64, MB as u64)));
        Ok(())
    }));
}

#[test]
fn half_close_travels_while_the_other_direction_goes_on() {
    run(bounded(async {
        let Proxied {
            mut client,
            mut inbound,
            mut outbound,
            mut upstream,
        } = proxied().await?;
        let reply = pattern(300 * 1000, 3);
        let mut got = Vec::new();
        let mut counts = None;
        join_independent(vec![
            child(async {
                counts = Some(copy_bidirectional(&mut inbound, &mut outbound).await?);
                Ok(())
            }),
            child(async {
                client.write_all(b"request").await?;
                client.close().await?;
                client.read_to_end(&mut got).await?;
                Ok(())
            }),
            child(async {
                // The server sees the client's end of stream through the
                // proxy before it has sent a byte: only then does it answer.
                let mut request = Vec::new();
                upstream.read_to_end(&mut request).await?;
                assert_eq!(request, b"request");
                send(&mut upstream, &reply).await
            }),
        ])
        .await?;
        assert_same_bytes(&got, &reply);
        assert_eq!(counts, Some((7, reply.len() as u64)));
        Ok(())
    }));
}

#[test]
fn a_reset_ends_the_whole_copy_with_the_error() {
    run(bounded(async {
        let Proxied {
            client: _client,
            mut inbound,
            mut outbound,
            upstream,
        } = proxied().await?;
        // The client stays quiet: only the reset of the far side can end
        // the copy.
        upstream.set_linger(Some(Duration::ZERO))?;
        drop(upstream);
        let result = copy_bidirectional(&mut inbound, &mut outbound).await;
        match result {
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
                "unexpected error: {e}"
            ),
            Ok(counts) => panic!("expected a reset, got Ok({counts:?})"),
        }
        Ok(())
    }));
}

#[test]
fn copy_bidirectional_works_over_duplex_streams_too() {
    run(bounded(async {
        let (mut left, mut proxy_left) = duplex(1000);
        let (mut proxy_right, mut right) = duplex(1000);
        let data = pattern(200 * 1000, 4);
        let mut got = Vec::new();
        let mut counts = None;
        join_independent(vec![
            child(async {
                counts = Some(copy_bidirectional(&mut proxy_left, &mut proxy_right).await?);
                Ok(())
            }),
            child(async {
                send(&mut left, &data).await?;
                // Nothing comes back: the other side closes at once.
                let mut rest = Vec::new();
                left.read_to_end(&mut rest).await?;
                assert!(rest.is_empty());
                Ok(())
            }),
            child(async {
                right.close().await?;
                right.read_to_end(&mut got).await?;
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&got, &data);
        assert_eq!(counts, Some((data.len() as u64, 0)));
        Ok(())
    }));
}

#[test]
fn copy_counts_and_flushes() {
    run(async {
        let data = pattern(500 * 1000, 5);
        // A buffered writer holds bytes until flushed: copy must flush.
        let mut out = futures_util::io::BufWriter::new(Vec::new());
        let n = copy(&data[..], &mut out).await?;
        assert_eq!(n, data.len() as u64);
        assert_same_bytes(out.get_ref(), &data);
        Ok(())
    });
}

#[test]
fn copy_flushes_while_the_reader_is_quiet() {
    run(bounded(async {
        let (mut tx, rx) = duplex(64 * 1024);
        let (sink, mut far) = duplex(64 * 1024);
        let mut writer = futures_util::io::BufWriter::new(sink);
        join_independent(vec![
            child(async {
                copy(rx, &mut writer).await?;
                Ok(())
            }),
            child(async {
                tx.write_all(b"hello").await?;
                // The reader has nothing more yet, but "hello" must come out
                // of the BufWriter now, not when the copy ends.
                let mut buf = [0; 5];
                far.read_exact(&mut buf).await?;
                assert_eq!(&buf, b"hello");
                tx.close().await
            }),
        ])
        .await
    }));
}

/// A writer that accepts nothing.
struct Full;

impl AsyncWrite for Full {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_writer_that_accepts_nothing_is_an_error_not_a_spin() {
    run(async {
        assert_error_kind(copy(&b"data"[..], &mut Full).await, ErrorKind::WriteZero);
        Ok(())
    });
}

#[test]
fn copying_nothing_is_zero() {
    run(async {
        let mut out = Vec::new();
        assert_eq!(copy(&b""[..], &mut out).await?, 0);
        Ok(())
    });
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (mut a, mut b) = duplex(1);
    assert_send(&copy_bidirectional(&mut a, &mut b));
    let mut out = Vec::new();
    assert_send(&copy(&b""[..], &mut out));
}
