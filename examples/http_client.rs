//! Fetches a URL with a hyper client over ember's `TcpStream`, and prints
//! the body to standard output (the status line and headers go to
//! standard error).
//!
//! ```text
//! cargo run --features hyper --example http_client -- http://127.0.0.1:8080/
//! cargo run --features hyper,tls-examples --example http_client -- https://localhost:8443/ --cafile cert.pem
//! ```
//!
//! With `tls-examples` (which turns on futures-rustls and rustls, on
//! rustls' `ring` provider), `https` URLs work too, with
//! HTTP/2 when the server offers it by ALPN and HTTP/1.1 otherwise; the
//! server's certificate is checked against `--cafile`, or else against the
//! system's bundle (`/etc/ssl/certs/ca-certificates.crt`). The integration
//! tests (tests/hyper.rs) run this file's `fetch` as it is.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use ember::hyper::EmberIo;
use ember::io::{AsyncRead, AsyncWrite};
use ember::net::TcpStream;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, Uri};

#[ember::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut cafile) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cafile" => cafile = args.next().map(PathBuf::from),
            _ if url.is_none() && !arg.starts_with("--") => url = Some(arg),
            _ => return Err(usage(&format!("unexpected argument {arg}"))),
        }
    }
    let url: Uri = url
        .ok_or_else(|| usage("no URL"))?
        .parse()
        .map_err(|e| usage(&format!("bad URL: {e}")))?;

    let mut response = fetch(&url, cafile.as_deref()).await?;
    eprintln!("{:?} {}", response.version(), response.status());
    for (name, value) in response.headers() {
        eprintln!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    // Stream the body out frame by frame rather than collecting it.
    let mut stdout = io::stdout().lock();
    while let Some(frame) = response.body_mut().frame().await {
        if let Ok(data) = frame.map_err(io::Error::other)?.into_data() {
            stdout.write_all(&data)?;
        }
    }
    stdout.flush()
}

fn usage(problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{problem}\nusage: http_client URL [--cafile CA.pem]"),
    )
}

/// GETs `url` (`http` or `https`) and returns the response, its body still
/// to be read. `cafile` is the CA bundle to check an `https` server with.
pub(crate) async fn fetch(url: &Uri, cafile: Option<&Path>) -> io::Result<Response<Incoming>> {
    let https = match url.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(usage("the URL must start with http:// or https://")),
    };
    let host = url.host().ok_or_else(|| usage("the URL has no host"))?;
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    // An IPv6 literal comes bracketed in the URL: unbracket it to connect.
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((bare_host, port)).await?;
    tcp.set_nodelay(true)?;

    let authority = url.authority().map_or(host, |a| a.as_str());
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .map_err(io::Error::other)?;
    if https {
        https_request(url, bare_host, cafile, tcp, request).await
    } else {
        http1(tcp, request).await
    }
}

#[cfg(not(feature = "tls-examples"))]
async fn https_request(
    _url: &Uri,
    _host: &str,
    _cafile: Option<&Path>,
    _tcp: TcpStream,
    _request: Request<Empty<Bytes>>,
) -> io::Result<Response<Incoming>> {
    Err(usage(
        "https needs the tls-examples feature (futures-rustls)",
    ))
}

/// The request over TLS: HTTP/2 if the server chose it by ALPN, else
/// HTTP/1.1.
#[cfg(feature = "tls-examples")]
async fn https_request(
    url: &Uri,
    bare_host: &str,
    cafile: Option<&Path>,
    tcp: TcpStream,
    request: Request<Empty<Bytes>>,
) -> io::Result<Response<Incoming>> {
    use futures_rustls::rustls::pki_types::ServerName;
    use futures_rustls::TlsConnector;

    let connector = TlsConnector::from(client_config(cafile)?);
    let name = ServerName::try_from(bare_host.to_string()).map_err(|e| usage(&e.to_string()))?;
    let tls = connector.connect(name, tcp).await?;
    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
        // HTTP/2 takes the scheme and authority from the URI, not `Host`.
        let (mut parts, body) = request.into_parts();
        parts.uri = url.clone();
        parts.headers.remove(hyper::header::HOST);
        let executor = ember::hyper::EmberExecutor::new();
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(executor, EmberIo::new(tls))
                .await
                .map_err(io::Error::other)?;
        ember::spawn(connection);
        let request = Request::from_parts(parts, body);
        sender.send_request(request).await.map_err(io::Error::other)
    } else {
        http1(tls, request).await
    }
}

/// One HTTP/1.1 request over `stream`.
async fn http1<S>(stream: S, request: Request<Empty<Bytes>>) -> io::Result<Response<Incoming>>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(EmberIo::new(stream))
        .await
        .map_err(io::Error::other)?;
    // The connection task ends when the response's body has been read.
    ember::spawn(connection);
    sender.send_request(request).await.map_err(io::Error::other)
}

/// rustls on its `ring` provider, trusting `cafile` (or the system's
/// bundle), offering HTTP/2 and HTTP/1.1.
#[cfg(feature = "tls-examples")]
fn client_config(
    cafile: Option<&Path>,
) -> io::Result<std::sync::Arc<futures_rustls::rustls::ClientConfig>> {
    use futures_rustls::rustls::pki_types::pem::PemObject;
    use futures_rustls::rustls::pki_types::CertificateDer;
    use futures_rustls::rustls::{self, ClientConfig, RootCertStore};
    use std::sync::Arc;

    let bundle = cafile.unwrap_or(Path::new("/etc/ssl/certs/ca-certificates.crt"));
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(bundle).map_err(|e| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}: {e}", bundle.display()),
        )
    })?;
    for cert in certs {
        let cert = cert.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        // A bundle may hold certificates rustls cannot use: skip those.
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
