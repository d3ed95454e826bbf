//! [`EmberIo`]: hyper's `Read`/`Write` over any futures-io stream, with a
//! direct path for ember's own sockets.
//!
//! # Ground rules
//!
//! hyper lends its read buffer as a `ReadBufCursor` over memory that may
//! be uninitialised. A futures-io read takes `&mut [u8]`, which must not
//! point at uninitialised bytes, so a foreign stream (a TLS stream, a
//! duplex) gets the unfilled part zeroed first (`initialize_unfilled`, no
//! `unsafe`). An ember socket is recognised by its type (`TypeId`, the way
//! hyper itself recognises its timers' sleeps) and read with `recv(2)`
//! straight into the uninitialised memory, through the socket's one I/O
//! loop (`ember_io::__private::poll_read_with`): no zeroing, no copy, the
//! same readiness clearing as every other read. `unsafe` is used for
//! exactly three things, each argued where it stands: borrowing the
//! unfilled memory (`as_mut`), the `recv` into it, and telling hyper how
//! many bytes were filled (`advance`), never more than were written.
//!
//! Writes go to the stream's futures-io methods unchanged.
//! `is_write_vectored` is what hyper asks once per connection to choose
//! between queueing its headers and body as separate buffers (one
//! `writev`) and flattening them into one buffer (a copy): futures-io has
//! no such method, so it is `true` for ember's sockets (recognised by type
//! again) and whatever [`EmberIo::with_vectored`] says for other streams
//! (`false` unless told).

use std::any::{Any, TypeId};
use std::fmt;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::hyper::rt::{Read, ReadBufCursor, Write};
use futures_io::{AsyncRead, AsyncWrite};
use pin_project_lite::pin_project;

use crate::net::{TcpStream, UnixStream};

pin_project! {
    /// A stream with the futures-io traits, wrapped for hyper: it
    /// implements `hyper::rt::Read` and `hyper::rt::Write`, to give to
    /// hyper's `serve_connection` and `handshake` (hyper-util's `TokioIo`
    /// for ember).
    ///
    /// Any futures-io stream works. On ember's own sockets
    /// ([`TcpStream`](crate::net::TcpStream)) reads go from the kernel
    /// straight into hyper's buffer, and writes are vectored: hyper's
    /// headers and body leave in one `writev`. Other streams (TLS,
    /// [`duplex`](crate::io::duplex), ...) get hyper's buffer zeroed before
    /// each read, as the futures-io `poll_read` contract requires, and
    /// hyper flattens its writes into one buffer unless
    /// [`with_vectored(true)`](EmberIo::with_vectored) says the stream
    /// writes several buffers at once.
    ///
    /// The hyper traits need `T: 'static`: the type is how ember's sockets
    /// are recognised, without specialisation. The other way round, an
    /// `EmberIo` over a hyper stream (such as `hyper::upgrade::Upgraded`)
    /// implements the futures-io traits, to use it as an ember stream.
    ///
    /// # Examples
    ///
    /// A server loop: one task per connection, HTTP/1.1 keep-alive.
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// use ember::hyper::EmberIo;
    /// use http_body_util::Full;
    /// use hyper::service::service_fn;
    /// use std::convert::Infallible;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// ember::block_on(async {
    ///     let listener = ember::net::TcpListener::bind("127.0.0.1:8080").await?;
    ///     loop {
    ///         let (stream, _) = listener.accept().await?;
    ///         ember::spawn(async move {
    ///             let service = service_fn(|_request| async {
    ///                 Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("Hello, world!"))))
    ///             });
    ///             let served = hyper::server::conn::http1::Builder::new()
    ///                 .serve_connection(EmberIo::new(stream), service)
    ///                 .await;
    ///             if let Err(e) = served {
    ///                 eprintln!("connection: {e}");
    ///             }
    ///         });
    ///     }
    /// })
    /// # }
    /// ```
    pub struct EmberIo<T> {
        #[pin]
        inner: T,
        // `None`: ask the type (true for ember's sockets, else false).
        vectored: Option<bool>,
    }
}

