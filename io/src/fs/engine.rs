//! The buffered state machine that runs a [`File`](super::File) (and the
//! standard streams served by the blocking pool) on the blocking pool:
//! read-ahead, write-behind, seeks, and settling before the operations that
//! need everything written.
//!
//! Ground rules:
//! - The engine is owned by one handle and driven through `&mut self`
//!   (`File` wraps it in a mutex for its `&self` methods). At most one
//!   operation is in flight (`op`); every blocking call goes through the
//!   handle's [`Lane`], so calls run in the order they were submitted even
//!   when a handle is dropped with a write still queued.
//! - Reading mode and writing mode exclude each other: unread data
//!   (`rbuf[rpos..rend]`) or a read in flight imply `wbuf` is empty, and
//!   `wbuf` holding data implies there is nothing unread. Switching from
//!   reading to anything that depends on the position discards what was read
//!   ahead and records it in `back`; the next positioned call first seeks back
//!   by that much, so the OS position always matches what the user saw.
//! - A write returns as soon as its bytes are in `wbuf`. The background
//!   write's error is returned by the next operation that waits for it
//!   (`poll_write`, `poll_flush`, `poll_read`, `poll_seek`, settling), and the
//!   data not yet written is dropped with it: a write error is reported
//!   exactly once and never swallowed.
//! - Read-ahead (a read started before the user asks for it) only happens on
//!   regular files, which the first read finds out on the pool, and only once
//!   the reader has come back for a second buffer without seeking: a
//!   speculative read can then never wait for input or take data that
//!   another reader of a pipe or terminal should have had.

use std::cmp;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use crate::blocking::{Lane, Unblock};

/// The smallest read the engine makes, whatever the reader asked for: one
/// pool round trip per 8 KiB `read` would cost more than the copy.
pub(crate) const MIN_CHUNK: usize = 64 * 1024;

/// The largest chunk read or written in one pool round trip (tokio's cap).
pub(crate) const MAX_CHUNK: usize = 2 * 1024 * 1024;

/// What the engine runs its blocking calls on. The calls run on a pool
/// thread, one at a time.
pub(crate) trait Target: Send + Sync + 'static {
    /// One read; may return fewer bytes than asked.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes all of `buf`.
    fn write_all(&self, buf: &[u8]) -> io::Result<()>;

    /// Moves the position.
    fn seek(&self, _pos: SeekFrom) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this stream cannot seek",
        ))
    }

    /// Pushes out what the target itself buffers (std's stdout).
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    /// Whether reading ahead of the reader is safe: a regular file.
    fn is_regular(&self) -> bool;
}

/// How an engine batches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Largest chunk per pool round trip.
    pub(crate) max_chunk: usize,
    /// Never split one `poll_write` across two blocking writes (the standard
    /// streams, where a split could interleave with another writer).
    pub(crate) whole_writes: bool,
    /// `poll_flush` also runs [`Target::flush`] after a write.
    pub(crate) flush_target: bool,
}

impl Config {
    /// A file's: chunks up to [`MAX_CHUNK`], nothing to flush beyond the
    /// writes themselves.
    pub(crate) const FILE: Config = Config {
        max_chunk: MAX_CHUNK,
        whole_writes: false,
        flush_target: false,
    };
}

/// Whether reads may run ahead of the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ahead {
    /// Not known until the first read.
    Unknown,
    Yes,
    No,
}

/// The operation in flight on the pool.
enum Op {
    Read(Unblock<ReadDone>),
    Write(Unblock<WriteDone>),
    Seek(SeekFrom, Unblock<io::Result<u64>>),
    Flush(Unblock<io::Result<()>>),
}

/// What a read hands back: the result, the buffer read into (so it is
/// reused), and on the first read whether the target is a regular file.
struct ReadDone {
    result: io::Result<usize>,
    /// How much was asked for.
    len: usize,
    buf: Vec<u8>,
    regular: Option<bool>,
}

/// What a write hands back: the result and the emptied buffer.
struct WriteDone {
    result: io::Result<()>,
    buf: Vec<u8>,
}

/// See the [module docs](self).
pub(crate) struct Engine<T: Target> {
    target: Arc<T>,
    lane: Lane,
    config: Config,
    /// The operation in flight, if any.
    op: Option<Op>,
    /// Bytes read and not yet handed out are `rbuf[rpos..rend]`.
    rbuf: Vec<u8>,
    rpos: usize,
    rend: usize,
    /// Bytes accepted by `poll_write` and not yet handed to the pool.
    wbuf: Vec<u8>,
    /// A buffer kept for the next read or write, so steady streaming
    /// allocates nothing.
    spare: Vec<u8>,
    /// How far the OS position is ahead of the user's, from data read and
    /// discarded; the next positioned call seeks back by this much first.
    back: u64,
    /// Reads submitted since the last reposition: the length of the
    /// sequential run, which sizes the next chunk.
    streak: u32,
    /// The last read filled its buffer (so the file likely goes on).
    last_full: bool,
    ahead: Ahead,
    /// Written since the last `Target::flush` (with `config.flush_target`).
    dirty: bool,
}

