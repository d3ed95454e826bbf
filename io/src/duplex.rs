//! In-memory, bounded, full-duplex pipes: [`duplex`] makes two connected
//! [`DuplexStream`]s, each of which reads what the other writes. This module
//! owns the two byte queues between them, their backpressure and their
//! end-of-stream rules; it touches no file descriptor.
//!
//! # Ground rules
//!
//! - A pair shares two [`Pipe`]s, one per direction, each behind its own
//!   mutex: one stream writes into a pipe and the other reads from it, so the
//!   two directions never contend with each other.
//! - A pipe holds at most `max_buf_size` bytes: a write takes what fits and
//!   returns the count (a short write), and waits only when nothing fits.
//!   Bytes are in the pipe once the write returned their count, so dropping
//!   the writer later loses none of them.
//! - A pipe remembers one waiting reader and one waiting writer (the
//!   futures-io contract: one task per direction). Wakers are woken after the
//!   lock is released.
//! - End of stream: the writer's `poll_close` or drop marks the pipe
//!   write-closed; reads drain what is left and then return 0. The reader's
//!   drop marks it read-closed and discards the bytes; writes then fail with
//!   [`io::ErrorKind::BrokenPipe`], as they do after the writer's own close.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use ember_reactor::__private::coop;
use futures_io::{AsyncRead, AsyncWrite};

