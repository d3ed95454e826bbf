//! Helpers for the interoperability tests (hyper, TLS, tokio's traits):
//! external tools, a wake-up gate, the hello-world service, and a
//! self-signed certificate with rustls configurations around it (with
//! `tls-examples`).

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

use bytes::Bytes;
use http_body_util::Full;

/// Whether `tool --version` runs. When it does not, the caller prints
/// "skipped: ..." and returns: a test never passes silently.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `openssl version` (openssl has no `--version`).
pub fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Kills and reaps a child process when dropped, so a failing assertion
/// leaves no server behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A counter that tasks wait on until it reaches a value: "all 50 requests
/// are in the handler", "the request has started". Wakes by waker, never
/// by polling a clock.
#[derive(Default)]
pub struct Gate {
    state: Mutex<(usize, Vec<Waker>)>,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Counts one arrival and wakes the waiters.
    pub fn arrive(&self) {
        let wakers = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 += 1;
            std::mem::take(&mut state.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Waits until `n` arrivals have been counted.
    pub fn reached(&self, n: usize) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.0 >= n {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// The body every hello-world service answers.
pub const HELLO: &str = "Hello, world!";

/// The hello-world response.
pub fn hello() -> hyper::Response<Full<Bytes>> {
    hyper::Response::new(Full::new(Bytes::from_static(HELLO.as_bytes())))
}

/// A hyper service answering [`HELLO`] to every request.
pub fn hello_service() -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<hyper::Response<Full<Bytes>>, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(|_request| async { Ok::<_, Infallible>(hello()) })
}

/// A self-signed certificate for `localhost` (and 127.0.0.1), with its key.
#[cfg(feature = "tls-examples")]
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: rustls::pki_types::CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

#[cfg(feature = "tls-examples")]
pub fn self_signed() -> TestCert {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).expect("generate a certificate");
    TestCert {
        cert_pem: certified.cert.pem(),
        key_pem: certified.signing_key.serialize_pem(),
        cert_der: certified.cert.der().clone(),
        key_der: certified.signing_key.serialize_der(),
    }
}

#[cfg(feature = "tls-examples")]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration presenting `cert`, with `alpn` protocols.
#[cfg(feature = "tls-examples")]
pub fn server_config(cert: &TestCert, alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_der.clone().into());
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert_der.clone()], key)
        .expect("the generated certificate and key match");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// A client configuration trusting `cert` only, with `alpn` protocols.
#[cfg(feature = "tls-examples")]
pub fn client_config(cert: &TestCert, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(cert.cert_der.clone())
        .expect("the generated certificate parses");
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ember-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