impl<T: Target> Engine<T> {
    pub(crate) fn new(target: Arc<T>, config: Config) -> Engine<T> {
        Engine {
            target,
            lane: Lane::serial(),
            config,
            op: None,
            rbuf: Vec::new(),
            rpos: 0,
            rend: 0,
            wbuf: Vec::new(),
            spare: Vec::new(),
            back: 0,
            streak: 0,
            last_full: false,
            ahead: Ahead::Unknown,
            dirty: false,
        }
    }

    /// Reads into `dst`: from what was read ahead, or from one blocking read
    /// of a chunk (at least `dst.len()`).
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if self.rpos < self.rend {
                let n = cmp::min(dst.len(), self.rend - self.rpos);
                dst[..n].copy_from_slice(&self.rbuf[self.rpos..self.rpos + n]);
                self.rpos += n;
                self.maybe_read_ahead();
                return Poll::Ready(Ok(n));
            }
            match &mut self.op {
                Some(Op::Read(done)) => {
                    let done = ready!(poll_unblock(done, cx));
                    self.op = None;
                    let done = done?;
                    if let Some(regular) = done.regular {
                        self.ahead = if regular { Ahead::Yes } else { Ahead::No };
                    }
                    let filled = done.result?;
                    self.last_full = filled == done.len;
                    let old = mem::replace(&mut self.rbuf, done.buf);
                    self.keep_spare(old);
                    self.rpos = 0;
                    self.rend = filled;
                    if filled == 0 {
                        return Poll::Ready(Ok(0));
                    }
                }
                Some(_) => ready!(self.poll_finish(cx))?,
                None if !self.wbuf.is_empty() => self.submit_write(),
                None => {
                    let len = self.chunk(dst.len());
                    self.submit_read(len);
                }
            }
        }
    }

    /// Accepts `src` into the write-behind buffer, and hands the buffer to
    /// the pool whenever no write is in flight.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.discard_unread();
        loop {
            match &mut self.op {
                Some(Op::Read(_)) => ready!(self.poll_discard_read(cx)),
                Some(Op::Write(done)) => {
                    if let Poll::Ready(done) = poll_unblock(done, cx) {
                        self.op = None;
                        self.land_write(done)?;
                        continue;
                    }
                    // Still writing: fill the other buffer meanwhile.
                    let n = self.room_for(src.len());
                    if n == 0 {
                        return Poll::Pending;
                    }
                    self.wbuf.extend_from_slice(&src[..n]);
                    return Poll::Ready(Ok(n));
                }
                Some(_) => ready!(self.poll_finish(cx))?,
                None => {
                    let n = self.room_for(src.len());
                    if n == 0 {
                        // Full: send it, and take `src` into the other buffer.
                        self.submit_write();
                        continue;
                    }
                    self.wbuf.extend_from_slice(&src[..n]);
                    self.submit_write();
                    return Poll::Ready(Ok(n));
                }
            }
        }
    }

    /// Writes out everything accepted so far (and flushes the target if it
    /// buffers), returning the first background write error.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match &self.op {
                // Reading: nothing written is pending (see the ground rules).
                Some(Op::Read(_)) => return Poll::Ready(Ok(())),
                Some(_) => ready!(self.poll_finish(cx))?,
                None if !self.wbuf.is_empty() => self.submit_write(),
                None if self.dirty => {
                    let target = Arc::clone(&self.target);
                    self.dirty = false;
                    self.op = Some(Op::Flush(self.lane.run(false, move || target.flush())));
                }
                None => return Poll::Ready(Ok(())),
            }
        }
    }

    /// Moves the position, after writing what is pending and giving back
    /// what was read ahead.
    ///
    /// A seek dropped before completion still happens; polling again with
    /// the same `pos` picks up its result rather than seeking twice.
    pub(crate) fn poll_seek(
        &mut self,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.discard_unread();
        loop {
            match &mut self.op {
                Some(Op::Seek(target, done)) if *target == pos => {
                    let done = ready!(poll_unblock(done, cx));
                    self.op = None;
                    return Poll::Ready(done.and_then(|r| r));
                }
                Some(Op::Read(_)) => ready!(self.poll_discard_read(cx)),
                // A seek for another position, abandoned: it happened.
                Some(_) => ready!(self.poll_finish(cx))?,
                None if !self.wbuf.is_empty() => self.submit_write(),
                None => {
                    let back = self.take_back();
                    let target = Arc::clone(&self.target);
                    self.streak = 0;
                    self.op = Some(Op::Seek(
                        pos,
                        self.lane.run(false, move || {
                            seek_back(&*target, back)?;
                            target.seek(pos)
                        }),
                    ));
                }
            }
        }
    }

    /// Waits until nothing is pending: accepted bytes written (their error
    /// returned), no operation in flight, and with `discard_reads` nothing
    /// read ahead. Then [`Engine::run`] can run a call that needs the file
    /// quiet (sync, set_len, metadata, handing the file back).
    pub(crate) fn poll_settle(
        &mut self,
        cx: &mut Context<'_>,
        discard_reads: bool,
    ) -> Poll<io::Result<()>> {
        if discard_reads {
            self.discard_unread();
        }
        loop {
            match &self.op {
                Some(Op::Read(_)) if !discard_reads => return Poll::Ready(Ok(())),
                Some(Op::Read(_)) => ready!(self.poll_discard_read(cx)),
                Some(_) => ready!(self.poll_finish(cx))?,
                None if !self.wbuf.is_empty() => self.submit_write(),
                None => return Poll::Ready(Ok(())),
            }
        }
    }

    /// Queues `f` on the lane, behind everything submitted before. With
    /// `positioned`, the position is first set back over data read ahead and
    /// discarded (call [`Engine::poll_settle`] with `discard_reads` first).
    pub(crate) fn run<R, F>(&mut self, positioned: bool, f: F) -> Unblock<io::Result<R>>
    where
        F: FnOnce(&T) -> io::Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let back = if positioned { self.take_back() } else { 0 };
        if positioned {
            self.streak = 0;
        }
        let target = Arc::clone(&self.target);
        self.lane.run(false, move || {
            seek_back(&*target, back)?;
            f(&target)
        })
    }

    /// Nothing buffered, nothing in flight, nothing to seek back over.
    pub(crate) fn is_quiet(&self) -> bool {
        self.op.is_none() && self.wbuf.is_empty() && self.rpos == self.rend && self.back == 0
    }

    /// Whether the position is ahead of the user's (see [`Engine::run`]).
    pub(crate) fn needs_seek_back(&self) -> bool {
        self.back > 0
    }

    /// Gives back the unread part of `rbuf`.
    fn discard_unread(&mut self) {
        if self.rpos < self.rend {
            self.back += (self.rend - self.rpos) as u64;
        }
        self.rpos = 0;
        self.rend = 0;
        self.streak = 0;
    }

    /// Waits for the read in flight and gives its bytes back. Its error is
    /// dropped: the user never asked for that data.
    fn poll_discard_read(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(Op::Read(done)) = &mut self.op else {
            return Poll::Ready(());
        };
        let done = ready!(poll_unblock(done, cx));
        self.op = None;
        if let Ok(done) = done {
            if let Some(regular) = done.regular {
                self.ahead = if regular { Ahead::Yes } else { Ahead::No };
            }
            if let Ok(n) = done.result {
                self.back += n as u64;
            }
            self.keep_spare(done.buf);
        }
        Poll::Ready(())
    }

    /// Waits for the write, seek or flush in flight and returns its error.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = match &mut self.op {
            None => return Poll::Ready(Ok(())),
            Some(Op::Read(_)) => {
                ready!(self.poll_discard_read(cx));
                return Poll::Ready(Ok(()));
            }
            Some(Op::Write(done)) => {
                let done = ready!(poll_unblock(done, cx));
                self.op = None;
                return Poll::Ready(self.land_write(done));
            }
            Some(Op::Seek(_, done)) => ready!(poll_unblock(done, cx)).and_then(|r| r.map(drop)),
            Some(Op::Flush(done)) => ready!(poll_unblock(done, cx)).and_then(|r| r),
        };
        self.op = None;
        Poll::Ready(result)
    }

    /// Takes a finished write's buffer back and returns its error; after an
    /// error the bytes accepted since are dropped too (reported once, here).
    fn land_write(&mut self, done: io::Result<WriteDone>) -> io::Result<()> {
        let done = match done {
            Ok(done) => done,
            Err(e) => {
                self.wbuf.clear();
                return Err(e);
            }
        };
        let mut buf = done.buf;
        buf.clear();
        self.keep_spare(buf);
        if done.result.is_err() {
            self.wbuf.clear();
        }
        done.result
    }

    fn submit_write(&mut self) {
        let mut buf = mem::take(&mut self.spare);
        buf.clear();
        let buf = mem::replace(&mut self.wbuf, buf);
        let back = self.take_back();
        let target = Arc::clone(&self.target);
        self.dirty = self.config.flush_target;
        self.op = Some(Op::Write(self.lane.run(true, move || {
            let result = seek_back(&*target, back).and_then(|()| target.write_all(&buf));
            WriteDone { result, buf }
        })));
    }

    fn submit_read(&mut self, len: usize) {
        let mut buf = mem::take(&mut self.spare);
        let back = self.take_back();
        let target = Arc::clone(&self.target);
        let probe = self.ahead == Ahead::Unknown;
        self.streak = self.streak.saturating_add(1);
        self.op = Some(Op::Read(self.lane.run(false, move || {
            let regular = probe.then(|| target.is_regular());
            if buf.len() < len {
                // Zeroed once per buffer (on the pool thread); buffers are reused.
                buf.resize(len, 0);
            }
            let result = seek_back(&*target, back).and_then(|()| loop {
                match target.read(&mut buf[..len]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => break result,
                }
            });
            ReadDone {
                result,
                len,
                buf,
                regular,
            }
        })));
    }

    /// After handing out data: start reading the next chunk if the reader
    /// is reading a regular file sequentially and nothing is in flight.
    fn maybe_read_ahead(&mut self) {
        if self.op.is_none() && self.ahead == Ahead::Yes && self.streak >= 2 && self.last_full {
            let len = self.chunk(0);
            self.submit_read(len);
        }
    }

    /// The size of the next read: at least what the reader asked for and
    /// [`MIN_CHUNK`], doubling along a sequential run up to the cap.
    /// Only regular files grow: a pipe or terminal hands out at most what
    /// it holds, whatever the buffer.
    fn chunk(&self, asked: usize) -> usize {
        let grown = match self.ahead {
            Ahead::Yes => MIN_CHUNK << self.streak.min(16),
            Ahead::Unknown | Ahead::No => MIN_CHUNK,
        };
        cmp::min(cmp::max(asked, grown), self.config.max_chunk)
    }

    /// How much of a write of `len` bytes fits in `wbuf` now.
    fn room_for(&self, len: usize) -> usize {
        let used = self.wbuf.len();
        if self.config.whole_writes {
            if used == 0 || used + len <= self.config.max_chunk {
                len
            } else {
                0
            }
        } else {
            cmp::min(len, self.config.max_chunk.saturating_sub(used))
        }
    }

    fn take_back(&mut self) -> u64 {
        mem::take(&mut self.back)
    }

    /// Keeps `buf` for reuse if it is bigger than the spare we have.
    fn keep_spare(&mut self, buf: Vec<u8>) {
        if buf.capacity() > self.spare.capacity() {
            self.spare = buf;
        }
    }
}

