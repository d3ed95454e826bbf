//! Sending a range of a file over a stream socket: `sendfile(2)` on Linux
//! and Android (the bytes go from the page cache to the socket without a
//! copy through user space), a read-and-write loop elsewhere and for files
//! `sendfile` refuses. Used by `TcpStream::send_file` and
//! `UnixStream::send_file`.
//!
//! # Ground rules
//!
//! * Every system call runs under writability the reactor reported, waited
//!   for through the source's waiter list; that wait spends one unit of the
//!   task's coop budget per partial send, so a 64 MiB send yields to the
//!   other tasks now and then instead of holding the thread.
//! * Readiness is cleared only on `WouldBlock`. A short `sendfile` is not
//!   proof that the send buffer filled (the file may have ended, or a
//!   signal cut the kernel's loop short), and clearing readiness without
//!   that proof could wait for an event that never comes; the next call
//!   says which it was, at the price of one `WouldBlock` per buffer-full.
//! * The file's own offset is never read or moved (`sendfile` with an
//!   explicit offset, `pread` in the fallback), so one file can be sent on
//!   several sockets at once.
//! * The file is read on the calling thread, by the kernel inside
//!   `sendfile` or by `pread` in the fallback: for a file in the page cache
//!   that is a memory copy; for one on a slow disk, it is disk latency on
//!   the event loop, as with libevent's `evbuffer_add_file`.

use std::fs::File;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;

use crate::async_fd::stream::RefIo;
use crate::async_fd::Async;

/// The fallback's buffer: one pread and (at most) a few writes per chunk.
const CHUNK: usize = 64 * 1024;

/// Sends `len` bytes of `file` from `offset` on the stream `io`; returns the
/// bytes sent, fewer than `len` only if the file ended first.
pub(crate) async fn send_file<T: AsFd + RefIo>(
    io: &Async<T>,
    file: &File,
    offset: u64,
    len: u64,
) -> io::Result<u64> {
    // The last byte's offset must be representable.
    offset.checked_add(len).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "send_file: offset + len overflows u64",
        )
    })?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let sent = match zero_copy(io, file, offset, len).await? {
        ZeroCopy::Done(sent) => return Ok(sent),
        ZeroCopy::Unsupported(sent) => sent,
    };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let sent = 0;
    copy(io, file, offset, len, sent).await
}

/// How the `sendfile` loop ended.
#[cfg(any(target_os = "linux", target_os = "android"))]
enum ZeroCopy {
    /// All sent, or the file ended: the total.
    Done(u64),
    /// `sendfile` does not work for this file or socket, after this many
    /// bytes: the fallback takes over from there.
    Unsupported(u64),
}

/// The `sendfile(2)` loop.
#[cfg(any(target_os = "linux", target_os = "android"))]
async fn zero_copy<T: AsFd>(
    io: &Async<T>,
    file: &File,
    offset: u64,
    len: u64,
) -> io::Result<ZeroCopy> {
    let registration = io.registration();
    let socket = io.get_ref().as_fd();
    let mut sent = 0;
    while sent < len {
        let event = registration
            .ready(ember_reactor::Interest::WRITABLE)
            .await?;
        let want = usize::try_from(len - sent).unwrap_or(usize::MAX);
        match ember_reactor::__private::sendfile(socket, file.as_fd(), offset + sent, want) {
            Ok(0) => break,
            Ok(n) => sent += n as u64,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                registration.clear_readiness(event);
            }
            Err(e) if unsupported(&e) => return Ok(ZeroCopy::Unsupported(sent)),
            Err(e) => return Err(e),
        }
    }
    Ok(ZeroCopy::Done(sent))
}

/// Whether `e` says that `sendfile` cannot serve this pair of descriptors
/// (rather than that the transfer failed).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// The read-and-write loop: `pread` a chunk, write all of it (waiting for
/// writability through the stream's one I/O loop), repeat. Starts `sent`
/// bytes into the range.
pub(crate) async fn copy<T: RefIo>(
    io: &Async<T>,
    file: &File,
    offset: u64,
    len: u64,
    mut sent: u64,
) -> io::Result<u64> {
    let mut buf = vec![0; CHUNK.min(usize::try_from(len - sent).unwrap_or(CHUNK))];
    while sent < len {
        let want = buf
            .len()
            .min(usize::try_from(len - sent).unwrap_or(usize::MAX));
        let n = loop {
            match file.read_at(&mut buf[..want], offset + sent) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => break result?,
            }
        };
        if n == 0 {
            break;
        }
        let mut written = 0;
        while written < n {
            let m = poll_fn(|cx| io.poll_write_stream(cx, &buf[written..n])).await?;
            if m == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            written += m;
            sent += m as u64;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/util/block_on.rs"
    ));

    /// The fallback, which Linux never takes for a regular file, run
    /// directly: a range arrives intact, the end of the file shortens it.
    #[test]
    fn the_read_and_write_fallback_sends_the_range() -> io::Result<()> {
        let path = std::env::temp_dir().join(format!("ember-copy-{}", std::process::id()));
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &data)?;
        let file = File::open(&path)?;
        std::fs::remove_file(&path)?;

        let (sender, mut receiver) = UnixStream::pair()?;
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            receiver.read_to_end(&mut got).map(|_| got)
        });
        block_on(async {
            let sender = Async::new_stream(sender)?;
            assert_eq!(copy(&sender, &file, 1001, 2_000_000, 0).await?, 2_000_000);
            // Asked past the end: what there is; starting `sent` bytes in.
            let tail = data.len() as u64 - 10;
            assert_eq!(copy(&sender, &file, tail, 100, 4).await?, 10);
            io::Result::Ok(())
        })?;
        let got = reader.join().expect("the reader thread")?;
        assert_eq!(got.len(), 2_000_000 + 6);
        assert!(got[..2_000_000] == data[1001..2_001_001]);
        assert_eq!(got[2_000_000..], data[data.len() - 6..]);
        Ok(())
    }
}
