//! Rate limits for any futures-io stream, after libevent's bufferevent rate
//! limits: a [`RateLimit`] says how many bytes per second may be read and
//! written and how large a burst may be, [`RateLimited`] wraps a stream and
//! holds it to a limit, and a [`RateGroup`] makes many streams share one
//! limit. This module owns the streams' side (asking for tokens before each
//! transfer, sleeping until the refill); the buckets and the fairness policy
//! are in `bucket.rs`.
//!
//! # Ground rules
//!
//! - Each direction with a rate has a token bucket, shared by the group
//!   behind a mutex (a stream limited on its own is a group of one). Tokens
//!   refill continuously, `bytes_per_sec x elapsed`, capped at the burst, and
//!   the bucket starts full.
//! - A read or write of `n > 0` bytes first takes up to `n` tokens, then asks
//!   the wrapped stream for at most that many bytes, then returns the tokens
//!   it did not use. It never buffers: a byte reported read or written went
//!   through the wrapped stream in that same call, which is what makes the
//!   wrapper cancel safe wherever the stream is.
//! - A stream that finds too few tokens queues in its group and sleeps on
//!   its own [`ember_timer::Sleep`] (created once per direction, then
//!   reset) until its turn's tokens have accrued: no thread and no spinning,
//!   and the refill runs only when someone asks.
//! - Fairness in a group: waiting streams are served first come, first
//!   served, each holding back 10 ms' worth of the rate (less if its
//!   request or the burst is smaller) from the streams behind it, and a
//!   stream with others waiting behind it takes at most an equal share of
//!   the tokens available to it. No stream can take the whole bucket
//!   repeatedly while another waits. A member that queued and is then
//!   neither polled again nor dropped keeps its reservation until it is;
//!   the others share the rest, so it slows the group but cannot stall it:
//!   whatever is reserved ahead, a full bucket serves any waiter.

mod bucket;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use ember_timer::{Instant, Sleep};
use futures_io::{AsyncRead, AsyncWrite};

use bucket::{Acquire, Bucket};

/// A rate limit: bytes per second and the largest burst, for reads and for
/// writes (each direction has its own bucket: reading never spends write
/// tokens).
///
/// [`RateLimit::new`] limits both directions to the same rate; the burst
/// defaults to one second's worth of each direction's rate. The setters
/// combine in any order.
///
/// # Examples
///
/// ```
/// use ember_io::RateLimit;
///
/// // 1 MB/s each way, in bursts of up to 64 KiB.
/// let limit = RateLimit::new(1_000_000).burst(64 * 1024);
/// // Downloads at 10 MB/s, uploads at 1 MB/s.
/// let asymmetric = RateLimit::new(10_000_000).write_rate(1_000_000);
/// // Only writes are limited.
/// let writes = RateLimit::unlimited().write_rate(500_000);
/// # let _ = (limit, asymmetric, writes);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    read: Rate,
    write: Rate,
}

/// One direction of a [`RateLimit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rate {
    /// Bytes per second; `None`: unlimited.
    per_sec: Option<u64>,
    /// The burst if set; else one second's worth.
    burst: Option<u64>,
}

impl Rate {
    fn bucket(self) -> Option<Bucket> {
        self.per_sec
            .map(|rate| Bucket::new(rate, self.burst.unwrap_or(rate)))
    }
}

#[track_caller]
fn positive(value: u64, what: &str) -> u64 {
    assert!(value > 0, "RateLimit: {what} must be at least 1 byte");
    value
}

impl RateLimit {
    /// At most `bytes_per_sec` bytes per second read, and as many written,
    /// in bursts of up to one second's worth.
    ///
    /// # Panics
    ///
    /// If `bytes_per_sec` is 0 (nothing could ever be transferred).
    ///
    /// ```
    /// let limit = ember_io::RateLimit::new(64 * 1024);
    /// # let _ = limit;
    /// ```
    #[track_caller]
    pub fn new(bytes_per_sec: u64) -> RateLimit {
        let rate = Rate {
            per_sec: Some(positive(bytes_per_sec, "the rate")),
            burst: None,
        };
        RateLimit {
            read: rate,
            write: rate,
        }
    }

    /// No limit in either direction; a starting point for
    /// [`read_rate`](RateLimit::read_rate) or
    /// [`write_rate`](RateLimit::write_rate) alone.
    ///
    /// ```
    /// let limit = ember_io::RateLimit::unlimited().read_rate(1_000_000);
    /// # let _ = limit;
    /// ```
    pub fn unlimited() -> RateLimit {
        let none = Rate {
            per_sec: None,
            burst: None,
        };
        RateLimit {
            read: none,
            write: none,
        }
    }

