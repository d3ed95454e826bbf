//! Networking driven by the reactor, with tokio's names: TCP
//! ([`TcpListener`], [`TcpStream`], [`TcpSocket`]), UDP ([`UdpSocket`]) and
//! Unix-domain sockets ([`UnixListener`], [`UnixStream`], [`UnixDatagram`]).
//!
//! Every stream implements the futures-io [`crate::io::AsyncRead`] and
//! [`crate::io::AsyncWrite`] traits, so codecs, TLS and HTTP crates built on
//! them work unchanged. The halves of a split [`TcpStream`] are in [`tcp`],
//! those of a [`UnixStream`] in [`unix`], as in tokio. Listeners do not spin
//! when the process runs out of file descriptors (see
//! [`TcpListener::accept`]); streams send files with `sendfile(2)`
//! ([`TcpStream::send_file`]).
//!
//! ```
//! use ember::net::UdpSocket;
//!
//! ember::block_on(async {
//!     let server = UdpSocket::bind("127.0.0.1:0").await?;
//!     let client = UdpSocket::bind("127.0.0.1:0").await?;
//!     client.send_to(b"ping", server.local_addr()?).await?;
//!     let mut buf = [0; 64];
//!     let (n, from) = server.recv_from(&mut buf).await?;
//!     assert_eq!((&buf[..n], from), (&b"ping"[..], client.local_addr()?));
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```

pub use ember_io::net::{
    lookup_host, Incoming, TcpListener, TcpSocket, TcpStream, ToSocketAddrs, UdpSocket,
    UnixDatagram, UnixListener, UnixStream,
};

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

pub mod unix {
    //! Unix-domain sockets' companions, with tokio's names: the halves of a
    //! split [`UnixStream`](super::UnixStream) ([`ReadHalf`] and
    //! [`WriteHalf`] borrow it, [`OwnedReadHalf`] and [`OwnedWriteHalf`]
    //! own it), the [`SocketAddr`] of a Unix socket (std's), and the peer
    //! credentials [`UCred`]. A path whose first byte is NUL names Linux's
    //! abstract namespace.
    //!
    //! ```
    //! use ember::io::{AsyncReadExt, AsyncWriteExt};
    //! use ember::net::UnixStream;
    //!
    //! ember::block_on(async {
    //!     let (a, mut b) = UnixStream::pair()?;
    //!     let (mut read, mut write): (ember::net::unix::OwnedReadHalf, _) = a.into_split();
    //!     write.write_all(b"ping").await?;
    //!     let mut buf = [0; 4];
    //!     b.read_exact(&mut buf).await?;
    //!     b.write_all(b"pong").await?;
    //!     read.read_exact(&mut buf).await?;
    //!     assert_eq!(&buf, b"pong");
    //!     let a = read.reunite(write).expect("halves of one stream");
    //!     let cred: ember::net::unix::UCred = a.peer_cred()?;
    //!     println!("peer uid {}", cred.uid());
    //!     std::io::Result::Ok(())
    //! })?;
    //! # std::io::Result::Ok(())
    //! ```

    pub use ember_io::net::unix::{
        gid_t, pid_t, uid_t, OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SocketAddr,
        UCred, WriteHalf,
    };
}
