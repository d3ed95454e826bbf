//! `ember::io::copy_bidirectional` as a proxy task and `ember::io::duplex`
//! between tasks, on both runtime flavours (so on the multi-thread one the
//! two ends may be driven from different workers).

mod util;

use ember::io::{copy_bidirectional, duplex, AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use std::time::Duration;
use util::{random_bytes, watchdog};

const TWO_MB: usize = 2 * 1000 * 1000;

per_flavor! {
    #[test]
    fn a_proxy_task_carries_two_megabytes_each_way() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let upstream_addr = upstream.local_addr().unwrap();
            let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let front_addr = front.local_addr().unwrap();
            let proxy = ember::spawn(async move {
                let (mut inbound, _) = front.accept().await?;
                let mut outbound = TcpStream::connect(upstream_addr).await?;
                copy_bidirectional(&mut inbound, &mut outbound).await
            });
            // The server sends its 2 MB while it reads the client's.
            let server = ember::spawn(async move {
                let (stream, _) = upstream.accept().await?;
                let (mut rx, mut tx) = stream.into_split();
                let down = random_bytes(2, TWO_MB);
                let send = ember::spawn(async move {
                    tx.write_all(&down).await?;
                    tx.close().await
                });
                let mut got = Vec::new();
                rx.read_to_end(&mut got).await?;
                send.await.unwrap()?;
                std::io::Result::Ok(got)
            });
            let client = TcpStream::connect(front_addr).await.unwrap();
            let (mut rx, mut tx) = client.into_split();
            let up = random_bytes(1, TWO_MB);
            let up_copy = up.clone();
            let send = ember::spawn(async move {
                tx.write_all(&up_copy).await?;
                tx.close().await
            });
            let mut got_down = Vec::new();
            rx.read_to_end(&mut got_down).await.unwrap();
            send.await.unwrap().unwrap();
            let got_up = server.await.unwrap().unwrap();
            let counts = proxy.await.unwrap().unwrap();

            assert!(got_up == up, "the server got other bytes than the client sent");
            assert!(got_down == random_bytes(2, TWO_MB), "the client got other bytes than the server sent");
            assert_eq!(counts, (TWO_MB as u64, TWO_MB as u64));
        });
    }

    #[test]
    fn a_64_byte_duplex_carries_100_kb_between_tasks() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let (mut a, mut b) = duplex(64);
            let data = random_bytes(3, 100 * 1000);
            let sent = data.clone();
            let writer = ember::spawn(async move {
                for chunk in sent.chunks(1000) {
                    a.write_all(chunk).await?;
                }
                // Dropping the end after writing: the reader still gets
                // every byte, then end of stream.
                drop(a);
                std::io::Result::Ok(())
            });
            let reader = ember::spawn(async move {
                let mut got = Vec::new();
                b.read_to_end(&mut got).await?;
                std::io::Result::Ok(got)
            });
            writer.await.unwrap().unwrap();
            assert!(reader.await.unwrap().unwrap() == data);
        });
    }
}
