//! One runtime context per thread: "no runtime" is one message everywhere,
//! one guard enters the whole runtime (tasks, timers, sockets) on any
//! thread, guards nest, and thread teardown never panics on a context.

mod util;

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::runtime::Handle;
use util::watchdog;

/// The message every "no runtime here" panic must give.
const NO_RUNTIME: &str = ember_reactor::__private::NO_RUNTIME;

/// The text of a panic's payload.
fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .unwrap_or_else(|| "<not a string>".into()),
    }
}

/// What `f` panicked with.
#[track_caller]
fn panic_of(f: impl FnOnce()) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => panic!("expected a panic"),
        Err(payload) => message(payload),
    }
}

/// Wakes a thread parked in [`park_on`].
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this plain thread, parking between polls: no executor
/// of its own, so what makes progress is the runtime the thread entered.
fn park_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    pin!(future).poll(&mut Context::from_waker(&waker))
}

#[test]
fn every_crate_says_no_runtime_in_the_same_words() {
    assert_eq!(ember_executor::__private::NO_RUNTIME, NO_RUNTIME);
    assert_eq!(ember_timer::__private::NO_RUNTIME, NO_RUNTIME);
}

#[test]
fn every_no_runtime_panic_gives_the_one_message() {
    let _guard = watchdog(Duration::from_secs(30));
    assert!(Handle::try_current().is_none());
    type Case = (&'static str, Box<dyn FnOnce()>);
    let cases: [Case; 7] = [
        ("ember::spawn", Box::new(|| drop(ember::spawn(async {})))),
        (
            "ember::spawn_local",
            Box::new(|| drop(ember::spawn_local(async {}))),
        ),
        (
            "ember::spawn_blocking",
            Box::new(|| drop(ember::spawn_blocking(|| ()))),
        ),
        ("Handle::current", Box::new(|| drop(Handle::current()))),
        (
            "sleep awaited",
            Box::new(|| {
                let _ = poll_once(ember::time::sleep(Duration::from_secs(1)));
            }),
        ),
        (
            "TcpListener::bind polled",
            Box::new(|| drop(poll_once(TcpListener::bind("127.0.0.1:0")))),
        ),
        (
            "Signals::new",
            Box::new(|| drop(ember::signal::Signals::new([libc::SIGUSR2]))),
        ),
    ];
    for (what, case) in cases {
        assert_eq!(panic_of(case), NO_RUNTIME, "{what} outside a runtime");
    }
}

#[test]
fn a_current_thread_runtime_only_entered_refuses_spawn_local_with_its_own_reason() {
    let rt = ember::Runtime::new().expect("runtime");
    let _entered = rt.enter();
    let message = panic_of(|| drop(ember::spawn_local(async {})));
    assert!(message.contains("only entered the runtime"), "{message}");
}

per_flavor! {
    #[test]
    fn enter_on_a_plain_thread_makes_spawn_sleep_and_sockets_work_there() {
        let _guard = watchdog(Duration::from_secs(30));
        let rt = runtime();
        let handle = rt.handle().clone();
        let plain = thread::spawn(move || {
            assert!(Handle::try_current().is_none());
            let _entered = handle.enter();
            assert!(Handle::try_current().is_some());
            // A task: it runs on the runtime, not here.
            let task = ember::spawn(async { 6 * 7 });
            // A timer, on the runtime's clock, fired by its reactor.
            let start = ember::time::Instant::now();
            park_on(ember::time::sleep(Duration::from_millis(5)));
            assert!(start.elapsed() >= Duration::from_millis(5), "fired early");
            // Sockets, registered with the runtime's reactor.
            let listener = park_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
            let addr = listener.local_addr().expect("address");
            let mut client = park_on(TcpStream::connect(addr)).expect("connect");
            let (mut server, _) = park_on(listener.accept()).expect("accept");
            park_on(client.write_all(b"ping")).expect("write");
            let mut buf = [0u8; 4];
            park_on(server.read_exact(&mut buf)).expect("read");
            assert_eq!(&buf, b"ping");
            park_on(task).expect("the task")
        });
        // Run the runtime (a current-thread one runs only in block_on) until
        // the plain thread is done.
        let answer = rt.block_on(async move { ember::spawn_blocking(move || plain.join()).await });
        assert_eq!(answer.expect("join the plain thread").expect("plain thread"), 42);
    }

    #[test]
    fn nested_enters_restore_the_outer_runtime() {
        let _guard = watchdog(Duration::from_secs(30));
        // `one` runs a paused clock a day ahead: its timers are told apart
        // from `two`'s by the time they read.
        let one = ember::Builder::new_current_thread()
            .start_paused(true)
            .thread_name("one")
            .build()
            .expect("runtime one");
        one.block_on(ember::time::sleep(Duration::from_secs(86_400)));
        let two = builder().thread_name("two").build().expect("runtime two");
        // Which runtime's timer and which runtime's blocking pool this
        // thread sees, and whether a blocking closure sees the same.
        let seen = || {
            let ahead = || {
                ember::time::Instant::now().into_std()
                    > std::time::Instant::now() + Duration::from_secs(3600)
            };
            let here = ahead();
            let (pool, there) = park_on(ember::spawn_blocking(move || {
                assert!(Handle::try_current().is_some());
                (thread::current().name().unwrap_or_default().to_owned(), ahead())
            }))
            .expect("blocking closure");
            assert_eq!(here, there, "the blocking closure sees another timer");
            (if here { "one" } else { "two" }, pool)
        };
        assert!(Handle::try_current().is_none());
        {
            let _one = one.enter();
            let (timer, pool) = seen();
            assert_eq!(timer, "one");
            assert!(pool.starts_with("one-"), "{pool}");
            {
                let _two = two.enter();
                let (timer, pool) = seen();
                assert_eq!(timer, "two");
                assert!(pool.starts_with("two-"), "{pool}");
            }
            let (timer, pool) = seen();
            assert_eq!(timer, "one", "the outer runtime's timer is back");
            assert!(pool.starts_with("one-"), "{pool}");
        }
        assert!(Handle::try_current().is_none());
        assert!(ember_timer::Handle::try_current().is_none());
        assert!(ember_executor::Handle::try_current().is_none());
    }

    #[test]
    fn thread_local_destructors_see_no_runtime_and_do_not_panic() {
        let _guard = watchdog(Duration::from_secs(30));
        /// Reports what it saw when its thread tears it down.
        struct Probe(&'static str);
        static SEEN: Mutex<Vec<(&'static str, bool, String)>> = Mutex::new(Vec::new());
        impl Drop for Probe {
            fn drop(&mut self) {
                let current = Handle::try_current().is_some();
                let _ = ember::time::Instant::now();
                let spawned = panic_of(|| drop(ember::spawn(async {})));
                SEEN.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push((self.0, current, spawned));
            }
        }
        thread_local! {
            static FIRST: Probe = const { Probe("first") };
            static LAST: Probe = const { Probe("last") };
        }
        thread::spawn(|| {
            // Destructors run in reverse order of first use: `FIRST`'s after
            // the runtime's contexts are gone, `LAST`'s before.
            FIRST.with(|_| {});
            block_on(async {
                ember::time::sleep(Duration::from_millis(1)).await;
                ember::spawn(async {}).await.expect("task");
            });
            LAST.with(|_| {});
        })
        .join()
        .expect("the thread and its destructors");
        let mut seen = SEEN.lock().expect("probes").clone();
        seen.sort();
        assert_eq!(
            seen,
            [
                ("first", false, NO_RUNTIME.to_owned()),
                ("last", false, NO_RUNTIME.to_owned()),
            ]
        );
    }
}
