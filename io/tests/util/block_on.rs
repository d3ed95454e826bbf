// A minimal reactor-driven `block_on`, shared by the integration tests and
// the doc examples (which `include!` it) while the `ember` facade, which
// depends on this crate, cannot be used here. Self-contained: every path is
// absolute so the file can be included anywhere.

/// Runs `future` to completion on this thread with a fresh ember reactor.
///
/// Enters the reactor (which makes its timer the current one too), polls
/// the future inside a coop budget with a waker that unparks the reactor,
/// and turns the reactor (blocking) while the future is pending. A watchdog aborts the process if
/// the future is still pending after 20 s, so no test can hang.
#[allow(dead_code)]
pub(crate) fn block_on<F: ::std::future::Future>(future: F) -> F::Output {
    struct Unpark(::ember_reactor::Handle);
    impl ::std::task::Wake for Unpark {
        fn wake(self: ::std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &::std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }

    const LIMIT: ::std::time::Duration = ::std::time::Duration::from_secs(20);
    // Dropping the sender (when this function returns or unwinds) releases
    // the watchdog.
    let (_watchdog, expired) = ::std::sync::mpsc::channel::<()>();
    ::std::thread::spawn(move || {
        if let Err(::std::sync::mpsc::RecvTimeoutError::Timeout) = expired.recv_timeout(LIMIT) {
            eprintln!("block_on: the future was still pending after {LIMIT:?}; aborting");
            ::std::process::abort();
        }
    });

    let mut driver = ::ember_reactor::Driver::new(::ember_timer::Clock::real())
        .expect("cannot create an ember reactor");
    let handle = driver.handle().clone();
    let _reactor = handle.enter();
    let waker = ::std::task::Waker::from(::std::sync::Arc::new(Unpark(handle.clone())));
    let mut cx = ::std::task::Context::from_waker(&waker);
    let mut future = ::std::pin::pin!(future);
    loop {
        let poll = ::ember_reactor::__private::coop::budget(|| ::std::future::Future::poll(future.as_mut(), &mut cx));
        if let ::std::task::Poll::Ready(output) = poll {
            return output;
        }
        driver.turn(None).expect("the ember reactor failed");
    }
}
