//! Accepting while the process is out of file descriptors: the listener
//! sheds the waiting connections with its spare descriptor (each client
//! sees a clean close), reports `EMFILE` once for the burst, does not spin
//! (its CPU time over a second out of descriptors is measured), and serves
//! again once descriptors are freed.
//!
//! The test re-runs itself in a child process under `ulimit -n 64`, so
//! neither the low limit nor running out of descriptors can disturb the
//! other tests of this binary.

mod util;

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ember_io::net::TcpListener;
use futures_util::io::AsyncWriteExt;
use socket2::{Domain, Socket, Type};
use util::run;

const CHILD_ENV: &str = "EMBER_IO_EMFILE_CHILD";
const TEST_NAME: &str = "out_of_descriptors_sheds_reports_once_and_does_not_spin";

/// Connections that arrive while the process is out of descriptors.
const SHED: usize = 5;

/// How long the server stays out of descriptors while its CPU time is
/// measured.
const WINDOW: Duration = Duration::from_secs(1);

/// The most CPU time the server process may use over [`WINDOW`]: a fifth of
/// a CPU. A server that retries `accept` hot uses all of it; one that waits
/// uses next to nothing. A behaviour bound, not a benchmark.
const CPU_BOUND: Duration = Duration::from_millis(200);

#[test]
fn out_of_descriptors_sheds_reports_once_and_does_not_spin() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child_body();
    }
    let exe = std::env::current_exe().expect("path of the test binary");
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 64 && exec "$0" "$@""#)
        .arg(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the test binary under ulimit");
    assert!(
        output.status.success(),
        "the child failed: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// User + system CPU time of this whole process.
fn process_cpu() -> Duration {
    // SAFETY: `rusage` is plain old data, for which all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF is a valid `who` and `usage` a live, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage: {}", io::Error::last_os_error());
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The server: the usual accept loop that logs errors and carries on. It
/// greets the one connection it accepts and returns the errors it saw.
fn serve(addr_tx: mpsc::Sender<SocketAddr>, errors: Arc<Mutex<Vec<io::Error>>>) {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        addr_tx
            .send(listener.local_addr()?)
            .map_err(|_| io::Error::other("the test went away"))?;
        loop {
            match listener.accept().await {
                Ok((mut stream, _)) => {
                    stream.write_all(b"hello").await?;
                    return Ok(());
                }
                Err(e) => errors.lock().expect("errors lock").push(e),
            }
        }
    });
}

fn child_body() {
    let (addr_tx, addr_rx) = mpsc::channel();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let server = std::thread::spawn({
        let errors = Arc::clone(&errors);
        move || serve(addr_tx, errors)
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server's address");

    // The clients of the burst need descriptors of their own: made now.
    let clients: Vec<Socket> = (0..SHED)
        .map(|_| Socket::new(Domain::IPV4, Type::STREAM, None).expect("a client socket"))
        .collect();

    // Use up every descriptor the limit allows.
    let mut hoard = Vec::new();
    let exhausted = loop {
        match File::open("/dev/null") {
            Ok(file) => hoard.push(file),
            Err(e) => break e,
        }
        assert!(hoard.len() < 1_000, "the descriptor limit is not in force");
    };
    assert_eq!(exhausted.raw_os_error(), Some(libc::EMFILE), "{exhausted}");

    // Out of descriptors: connections arrive (the kernel completes the
    // handshake and queues them), and the server gets EMFILE.
    let before = process_cpu();
    for client in &clients {
        client
            .connect(&addr.into())
            .expect("connect into the backlog");
    }
    std::thread::sleep(WINDOW); // the measurement window, not a synchronisation
    let used = process_cpu().saturating_sub(before);
    eprintln!("server CPU over {WINDOW:?} out of descriptors: {used:?}");
    assert!(
        used < CPU_BOUND,
        "the server used {used:?} of CPU in {WINDOW:?} while out of descriptors: it spins"
    );

    // Each client was accepted and closed: a clean end of stream (or a
    // reset), not a hang in the backlog.
    for (i, client) in clients.iter().enumerate() {
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        let mut buf = [0; 8];
        match (&*client).read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("client {i} read {n} bytes from a shed connection"),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("client {i} was not closed: {e}"),
        }
    }

    // Reported exactly once for the whole burst.
    {
        let errors = errors.lock().expect("errors lock");
        assert_eq!(errors.len(), 1, "errors: {errors:?}");
        assert_eq!(
            errors[0].raw_os_error(),
            Some(libc::EMFILE),
            "{}",
            errors[0]
        );
    }

    // Descriptors freed: the next connection is served.
    drop(hoard);
    let mut client = std::net::TcpStream::connect(addr).expect("connect after recovery");
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut greeting = [0; 5];
    client.read_exact(&mut greeting).expect("the greeting");
    assert_eq!(&greeting, b"hello");
    server.join().expect("the server thread");
    // Nothing to flush, but the stream stays usable.
    let _ = client.write(b"bye");
}
