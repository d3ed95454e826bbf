//! A tiny DNS-style service over UDP: a server that answers "what is the
//! address of NAME?" and a client that asks with a timeout and retries, as
//! a resolver does.
//!
//! ```text
//! cargo run --example udp                                   # both, in one process
//! cargo run --example udp -- server 127.0.0.1:5300          # just the server
//! cargo run --example udp -- client 127.0.0.1:5300 db.test  # just a query
//! ```
//!
//! The wire format, one datagram each way:
//!
//! ```text
//! query:  id (2 bytes, big endian) | name (UTF-8)
//! answer: id (2 bytes)             | 0 + IPv4 address (4 bytes), or 1 (no such name)
//! ```
//!
//! Every name ending in `.test` exists, with an address derived from the
//! name; the others do not. A reply whose id is not the query's (a late
//! answer to an earlier try) is ignored. The integration tests run this
//! file's `serve` and `query` as they are.

use ember::net::UdpSocket;
use ember::time::{timeout, Duration};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};

/// How long a query waits for its answer before it is sent again.
const TRY_TIMEOUT: Duration = Duration::from_millis(500);
/// Tries per query.
const TRIES: u32 = 3;

#[ember::main]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["server", addr] => {
            let socket = UdpSocket::bind(addr).await?;
            println!("udp: answering on {}", socket.local_addr()?);
            serve(socket).await
        }
        ["client", server, name] => {
            let server: SocketAddr = server
                .parse()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let client = UdpSocket::bind(unspecified_like(server)).await?;
            print_answer(name, query(&client, server, name, 1).await?);
            Ok(())
        }
        [] => {
            let socket = UdpSocket::bind("127.0.0.1:0").await?;
            let server = socket.local_addr()?;
            ember::spawn(serve(socket));
            let client = UdpSocket::bind("127.0.0.1:0").await?;
            for (id, name) in ["db.test", "cache.test", "example.com"].iter().enumerate() {
                print_answer(name, query(&client, server, name, id as u16).await?);
            }
            Ok(())
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: udp [server ADDR | client ADDR NAME]",
        )),
    }
}

fn print_answer(name: &str, answer: Option<Ipv4Addr>) {
    match answer {
        Some(ip) => println!("{name} is {ip}"),
        None => println!("{name}: no such name"),
    }
}

/// Any port on the unspecified address of `server`'s family.
fn unspecified_like(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// Answers queries forever. A malformed datagram is dropped, as a real
/// server would; a failing send is reported and the server goes on.
pub(crate) async fn serve(socket: UdpSocket) -> io::Result<()> {
    let mut buf = [0u8; 512];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        let Some((id, name)) = parse_query(&buf[..n]) else {
            continue;
        };
        let mut answer = id.to_be_bytes().to_vec();
        match lookup(name) {
            Some(ip) => {
                answer.push(0);
                answer.extend_from_slice(&ip.octets());
            }
            None => answer.push(1),
        }
        if let Err(e) = socket.send_to(&answer, from).await {
            eprintln!("udp: cannot answer {from}: {e}");
        }
    }
}

/// Asks `server` for the address of `name`, retrying on timeout. `id` tells
/// this query's answer from late answers to earlier ones.
///
/// # Errors
///
/// `TimedOut` when no answer came after every try; the socket's errors.
pub(crate) async fn query(
    socket: &UdpSocket,
    server: SocketAddr,
    name: &str,
    id: u16,
) -> io::Result<Option<Ipv4Addr>> {
    let mut request = id.to_be_bytes().to_vec();
    request.extend_from_slice(name.as_bytes());
    let mut buf = [0u8; 512];
    for _ in 0..TRIES {
        socket.send_to(&request, server).await?;
        let answer = timeout(TRY_TIMEOUT, async {
            loop {
                let (n, from) = socket.recv_from(&mut buf).await?;
                if from == server {
                    if let Some(answer) = parse_answer(&buf[..n], id) {
                        return io::Result::Ok(answer);
                    }
                }
            }
        });
        match answer.await {
            Ok(answer) => return answer,
            Err(_elapsed) => continue,
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer from {server} after {TRIES} tries"),
    ))
}

/// The toy zone: `*.test` names exist, with an address from their bytes.
pub(crate) fn lookup(name: &str) -> Option<Ipv4Addr> {
    if !name.ends_with(".test") {
        return None;
    }
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [_, b, c, d] = hash.to_be_bytes();
    Some(Ipv4Addr::new(10, b, c, d))
}

fn parse_query(datagram: &[u8]) -> Option<(u16, &str)> {
    let (id, name) = datagram.split_first_chunk::<2>()?;
    Some((u16::from_be_bytes(*id), std::str::from_utf8(name).ok()?))
}

/// `Some(answer)` if `datagram` answers query `id`.
fn parse_answer(datagram: &[u8], id: u16) -> Option<Option<Ipv4Addr>> {
    let (got, rest) = datagram.split_first_chunk::<2>()?;
    if u16::from_be_bytes(*got) != id {
        return None;
    }
    match rest {
        [0, a, b, c, d] => Some(Some(Ipv4Addr::new(*a, *b, *c, *d))),
        [1] => Some(None),
        _ => None,
    }
}
