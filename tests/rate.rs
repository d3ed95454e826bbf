//! Rate limits through the facade. On the paused clock, where virtual time
//! makes the figures exact: a stream's rate and default burst, fairness in a
//! group, a quiet waiter that must not hold the group up, no byte lost to a
//! dropped read or write. On the real clock and both flavours: a group
//! shared by tasks that may run on different workers, within generous
//! bounds.

mod util;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use ember::io::{
    duplex, AsyncReadExt, AsyncWriteExt, DuplexStream, RateGroup, RateLimit, RateLimited,
};
use ember::time::{timeout, Duration, Instant};
use util::{random_bytes, watchdog};

fn paused() -> ember::Runtime {
    ember::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("build a paused runtime")
}

/// Polls `future` once, with the current task's waker, and drops it.
async fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    let mut future = pin!(future);
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(future.as_mut().poll(cx))).await
}

#[test]
fn a_stream_is_held_to_its_rate_and_no_more() {
    let _guard = watchdog(Duration::from_secs(30));
    paused().block_on(async {
        // 1000 B/s after a 100-byte burst: 10_100 bytes take 10 s.
        let (near, mut far) = duplex(20_000);
        let mut limited = RateLimited::new(near, RateLimit::new(1000).burst(100));
        let data = random_bytes(1, 10_100);
        let start = Instant::now();
        limited.write_all(&data).await.unwrap();
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_secs(10), "early: {elapsed:?}");
        // Virtual time: each wait ends on the first 1 ms tick after its
        // tokens are in, so the limiter may lag, but not by 5%.
        assert!(
            elapsed <= Duration::from_millis(10_500),
            "slow: {elapsed:?}"
        );
        drop(limited);
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, data);
    });
}

#[test]
fn the_burst_defaults_to_one_seconds_worth_and_comes_at_once() {
    paused().block_on(async {
        let (near, _far) = duplex(20_000);
        let mut limited = RateLimited::new(near, RateLimit::new(1000));
        let start = Instant::now();
        assert_eq!(limited.write(&[0; 5000]).await.unwrap(), 1000);
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Then the rate: the least grant is 10 ms' worth.
        assert_eq!(limited.write(&[0; 5000]).await.unwrap(), 10);
        assert_eq!(start.elapsed(), Duration::from_millis(10));
    });
}

