//! [`EmberTimer`]: hyper's `Timer` on ember's timing wheel and clock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::rt::{Sleep, Timer};
use pin_project_lite::pin_project;

use crate::time::Instant;

/// ember's timer for hyper: `hyper::rt::Timer`, for the `.timer(..)` of
/// hyper's connection builders.
///
/// Without a timer, hyper drops the timeouts it is configured with
/// (`header_read_timeout`, HTTP/2 keep-alive pings, ...) without a word;
/// with this one they run on the current runtime's timing wheel. `now()`
/// reads ember's clock, so a runtime started with a paused clock
/// ([`Builder::start_paused`](crate::runtime::Builder::start_paused))
/// drives hyper's timeouts too, and `reset` moves the existing wheel entry
/// instead of allocating a new sleep.
///
/// # Examples
///
/// A server that gives a client 5 seconds to send its request's headers,
/// and closes the connection if it does not:
///
/// ```
/// use bytes::Bytes;
/// use ember::hyper::{EmberIo, EmberTimer};
/// use http_body_util::Full;
/// use hyper::service::service_fn;
/// use std::convert::Infallible;
/// use std::time::Duration;
///
/// let rt = ember::Builder::new_current_thread().start_paused(true).build()?;
/// rt.block_on(async {
///     let (client, server) = ember::io::duplex(1024);
///     let hello = service_fn(|_request| async {
///         Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("hi"))))
///     });
///     let start = ember::time::Instant::now();
///     let served = hyper::server::conn::http1::Builder::new()
///         .timer(EmberTimer::new())
///         .header_read_timeout(Duration::from_secs(5))
///         .serve_connection(EmberIo::new(server), hello)
///         .await;
///     assert!(served.is_err()); // timed out: the client never sent a byte
///     assert!(start.elapsed() >= Duration::from_secs(5)); // on the paused clock
///     drop(client);
/// });
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct EmberTimer {
    _private: (),
}

impl EmberTimer {
    /// A timer on the runtime current where hyper's sleeps are polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::hyper::EmberTimer;
    ///
    /// let mut builder = hyper::server::conn::http1::Builder::new();
    /// builder.timer(EmberTimer::new());
    /// ```
    pub fn new() -> EmberTimer {
        EmberTimer { _private: () }
    }
}

impl Timer for EmberTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(EmberSleep {
            inner: crate::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(EmberSleep {
            inner: crate::time::sleep_until(Instant::from_std(deadline)),
        })
    }

    /// ember's clock: paused and advanced with the runtime's.
    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    /// Moves the sleep's wheel entry when it is one of ours (O(1), no
    /// allocation); replaces it otherwise.
    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<EmberSleep>() {
            Some(ours) => ours.project().inner.reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

pin_project! {
    /// An ember `Sleep` as hyper's `Sleep`.
    struct EmberSleep {
        #[pin]
        inner: crate::time::Sleep,
    }
}

impl Future for EmberSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl Sleep for EmberSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_moves_the_existing_sleep_to_the_new_deadline() {
        let rt = crate::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .expect("a paused runtime");
        rt.block_on(async {
            let timer = EmberTimer::new();
            let start = Instant::now();
            let mut sleep = timer.sleep(Duration::from_secs(60));
            let before: *const () = std::ptr::addr_of!(*sleep).cast();
            timer.reset(&mut sleep, (start + Duration::from_secs(1)).into_std());
            let after: *const () = std::ptr::addr_of!(*sleep).cast();
            assert_eq!(before, after, "reset allocated a new sleep");
            sleep.as_mut().await;
            assert_eq!(start.elapsed(), Duration::from_secs(1));
        });
    }

    #[test]
    fn now_follows_the_paused_clock() {
        let rt = crate::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .expect("a paused runtime");
        rt.block_on(async {
            let timer = EmberTimer::new();
            let before = timer.now();
            crate::time::sleep(Duration::from_secs(3600)).await;
            assert_eq!(timer.now() - before, Duration::from_secs(3600));
        });
    }
}
