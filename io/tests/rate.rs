//! Rate limits on the real clock: one stream's writes and reads, and a group
//! of two, each held to its rate. The lower bounds are exact (tokens cannot
//! come early: the bucket starts full, then refills at the rate); the upper
//! bounds are a generous 3x, to catch a limiter that over-throttles or
//! stalls, never to measure it. The paused-clock tests (fairness, exact
//! virtual times) are in the facade's `tests/rate.rs`.

mod util;

use std::io;
use std::time::{Duration, Instant};

use ember_io::{duplex, RateGroup, RateLimit, RateLimited};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_same_bytes, child, join_independent, pattern, run};

const RATE: u64 = 200_000;
const BURST: u64 = 20_000;
/// Bytes per test: (N - BURST) / RATE = 0.5 s at least.
const N: usize = 120_000;

/// The least time `bytes` can take at RATE after a full BURST.
fn least(bytes: usize) -> Duration {
    Duration::from_secs_f64((bytes as u64 - BURST) as f64 / RATE as f64)
}

#[track_caller]
fn assert_within(elapsed: Duration, least: Duration) {
    assert!(
        elapsed >= least,
        "{elapsed:?} is faster than the limit allows ({least:?})"
    );
    assert!(
        elapsed <= least * 3,
        "{elapsed:?} is more than 3x the {least:?} the limit implies"
    );
}

fn limit() -> RateLimit {
    RateLimit::new(RATE).burst(BURST)
}

#[test]
fn one_stream_writes_at_its_rate() {
    let data = pattern(N, 1);
    let start = Instant::now();
    run(async {
        let (near, mut far) = duplex(N);
        let mut limited = RateLimited::new(near, limit());
        limited.write_all(&data).await?;
        drop(limited);
        let mut got = Vec::new();
        far.read_to_end(&mut got).await?;
        assert_same_bytes(&got, &data);
        Ok(())
    });
    assert_within(start.elapsed(), least(N));
}

#[test]
fn one_stream_reads_at_its_rate() {
    let data = pattern(N, 2);
    let start = Instant::now();
    run(async {
        let (near, mut far) = duplex(N);
        // Everything is there at once; only the limit holds the reader back.
        far.write_all(&data).await?;
        drop(far);
        let mut limited = RateLimited::new(near, limit());
        let mut got = Vec::new();
        limited.read_to_end(&mut got).await?;
        assert_same_bytes(&got, &data);
        Ok(())
    });
    assert_within(start.elapsed(), least(N));
}

#[test]
fn a_group_of_two_shares_one_rate() {
    let one = pattern(N / 2, 3);
    let two = pattern(N / 2, 4);
    let start = Instant::now();
    run(async {
        let group = RateGroup::new(limit());
        let (a, mut a_far) = duplex(N);
        let (b, mut b_far) = duplex(N);
        let mut a = RateLimited::in_group(a, &group);
        let mut b = RateLimited::in_group(b, &group);
        join_independent(vec![
            child(async {
                a.write_all(&one).await?;
                a.close().await
            }),
            child(async {
                b.write_all(&two).await?;
                b.close().await
            }),
        ])
        .await?;
        let (mut got_one, mut got_two) = (Vec::new(), Vec::new());
        a_far.read_to_end(&mut got_one).await?;
        b_far.read_to_end(&mut got_two).await?;
        assert_same_bytes(&got_one, &one);
        assert_same_bytes(&got_two, &two);
        io::Result::Ok(())
    });
    assert_within(start.elapsed(), least(N));
}

#[test]
fn separate_rates_limit_each_direction_on_its_own() {
    // Writes are limited, reads are not: reading N bytes must not wait for
    // the write bucket (which this test empties first).
    let data = pattern(N, 5);
    let start = Instant::now();
    run(async {
        let (near, mut far) = duplex(2 * N);
        let mut limited = RateLimited::new(
            near,
            RateLimit::unlimited().write_rate(RATE).write_burst(BURST),
        );
        limited.write_all(&data[..BURST as usize]).await?;
        far.write_all(&data).await?;
        far.close().await?;
        let mut got = Vec::new();
        limited.read_to_end(&mut got).await?;
        assert_same_bytes(&got, &data);
        Ok(())
    });
    // Generous: a read held to the write rate would take 0.5 s.
    assert!(
        start.elapsed() < least(N),
        "unlimited reads took {:?}",
        start.elapsed()
    );
}

#[test]
fn rate_limited_is_send_sync_unpin_when_its_stream_is() {
    fn assert_traits<T: Send + Sync + Unpin>() {}
    assert_traits::<RateLimited<ember_io::DuplexStream>>();
    assert_traits::<RateLimited<ember_io::net::TcpStream>>();
    assert_traits::<RateGroup>();
}
