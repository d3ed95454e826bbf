//! The futures-io glue of ember's stream sockets, written once: a socket
//! type with an `io: Async<T>` field and a `shutdown_write` method gets
//! `AsyncRead` and `AsyncWrite` for itself and for `&Self`, all running
//! through the stream loop of `Async` (one waker slot per direction).

/// `AsyncRead` and `AsyncWrite` for each type listed (a stream socket and
/// its shared reference).
macro_rules! stream_io_impls {
    ($($ty:ty),*) => {$(
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_read_stream(cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_read_vectored_stream(cx, bufs)
            }
        }

        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_write_stream(cx, buf)
            }

            /// One `writev` for all of `bufs`.
            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_write_vectored_stream(cx, bufs)
            }

            /// A no-op: sockets have no user-space buffer to flush.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side (idempotent).
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(self.shutdown_write())
            }
        }
    )*};
}

pub(crate) use stream_io_impls;
