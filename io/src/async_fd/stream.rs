//! The one stream I/O loop: every read and write of an [`Async<T>`], of
//! ember's socket types and of their split halves runs through
//! [`poll_transfer`] (futures-io `poll_*`) or [`try_transfer`] (`try_*`).
//! A socket type is a thin wrapper: it hands its `Async` to the methods here.
//!
//! Both clear the readiness an operation ran under when it reports
//! `WouldBlock`. On byte streams built by this crate (the `stream` flag of
//! `Async`) they also clear it after a short transfer (`0 < n < len`), which saves the
//! system call that would only report `WouldBlock`: on a stream socket or a
//! pipe a short read means the receive queue was drained and a short write
//! means the send buffer filled, and either way the kernel reports the next
//! change as a new event (the tick check keeps an event that arrived
//! meanwhile). Not when the event reported the direction closed or in
//! error: those states never produce another event, so they must stay. And
//! not for user handles (`Async::new`): a terminal in canonical mode returns
//! one line per read with more still buffered.
//!
//! Zero-length reads and writes return `Ok(0)` at once, without a system
//! call or a wait.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ember_reactor::{Direction, Interest, Ready, ReadyEvent, Registration};
use futures_io::{AsyncRead, AsyncWrite};

use super::Async;

/// The `poll_*` loop (one waker slot per direction): wait for readiness in
/// `dir`, run `op` (a transfer of at most `len` bytes), clear the readiness
/// on `WouldBlock` (and, for a `stream`, on a short transfer); retry only
/// on `WouldBlock`.
pub(crate) fn poll_transfer(
    registration: &Registration,
    stream: bool,
    cx: &mut Context<'_>,
    dir: Direction,
    len: usize,
    mut op: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        let event = ready!(registration.poll_ready(cx, dir))?;
        match op() {
            Ok(n) => {
                if stream && drained(event, dir, n, len) {
                    registration.clear_readiness(event);
                }
                return Poll::Ready(Ok(n));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                registration.clear_readiness(event);
            }
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// The `try_*` form of [`poll_transfer`]: `WouldBlock` at once, without a
/// system call, when `dir` is not marked ready; otherwise one attempt,
/// clearing readiness the same way.
pub(crate) fn try_transfer(
    registration: &Registration,
    stream: bool,
    dir: Direction,
    len: usize,
    op: impl FnOnce() -> io::Result<usize>,
) -> io::Result<usize> {
    let event = match registration.readiness(dir.interest()) {
        Some(Ok(event)) => event,
        Some(Err(e)) => return Err(e),
        None => return Err(io::ErrorKind::WouldBlock.into()),
    };
    match op() {
        Ok(n) => {
            if stream && drained(event, dir, n, len) {
                registration.clear_readiness(event);
            }
            Ok(n)
        }
        Err(e) => {
            if e.kind() == io::ErrorKind::WouldBlock {
                registration.clear_readiness(event);
            }
            Err(e)
        }
    }
}

/// Whether a transfer of `n` out of `len` bytes under `event` proves the
/// queue drained (see the module docs).
fn drained(event: ReadyEvent, dir: Direction, n: usize, len: usize) -> bool {
    n > 0 && n < len && !is_final(event, dir)
}

/// Whether `event` reports a state that no later event will repeat: the
/// direction closed, or an error.
pub(crate) fn is_final(event: ReadyEvent, dir: Direction) -> bool {
    let ready = event.readiness();
    ready.is_error()
        || match dir {
            Direction::Read => ready.is_read_closed(),
            Direction::Write => ready.is_write_closed(),
        }
}

fn total_len(bufs: &[impl std::ops::Deref<Target = [u8]>]) -> usize {
    bufs.iter()
        .fold(0, |sum, buf| sum.saturating_add(buf.len()))
}

/// A handle that reads and writes through shared references, as sockets
/// and pipes do (`&T: Read + Write`), so that the halves of a split stream
/// can share it. Implemented for every such type; only this crate names it.
pub trait RefIo {
    /// `Read::read` through `&self`.
    fn read_ref(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// `Read::read_vectored` through `&self`.
    fn read_vectored_ref(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
    /// `Write::write` through `&self`.
    fn write_ref(&self, buf: &[u8]) -> io::Result<usize>;
    /// `Write::write_vectored` through `&self`.
    fn write_vectored_ref(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
}

impl<T> RefIo for T
where
    for<'a> &'a T: Read + Write,
{
    fn read_ref(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }
    fn read_vectored_ref(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        Read::read_vectored(&mut &*self, bufs)
    }
    fn write_ref(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }
    fn write_vectored_ref(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Write::write_vectored(&mut &*self, bufs)
    }
}

/// The stream side of `Async`, for ember's socket types and their halves.
///
/// Readiness here is not confirmed with a `poll(2)` probe as
/// `Async::readable` does: every I/O path of those types runs through the
/// loops above and clears stale readiness itself (tokio's semantics).
impl<T> Async<T> {
    /// Waits (as one of any number of waiters) for `interest`.
    pub(crate) async fn stream_ready(&self, interest: Interest) -> io::Result<Ready> {
        let event = self.registration.ready(interest).await?;
        Ok(event.readiness())
    }

    /// Polls for readiness in `dir` (one waker slot per direction).
    pub(crate) fn poll_stream_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<()>> {
        self.registration.poll_ready(cx, dir).map_ok(|_event| ())
    }

    /// The `poll_*` read loop with the caller's own system call: `op`
    /// reads at most `len` bytes (the facade's hyper glue receives into
    /// hyper's uninitialised buffer with `recv(2)`, which needs a raw
    /// pointer that safe code cannot hand over). Readiness is cleared as
    /// for every other read of this handle.
    pub(crate) fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        poll_transfer(
            &self.registration,
            self.stream,
            cx,
            Direction::Read,
            len,
            op,
        )
    }

    /// tokio's `try_io`: runs `op` if the handle is marked ready for
    /// `interest`, `WouldBlock` at once otherwise; clears the readiness seen
    /// when `op` itself reports `WouldBlock`.
    pub(crate) fn try_io_ready<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = match self.registration.readiness(interest) {
            Some(Ok(event)) => event,
            Some(Err(e)) => return Err(e),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.registration.clear_readiness(event);
                Err(e)
            }
            result => result,
        }
    }
}

impl<T: RefIo> Async<T> {
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (io, len) = (self.get_ref(), buf.len());
        poll_transfer(
            &self.registration,
            self.stream,
            cx,
            Direction::Read,
            len,
            || io.read_ref(buf),
        )
    }

    pub(crate) fn poll_read_vectored_stream(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let io = self.get_ref();
        poll_transfer(
            &self.registration,
            self.stream,
            cx,
            Direction::Read,
            len,
            || io.read_vectored_ref(bufs),
        )
    }

    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let io = self.get_ref();
        poll_transfer(
            &self.registration,
            self.stream,
            cx,
            Direction::Write,
            buf.len(),
            || io.write_ref(buf),
        )
    }

    pub(crate) fn poll_write_vectored_stream(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let io = self.get_ref();
        poll_transfer(
            &self.registration,
            self.stream,
            cx,
            Direction::Write,
            len,
            || io.write_vectored_ref(bufs),
        )
    }

    pub(crate) fn try_read_stream(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (io, len) = (self.get_ref(), buf.len());
        try_transfer(
            &self.registration,
            self.stream,
            Direction::Read,
            len,
            || io.read_ref(buf),
        )
    }

    pub(crate) fn try_read_vectored_stream(
        &self,
        bufs: &mut [IoSliceMut<'_>],
    ) -> io::Result<usize> {
        let len = total_len(bufs);
        if len == 0 {
            return Ok(0);
        }
        let io = self.get_ref();
        try_transfer(
            &self.registration,
            self.stream,
            Direction::Read,
            len,
            || io.read_vectored_ref(bufs),
        )
    }

    pub(crate) fn try_write_stream(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let io = self.get_ref();
        try_transfer(
            &self.registration,
            self.stream,
            Direction::Write,
            buf.len(),
            || io.write_ref(buf),
        )
    }

    pub(crate) fn try_write_vectored_stream(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let len = total_len(bufs);
        if len == 0 {
            return Ok(0);
        }
        let io = self.get_ref();
        try_transfer(
            &self.registration,
            self.stream,
            Direction::Write,
            len,
            || io.write_vectored_ref(bufs),
        )
    }
}

impl<T: Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this = self.get_mut();
        let (stream, len) = (this.stream, buf.len());
        let io = this.io.as_mut().expect(super::IO_TAKEN);
        poll_transfer(&this.registration, stream, cx, Direction::Read, len, || {
            io.read(buf)
        })
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let this = self.get_mut();
        let stream = this.stream;
        let io = this.io.as_mut().expect(super::IO_TAKEN);
        poll_transfer(&this.registration, stream, cx, Direction::Read, len, || {
            io.read_vectored(bufs)
        })
    }
}

