//! A hello-world HTTP server: hyper on ember, HTTP/1.1 (keep-alive) and
//! HTTP/2 (prior knowledge) on one port, answering `Hello, world!`.
//!
//! ```text
//! cargo run --release --features hyper --example hello_http              # 127.0.0.1:8080
//! cargo run --release --features hyper --example hello_http -- [::1]:8081
//! ```
//!
//! Try `curl http://127.0.0.1:8080/` or
//! `curl --http2-prior-knowledge http://127.0.0.1:8080/`, or load it with
//! `wrk -c50 -d3s http://127.0.0.1:8080/`. Ctrl-C (or SIGTERM) stops
//! accepting, lets the requests in flight finish (hyper's graceful
//! shutdown: keep-alive connections close after their current response,
//! HTTP/2 ones get a GOAWAY), and exits with status 0.
//!
//! hyper-util's `server::conn::auto` tells the two protocols apart by the
//! HTTP/2 preface; `EmberExecutor` runs its HTTP/2 streams, `EmberTimer`
//! its timeouts. The integration tests (tests/hyper.rs) run this file's
//! `serve` as it is.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ember::hyper::{EmberExecutor, EmberIo, EmberTimer};
use ember::net::TcpListener;
use ember::signal::{Signals, SIGINT, SIGTERM};
use futures_util::future::{select, Either};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::{service_fn, Service};
use hyper::{Request, Response};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;

#[ember::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    // Listen for the signals before announcing the address, so that a
    // supervisor signalling right after reading it is always heard.
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    println!("hello_http: listening on http://{}", listener.local_addr()?);

    let shutdown = async move {
        let signal = signals.recv().await;
        println!("hello_http: got signal {signal:?}, finishing the requests in flight");
    };
    serve(listener, service_fn(hello), shutdown).await?;
    println!("hello_http: all connections closed");
    Ok(())
}

/// The service: `Hello, world!` to every request.
pub(crate) async fn hello(
    _request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

/// How long the requests in flight get to finish after `shutdown`.
const GRACE: Duration = Duration::from_secs(10);

/// Serves `service` on every connection `listener` accepts, each on its own
/// task, until `shutdown` completes; then stops accepting and waits (up to
/// [`GRACE`]) for the connections to finish their requests in flight.
pub(crate) async fn serve<S>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<Full<Bytes>>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = auto::Builder::new(EmberExecutor::new());
    builder.http1().timer(EmberTimer::new());
    builder.http2().timer(EmberTimer::new());
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();

    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = match select(pin!(listener.accept()), shutdown.as_mut()).await {
            Either::Left((accepted, _)) => accepted,
            Either::Right(((), _)) => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of descriptors or buffers: the connection waits in
                // the backlog; back off rather than spin.
                eprintln!("hello_http: accept failed: {e}; retrying in 100 ms");
                ember::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (builder, service) = (Arc::clone(&builder), service.clone());
        // Registered with `graceful` here, before the task runs, so a
        // shutdown right after this accept still waits for it.
        let watcher = graceful.watcher();
        ember::spawn(async move {
            let connection = builder.serve_connection(EmberIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                eprintln!("hello_http: connection error: {e}");
            }
        });
    }
    drop(listener);
    match ember::time::timeout(GRACE, graceful.shutdown()).await {
        Ok(()) => Ok(()),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connections still open after the grace period",
        )),
    }
}
