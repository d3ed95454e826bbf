//! Networking: TCP sockets driven by the reactor.
//!
//! Every type implements the futures-io [`crate::io::AsyncRead`] and
//! [`crate::io::AsyncWrite`] traits, so codecs, TLS and HTTP crates built on
//! them work unchanged.

pub use ember_io::net::*;
