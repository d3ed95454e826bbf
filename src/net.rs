//! Networking: TCP sockets driven by the reactor.
//!
//! Every type implements the futures-io [`crate::io::AsyncRead`] and
//! [`crate::io::AsyncWrite`] traits, so codecs, TLS and HTTP crates built on
//! them work unchanged. The halves of a split [`TcpStream`] are in [`tcp`],
//! as in tokio.

pub use ember_io::net::{lookup_host, Incoming, TcpListener, TcpStream, ToSocketAddrs};

pub mod tcp {
    //! The halves of a split [`TcpStream`](super::TcpStream), with tokio's
    //! names: [`ReadHalf`] and [`WriteHalf`] borrow the stream
    //! (`TcpStream::split`), [`OwnedReadHalf`] and [`OwnedWriteHalf`] own it
    //! (`TcpStream::into_split`) and are put back together with `reunite`.
    //!
    //! ```
    //! use ember::io::{AsyncReadExt, AsyncWriteExt};
    //! use ember::net::{TcpListener, TcpStream};
    //!
    //! ember::block_on(async {
    //!     let listener = TcpListener::bind("127.0.0.1:0").await?;
    //!     let client = TcpStream::connect(listener.local_addr()?).await?;
    //!     let (mut server, _) = listener.accept().await?;
    //!     let (mut read, mut write): (ember::net::tcp::OwnedReadHalf, _) = client.into_split();
    //!     write.write_all(b"ping").await?;
    //!     let mut buf = [0; 4];
    //!     server.read_exact(&mut buf).await?;
    //!     server.write_all(b"pong").await?;
    //!     read.read_exact(&mut buf).await?;
    //!     assert_eq!(&buf, b"pong");
    //!     let _client = read.reunite(write).expect("halves of one stream");
    //!     std::io::Result::Ok(())
    //! })?;
    //! # std::io::Result::Ok(())
    //! ```

    pub use ember_io::net::tcp::{
        OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf,
    };
}
