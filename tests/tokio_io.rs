//! tokio's I/O traits on ember's types (feature `tokio-io`): a tokio-util
//! codec straight over ember's `TcpStream` and its owned halves, with no
//! compat wrapper; and the porting guide's recipe for crates bound to
//! tokio's reactor, async-compat, run once.

#![cfg(feature = "tokio-io")]

mod util;

use std::io;
use std::time::Duration;

use ember::net::{TcpListener, TcpStream};
use futures_util::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};
use util::{tcp_pair, watchdog};

per_flavor! {
    #[test]
    fn framed_lines_round_trip_over_tcp_stream() {
        let _watchdog = watchdog(Duration::from_secs(30));
        block_on(async {
            let (client, server) = tcp_pair().await;
            // The server echoes each line back in upper case.
            let server = ember::spawn(async move {
                let mut lines = Framed::<TcpStream, _>::new(server, LinesCodec::new());
                while let Some(line) = lines.next().await {
                    lines.send(line?.to_uppercase()).await?;
                }
                Ok::<_, tokio_util::codec::LinesCodecError>(())
            });
            let mut lines = Framed::new(client, LinesCodec::new());
            for i in 0..100 {
                lines.send(format!("line {i} from ember")).await.map_err(io::Error::other)?;
                let reply = lines.next().await.expect("a reply").map_err(io::Error::other)?;
                assert_eq!(reply, format!("LINE {i} FROM EMBER"));
            }
            // A half-close ends the server's stream of lines.
            let client: TcpStream = lines.into_inner();
            client.shutdown(std::net::Shutdown::Write)?;
            server.await.expect("the server task").map_err(io::Error::other)?;
            io::Result::Ok(())
        })
        .expect("a Framed round trip");
    }

    #[test]
    fn framed_read_and_write_over_owned_halves() {
        let _watchdog = watchdog(Duration::from_secs(30));
        block_on(async {
            let (client, server) = tcp_pair().await;
            let (read, write) = server.into_split();
            let mut incoming = FramedRead::new(read, LinesCodec::new());
            let mut outgoing = FramedWrite::new(write, LinesCodec::new());
            let mut client = Framed::new(client, LinesCodec::new());
            client.send("ping").await.map_err(io::Error::other)?;
            let line = incoming.next().await.expect("a line").map_err(io::Error::other)?;
            outgoing.send(format!("{line} pong")).await.map_err(io::Error::other)?;
            let reply = client.next().await.expect("a reply").map_err(io::Error::other)?;
            assert_eq!(reply, "ping pong");
            io::Result::Ok(())
        })
        .expect("Framed over the halves");
    }
}

#[test]
fn async_compat_runs_a_tokio_socket_next_to_ember() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _watchdog = watchdog(Duration::from_secs(30));
    ember::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = ember::spawn(async move {
            let (mut stream, _) = listener.accept().await?;
            let mut buf = [0; 4];
            ember::io::AsyncReadExt::read_exact(&mut stream, &mut buf).await?;
            ember::io::AsyncWriteExt::write_all(&mut stream, &buf).await?;
            io::Result::Ok(())
        });
        // tokio::net needs tokio's reactor: async-compat runs one on a
        // background thread and enters it whenever the future is polled.
        let reply = async_compat::Compat::new(async {
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream.write_all(b"ping").await?;
            let mut reply = [0; 4];
            stream.read_exact(&mut reply).await?;
            io::Result::Ok(reply)
        })
        .await?;
        assert_eq!(&reply, b"ping");
        server.await.expect("the server task")
    })
    .expect("a tokio socket next to ember");
}