impl<T> EmberIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::hyper::EmberIo;
    ///
    /// ember::block_on(async {
    ///     let (a, _b) = ember::io::duplex(1024);
    ///     let io = EmberIo::new(a);
    ///     # drop(io);
    /// });
    /// ```
    pub fn new(inner: T) -> EmberIo<T> {
        EmberIo {
            inner,
            vectored: None,
        }
    }

    /// Says whether `inner`'s `poll_write_vectored` writes several buffers
    /// at once (hyper's `is_write_vectored`; futures-io cannot say). For
    /// ember's sockets it is `true` without asking; for other streams it is
    /// `false` unless set here. With `true`, hyper hands its headers and
    /// body over as separate buffers; with `false` it copies them into one.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::hyper::EmberIo;
    /// use hyper::rt::Write;
    ///
    /// ember::block_on(async {
    ///     let (a, _b) = ember::io::duplex(1024);
    ///     assert!(!EmberIo::new(a).is_write_vectored());
    ///     let (a, _b) = ember::io::duplex(1024);
    ///     // The duplex stream takes every buffer of a vectored write.
    ///     assert!(EmberIo::new(a).with_vectored(true).is_write_vectored());
    /// });
    /// ```
    pub fn with_vectored(mut self, vectored: bool) -> EmberIo<T> {
        self.vectored = Some(vectored);
        self
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::hyper::EmberIo;
    /// use ember::net::{TcpListener, TcpStream};
    ///
    /// ember::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let io = EmberIo::new(TcpStream::connect(listener.local_addr()?).await?);
    ///     assert_eq!(io.inner().peer_addr()?, listener.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::hyper::EmberIo;
    /// use ember::io::AsyncWriteExt;
    ///
    /// ember::block_on(async {
    ///     let (a, _b) = ember::io::duplex(1024);
    ///     let mut io = EmberIo::new(a);
    ///     io.inner_mut().write_all(b"raw bytes, before hyper").await
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::hyper::EmberIo;
    ///
    /// ember::block_on(async {
    ///     let (a, _b) = ember::io::duplex(1024);
    ///     let a: ember::io::DuplexStream = EmberIo::new(a).into_inner();
    ///     # drop(a);
    /// });
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for EmberIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmberIo")
            .field("inner", &self.inner)
            .field("vectored", &self.vectored)
            .finish()
    }
}

/// Whether `T` is one of ember's sockets, which read through
/// [`read_socket`] and write vectored. Compiles to a constant.
fn is_ember_socket<T: 'static>() -> bool {
    // Add each new socket type here and in `poll_read_native`.
    TypeId::of::<T>() == TypeId::of::<TcpStream>()
        || TypeId::of::<T>() == TypeId::of::<UnixStream>()
}

/// The direct read for ember's sockets, or `None` for any other type.
fn poll_read_native<T: 'static>(
    inner: &T,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
) -> Option<Poll<io::Result<()>>> {
    let inner: &dyn Any = inner;
    if let Some(tcp) = inner.downcast_ref::<TcpStream>() {
        return Some(read_socket(tcp, cx, buf));
    }
    if let Some(unix) = inner.downcast_ref::<UnixStream>() {
        return Some(read_socket(unix, cx, buf));
    }
    None
}

/// `recv(2)` from an ember socket straight into hyper's unfilled buffer.
fn read_socket<S: ember_io::split::Stream + AsRawFd>(
    stream: &S,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `as_mut` requires that no byte initialised before is
    // de-initialised through the slice. The slice is only turned into a
    // pointer for `recv`, which stores received bytes and never writes
    // anything uninitialised.
    let unfilled = unsafe { buf.as_mut() };
    let (ptr, len) = (unfilled.as_mut_ptr().cast::<libc::c_void>(), unfilled.len());
    let fd = stream.as_raw_fd();
    let n = ready!(ember_io::__private::poll_read_with(stream, cx, len, || {
        // SAFETY: `ptr..ptr + len` is the unfilled part of hyper's buffer,
        // exclusively borrowed (through `buf`) for this whole call, so it is
        // valid for writes of `len` bytes and nothing else reads or writes it
        // meanwhile; `recv` writes at most `len` bytes there and reads none.
        // `fd` is open: `stream` owns it and is borrowed for the call.
        let received = unsafe { libc::recv(fd, ptr, len, 0) };
        // Negative means failed (errno set); otherwise at most `len`.
        usize::try_from(received).map_err(|_| io::Error::last_os_error())
    }))?;
    // SAFETY: `advance(n)` requires the first `n` unfilled bytes to be
    // initialised: `recv` returned `n`, so it wrote exactly those bytes
    // (and `n <= len`, the length of the unfilled part, so `filled` stays
    // within the buffer).
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}

impl<T: AsyncRead + 'static> Read for EmberIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let inner = self.project().inner;
        if let Some(poll) = poll_read_native(inner.as_ref().get_ref(), cx, &mut buf) {
            return poll;
        }
        // Any other stream: futures-io reads need initialised memory.
        let dst = buf.initialize_unfilled();
        let len = dst.len();
        let n = ready!(inner.poll_read(cx, dst))?;
        if n > len {
            return Poll::Ready(Err(io::Error::other(
                "poll_read reported more bytes than the buffer holds",
            )));
        }
        // SAFETY: `advance(n)` requires the first `n` unfilled bytes to be
        // initialised: `initialize_unfilled` initialised all `len` of them,
        // and `n <= len` was just checked.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + 'static> Write for EmberIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored.unwrap_or_else(is_ember_socket::<T>)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    /// Closes the stream's write side (futures-io's `poll_close`).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

/// The other way round: a hyper stream (such as
/// `hyper::upgrade::Upgraded`) as a futures-io reader.
impl<T: Read> AsyncRead for EmberIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = ::hyper::rt::ReadBuf::new(buf);
        ready!(self.project().inner.poll_read(cx, read_buf.unfilled()))?;
        Poll::Ready(Ok(read_buf.filled().len()))
    }
}

/// The other way round: a hyper stream as a futures-io writer
/// (`poll_close` is hyper's `poll_shutdown`).
impl<T: Write> AsyncWrite for EmberIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
