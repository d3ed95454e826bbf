//! `Async<T>` over real descriptors: Unix socket pairs, a child process's
//! stdout pipe, UDP sockets.

mod util;

use std::io::{self, ErrorKind, Read, Write};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use ember_io::Async;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_same_bytes, child, join_independent, pattern, run};

#[test]
fn unix_pair_becomes_readable() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let (a, b) = (Async::new(a)?, Async::new(b)?);
        join_independent(vec![
            // Polled first, so it really waits for the write below.
            child(async {
                let _ = b.readable().await?;
                let mut buf = [0; 5];
                let n = b.read_with(|s| (&*s).read(&mut buf)).await?;
                assert_eq!(&buf[..n], b"hello");
                Ok(())
            }),
            child(async {
                let _ = a.writable().await?;
                a.write_with(|s| (&*s).write(b"hello")).await?;
                Ok(())
            }),
        ])
        .await
    });
}

#[test]
fn read_with_retries_after_would_block() {
    run(async {
        let (mut a, b) = UnixStream::pair()?;
        let b = Async::new(b)?;
        // Leave the read readiness set with nothing left to read.
        a.write_all(b"x")?;
        let mut buf = [0; 3];
        assert_eq!(b.read_with(|s| (&*s).read(&mut buf)).await?, 1);

        let mut attempts = 0;
        join_independent(vec![
            child(async {
                let n = b
                    .read_with(|s| {
                        attempts += 1;
                        (&*s).read(&mut buf)
                    })
                    .await?;
                assert_eq!(&buf[..n], b"abc");
                Ok(())
            }),
            child(async {
                a.write_all(b"abc")?;
                Ok(())
            }),
        ])
        .await?;
        // Once on the stale readiness (WouldBlock, cleared), once after the
        // new data arrived.
        assert!(attempts >= 2, "read_with ran {attempts} time(s)");
        Ok(())
    });
}

#[test]
fn unix_pair_echoes_through_the_futures_io_traits() {
    let data = pattern(256 * 1024, 4);
    run(async {
        let (a, b) = UnixStream::pair()?;
        let (mut a, b) = (Async::new(a)?, Async::new(b)?);
        let mut received = Vec::new();
        join_independent(vec![
            child(async {
                a.write_all(&data).await?;
                a.close().await?;
                // Dropping the writer ends the reader's stream.
                drop(a);
                Ok(())
            }),
            // `&Async<UnixStream>` reads, since `&UnixStream: Read`.
            child(async {
                (&b).read_to_end(&mut received).await?;
                Ok(())
            }),
        ])
        .await?;
        assert_same_bytes(&received, &data);
        Ok(())
    });
}

#[test]
fn child_stdout_pipe_is_readable() {
    run(async {
        let mut child = Command::new("echo")
            .arg("from a pipe")
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout pipe"))?;
        // `ChildStdout: Read` only through `&mut`: the owned `AsyncRead`.
        let mut stdout = Async::new(stdout)?;
        let mut out = String::new();
        stdout.read_to_string(&mut out).await?;
        assert_eq!(out, "from a pipe\n");
        assert!(child.wait()?.success());
        Ok(())
    });
}

#[test]
fn zero_length_operations_do_not_wait() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
        // Nothing to read, yet these complete at once.
        assert_eq!(b.read(&mut []).await?, 0);
        assert_eq!((&b).read(&mut []).await?, 0);
        assert_eq!(b.read_vectored(&mut []).await?, 0);
        assert_eq!(a.write(&[]).await?, 0);
        assert_eq!(a.write_vectored(&[io::IoSlice::new(&[])]).await?, 0);
        a.flush().await?;
        Ok(())
    });
}

#[test]
fn udp_read_and_write_with() {
    run(async {
        let a = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
        let b = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
        let b_addr = b.get_ref().local_addr()?;
        let mut buf = [0; 64];
        join_independent(vec![
            child(async {
                let (n, from) = b.read_with(|s| s.recv_from(&mut buf)).await?;
                assert_eq!(&buf[..n], b"datagram");
                assert_eq!(from, a.get_ref().local_addr()?);
                Ok(())
            }),
            child(async {
                a.write_with(|s| s.send_to(b"datagram", b_addr)).await?;
                Ok(())
            }),
        ])
        .await
    });
}

#[test]
fn into_inner_deregisters() {
    run(async {
        let (a, _b) = UnixStream::pair()?;
        let a = Async::new(a)?;
        // Registering the same descriptor twice fails (EEXIST) unless
        // `into_inner` really removed it from the poller.
        let a = a.into_inner()?;
        let a = Async::new(a)?;
        let a = a.into_inner()?;
        let _a = Async::new(a)?;
        Ok(())
    });
}

#[test]
fn registering_a_descriptor_twice_is_an_error() {
    use std::os::fd::AsFd;
    run(async {
        let (a, _b) = UnixStream::pair()?;
        let first = Async::new(a)?;
        // A duplicate is a new descriptor: fine.
        let _dup = Async::new(first.get_ref().try_clone()?)?;
        // The same descriptor again: the OS refuses and the error is returned.
        match Async::new(first.get_ref().as_fd()) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}"),
            Ok(_) => panic!("registered one descriptor twice"),
        }
        // The first registration is unharmed.
        let _ = first.writable().await?;
        Ok(())
    });
}
