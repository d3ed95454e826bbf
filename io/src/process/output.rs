//! Collecting a child's output: [`poll_read_to_end`] drains one pipe into a
//! buffer as far as it can without waiting, so that
//! `Child::wait_with_output` can poll both pipes and the exit in one future
//! (a pipe left unread while the other is drained could fill and block the
//! child forever).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

/// The first read asks for this much; later ones for as much as was read
/// so far, up to [`MAX_CHUNK`], so a small output allocates little.
const MIN_CHUNK: usize = 8 * 1024;
/// A pipe's default capacity on Linux: no read returns more, so a larger
/// chunk would only cost zeroing.
const MAX_CHUNK: usize = 64 * 1024;

/// Reads from `pipe` into `buf` until end-of-file (`Ready(Ok)`), an error,
/// or `Pending` (with `cx`'s waker stored). `None` counts as a pipe at its
/// end. What was read stays in `buf` whatever the outcome.
pub(crate) fn poll_read_to_end<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let Some(pipe) = pipe else {
        return Poll::Ready(Ok(()));
    };
    loop {
        let filled = buf.len();
        let chunk = filled.clamp(MIN_CHUNK, MAX_CHUNK);
        buf.resize(filled + chunk, 0);
        let polled = Pin::new(&mut *pipe).poll_read(cx, &mut buf[filled..]);
        let n = match &polled {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(filled + n);
        match polled {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    /// Hands out its data in the pieces given, then `Pending` once, then
    /// end-of-file.
    struct Pieces {
        pieces: Vec<Vec<u8>>,
        pending_once: bool,
    }

    impl AsyncRead for Pieces {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            if self.pieces.is_empty() {
                if self.pending_once {
                    self.pending_once = false;
                    return Poll::Pending;
                }
                return Poll::Ready(Ok(0));
            }
            let piece = self.pieces.remove(0);
            assert!(piece.len() <= buf.len(), "asked for too little");
            buf[..piece.len()].copy_from_slice(&piece);
            Poll::Ready(Ok(piece.len()))
        }
    }

    #[test]
    fn keeps_what_was_read_across_pending_and_stops_at_eof() {
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut pipe = Some(Pieces {
            pieces: vec![b"abc".to_vec(), vec![7; MIN_CHUNK], b"z".to_vec()],
            pending_once: true,
        });
        let mut buf = Vec::new();
        assert!(poll_read_to_end(&mut pipe, &mut buf, &mut cx).is_pending());
        assert_eq!(buf.len(), 3 + MIN_CHUNK + 1);
        assert!(matches!(
            poll_read_to_end(&mut pipe, &mut buf, &mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(buf.last(), Some(&b'z'));
    }

    #[test]
    fn no_pipe_is_at_its_end() {
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut buf = Vec::new();
        let mut pipe: Option<Pieces> = None;
        assert!(matches!(
            poll_read_to_end(&mut pipe, &mut buf, &mut cx),
            Poll::Ready(Ok(()))
        ));
        assert!(buf.is_empty());
    }
}
