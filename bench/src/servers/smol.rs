//! The smol echo server: async-io's `Async<TcpStream>` on async-executor's
//! `LocalExecutor`, driven by `async_io::block_on` (which runs the reactor when idle).

use std::io;
use std::net::{TcpListener, TcpStream};

use async_executor::LocalExecutor;
use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::BUF_SIZE;

/// Accept connections forever, one spawned task each.
pub(super) fn serve(listener: TcpListener) -> io::Result<()> {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = Async::new(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.get_ref().set_nodelay(true)?;
            ex.spawn(echo(stream)).detach();
        }
    }))
}

/// Echo until the peer closes; errors just end the connection.
async fn echo(mut stream: Async<TcpStream>) -> io::Result<()> {
    let mut buf = vec![0_u8; BUF_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
