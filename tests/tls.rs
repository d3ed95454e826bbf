//! TLS (futures-rustls, rustls' ring provider) over ember's streams,
//! against real peers: python3's `ssl` module as the client of the example
//! echo server, `openssl s_server` as the server of ember's client; and
//! TLS layered over other streams, an in-memory duplex and a Unix socket.

#![cfg(feature = "tls-examples")]

mod interop;
#[allow(dead_code)]
#[path = "../examples/tls_echo.rs"]
mod tls_echo;
mod util;

use std::io::{self, BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ember::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use futures_rustls::rustls::pki_types::{PrivateKeyDer, ServerName};
use futures_rustls::{TlsAcceptor, TlsConnector};
use futures_util::future::join;
use interop::{have, have_openssl, KillOnDrop};
use util::watchdog;

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("a valid name")
}

fn example_acceptor(cert: &interop::TestCert) -> TlsAcceptor {
    let key = PrivateKeyDer::Pkcs8(cert.key_der.clone().into());
    tls_echo::acceptor(vec![cert.cert_der.clone()], key).expect("the example's acceptor")
}

#[test]
fn python_ssl_client_talks_to_the_example_echo_server() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !have("python3") {
        eprintln!("skipped: python3 not found");
        return;
    }
    let dir = interop::TempDir::new("tls-python");
    let cert = interop::self_signed();
    let ca = dir.0.join("cert.pem");
    std::fs::write(&ca, &cert.cert_pem).expect("write the certificate");
    // Verifies the chain and the name, echoes a line, reports the version.
    const CLIENT: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        message = b"hello from python over TLS\n" * 1000
        tls.sendall(message)
        echoed = b""
        while len(echoed) < len(message):
            chunk = tls.recv(65536)
            if not chunk:
                break
            echoed += chunk
        print("echoed" if echoed == message else "mismatch", tls.version())
"#;
    let acceptor = example_acceptor(&cert);
    ember::block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        ember::spawn(tls_echo::serve(listener, acceptor));
        let client = ember::spawn_blocking(move || {
            Command::new("python3")
                .args(["-c", CLIENT, &port.to_string()])
                .arg(&ca)
                .output()
        });
        let output = client.await.expect("the python task")?;
        assert!(
            output.status.success(),
            "python failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("echoed TLSv1."),
            "python said {stdout:?}"
        );
        io::Result::Ok(())
    })
    .expect("python's TLS session");
}

#[test]
fn ember_client_talks_to_openssl_s_server() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !have_openssl() {
        eprintln!("skipped: openssl not found (install it with apt-get install openssl)");
        return;
    }
    let dir = interop::TempDir::new("tls-openssl");
    let cert = interop::self_signed();
    let (cert_path, key_path) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&cert_path, &cert.cert_pem).expect("write the certificate");
    std::fs::write(&key_path, &cert.key_pem).expect("write the key");
    // `-rev`: every line comes back reversed. Port 0: it prints its port.
    let child = Command::new("openssl")
        .args(["s_server", "-accept", "127.0.0.1:0", "-rev", "-cert"])
        .arg(&cert_path)
        .arg("-key")
        .arg(&key_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let mut server = KillOnDrop(child);
    let stdout = server.0.stdout.take().expect("piped stdout");
    let port: u16 = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let addr = line.strip_prefix("ACCEPT ")?;
            addr.rsplit(':').next()?.parse().ok()
        })
        .expect("openssl printed no ACCEPT line");

    let connector = TlsConnector::from(interop::client_config(&cert, &[]));
    ember::block_on(async move {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let mut tls = connector.connect(localhost(), tcp).await?;
        tls.write_all(b"hello ember\n").await?;
        let mut reply = [0; 12];
        tls.read_exact(&mut reply).await?;
        assert_eq!(&reply, b"rebme olleh\n");
        let (_, session) = tls.get_ref();
        assert!(session.protocol_version().is_some());
        io::Result::Ok(())
    })
    .expect("a TLS session with openssl");
}

/// A TLS session over any pair of connected streams: the client sends
/// `len` bytes, the example's echo sends them back, the client checks them.
async fn echo_over<S>(client: S, server: S, len: usize) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let cert = interop::self_signed();
    let acceptor = example_acceptor(&cert);
    let connector = TlsConnector::from(interop::client_config(&cert, &[]));
    let server = ember::spawn(async move { tls_echo::echo(acceptor.accept(server).await?).await });
    let tls = connector.connect(localhost(), client).await?;
    let (mut reader, mut writer) = ember::io::split(tls);
    let sent = util::random_bytes(len as u64, len);
    let write = async {
        writer.write_all(&sent).await?;
        writer.close().await
    };
    let mut echoed = Vec::new();
    let (wrote, read) = join(write, reader.read_to_end(&mut echoed)).await;
    wrote?;
    read?;
    assert!(echoed == sent, "the echo differs");
    server.await.expect("the server task")
}

#[test]
fn tls_over_an_in_memory_duplex() {
    let _watchdog = watchdog(Duration::from_secs(30));
    ember::block_on(async {
        let (client, server) = ember::io::duplex(16 * 1024);
        echo_over(client, server, 256 * 1024).await
    })
    .expect("TLS over a duplex");
}

#[test]
fn tls_over_a_unix_socket() {
    let _watchdog = watchdog(Duration::from_secs(30));
    ember::block_on(async {
        let (client, server) = ember::net::UnixStream::pair()?;
        echo_over(client, server, 256 * 1024).await
    })
    .expect("TLS over a Unix socket");
}
