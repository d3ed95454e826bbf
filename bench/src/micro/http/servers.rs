//! The hyper server under test, once per runtime: the same HTTP/1.1
//! keep-alive service (`hyper::server::conn::http1`, default settings,
//! `TCP_NODELAY` on every connection, one task per connection) behind each
//! runtime's own adapter: ember's `EmberIo`, hyper-util's `TokioIo` on both
//! tokio flavours, smol-hyper's `FuturesIo` over async-io's `Async`. What
//! differs between the columns is only the runtime and its adapter.

use std::convert::Infallible;
use std::io;
use std::net::TcpListener;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use crate::runtimes::{self, Runtime};

/// The response: `body` (cloning `Bytes` only bumps a count).
async fn respond<B>(
    _request: Request<B>,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(body)))
}

/// Serve `body` to every request on `listener` with `rt`, until the
/// process exits.
///
/// # Errors
/// Fails when the runtime cannot be built or accepting fails.
pub(super) fn serve(rt: Runtime, listener: TcpListener, body: Bytes) -> io::Result<()> {
    match rt {
        Runtime::Ember => ember(listener, body),
        Runtime::TokioCt => runtimes::tokio_ct()?.block_on(tokio(listener, body)),
        Runtime::TokioMt => runtimes::tokio_mt()?.block_on(tokio(listener, body)),
        Runtime::Smol => smol(listener, body),
        Runtime::Mio => Err(crate::micro::not_applicable(rt)),
    }
}

fn ember(listener: TcpListener, body: Bytes) -> io::Result<()> {
    use ember::hyper::EmberIo;
    runtimes::ember()?.block_on(async {
        let listener = ember::net::TcpListener::from_std(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let body = body.clone();
            ember::spawn(async move {
                let service = service_fn(move |request| respond(request, body.clone()));
                // A client closing mid-request just ends the connection.
                let _ = http1::Builder::new()
                    .serve_connection(EmberIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn tokio(listener: TcpListener, body: Bytes) -> io::Result<()> {
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, body.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn smol(listener: TcpListener, body: Bytes) -> io::Result<()> {
    use smol_hyper::rt::FuturesIo;
    let ex = async_executor::LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = async_io::Async::new(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.get_ref().set_nodelay(true)?;
            let body = body.clone();
            ex.spawn(async move {
                let service = service_fn(move |request| respond(request, body.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(FuturesIo::new(stream), service)
                    .await;
            })
            .detach();
        }
    }))
}
