//! The runtime and its handle: cross-thread spawn, entering, auto traits.

mod util;

use ember::runtime::Handle;
use std::time::Duration;
use util::watchdog;

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Handle>();
    assert_send_sync::<ember::task::AbortHandle>();
    assert_send::<ember::task::JoinHandle<u8>>();
    assert_send_sync::<ember::net::TcpStream>();
    assert_send_sync::<ember::net::TcpListener>();
    assert_send::<ember::signal::Signals>();
    assert_send::<ember::time::Sleep>();
}

#[test]
fn spawning_from_other_threads_wakes_a_sleeping_runtime() {
    let _guard = watchdog(Duration::from_secs(30));
    let rt = ember::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let total = rt.block_on(async move {
        // The runtime has nothing to do and sleeps in the poller until the
        // other threads' spawns interrupt it.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    (0..250)
                        .map(|i| handle.spawn(async move { t * 1000 + i }))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut total = 0;
        for thread in threads {
            for task in thread.join().unwrap() {
                total += task.await.unwrap();
            }
        }
        total
    });
    let expected: usize = (0..4)
        .map(|t| (0..250).map(|i| t * 1000 + i).sum::<usize>())
        .sum();
    assert_eq!(total, expected);
}

#[test]
fn a_task_woken_from_another_thread_runs() {
    let _guard = watchdog(Duration::from_secs(30));
    ember::block_on(async {
        let (tx, rx) = futures_channel_like::oneshot();
        std::thread::spawn(move || tx.send(99));
        assert_eq!(rx.await, 99);
    });
}

#[test]
fn enter_makes_spawn_work_outside_block_on() {
    let rt = ember::Runtime::new().unwrap();
    let task = {
        let _guard = rt.enter();
        assert!(Handle::try_current().is_some());
        ember::spawn(async { 11 })
    };
    assert!(Handle::try_current().is_none());
    assert_eq!(rt.block_on(task).unwrap(), 11);
}

#[test]
fn runtimes_can_run_one_after_another_and_on_many_threads() {
    let _guard = watchdog(Duration::from_secs(30));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let out = ember::block_on(async move {
                        ember::time::sleep(Duration::from_millis(1)).await;
                        ember::spawn(async move { i }).await.unwrap()
                    });
                    assert_eq!(out, i);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[ember::test]
async fn the_test_attribute_runs_async_tests() {
    let task = ember::spawn(async { 2 });
    assert_eq!(task.await.unwrap(), 2);
}

#[ember::test(start_paused = true)]
async fn the_test_attribute_can_pause_the_clock() {
    let start = ember::time::Instant::now();
    ember::time::sleep(Duration::from_secs(86_400)).await;
    assert!(start.elapsed() >= Duration::from_secs(86_400));
}

#[ember::test]
async fn the_test_attribute_supports_question_mark() -> std::io::Result<()> {
    let listener = ember::net::TcpListener::bind("127.0.0.1:0").await?;
    listener.local_addr()?;
    Ok(())
}

/// A minimal thread-safe oneshot, so this test needs no channel crate: the
/// point is the cross-thread wake, not the channel.
mod futures_channel_like {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>)>>;

    pub(crate) struct Sender<T>(Slot<T>);
    pub(crate) struct Receiver<T>(Slot<T>);

    pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
        let slot = Arc::new(Mutex::new((None, None)));
        (Sender(Arc::clone(&slot)), Receiver(slot))
    }

    impl<T> Sender<T> {
        pub(crate) fn send(self, value: T) {
            let waker = {
                let mut slot = self.0.lock().unwrap();
                slot.0 = Some(value);
                slot.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = T;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            let mut slot = self.0.lock().unwrap();
            match slot.0.take() {
                Some(value) => Poll::Ready(value),
                None => {
                    slot.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
}
