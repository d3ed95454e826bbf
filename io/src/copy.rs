//! Copying between futures-io streams: [`copy`] (one direction, reader to
//! writer) and [`copy_bidirectional`] (both directions of two streams at
//! once, the core of a proxy), over one buffer per direction.
//!
//! # Ground rules
//!
//! - A direction owns one buffer. Bytes `buf[pos..cap]` were read from the
//!   reader and not yet accepted by the writer; they are the only data the
//!   copy holds, and the reason neither future is cancel safe.
//! - The buffer is refilled only once it is empty, so bytes leave in the
//!   order they came. While the writer is full, the reader may still fill
//!   the free space behind `cap` (read-ahead), so a slow writer and a slow
//!   reader overlap instead of taking turns.
//! - The writer is flushed whenever the copy is about to wait for the reader
//!   with bytes written since the last flush (a buffered writer must not sit
//!   on them while the source is quiet), and once at the reader's end.
//! - Every round spends one unit of the task's cooperative budget, so a copy
//!   between streams that never block (in-memory ones) still yields.
//! - A direction starts with a [`SMALL_BUF`] buffer and moves to a
//!   [`LARGE_BUF`] one the first time a read fills it completely: an idle or
//!   chatty connection keeps the small footprint, a bulk transfer gets the
//!   large buffer that makes loopback fast (measured in the `proxy`
//!   benchmark).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ember_reactor::__private::coop;
use futures_io::{AsyncRead, AsyncWrite};

/// The buffer a direction starts with.
const SMALL_BUF: usize = 8 * 1024;

/// The buffer a direction grows to once a read fills the small one.
const LARGE_BUF: usize = 64 * 1024;

/// One direction of a copy: a buffer and where the bytes in it stand.
struct CopyBuffer {
    /// `buf[pos..cap]` is read but not yet written; `pos <= cap <= len`.
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    /// Bytes the writer has accepted so far.
    amt: u64,
    /// The reader returned end of stream.
    read_done: bool,
    /// Bytes were written since the writer was last flushed.
    need_flush: bool,
}

impl CopyBuffer {
    fn new() -> CopyBuffer {
        CopyBuffer {
            buf: vec![0; SMALL_BUF].into_boxed_slice(),
            pos: 0,
            cap: 0,
            amt: 0,
            read_done: false,
            need_flush: false,
        }
    }

    /// Reads into the free space `buf[cap..]`; records end of stream.
    fn poll_fill<R: AsyncRead + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        reader: Pin<&mut R>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(reader.poll_read(cx, &mut self.buf[self.cap..]))?;
        if n == 0 {
            self.read_done = true;
        } else {
            self.cap += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Copies until the reader's end of stream and the writer's flush, and
    /// returns the number of bytes written.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            ready!(coop::poll_proceed(cx));
            if self.pos == self.cap && !self.read_done {
                // Empty: start over at the front, and take the large buffer
                // if the last read showed this is a bulk transfer.
                if self.cap == self.buf.len() && self.buf.len() < LARGE_BUF {
                    self.buf = vec![0; LARGE_BUF].into_boxed_slice();
                }
                self.pos = 0;
                self.cap = 0;
                if self.poll_fill(cx, reader.as_mut())?.is_pending() {
                    if self.need_flush {
                        ready!(writer.as_mut().poll_flush(cx))?;
                        self.need_flush = false;
                    }
                    return Poll::Pending;
                }
            }
            while self.pos < self.cap {
                match writer
                    .as_mut()
                    .poll_write(cx, &self.buf[self.pos..self.cap])
                {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the writer accepted no bytes",
                        )))
                    }
                    Poll::Ready(Ok(n)) => {
                        self.pos += n;
                        self.amt += n as u64;
                        self.need_flush = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        // Read ahead while the writer is full (its waker is
                        // registered; the reader's is too if it pends).
                        if !self.read_done && self.cap < self.buf.len() {
                            let _ = self.poll_fill(cx, reader.as_mut())?;
                        }
                        return Poll::Pending;
                    }
                }
            }
            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

impl fmt::Debug for CopyBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyBuffer")
            .field("buffered", &(self.cap - self.pos))
            .field("capacity", &self.buf.len())
            .field("written", &self.amt)
            .field("read_done", &self.read_done)
            .finish()
    }
}

/// Copies everything `reader` yields into `writer`, then flushes `writer`,
/// and returns the number of bytes copied.
///
/// The signature is futures' `copy`'s; the difference is the buffer: this
/// one starts at 8 KiB and moves to 64 KiB once a read fills it, and reads
/// ahead while the writer is full. The writer is flushed, not closed, at the
/// end.
///
/// # Errors
///
/// The first error of either stream, or [`io::ErrorKind::WriteZero`] if the
/// writer accepts no bytes.
///
/// # Cancel safety
///
/// Not cancel safe: bytes read from `reader` and not yet written are lost
/// when the future is dropped.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut out = Vec::new();
///     let n = ember_io::copy(&b"hello"[..], &mut out).await?;
///     assert_eq!((n, &out[..]), (5, &b"hello"[..]));
///     Ok(())
/// })
/// # }
/// ```
pub fn copy<R, W>(reader: R, writer: &mut W) -> Copy<'_, R, W>
where
    R: AsyncRead,
    W: AsyncWrite + Unpin + ?Sized,
{
    Copy {
        reader,
        writer,
        buf: CopyBuffer::new(),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`copy`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Copy<'a, R, W: ?Sized> {
        #[pin]
        reader: R,
        writer: &'a mut W,
        buf: CopyBuffer,
    }
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.project();
        this.buf
            .poll_copy(cx, this.reader, Pin::new(&mut **this.writer))
    }
}

