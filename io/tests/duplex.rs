//! `duplex`: a small buffer carrying a lot both ways at once, backpressure
//! waking the writer, end of stream on close and on drop, broken pipes, and
//! no byte lost when a pending read or write is dropped.

mod util;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ember_io::{duplex, DuplexStream};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_error_kind, assert_same_bytes, child, join_independent, pattern, run};

/// Counts its wake-ups.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    (Arc::clone(&counter), Waker::from(counter))
}

#[test]
fn a_64_byte_buffer_carries_100_kb_each_way_at_once() {
    run(async {
        let (mut a, mut b) = duplex(64);
        let (mut a_rx, mut a_tx) = (&mut a).split();
        let (mut b_rx, mut b_tx) = (&mut b).split();
        let a_to_b = pattern(100 * 1000, 1);
        let b_to_a = pattern(100 * 1000, 2);
        let (mut got_b, mut got_a) = (Vec::new(), Vec::new());
        join_independent(vec![
            child(async {
                for chunk in a_to_b.chunks(1000) {
                    a_tx.write_all(chunk).await?;
                }
                a_tx.close().await
            }),
            child(async {
                for chunk in b_to_a.chunks(777) {
                    b_tx.write_all(chunk).await?;
                }
                b_tx.close().await
            }),
            child(async {
                b_rx.read_to_end(&mut got_b).await?;
                Ok(())
            }),
            child(async {
                a_rx.read_to_end(&mut got_a).await?;
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&got_b, &a_to_b);
        assert_same_bytes(&got_a, &b_to_a);
        Ok(())
    });
}

#[test]
fn a_full_buffer_holds_the_writer_until_the_reader_takes_some() {
    let (mut a, mut b) = duplex(4);
    let (wakes, waker) = counter();
    let mut cx = Context::from_waker(&waker);

    // A short write takes what fits; the next one waits.
    let mut write = pin!(a.write(b"hello"));
    assert!(matches!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(4))));
    let mut write = pin!(a.write(b"o"));
    assert!(write.as_mut().poll(&mut cx).is_pending());
    assert_eq!(wakes.0.load(Ordering::SeqCst), 0);

    // Reading frees space and wakes the writer, which then gets through.
    let mut buf = [0; 2];
    let mut read = pin!(b.read(&mut buf));
    assert!(matches!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(2))));
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    assert!(matches!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(1))));
}

#[test]
fn a_reader_waits_for_bytes_and_is_woken_by_the_write() {
    let (mut a, mut b) = duplex(16);
    let (wakes, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0; 8];
    let mut read = pin!(b.read(&mut buf));
    assert!(read.as_mut().poll(&mut cx).is_pending());
    assert!(matches!(
        pin!(a.write(b"hi")).poll(&mut cx),
        Poll::Ready(Ok(2))
    ));
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    assert!(matches!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(2))));
}

#[test]
fn dropping_an_end_gives_the_other_end_of_stream_after_the_bytes() {
    run(async {
        let (mut a, mut b) = duplex(64);
        a.write_all(b"last words").await?;
        drop(a);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await?;
        assert_eq!(got, b"last words");
        // And writes to a dropped end fail.
        assert_error_kind(b.write(b"anyone?").await, ErrorKind::BrokenPipe);
        Ok(())
    });
}

#[test]
fn dropping_the_reader_wakes_a_blocked_writer_with_a_broken_pipe() {
    let (mut a, b) = duplex(1);
    let (wakes, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        pin!(a.write(b"x")).poll(&mut cx),
        Poll::Ready(Ok(1))
    ));
    let mut write = pin!(a.write(b"y"));
    assert!(write.as_mut().poll(&mut cx).is_pending());
    drop(b);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    match write.as_mut().poll(&mut cx) {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::BrokenPipe),
        other => panic!("expected a broken pipe, got {other:?}"),
    }
}

#[test]
fn close_gives_the_peer_end_of_stream_and_this_end_can_still_read() {
    run(async {
        let (mut a, mut b) = duplex(64);
        a.write_all(b"bye").await?;
        a.close().await?;
        a.close().await?; // idempotent
        assert_error_kind(a.write(b"more").await, ErrorKind::BrokenPipe);

        let mut got = Vec::new();
        b.read_to_end(&mut got).await?;
        assert_eq!(got, b"bye");

        b.write_all(b"still here").await?;
        b.close().await?;
        let mut back = Vec::new();
        a.read_to_end(&mut back).await?;
        assert_eq!(back, b"still here");
        Ok(())
    });
}

#[test]
fn close_wakes_a_pending_reader() {
    let (mut a, mut b) = duplex(8);
    let (wakes, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0; 8];
    let mut read = pin!(b.read(&mut buf));
    assert!(read.as_mut().poll(&mut cx).is_pending());
    assert!(pin!(a.close()).poll(&mut cx).is_ready());
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    assert!(matches!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(0))));
}

#[test]
fn dropped_pending_operations_lose_no_bytes() -> io::Result<()> {
    let (mut a, mut b) = duplex(4);
    let (_wakes, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    let mut reported = Vec::new();

    // A write that returned a count put those bytes in the pipe...
    if let Poll::Ready(n) = pin!(a.write(b"abcdef")).poll(&mut cx) {
        reported.extend_from_slice(&b"abcdef"[..n?]);
    }
    // ...and one dropped while pending put none.
    {
        let mut pending = pin!(a.write(b"XYZ"));
        assert!(pending.as_mut().poll(&mut cx).is_pending());
    }
    // A read dropped while pending took none either.
    {
        let (mut c, mut d) = duplex(4);
        let mut buf = [0; 4];
        let mut pending = pin!(d.read(&mut buf));
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        assert!(matches!(
            pin!(c.write(b"kept")).poll(&mut cx),
            Poll::Ready(Ok(4))
        ));
        drop(c);
        let mut got = Vec::new();
        run(async { d.read_to_end(&mut got).await.map(drop) });
        assert_eq!(got, b"kept");
    }
    drop(a);
    let mut got = Vec::new();
    run(async { b.read_to_end(&mut got).await.map(drop) });
    assert_eq!(got, reported);
    assert_eq!(got, b"abcd");
    Ok(())
}

#[test]
fn empty_reads_and_writes_complete_at_once() {
    let (mut a, mut b) = duplex(1);
    let (_wakes, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        pin!(a.write(b"")).poll(&mut cx),
        Poll::Ready(Ok(0))
    ));
    assert!(matches!(
        pin!(b.read(&mut [])).poll(&mut cx),
        Poll::Ready(Ok(0))
    ));
}

#[test]
fn vectored_writes_fill_the_buffer_across_slices() {
    run(async {
        let (mut a, mut b) = duplex(5);
        let bufs = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cdef")];
        assert_eq!(a.write_vectored(&bufs).await?, 5);
        let mut got = [0; 5];
        b.read_exact(&mut got).await?;
        assert_eq!(&got, b"abcde");
        Ok(())
    });
}

#[test]
#[should_panic(expected = "max_buf_size")]
fn a_zero_sized_buffer_is_refused() {
    let _ = duplex(0);
}

#[test]
fn duplex_streams_are_send_sync_unpin() {
    fn assert_traits<T: Send + Sync + Unpin + std::fmt::Debug>() {}
    assert_traits::<DuplexStream>();
}