impl<T> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let (mut io, len) = (this.get_ref(), buf.len());
        poll_transfer(
            &this.registration,
            this.stream,
            cx,
            Direction::Read,
            len,
            || io.read(buf),
        )
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        poll_transfer(
            &this.registration,
            this.stream,
            cx,
            Direction::Read,
            len,
            || io.read_vectored(bufs),
        )
    }
}

impl<T: Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this = self.get_mut();
        let stream = this.stream;
        let io = this.io.as_mut().expect(super::IO_TAKEN);
        poll_transfer(
            &this.registration,
            stream,
            cx,
            Direction::Write,
            buf.len(),
            || io.write(buf),
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let this = self.get_mut();
        let stream = this.stream;
        let io = this.io.as_mut().expect(super::IO_TAKEN);
        poll_transfer(
            &this.registration,
            stream,
            cx,
            Direction::Write,
            len,
            || io.write_vectored(bufs),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect(super::IO_TAKEN);
        poll_flush_with(&this.registration, cx, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        poll_transfer(
            &this.registration,
            this.stream,
            cx,
            Direction::Write,
            buf.len(),
            || io.write(buf),
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        poll_transfer(
            &this.registration,
            this.stream,
            cx,
            Direction::Write,
            len,
            || io.write_vectored(bufs),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        poll_flush_with(&this.registration, cx, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// Flushes without waiting for writability first: for sockets and pipes
/// `flush` is a no-op that must not wait behind a full send buffer. Only a
/// flush that would block waits for readiness.
fn poll_flush_with(
    registration: &Registration,
    cx: &mut Context<'_>,
    mut flush: impl FnMut() -> io::Result<()>,
) -> Poll<io::Result<()>> {
    match flush() {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            registration.poll_io(cx, Direction::Write, flush)
        }
        result => Poll::Ready(result),
    }
}