    /// Sets the largest burst, in bytes, for both directions: how many bytes
    /// may go through at once after a quiet spell.
    ///
    /// # Panics
    ///
    /// If `bytes` is 0.
    ///
    /// ```
    /// let limit = ember_io::RateLimit::new(1_000_000).burst(16 * 1024);
    /// # let _ = limit;
    /// ```
    #[track_caller]
    pub fn burst(self, bytes: u64) -> RateLimit {
        self.read_burst(bytes).write_burst(bytes)
    }

    /// Sets the read rate alone.
    ///
    /// # Panics
    ///
    /// If `bytes_per_sec` is 0.
    ///
    /// ```
    /// let limit = ember_io::RateLimit::new(1_000).read_rate(1_000_000);
    /// # let _ = limit;
    /// ```
    #[track_caller]
    pub fn read_rate(mut self, bytes_per_sec: u64) -> RateLimit {
        self.read.per_sec = Some(positive(bytes_per_sec, "the read rate"));
        self
    }

    /// Sets the write rate alone.
    ///
    /// # Panics
    ///
    /// If `bytes_per_sec` is 0.
    ///
    /// ```
    /// let limit = ember_io::RateLimit::new(1_000_000).write_rate(1_000);
    /// # let _ = limit;
    /// ```
    #[track_caller]
    pub fn write_rate(mut self, bytes_per_sec: u64) -> RateLimit {
        self.write.per_sec = Some(positive(bytes_per_sec, "the write rate"));
        self
    }

    /// Sets the read burst alone (ignored while reads are unlimited).
    ///
    /// # Panics
    ///
    /// If `bytes` is 0.
    ///
    /// ```
    /// let limit = ember_io::RateLimit::new(1_000_000).read_burst(4096);
    /// # let _ = limit;
    /// ```
    #[track_caller]
    pub fn read_burst(mut self, bytes: u64) -> RateLimit {
        self.read.burst = Some(positive(bytes, "the read burst"));
        self
    }

    /// Sets the write burst alone (ignored while writes are unlimited).
    ///
    /// # Panics
    ///
    /// If `bytes` is 0.
    ///
    /// ```
    /// let limit = ember_io::RateLimit::new(1_000_000).write_burst(4096);
    /// # let _ = limit;
    /// ```
    #[track_caller]
    pub fn write_burst(mut self, bytes: u64) -> RateLimit {
        self.write.burst = Some(positive(bytes, "the write burst"));
        self
    }
}

/// A rate limit shared by many streams: one token bucket per direction that
/// every member ([`RateLimited::in_group`]) draws from, so that together
/// they stay within the limit.
///
/// Cloning gives another handle to the same buckets. Members hold a handle
/// too, so the group lives as long as any of them; they borrow nothing.
/// Waiting members are served fairly (see the module's ground rules): first
/// come, first served, and none takes the whole bucket while others wait.
///
/// # Examples
///
/// Two in-memory streams sharing 1 MB/s of writes:
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::{duplex, RateGroup, RateLimit, RateLimited};
/// use futures_util::io::AsyncWriteExt;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let group = RateGroup::new(RateLimit::new(1_000_000));
///     let (one, _peer_one) = duplex(64 * 1024);
///     let (two, _peer_two) = duplex(64 * 1024);
///     let mut one = RateLimited::in_group(one, &group);
///     let mut two = RateLimited::in_group(two, &group);
///     one.write_all(&[1; 1000]).await?;
///     two.write_all(&[2; 1000]).await?;
///     Ok(())
/// })
/// # }
/// ```
#[derive(Clone)]
pub struct RateGroup {
    shared: Arc<Shared>,
}

/// A group's buckets.
struct Shared {
    limit: RateLimit,
    read: Option<Mutex<Bucket>>,
    write: Option<Mutex<Bucket>>,
}

impl RateGroup {
    /// A group whose members share `limit`. Its buckets start full.
    ///
    /// ```
    /// use ember_io::{RateGroup, RateLimit};
    ///
    /// let uploads = RateGroup::new(RateLimit::unlimited().write_rate(10_000_000));
    /// assert_eq!(uploads.limit(), RateLimit::unlimited().write_rate(10_000_000));
    /// ```
    pub fn new(limit: RateLimit) -> RateGroup {
        RateGroup {
            shared: Arc::new(Shared {
                limit,
                read: limit.read.bucket().map(Mutex::new),
                write: limit.write.bucket().map(Mutex::new),
            }),
        }
    }

    /// The limit the members share.
    ///
    /// ```
    /// use ember_io::{RateGroup, RateLimit};
    ///
    /// let group = RateGroup::new(RateLimit::new(1024));
    /// assert_eq!(group.limit(), RateLimit::new(1024));
    /// ```
    pub fn limit(&self) -> RateLimit {
        self.shared.limit
    }

