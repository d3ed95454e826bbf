//! `TcpStream::send_file` over real loopback sockets: a range of an 8 MiB
//! file arrives intact (checksummed), the end of the file shortens the
//! send, the file's own offset is untouched, errors surface, and a send
//! dropped half-way has sent a prefix of the range and nothing else.

mod util;

use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind, Seek, SeekFrom};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::Poll;

use ember_io::net::{TcpListener, TcpStream};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_error_kind, assert_same_bytes, child, join_independent, pattern, run};

const MIB: u64 = 1024 * 1024;
const FILE_LEN: u64 = 8 * MIB;

/// An 8 MiB file of seeded bytes, removed on drop.
struct TestFile {
    path: PathBuf,
    data: &'static [u8],
}

impl TestFile {
    fn new(name: &str) -> TestFile {
        let path =
            std::env::temp_dir().join(format!("ember-send-file-{name}-{}", std::process::id()));
        // Generated once for every test of the binary (slow in debug builds).
        static DATA: OnceLock<Vec<u8>> = OnceLock::new();
        let data = DATA.get_or_init(|| pattern(FILE_LEN as usize, 0x5e4d));
        std::fs::write(&path, data).expect("write the test file");
        TestFile { path, data }
    }

    fn open(&self) -> std::fs::File {
        std::fs::File::open(&self.path).expect("open the test file")
    }

    fn range(&self, offset: u64, len: u64) -> &[u8] {
        &self.data[offset as usize..(offset + len) as usize]
    }
}

impl Drop for TestFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// FNV-1a, 64 bits: a checksum that notices reordered or repeated chunks.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((server, client))
}

/// Sends `len` bytes from `offset` and returns (what send_file said, what
/// the peer read to the end).
async fn send_and_receive(
    file: &std::fs::File,
    offset: u64,
    len: u64,
) -> io::Result<(u64, Vec<u8>)> {
    let (mut server, mut client) = tcp_pair().await?;
    let mut sent = 0;
    let mut received = Vec::new();
    join_independent(vec![
        child(async {
            sent = server.send_file(file, offset, len).await?;
            server.close().await
        }),
        child(async {
            client.read_to_end(&mut received).await?;
            Ok(())
        }),
    ])
    .await?;
    Ok((sent, received))
}

#[test]
fn a_range_of_an_8_mib_file_arrives_intact() {
    let file = TestFile::new("range");
    let (offset, len) = (1_000_003, 5 * MIB + 17);
    run(async {
        let (sent, received) = send_and_receive(&file.open(), offset, len).await?;
        assert_eq!(sent, len);
        assert_eq!(checksum(&received), checksum(file.range(offset, len)));
        assert_same_bytes(&received, file.range(offset, len));
        Ok(())
    });
}

#[test]
fn the_end_of_the_file_shortens_the_send() {
    let file = TestFile::new("eof");
    run(async {
        let offset = FILE_LEN - 1000;
        let (sent, received) = send_and_receive(&file.open(), offset, 1 << 40).await?;
        assert_eq!(sent, 1000);
        assert_same_bytes(&received, file.range(offset, 1000));
        // At or past the end, and a zero length: nothing at all.
        for (offset, len) in [(FILE_LEN, 10), (FILE_LEN + 5, 10), (0, 0)] {
            let (sent, received) = send_and_receive(&file.open(), offset, len).await?;
            assert_eq!((sent, received.len()), (0, 0), "offset {offset}, len {len}");
        }
        Ok(())
    });
}

#[test]
fn one_file_on_several_streams_at_once_and_its_offset_untouched() {
    let file = TestFile::new("shared");
    let mut handle = file.open();
    handle.seek(SeekFrom::Start(12345)).expect("seek");
    run(async {
        let ranges = [(0, 3 * MIB), (2 * MIB, 3 * MIB), (5 * MIB, 3 * MIB)];
        let mut children = Vec::new();
        for (offset, len) in ranges {
            let (handle, file) = (&handle, &file);
            children.push(child(async move {
                let (sent, received) = send_and_receive(handle, offset, len).await?;
                assert_eq!(sent, len);
                assert_same_bytes(&received, file.range(offset, len));
                Ok(())
            }));
        }
        join_independent(children).await
    });
    assert_eq!(handle.stream_position().expect("position"), 12345);
}

#[test]
fn a_peer_that_goes_away_is_an_error() {
    let file = TestFile::new("reset");
    run(async {
        let (mut server, client) = tcp_pair().await?;
        client.set_zero_linger()?;
        drop(client);
        let result = server.send_file(&file.open(), 0, FILE_LEN).await;
        match result {
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
                "{e}"
            ),
            Ok(n) => panic!("sent {n} bytes to a closed peer"),
        }
        Ok(())
    });
}

#[test]
fn an_overflowing_range_is_refused() {
    let file = TestFile::new("overflow");
    run(async {
        let (mut server, _client) = tcp_pair().await?;
        let result = server.send_file(&file.open(), u64::MAX - 10, 100).await;
        assert_error_kind(result, ErrorKind::InvalidInput);
        Ok(())
    });
}

#[test]
fn a_dropped_send_has_sent_a_prefix_and_nothing_else() {
    let file = TestFile::new("dropped");
    let offset = 777;
    run(async {
        let (mut server, mut client) = tcp_pair().await?;
        let handle = file.open();
        server.writable().await?; // so that the first poll sends
        {
            // The peer reads nothing yet: the send fills the socket and waits.
            let mut send = pin!(server.send_file(&handle, offset, FILE_LEN - offset));
            let first = poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
            assert!(first.is_pending(), "8 MiB fit in the socket buffers");
        }
        // Dropped; the stream is only good for closing now.
        server.close().await?;
        let mut received = Vec::new();
        client.read_to_end(&mut received).await?;
        assert!(!received.is_empty(), "the first poll sent nothing");
        assert!((received.len() as u64) < FILE_LEN - offset);
        assert_same_bytes(&received, file.range(offset, received.len() as u64));
        Ok(())
    });
}