impl<T: Target> Drop for Engine<T> {
    /// Bytes accepted and not yet handed to the pool are written in the
    /// background, after whatever is still in flight. Nobody is left to hear
    /// of an error: `poll_flush`/`poll_close` first to see it.
    fn drop(&mut self) {
        if self.wbuf.is_empty() {
            return;
        }
        let buf = mem::take(&mut self.wbuf);
        let back = self.take_back();
        let target = Arc::clone(&self.target);
        self.lane.run_detached(move || {
            // Nobody to report to (see above).
            let _ = seek_back(&*target, back).and_then(|()| target.write_all(&buf));
        });
    }
}

impl<T: Target> std::fmt::Debug for Engine<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match &self.op {
            None => "idle",
            Some(Op::Read(_)) => "reading",
            Some(Op::Write(_)) => "writing",
            Some(Op::Seek(..)) => "seeking",
            Some(Op::Flush(_)) => "flushing",
        };
        f.debug_struct("Engine")
            .field("op", &op)
            .field("buffered_read", &(self.rend - self.rpos))
            .field("buffered_write", &self.wbuf.len())
            .finish_non_exhaustive()
    }
}

fn poll_unblock<R>(op: &mut Unblock<R>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
    Pin::new(op).poll(cx)
}

/// Moves `target`'s position back over `back` bytes read ahead and
/// discarded.
fn seek_back<T: Target + ?Sized>(target: &T, back: u64) -> io::Result<()> {
    if back == 0 {
        return Ok(());
    }
    let back = i64::try_from(back).map_err(io::Error::other)?;
    target.seek(SeekFrom::Current(-back)).map(drop)
}
