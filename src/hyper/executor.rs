//! [`EmberExecutor`]: hyper's `Executor` on the current ember runtime.

use std::future::Future;

/// Spawns the tasks hyper starts in the background (HTTP/2 streams, the
/// client's connection drivers) onto the current ember runtime, as
/// [`ember::spawn`](crate::spawn) does: `hyper::rt::Executor` for hyper's
/// `http2` builders and hyper-util's `server::conn::auto::Builder`.
///
/// The runtime is the one current when hyper spawns, that is, the one
/// polling the connection; the tasks are detached (their `JoinHandle` is
/// dropped) and dropped with that runtime.
///
/// # Panics
///
/// `execute` panics if no ember runtime is current, as `ember::spawn` does
/// (hyper only spawns while a connection is being polled, which is inside
/// one).
///
/// # Examples
///
/// An HTTP/2 server connection (prior knowledge, over cleartext):
///
/// ```
/// use bytes::Bytes;
/// use ember::hyper::{EmberExecutor, EmberIo, EmberTimer};
/// use http_body_util::Full;
/// use hyper::service::service_fn;
/// use std::convert::Infallible;
///
/// ember::block_on(async {
///     let (client, server) = ember::io::duplex(64 * 1024);
///     ember::spawn(async move {
///         let hello = service_fn(|_request| async {
///             Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("hi"))))
///         });
///         hyper::server::conn::http2::Builder::new(EmberExecutor::new())
///             .timer(EmberTimer::new())
///             .serve_connection(EmberIo::new(server), hello)
///             .await
///     });
///     let (mut sender, connection) =
///         hyper::client::conn::http2::handshake(EmberExecutor::new(), EmberIo::new(client))
///             .await
///             .map_err(std::io::Error::other)?;
///     ember::spawn(connection);
///     let request = hyper::Request::get("http://localhost/")
///         .body(http_body_util::Empty::<Bytes>::new())
///         .map_err(std::io::Error::other)?;
///     let response = sender.send_request(request).await.map_err(std::io::Error::other)?;
///     assert_eq!(response.version(), hyper::Version::HTTP_2);
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct EmberExecutor {
    _private: (),
}

impl EmberExecutor {
    /// An executor for the runtime current where hyper spawns.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = ember::hyper::EmberExecutor::new();
    /// let builder = hyper::server::conn::http2::Builder::new(executor);
    /// # drop(builder);
    /// ```
    pub fn new() -> EmberExecutor {
        EmberExecutor { _private: () }
    }
}

impl<F> ::hyper::rt::Executor<F> for EmberExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached: hyper tracks its tasks' ends itself.
        drop(crate::spawn(future));
    }
}