    fn bucket(&self, dir: Dir) -> Option<&Mutex<Bucket>> {
        match dir {
            Dir::Read => self.shared.read.as_ref(),
            Dir::Write => self.shared.write.as_ref(),
        }
    }
}

impl fmt::Debug for RateGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateGroup")
            .field("limit", &self.shared.limit)
            .finish_non_exhaustive()
    }
}

/// A direction of transfer.
#[derive(Clone, Copy, Debug)]
enum Dir {
    Read,
    Write,
}

/// Locks a bucket. Its state is consistent after any panic: no operation
/// under the lock can panic halfway through an update.
fn lock(bucket: &Mutex<Bucket>) -> MutexGuard<'_, Bucket> {
    bucket
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hands out stream ids, unique in the process, for the groups' queues.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

pin_project_lite::pin_project! {
    /// A stream held to a [`RateLimit`], alone ([`RateLimited::new`]) or with
    /// the other members of a [`RateGroup`] ([`RateLimited::in_group`]).
    ///
    /// It implements [`AsyncRead`] and [`AsyncWrite`] when the stream does, and
    /// is `Send`, `Sync` and `Unpin` whenever the stream is. A read or write
    /// transfers at most the tokens the bucket holds (a short read or write,
    /// never 0 bytes for a non-empty buffer unless the stream says so), and
    /// waits for the refill, on ember's timer, when it holds too few. Flush
    /// and close are not limited.
    ///
    /// # Panics
    ///
    /// A read or write that has to wait for tokens panics outside an ember
    /// runtime (there is no timer to wait on).
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as the wrapped stream: the wrapper buffers nothing, so
    /// a read or write that has not returned moved no bytes of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::{duplex, RateLimit, RateLimited};
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (near, mut far) = duplex(64 * 1024);
    ///     // 100 kB/s, bursts of 1 kB: 3 kB take at least 20 ms.
    ///     let mut slow = RateLimited::new(near, RateLimit::new(100_000).burst(1000));
    ///     let start = std::time::Instant::now();
    ///     slow.write_all(&[7; 3000]).await?;
    ///     assert!(start.elapsed() >= std::time::Duration::from_millis(20));
    ///
    ///     let mut buf = [0; 3000];
    ///     far.read_exact(&mut buf).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub struct RateLimited<S> {
        #[pin]
        stream: S,
        member: Member,
    }
}

/// A stream's place in its group: its id and, per direction, its timer and
/// whether it is queued. Leaves the queues when dropped.
struct Member {
    group: RateGroup,
    id: u64,
    read: Side,
    write: Side,
}

/// One direction of a member.
#[derive(Default)]
struct Side {
    /// Created on the first wait, then reset for every later one.
    sleep: Option<Sleep>,
    /// In the bucket's queue (so it must leave it when dropped).
    queued: bool,
}

impl<S> RateLimited<S> {
    /// Wraps `stream` in a limit of its own.
    ///
    /// ```
    /// use ember_io::{duplex, RateLimit, RateLimited};
    ///
    /// let (stream, _peer) = duplex(1024);
    /// let limited = RateLimited::new(stream, RateLimit::new(1024));
    /// # let _ = limited;
    /// ```
    pub fn new(stream: S, limit: RateLimit) -> RateLimited<S> {
        RateLimited::in_group(stream, &RateGroup::new(limit))
    }

    /// Wraps `stream` as a member of `group`, sharing its limit with the
    /// other members.
    ///
    /// ```
    /// use ember_io::{duplex, RateGroup, RateLimit, RateLimited};
    ///
    /// let group = RateGroup::new(RateLimit::new(1024));
    /// let (a, _) = duplex(1024);
    /// let (b, _) = duplex(1024);
    /// let (a, b) = (RateLimited::in_group(a, &group), RateLimited::in_group(b, &group));
    /// # let _ = (a, b);
    /// ```
    pub fn in_group(stream: S, group: &RateGroup) -> RateLimited<S> {
        RateLimited {
            stream,
            member: Member {
                group: group.clone(),
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                read: Side::default(),
                write: Side::default(),
            },
        }
    }

    /// The group this stream draws its tokens from.
    ///
    /// ```
    /// use ember_io::{duplex, RateLimit, RateLimited};
    ///
    /// let limited = RateLimited::new(duplex(64).0, RateLimit::new(1024));
    /// assert_eq!(limited.group().limit(), RateLimit::new(1024));
    /// ```
    pub fn group(&self) -> &RateGroup {
        &self.member.group
    }