impl<R, W: ?Sized> fmt::Debug for Copy<'_, R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Copy").field("buf", &self.buf).finish()
    }
}

/// Copies `a` to `b` and `b` to `a` at the same time until both directions
/// have ended, and returns the byte counts `(a to b, b to a)`.
///
/// This is a proxy's inner loop. When one side's reader reaches end of
/// stream, the copy flushes the other side and closes it
/// ([`poll_close`](AsyncWrite::poll_close), which on ember's sockets shuts
/// down the write half), so the half-close travels through; the other
/// direction keeps going until it ends too. Each direction has its own
/// buffer (8 KiB, growing to 64 KiB for bulk transfers).
///
/// # Errors
///
/// The first error of either direction ends the whole copy with that error
/// (including [`io::ErrorKind::WriteZero`] from a writer that accepts no
/// bytes). Bytes already copied are then not reported.
///
/// # Cancel safety
///
/// Not cancel safe: bytes read from one side and not yet written to the
/// other are lost when the future is dropped. The streams themselves stay
/// usable.
///
/// # Examples
///
/// A proxy between a client and a server, over loopback:
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::copy_bidirectional;
/// use ember_io::net::{TcpListener, TcpStream};
/// use futures_util::future::try_join3;
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let server = TcpListener::bind("127.0.0.1:0").await?;
///     let proxy = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(proxy.local_addr()?).await?;
///     let (mut inbound, _) = proxy.accept().await?;
///     let mut outbound = TcpStream::connect(server.local_addr()?).await?;
///     let (mut upstream, _) = server.accept().await?;
///
///     let proxying = copy_bidirectional(&mut inbound, &mut outbound);
///     let talking = async {
///         client.write_all(b"ping").await?;
///         client.close().await?; // the half-close reaches the server
///         let mut reply = Vec::new();
///         client.read_to_end(&mut reply).await?;
///         Ok(reply)
///     };
///     let serving = async {
///         let mut request = Vec::new();
///         upstream.read_to_end(&mut request).await?;
///         upstream.write_all(b"pong").await?;
///         upstream.close().await?;
///         Ok(request)
///     };
///     let (counts, reply, request) = try_join3(proxying, talking, serving).await?;
///     assert_eq!((&request[..], &reply[..]), (&b"ping"[..], &b"pong"[..]));
///     assert_eq!(counts, (4, 4));
///     Ok(())
/// })
/// # }
/// ```
pub fn copy_bidirectional<'a, A, B>(a: &'a mut A, b: &'a mut B) -> CopyBidirectional<'a, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    CopyBidirectional {
        a,
        b,
        a_to_b: Transfer::Running(CopyBuffer::new()),
        b_to_a: Transfer::Running(CopyBuffer::new()),
    }
}

/// The future of [`copy_bidirectional`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CopyBidirectional<'a, A: ?Sized, B: ?Sized> {
    a: &'a mut A,
    b: &'a mut B,
    a_to_b: Transfer,
    b_to_a: Transfer,
}

/// Where one direction of a bidirectional copy stands.
#[derive(Debug)]
enum Transfer {
    /// Copying.
    Running(CopyBuffer),
    /// The reader ended and the writer is flushed; closing the writer.
    Closing(u64),
    /// The writer is closed: this many bytes went through.
    Done(u64),
}

impl Transfer {
    /// Drives one direction from `reader` to `writer` until its writer is
    /// closed.
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            match self {
                Transfer::Running(buf) => {
                    let amt = ready!(buf.poll_copy(cx, Pin::new(reader), Pin::new(&mut *writer)))?;
                    *self = Transfer::Closing(amt);
                }
                Transfer::Closing(amt) => {
                    let amt = *amt;
                    ready!(Pin::new(&mut *writer).poll_close(cx))?;
                    *self = Transfer::Done(amt);
                }
                Transfer::Done(amt) => return Poll::Ready(Ok(*amt)),
            }
        }
    }
}

impl<A, B> Future for CopyBidirectional<'_, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<(u64, u64)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<(u64, u64)>> {
        let this = self.get_mut();
        // Both directions are polled every time, so each registers its
        // wakers; an error in either ends the copy at once.
        let a_to_b = this.a_to_b.poll(cx, &mut *this.a, &mut *this.b)?;
        let b_to_a = this.b_to_a.poll(cx, &mut *this.b, &mut *this.a)?;
        match (a_to_b, b_to_a) {
            (Poll::Ready(a_to_b), Poll::Ready(b_to_a)) => Poll::Ready(Ok((a_to_b, b_to_a))),
            _ => Poll::Pending,
        }
    }
}

impl<A: ?Sized, B: ?Sized> fmt::Debug for CopyBidirectional<'_, A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyBidirectional")
            .field("a_to_b", &self.a_to_b)
            .field("b_to_a", &self.b_to_a)
            .finish_non_exhaustive()
    }
}