#[test]
fn tokens_a_transfer_did_not_use_go_back_to_the_bucket() {
    paused().block_on(async {
        // Each read may take 1000 tokens but finds only 10 bytes: 50 reads
        // use 500 of the 1000-byte burst, so none has to wait.
        let (near, mut far) = duplex(1000);
        let mut limited = RateLimited::new(near, RateLimit::new(1000));
        let start = Instant::now();
        let mut buf = [0; 1000];
        for _ in 0..50 {
            far.write_all(&[7; 10]).await.unwrap();
            assert_eq!(limited.read(&mut buf).await.unwrap(), 10);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn an_unlimited_direction_takes_no_time() {
    paused().block_on(async {
        let (near, mut far) = duplex(1 << 20);
        let mut limited = RateLimited::new(near, RateLimit::unlimited().write_rate(1000));
        let data = random_bytes(2, 1 << 20);
        far.write_all(&data).await.unwrap();
        far.close().await.unwrap();
        let start = Instant::now();
        let mut got = Vec::new();
        limited.read_to_end(&mut got).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(got, data);
    });
}

/// Writes `total` bytes in writes of at most `chunk`, counting progress.
async fn write_counting(
    mut stream: RateLimited<DuplexStream>,
    total: usize,
    chunk: usize,
    progress: Arc<AtomicU64>,
) {
    let data = vec![0x42; total];
    let mut sent = 0;
    while sent < total {
        let end = total.min(sent + chunk);
        sent += stream.write(&data[sent..end]).await.unwrap();
        progress.store(sent as u64, Ordering::SeqCst);
    }
}

#[test]
fn a_group_serves_a_greedy_and_a_modest_stream_fairly() {
    let _guard = watchdog(Duration::from_secs(30));
    paused().block_on(async {
        const TOTAL: usize = 40_000;
        let group = RateGroup::new(RateLimit::new(10_000).burst(1000));
        let greedy_progress = Arc::new(AtomicU64::new(0));
        let modest_progress = Arc::new(AtomicU64::new(0));
        let (greedy, _greedy_far) = duplex(2 * TOTAL);
        let (modest, _modest_far) = duplex(2 * TOTAL);
        // One asks for everything left at every write, the other for 100
        // bytes at a time.
        let greedy = ember::spawn(write_counting(
            RateLimited::in_group(greedy, &group),
            TOTAL,
            TOTAL,
            Arc::clone(&greedy_progress),
        ));
        let modest = ember::spawn(write_counting(
            RateLimited::in_group(modest, &group),
            TOTAL,
            100,
            Arc::clone(&modest_progress),
        ));
        let start = Instant::now();
        // Halfway through, each has had about half the tokens.
        ember::time::sleep(Duration::from_secs(4)).await;
        let (g, m) = (
            greedy_progress.load(Ordering::SeqCst),
            modest_progress.load(Ordering::SeqCst),
        );
        assert!(
            g.min(m) * 10 >= g.max(m) * 8,
            "unfair shares after 4 s: greedy {g}, modest {m}"
        );
        greedy.await.unwrap();
        modest.await.unwrap();
        // Together they were held to the group's rate.
        let least = Duration::from_millis((2 * TOTAL as u64 - 1000) * 1000 / 10_000);
        assert!(start.elapsed() >= least, "early: {:?}", start.elapsed());
    });
}

#[test]
fn a_waiter_that_went_quiet_does_not_hold_up_the_group() {
    let _guard = watchdog(Duration::from_secs(30));
    paused().block_on(async {
        let group = RateGroup::new(RateLimit::new(1000).burst(100));
        let (quiet, _quiet_far) = duplex(1000);
        let (busy, _busy_far) = duplex(10_000);
        let mut quiet = RateLimited::in_group(quiet, &group);
        let mut busy = RateLimited::in_group(busy, &group);
        // The quiet one empties the bucket, queues for more, and is never
        // polled again (its stream stays alive).
        assert_eq!(quiet.write(&[1; 100]).await.unwrap(), 100);
        assert!(poll_once(quiet.write(&[1; 100])).await.is_pending());
        // The busy one still gets through: 1000 bytes at 1000 B/s, plus the
        // quiet one's reservation of 10 bytes.
        let start = Instant::now();
        let result = timeout(Duration::from_secs(60), busy.write_all(&[2; 1000])).await;
        assert!(result.is_ok(), "the group stalled behind a quiet waiter");
        assert!(
            start.elapsed() <= Duration::from_millis(1100),
            "{:?}",
            start.elapsed()
        );
        drop(quiet);
    });
}

#[test]
fn dropped_pending_reads_and_writes_lose_no_bytes() {
    paused().block_on(async {
        let limit = RateLimit::new(1000).burst(100);
        let data = random_bytes(3, 1000);

        // Writes: only what a write reported went out.
        let (near, mut far) = duplex(10_000);
        let mut limited = RateLimited::new(near, limit);
        let mut reported = 0;
        reported += limited.write(&data).await.unwrap();
        assert!(poll_once(limited.write(&data[reported..]))
            .await
            .is_pending());
        reported += limited.write(&data[reported..]).await.unwrap();
        drop(limited);
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, &data[..reported]);

        // Reads: a dropped pending read took nothing, so what follows is in
        // order and complete.
        let (near, mut far) = duplex(10_000);
        far.write_all(&data).await.unwrap();
        far.close().await.unwrap();
        let mut limited = RateLimited::new(near, limit);
        let mut got = vec![0; 100];
        limited.read_exact(&mut got).await.unwrap();
        let mut buf = [0; 100];
        assert!(poll_once(limited.read(&mut buf)).await.is_pending());
        limited.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, data);
    });
}

per_flavor! {
    use ember::net::TcpStream;

    async fn send_limited(mut stream: RateLimited<TcpStream>, data: Vec<u8>) -> std::io::Result<()> {
        stream.write_all(&data).await?;
        stream.close().await
    }

    #[test]
    fn a_group_shared_by_tasks_holds_them_to_one_rate() {
        // 100 kB/s after a 10 kB burst: 2 x 30 kB take at least 0.5 s.
        let _guard = watchdog(Duration::from_secs(30));
        let data = random_bytes(4, 30_000);
        let wall = std::time::Instant::now();
        block_on(async {
            let group = RateGroup::new(RateLimit::new(100_000).burst(10_000));
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let (client, mut server) = util::tcp_pair().await;
                let limited = RateLimited::in_group(client, &group);
                tasks.push(ember::spawn(send_limited(limited, data.clone())));
                tasks.push(ember::spawn(async move {
                    let mut got = Vec::new();
                    server.read_to_end(&mut got).await?;
                    assert_eq!(got.len(), 30_000);
                    std::io::Result::Ok(())
                }));
            }
            for task in tasks {
                task.await.unwrap().unwrap();
            }
        });
        let elapsed = wall.elapsed();
        assert!(elapsed >= Duration::from_millis(500), "early: {elapsed:?}");
        assert!(elapsed <= Duration::from_millis(1500), "more than 3x: {elapsed:?}");
    }
}
