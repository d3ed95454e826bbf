//! An echo service on a Unix-domain socket, and a client that talks to it:
//! the shape of a local control socket (a daemon and its command-line
//! tool), with the peer's credentials checked on each connection.
//!
//! ```text
//! cargo run --example unix                           # server and client, one process
//! cargo run --example unix -- server /tmp/echo.sock  # just the server
//! cargo run --example unix -- client /tmp/echo.sock  # just a client
//! ```
//!
//! On Linux a path that starts with `@` is taken as an abstract name
//! (`@echo` binds `"\0echo"`): nothing is created in the file system.
//! Otherwise the server removes a stale socket file before binding and
//! removes its own on Ctrl-C. Try the server with
//! `socat - UNIX-CONNECT:/tmp/echo.sock`.
//!
//! The integration tests run this file's `serve` as it is.

use ember::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use ember::net::{UnixListener, UnixStream};
use ember::signal::{Signals, SIGINT, SIGTERM};
use std::io;
use std::path::PathBuf;

#[ember::main]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["server", path] => {
            let path = socket_path(path);
            let listener = bind(&path)?;
            let mut signals = Signals::new([SIGINT, SIGTERM])?;
            println!("unix: listening on {path:?}");
            let server = ember::spawn(serve(listener));
            signals.recv().await;
            server.abort();
            remove_socket_file(&path);
            Ok(())
        }
        ["client", path] => client(&socket_path(path)).await,
        [] => {
            let path = std::env::temp_dir().join(format!("ember-unix-{}.sock", std::process::id()));
            let listener = bind(&path)?;
            ember::spawn(serve(listener));
            let result = client(&path).await;
            remove_socket_file(&path);
            result
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: unix [server PATH | client PATH]",
        )),
    }
}

/// `@name` is an abstract name on Linux (a leading NUL byte to ember).
fn socket_path(arg: &str) -> PathBuf {
    match arg.strip_prefix('@') {
        Some(name) if cfg!(any(target_os = "linux", target_os = "android")) => {
            PathBuf::from(format!("\0{name}"))
        }
        _ => PathBuf::from(arg),
    }
}

/// Binds `path`, replacing a socket file a crashed server left behind.
fn bind(path: &PathBuf) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse && is_stale(path) => {
            std::fs::remove_file(path)?;
            UnixListener::bind(path)
        }
        result => result,
    }
}

/// Whether `path` is a socket file nobody listens on.
fn is_stale(path: &PathBuf) -> bool {
    matches!(
        std::os::unix::net::UnixStream::connect(path),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
    )
}

fn remove_socket_file(path: &PathBuf) {
    if path.as_os_str().as_encoded_bytes().first() != Some(&0) {
        let _ = std::fs::remove_file(path);
    }
}

/// Accepts forever, echoing each connection on its own task. Connections
/// from another user are refused: a control socket trusts only its owner.
pub(crate) async fn serve(listener: UnixListener) -> io::Result<()> {
    // Our own uid, without libc: the peer of a pair we made is this process.
    let (me, _) = UnixStream::pair()?;
    let my_uid = me.peer_cred()?.uid();
    loop {
        let (mut stream, _addr) = listener.accept().await?;
        ember::spawn(async move {
            let peer = stream.peer_cred()?;
            if peer.uid() != my_uid {
                stream.write_all(b"refused: not the owner\n").await?;
                return stream.close().await;
            }
            echo(stream).await
        });
    }
}

/// Writes back everything read until the peer half-closes, then closes our
/// write side too.
async fn echo(mut stream: UnixStream) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.close().await;
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// Sends two lines, half-closes, and prints what comes back.
async fn client(path: &PathBuf) -> io::Result<()> {
    let stream = UnixStream::connect(path).await?;
    let cred = stream.peer_cred()?;
    println!(
        "unix: connected to {path:?} (server uid {}, pid {:?})",
        cred.uid(),
        cred.pid()
    );
    let (read, mut write) = stream.into_split();
    write.write_all(b"hello\nover a unix socket\n").await?;
    write.close().await?; // the server sees the end and closes its side
    let mut read = BufReader::new(read);
    let mut line = String::new();
    while read.read_line(&mut line).await? > 0 {
        println!("unix: echoed {:?}", line.trim_end());
        line.clear();
    }
    Ok(())
}