    /// The wrapped stream. Transfers made through it directly are not
    /// limited.
    ///
    /// ```
    /// use ember_io::{duplex, RateLimit, RateLimited};
    ///
    /// let limited = RateLimited::new(duplex(64).0, RateLimit::new(1024));
    /// let _stream: &ember_io::DuplexStream = limited.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The wrapped stream, mutably. Transfers made through it directly are
    /// not limited.
    ///
    /// ```
    /// use ember_io::{duplex, RateLimit, RateLimited};
    ///
    /// let mut limited = RateLimited::new(duplex(64).0, RateLimit::new(1024));
    /// let _stream: &mut ember_io::DuplexStream = limited.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Unwraps the stream, leaving the group.
    ///
    /// ```
    /// use ember_io::{duplex, RateLimit, RateLimited};
    ///
    /// let limited = RateLimited::new(duplex(64).0, RateLimit::new(1024));
    /// let _stream: ember_io::DuplexStream = limited.into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl Member {
    /// Takes up to `want` (>= 1) tokens in direction `dir`; `None` if that
    /// direction is unlimited. Waits, queued, while there are too few.
    fn poll_acquire(&mut self, cx: &mut Context<'_>, dir: Dir, want: usize) -> Poll<Option<usize>> {
        let Member {
            group,
            id,
            read,
            write,
        } = self;
        let Some(bucket) = group.bucket(dir) else {
            return Poll::Ready(None);
        };
        let side = match dir {
            Dir::Read => read,
            Dir::Write => write,
        };
        let want = u64::try_from(want).unwrap_or(u64::MAX);
        // A deadline that passed between the bucket's answer and the sleep's
        // poll means the tokens are in: ask again, but a bounded number of
        // times, so that no clock oddity can turn this poll into a spin.
        for _ in 0..3 {
            let acquired = lock(bucket).acquire(*id, want, Instant::now(), cx.waker());
            match acquired {
                Acquire::Granted(n) => {
                    side.queued = false;
                    // n <= want, which came from a usize.
                    return Poll::Ready(Some(usize::try_from(n).unwrap_or(usize::MAX)));
                }
                Acquire::Wait(deadline) => {
                    side.queued = true;
                    let sleep = match &mut side.sleep {
                        Some(sleep) => {
                            Pin::new(&mut *sleep).reset(deadline);
                            sleep
                        }
                        None => side.sleep.insert(ember_timer::sleep_until(deadline)),
                    };
                    if Pin::new(sleep).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Returns the `unused` part of a grant in direction `dir`.
    fn refund(&self, dir: Dir, unused: usize) {
        // The common case, a transfer that used its whole grant, takes no lock.
        let (true, Some(bucket)) = (unused > 0, self.group.bucket(dir)) else {
            return;
        };
        let mut wake = Vec::new();
        lock(bucket).refund(u64::try_from(unused).unwrap_or(u64::MAX), &mut wake);
        wake.into_iter().for_each(Waker::wake);
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let mut wake = Vec::new();
        for (dir, queued) in [
            (Dir::Read, self.read.queued),
            (Dir::Write, self.write.queued),
        ] {
            if let (true, Some(bucket)) = (queued, self.group.bucket(dir)) {
                lock(bucket).leave(self.id, &mut wake);
            }
        }
        wake.into_iter().for_each(Waker::wake);
    }
}

impl<S: AsyncRead> AsyncRead for RateLimited<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if buf.is_empty() {
            return this.stream.poll_read(cx, buf);
        }
        let Some(grant) = ready!(this.member.poll_acquire(cx, Dir::Read, buf.len())) else {
            return this.stream.poll_read(cx, buf);
        };
        let result = this.stream.poll_read(cx, &mut buf[..grant]);
        let used = match &result {
            Poll::Ready(Ok(n)) => (*n).min(grant),
            _ => 0,
        };
        this.member.refund(Dir::Read, grant - used);
        result
    }
}

impl<S: AsyncWrite> AsyncWrite for RateLimited<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if buf.is_empty() {
            return this.stream.poll_write(cx, buf);
        }
        let Some(grant) = ready!(this.member.poll_acquire(cx, Dir::Write, buf.len())) else {
            return this.stream.poll_write(cx, buf);
        };
        let result = this.stream.poll_write(cx, &buf[..grant]);
        let used = match &result {
            Poll::Ready(Ok(n)) => (*n).min(grant),
            _ => 0,
        };
        this.member.refund(Dir::Write, grant - used);
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_close(cx)
    }
}

impl<S: fmt::Debug> fmt::Debug for RateLimited<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimited")
            .field("stream", &self.stream)
            .field("limit", &self.member.group.shared.limit)
            .finish_non_exhaustive()
    }
}
