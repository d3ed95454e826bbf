//! Socket addresses, and name resolution that does not block the reactor.
//!
//! [`ToSocketAddrs`] is what `bind`, `connect` and [`lookup_host`] accept:
//! the same forms as the standard library's trait. A literal address (a
//! [`SocketAddr`], `(IpAddr, u16)`, `"127.0.0.1:80"`, `("::1", 80)`) is
//! parsed on the spot. A name (`"localhost:80"`, `("example.com", 443)`)
//! needs the system resolver, which blocks, so it runs where the reactor's
//! handle sends blocking work (the runtime's blocking pool) while the task
//! waits.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::vec;

/// Something that names one or more socket addresses: the forms of
/// [`std::net::ToSocketAddrs`]. Host names are resolved on the runtime's
/// blocking pool, never on the reactor's thread.
///
/// The trait is sealed: its one method is internal.
///
/// # Examples
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use ember_io::net::TcpStream;
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// TcpStream::connect("127.0.0.1:8080").await?;
/// TcpStream::connect(("localhost", 8080)).await?;
/// TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))).await?;
/// # Ok(()) }
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::Addrs;

    /// The hidden half of [`super::ToSocketAddrs`].
    #[allow(unreachable_pub)] // Reachable as a supertrait, by design unnameable.
    pub trait Sealed {
        /// The addresses, or the `host:port` text to look up.
        #[doc(hidden)]
        fn to_addrs(&self) -> Addrs;
    }
}

/// What an address argument turns into before any system call.
#[doc(hidden)]
#[derive(Debug)]
pub enum Addrs {
    /// One literal address: no lookup, and no allocation (`send_to` on a
    /// hot path passes a `SocketAddr`).
    One(SocketAddr),
    /// Literal addresses: no lookup needed.
    Ready(Vec<SocketAddr>),
    /// A `host:port` to hand to the system resolver.
    Lookup(String),
}

macro_rules! literal_addrs {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                Addrs::One(SocketAddr::from(*self))
            }
        }
    )*};
}

literal_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
);

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Addrs::One(addr),
            Err(_) => Addrs::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::One(SocketAddr::new(ip, port)),
            // Brackets keep an unparsed IPv6-looking host unambiguous.
            Err(_) if host.contains(':') => Addrs::Lookup(format!("[{host}]:{port}")),
            Err(_) => Addrs::Lookup(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

/// Resolves `addr`, looking host names up on the blocking pool.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let host = match addr.to_addrs() {
        Addrs::One(addr) => return Ok(vec![addr]),
        Addrs::Ready(addrs) => return Ok(addrs),
        Addrs::Lookup(host) => host,
    };
    let slot = Arc::new(Mutex::new(Lookup::Waiting(None)));
    let sender = LookupSender(Arc::clone(&slot));
    let reactor = ember_reactor::Handle::current();
    ember_reactor::__private::offload_blocking(
        &reactor,
        Box::new(move || {
            let addrs = std::net::ToSocketAddrs::to_socket_addrs(host.as_str()).map(Vec::from_iter);
            sender.send(addrs);
        }),
    );
    LookupResult(slot).await
}

/// The first address `addr` resolves to (tokio's rule for `send_to`); a
/// literal address costs neither a lookup nor an allocation.
pub(crate) async fn resolve_first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    let first = match addr.to_addrs() {
        Addrs::One(addr) => Some(addr),
        Addrs::Ready(addrs) => addrs.first().copied(),
        Addrs::Lookup(_) => resolve(addr).await?.first().copied(),
    };
    first.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no address",
        )
    })
}

/// Resolves `host` to the socket addresses it names, as
/// [`std::net::ToSocketAddrs`] does, without blocking the reactor: host
/// names are looked up on the runtime's blocking pool.
///
/// # Errors
///
/// The resolver's error (for example, an unknown host), or an error if the
/// runtime shut down during the lookup.
///
/// # Panics
///
/// Outside an ember runtime.
///
/// # Examples
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// for addr in ember_io::net::lookup_host("localhost:80").await? {
///     println!("localhost is {addr}");
/// }
/// # Ok(()) }
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<vec::IntoIter<SocketAddr>> {
    resolve(host).await.map(Vec::into_iter)
}

