//! hyper 1.x on ember (feature `hyper`): [`EmberIo`], [`EmberExecutor`]
//! and [`EmberTimer`].
//!
//! hyper 1.x brings no runtime of its own: it asks for its I/O through
//! `hyper::rt::{Read, Write}`, for spawning (HTTP/2) through
//! `hyper::rt::Executor` and for timeouts through `hyper::rt::Timer`. This
//! module owns those three adapters and nothing else; with them hyper's
//! servers and clients (and hyper-util's `server::conn::auto`) run on ember
//! as they do on tokio with hyper-util's `TokioIo`, `TokioExecutor` and
//! `TokioTimer`.
//!
//! - [`EmberIo`] wraps any stream with the futures-io traits: an ember
//!   [`TcpStream`](crate::net::TcpStream), a TLS stream over one, an
//!   in-memory [`duplex`](crate::io::duplex). On ember's own sockets a read
//!   goes from the kernel straight into hyper's buffer and a response's
//!   headers and body leave in one `writev`.
//! - [`EmberExecutor`] spawns hyper's background tasks (HTTP/2 streams and
//!   connection drivers) onto the current runtime.
//! - [`EmberTimer`] gives hyper ember's timer and clock: without a timer
//!   hyper ignores `header_read_timeout` and the other timeouts it is
//!   configured with; with it they fire, on a paused test clock too.
//!
//! # Examples
//!
//! An HTTP/1.1 server and client on loopback:
//!
//! ```
//! use bytes::Bytes;
//! use ember::hyper::{EmberIo, EmberTimer};
//! use ember::net::{TcpListener, TcpStream};
//! use http_body_util::{BodyExt, Full};
//! use hyper::service::service_fn;
//! use std::convert::Infallible;
//!
//! ember::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     ember::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         let hello = service_fn(|_request| async {
//!             Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("Hello, world!"))))
//!         });
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(EmberTimer::new())
//!             .serve_connection(EmberIo::new(stream), hello)
//!             .await
//!             .map_err(std::io::Error::other)
//!     });
//!
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(EmberIo::new(stream))
//!         .await
//!         .map_err(std::io::Error::other)?;
//!     ember::spawn(connection);
//!     let request = hyper::Request::get("/")
//!         .header("host", "localhost")
//!         .body(http_body_util::Empty::<Bytes>::new())
//!         .map_err(std::io::Error::other)?;
//!     let response = sender.send_request(request).await.map_err(std::io::Error::other)?;
//!     let body = response.into_body().collect().await.map_err(std::io::Error::other)?;
//!     assert_eq!(body.to_bytes(), "Hello, world!");
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```

mod executor;
// The one module of the facade with `unsafe`: hyper hands its read buffer
// over as possibly uninitialised memory (`ReadBufCursor::as_mut`), and
// filling it without zeroing it first, then saying how much was filled
// (`advance`), cannot be done in safe code. Each block argues its
// invariant; everything else in the crate stays `unsafe`-free (the crate
// denies `unsafe_code`).
#[allow(unsafe_code)]
mod io;
mod timer;

pub use executor::EmberExecutor;
pub use io::EmberIo;
pub use timer::EmberTimer;
