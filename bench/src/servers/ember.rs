//! The ember echo server, on ember's current-thread or multi-thread runtime.

use std::io;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

use super::BUF_SIZE;

/// Accept connections forever on `rt`, one spawned task each.
pub(super) fn serve(listener: std::net::TcpListener, rt: ember::Runtime) -> io::Result<()> {
    rt.block_on(async {
        let listener = TcpListener::from_std(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            ember::spawn(echo(stream));
        }
    })
}

/// Echo until the peer closes; errors just end the connection.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0_u8; BUF_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
