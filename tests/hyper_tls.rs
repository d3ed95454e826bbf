//! HTTPS: hyper over futures-rustls over ember's `TcpStream`, the protocol
//! chosen by ALPN (HTTP/2 or HTTP/1.1), served by hyper-util's `auto`
//! builder as in the hello_http example.

#![cfg(all(feature = "hyper", feature = "tls-examples"))]

#[allow(dead_code)]
#[path = "../examples/http_client.rs"]
mod http_client;
mod interop;
mod util;

use std::io;
use std::time::Duration;

use bytes::Bytes;
use ember::hyper::{EmberExecutor, EmberIo, EmberTimer};
use ember::net::{TcpListener, TcpStream};
use futures_rustls::rustls::pki_types::ServerName;
use futures_rustls::{TlsAcceptor, TlsConnector};
use http_body_util::{BodyExt, Empty};
use hyper_util::server::conn::auto;
use interop::HELLO;
use util::watchdog;

/// One HTTPS request with the client offering `alpn`; returns the HTTP
/// version the response came in.
async fn https_get(alpn: &[u8]) -> io::Result<hyper::Version> {
    let cert = interop::self_signed();
    let acceptor = TlsAcceptor::from(interop::server_config(&cert, &[b"h2", b"http/1.1"]));
    let connector = TlsConnector::from(interop::client_config(&cert, &[alpn]));

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = ember::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let tls = acceptor.accept(tcp).await?;
        let mut builder = auto::Builder::new(EmberExecutor::new());
        builder.http1().timer(EmberTimer::new());
        builder.http2().timer(EmberTimer::new());
        builder
            .serve_connection(EmberIo::new(tls), interop::hello_service())
            .await
            .map_err(io::Error::other)
    });

    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
    let tls = connector.connect(name, tcp).await?;
    let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    assert_eq!(negotiated.as_deref(), Some(alpn));
    let request = hyper::Request::get("https://localhost/")
        .body(Empty::<Bytes>::new())
        .map_err(io::Error::other)?;
    let response = if alpn == b"h2" {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(EmberExecutor::new(), EmberIo::new(tls))
                .await
                .map_err(io::Error::other)?;
        ember::spawn(connection);
        sender.send_request(request).await
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(EmberIo::new(tls))
            .await
            .map_err(io::Error::other)?;
        ember::spawn(connection);
        let (mut parts, body) = request.into_parts();
        parts.uri = "/".parse().map_err(io::Error::other)?;
        parts.headers.insert(
            hyper::header::HOST,
            "localhost".parse().map_err(io::Error::other)?,
        );
        sender
            .send_request(hyper::Request::from_parts(parts, body))
            .await
    }
    .map_err(io::Error::other)?;
    let version = response.version();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?;
    assert_eq!(body.to_bytes(), HELLO);
    server.abort();
    Ok(version)
}

#[test]
fn https_with_hyper_over_futures_rustls_http2() {
    let _watchdog = watchdog(Duration::from_secs(30));
    let version = ember::block_on(https_get(b"h2")).expect("HTTPS over HTTP/2");
    assert_eq!(version, hyper::Version::HTTP_2);
}

#[test]
fn https_with_hyper_over_futures_rustls_http1() {
    let _watchdog = watchdog(Duration::from_secs(30));
    let version = ember::block_on(https_get(b"http/1.1")).expect("HTTPS over HTTP/1.1");
    assert_eq!(version, hyper::Version::HTTP_11);
}

#[test]
fn http_client_example_fetches_over_https_with_a_ca_file() {
    let _watchdog = watchdog(Duration::from_secs(30));
    let dir = interop::TempDir::new("hyper-https");
    let cert = interop::self_signed();
    let cafile = dir.0.join("ca.pem");
    std::fs::write(&cafile, &cert.cert_pem).expect("write the CA file");
    let acceptor = TlsAcceptor::from(interop::server_config(&cert, &[b"h2", b"http/1.1"]));
    ember::block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        ember::spawn(async move {
            let (tcp, _) = listener.accept().await?;
            let tls = acceptor.accept(tcp).await?;
            auto::Builder::new(EmberExecutor::new())
                .serve_connection(EmberIo::new(tls), interop::hello_service())
                .await
                .map_err(io::Error::other)
        });
        let url = format!("https://localhost:{port}/")
            .parse()
            .map_err(io::Error::other)?;
        let response = http_client::fetch(&url, Some(&cafile)).await?;
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        assert_eq!(body.to_bytes(), HELLO);
        io::Result::Ok(())
    })
    .expect("fetch over HTTPS");
}