/// The state of one lookup, shared by the blocking closure and the task.
enum Lookup {
    /// Not done yet; the waker of the task waiting, if it polled.
    Waiting(Option<Waker>),
    /// The resolver's answer, not yet taken.
    Done(io::Result<Vec<SocketAddr>>),
    /// The closure was dropped without running (the pool shut down).
    Abandoned,
    /// The answer was taken.
    Taken,
}

/// Hands the answer to the waiting task; reports abandonment if dropped
/// before that.
struct LookupSender(Arc<Mutex<Lookup>>);

impl LookupSender {
    fn send(self, result: io::Result<Vec<SocketAddr>>) {
        self.finish(Lookup::Done(result));
    }

    fn finish(&self, outcome: Lookup) {
        let waker = {
            let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            match std::mem::replace(&mut *slot, outcome) {
                Lookup::Waiting(waker) => waker,
                // Already finished: keep the first outcome.
                other => {
                    *slot = other;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for LookupSender {
    fn drop(&mut self) {
        self.finish(Lookup::Abandoned);
    }
}

/// The task's side of a lookup.
struct LookupResult(Arc<Mutex<Lookup>>);

impl Future for LookupResult {
    type Output = io::Result<Vec<SocketAddr>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *slot, Lookup::Taken) {
            Lookup::Done(result) => Poll::Ready(result),
            Lookup::Abandoned => Poll::Ready(Err(io::Error::other(
                "the name lookup was dropped: the runtime is shutting down",
            ))),
            Lookup::Waiting(waker) => {
                let waker = match waker {
                    Some(w) if w.will_wake(cx.waker()) => w,
                    _ => cx.waker().clone(),
                };
                *slot = Lookup::Waiting(Some(waker));
                Poll::Pending
            }
            Lookup::Taken => Poll::Ready(Err(io::Error::other(
                "the name lookup was polled after it completed",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    fn ready(addrs: Addrs) -> Vec<SocketAddr> {
        match addrs {
            Addrs::One(addr) => vec![addr],
            Addrs::Ready(addrs) => addrs,
            Addrs::Lookup(host) => panic!("expected a literal, got a lookup of {host}"),
        }
    }

    fn lookup(addrs: Addrs) -> String {
        match addrs {
            Addrs::Lookup(host) => host,
            other => panic!("expected a lookup, got {other:?}"),
        }
    }

    #[test]
    fn literals_need_no_lookup() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80".to_addrs()), [v4]);
        assert_eq!(ready("[::1]:80".to_addrs()), [v6]);
        assert_eq!(ready(("127.0.0.1", 80).to_addrs()), [v4]);
        assert_eq!(ready(("::1", 80).to_addrs()), [v6]);
        assert_eq!(
            ready((IpAddr::from(Ipv4Addr::LOCALHOST), 80).to_addrs()),
            [v4]
        );
        assert_eq!(ready(v6.to_addrs()), [v6]);
        assert_eq!(ready([v4, v6][..].to_addrs()), [v4, v6]);
        assert_eq!(ready(String::from("127.0.0.1:80").to_addrs()), [v4]);
    }

    #[test]
    fn names_are_looked_up_with_their_port() {
        assert_eq!(lookup("localhost:80".to_addrs()), "localhost:80");
        assert_eq!(lookup(("localhost", 80).to_addrs()), "localhost:80");
        assert_eq!(
            lookup((String::from("example.invalid"), 443).to_addrs()),
            "example.invalid:443"
        );
    }

    #[test]
    fn a_dropped_lookup_reports_an_error_instead_of_hanging() {
        let slot = Arc::new(Mutex::new(Lookup::Waiting(None)));
        drop(LookupSender(Arc::clone(&slot)));
        let waker = Waker::from(Arc::new(NoopWake));
        let mut cx = Context::from_waker(&waker);
        let mut result = LookupResult(slot);
        match Pin::new(&mut result).poll(&mut cx) {
            Poll::Ready(Err(e)) => assert!(e.to_string().contains("shutting down"), "{e}"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    struct NoopWake;
    impl std::task::Wake for NoopWake {
        fn wake(self: Arc<Self>) {}
    }
}
