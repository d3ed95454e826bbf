//! A TLS echo server: futures-rustls over ember's `TcpStream`, every byte a
//! client sends comes back, encrypted.
//!
//! ```text
//! cargo run --release --features tls-examples --example tls_echo   # 127.0.0.1:7443, self-signed
//! cargo run --release --features tls-examples --example tls_echo -- [::1]:7444 --cert cert.pem --key key.pem
//! ```
//!
//! Without `--cert`/`--key` it generates a self-signed certificate for
//! `localhost` at start (rcgen) and writes it next to the system's temp
//! files, so a client can trust it:
//! `openssl s_client -connect 127.0.0.1:7443 -CAfile <printed path>`.
//!
//! TLS is a filter over any futures-io stream, as libevent layers its SSL
//! bufferevent over any bufferevent: the same `TlsAcceptor` works over a
//! Unix socket or an in-memory `ember::io::duplex` (tests/tls.rs does
//! both). rustls runs on its `ring` provider. The feature `tls-examples`
//! only turns on this example's dependencies (futures-rustls, rustls,
//! rcgen): ember has no TLS code of its own. The integration tests run this
//! file's `serve` and `acceptor` as they are.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ember::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use ember::net::TcpListener;
use ember::signal::{Signals, SIGINT, SIGTERM};
use ember::time::{sleep, Duration};
use futures_rustls::rustls::pki_types::pem::PemObject;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use futures_rustls::rustls::{self, ServerConfig};
use futures_rustls::TlsAcceptor;

#[ember::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut cert, mut key) = ("127.0.0.1:7443".to_string(), None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cert" => cert = args.next().map(PathBuf::from),
            "--key" => key = args.next().map(PathBuf::from),
            _ if arg.starts_with("--") => return Err(usage(&format!("unknown option {arg}"))),
            _ => addr = arg,
        }
    }
    let (chain, key) = match (cert, key) {
        (Some(cert), Some(key)) => load(&cert, &key)?,
        (None, None) => self_signed()?,
        _ => return Err(usage("--cert and --key go together")),
    };
    let acceptor = acceptor(chain, key)?;

    let listener = TcpListener::bind(addr.as_str()).await?;
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    println!("tls_echo: listening on {}", listener.local_addr()?);
    let server = ember::spawn(serve(listener, acceptor));
    let signal = signals.recv().await;
    println!("tls_echo: got signal {signal:?}, shutting down");
    server.abort();
    Ok(())
}

fn usage(problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{problem}\nusage: tls_echo [ADDR] [--cert CERT.pem --key KEY.pem]"),
    )
}

/// The certificate chain and private key in the PEM files `cert` and `key`.
fn load(
    cert: &Path,
    key: &Path,
) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let invalid = |what: &Path, e: rustls::pki_types::pem::Error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", what.display()),
        )
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert, e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid(key, e))?;
    Ok((chain, key))
}

/// A fresh self-signed certificate for `localhost`, also written as PEM
/// for clients to trust.
fn self_signed() -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
    let path = std::env::temp_dir().join(format!("tls_echo-{}.pem", std::process::id()));
    std::fs::write(&path, certified.cert.pem())?;
    println!(
        "tls_echo: self-signed certificate for localhost in {}",
        path.display()
    );
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    Ok((vec![certified.cert.der().clone()], key))
}

/// A TLS acceptor for `chain` and `key` on rustls' `ring` provider.
pub(crate) fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections forever, each on its own task: the TLS handshake,
/// then the echo.
pub(crate) async fn serve(listener: TcpListener, acceptor: TlsAcceptor) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let acceptor = acceptor.clone();
                ember::spawn(async move {
                    let result = async { echo(acceptor.accept(stream).await?).await }.await;
                    if let Err(e) = result {
                        eprintln!("tls_echo: {peer}: {e}");
                    }
                });
            }
            // Out of descriptors or buffers: back off rather than spin.
            Err(e) => {
                eprintln!("tls_echo: accept failed: {e}; retrying in 100 ms");
                sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Writes back everything read from `stream` until the peer closes, then
/// closes the TLS session (close_notify) and the stream's write side.
pub(crate) async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> io::Result<()> {
    let (mut reader, mut writer) = ember::io::split(stream);
    ember::io::copy(&mut reader, &mut writer).await?;
    writer.close().await
}