/// Creates a connected pair of in-memory streams: what one writes, the other
/// reads. Each direction buffers at most `max_buf_size` bytes; a writer that
/// finds its direction full waits until the reader takes some.
///
/// This is tokio's `duplex` and libevent's socketpair-style bufferevent pair:
/// a stand-in for a socket in tests, or a pipe between two tasks that speak
/// a byte protocol. Both ends are `Send + Sync + Unpin` and implement the
/// futures-io [`AsyncRead`] and [`AsyncWrite`] traits.
///
/// # Panics
///
/// If `max_buf_size` is 0: no write could ever complete.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (mut client, mut server) = ember_io::duplex(64);
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///
///     drop(client); // the server reads end of stream
///     assert_eq!(server.read(&mut buf).await?, 0);
///     Ok(())
/// })
/// # }
/// ```
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    assert!(
        max_buf_size > 0,
        "ember_io::duplex: max_buf_size must be at least 1 byte"
    );
    let one = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    let two = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    (
        DuplexStream {
            read: Arc::clone(&one),
            write: Arc::clone(&two),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

/// One end of an in-memory pipe pair made by [`duplex`].
///
/// Reads return what the other end wrote; writes wait while the other end's
/// buffer is full. [`poll_close`](AsyncWrite::poll_close) (`close().await`)
/// makes the other end read end of stream after the buffered bytes, like a
/// socket's write shutdown; this end can still read. Dropping this end does
/// the same and also makes the other end's writes fail with
/// [`io::ErrorKind::BrokenPipe`].
///
/// # Cancel safety
///
/// Reads and writes are cancel safe: a read or write that has not returned
/// moved no bytes, and a write's bytes are in the pipe as soon as it
/// returned their count.
///
/// # Examples
///
/// Backpressure: with a 4-byte buffer, a write takes only what fits.
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (mut a, mut b) = ember_io::duplex(4);
///     assert_eq!(a.write(b"hello").await?, 4);
///     let mut buf = [0; 8];
///     assert_eq!(b.read(&mut buf).await?, 4);
///     assert_eq!(&buf[..4], b"hell");
///     Ok(())
/// })
/// # }
/// ```
pub struct DuplexStream {
    /// The pipe the other end writes into.
    read: Arc<Mutex<Pipe>>,
    /// The pipe the other end reads from.
    write: Arc<Mutex<Pipe>>,
}

/// One direction of a pair (see the ground rules).
struct Pipe {
    /// Bytes written and not yet read; at most `max` of them.
    buf: VecDeque<u8>,
    max: usize,
    /// The writer closed or was dropped: reads return 0 once `buf` is empty.
    write_closed: bool,
    /// The reader was dropped: writes fail with `BrokenPipe`.
    read_closed: bool,
    /// The task waiting for bytes (or end of stream).
    reader: Option<Waker>,
    /// The task waiting for space (or for the reader's drop).
    writer: Option<Waker>,
}

impl Pipe {
    fn new(max: usize) -> Pipe {
        Pipe {
            buf: VecDeque::new(),
            max,
            write_closed: false,
            read_closed: false,
            reader: None,
            writer: None,
        }
    }

    /// Moves bytes into `dst`; returns what to wake (the writer, if space was
    /// freed).
    fn read(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> (Poll<usize>, Option<Waker>) {
        if dst.is_empty() {
            return (Poll::Ready(0), None);
        }
        if self.buf.is_empty() {
            if self.write_closed {
                return (Poll::Ready(0), None);
            }
            store(&mut self.reader, cx);
            return (Poll::Pending, None);
        }
        let n = dst.len().min(self.buf.len());
        let (front, back) = self.buf.as_slices();
        let from_front = n.min(front.len());
        dst[..from_front].copy_from_slice(&front[..from_front]);
        dst[from_front..n].copy_from_slice(&back[..n - from_front]);
        self.buf.drain(..n);
        (Poll::Ready(n), self.writer.take())
    }

    /// Moves bytes from `bufs` into the pipe, as many as fit; returns what to
    /// wake (the reader, if bytes were added).
    fn write(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> (Poll<io::Result<usize>>, Option<Waker>) {
        if self.read_closed || self.write_closed {
            let e = io::Error::new(
                io::ErrorKind::BrokenPipe,
                if self.read_closed {
                    "the other end of the duplex stream was dropped"
                } else {
                    "this end of the duplex stream was closed for writing"
                },
            );
            return (Poll::Ready(Err(e)), None);
        }
        if bufs.iter().all(|b| b.is_empty()) {
            return (Poll::Ready(Ok(0)), None);
        }
        let space = self.max - self.buf.len();
        if space == 0 {
            store(&mut self.writer, cx);
            return (Poll::Pending, None);
        }
        let mut n = 0;
        for b in bufs {
            let take = b.len().min(space - n);
            self.buf.extend(&b[..take]);
            n += take;
            if n == space {
                break;
            }
        }
        (Poll::Ready(Ok(n)), self.reader.take())
    }
}

/// Remembers the task of `cx` in `slot`, cloning its waker only if it is
/// not the one already there.
fn store(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// Locks a pipe. Its state is consistent after any panic: no operation
/// under the lock can panic halfway through an update.
fn lock(pipe: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    pipe.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wakes `waker`, if any; called after the pipe's lock is released.
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl DuplexStream {
    fn poll_write_bufs(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_proceed(cx));
        let (poll, waker) = lock(&self.write).write(cx, bufs);
        wake(waker);
        poll
    }

    /// Marks the outgoing pipe write-closed and wakes its reader.
    fn close_write(&self) {
        let waker = {
            let mut pipe = lock(&self.write);
            pipe.write_closed = true;
            pipe.reader.take()
        };
        wake(waker);
    }
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_proceed(cx));
        let (poll, waker) = lock(&self.read).read(cx, buf);
        wake(waker);
        poll.map(Ok)
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_bufs(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_bufs(cx, bufs)
    }

    /// Nothing to flush: written bytes are already readable.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// The other end reads end of stream once it has read what is buffered;
    /// further writes from this end fail with `BrokenPipe`. Idempotent.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close_write();
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        self.close_write();
        let waker = {
            let mut pipe = lock(&self.read);
            pipe.read_closed = true;
            // Nobody will read these: free them now rather than with the
            // other end.
            pipe.buf = VecDeque::new();
            pipe.writer.take()
        };
        wake(waker);
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let readable = lock(&self.read).buf.len();
        let write = lock(&self.write);
        f.debug_struct("DuplexStream")
            .field("readable", &readable)
            .field("unread_written", &write.buf.len())
            .field("max_buf_size", &write.max)
            .field("write_closed", &write.write_closed)
            .finish()
    }
}
