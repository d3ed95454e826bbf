//! The network surface beyond TCP streams, through the facade, on both
//! runtime flavours: UDP echo with spawned tasks, Unix-socket echo with a
//! half-close, SO_REUSEPORT listeners served by separate tasks, and
//! send_file to a spawned reader.

mod util;

#[allow(dead_code)]
#[path = "../examples/udp.rs"]
mod udp_example;

#[allow(dead_code)]
#[path = "../examples/unix.rs"]
mod unix_example;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpSocket, TcpStream, UdpSocket, UnixListener, UnixStream};
use util::{random_bytes, watchdog};

/// A fresh path for a socket file, in a directory removed on drop.
struct SocketDir(std::path::PathBuf);

impl SocketDir {
    fn new(tag: &str) -> SocketDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ember-net-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a socket directory");
        SocketDir(dir)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

per_flavor! {
    #[test]
    fn udp_queries_to_the_example_server() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = server.local_addr().unwrap();
            ember::spawn(udp_example::serve(server));
            // Several clients at once, each with its own socket.
            let clients: Vec<_> = (0..8u16)
                .map(|c| {
                    ember::spawn(async move {
                        let socket = UdpSocket::bind("127.0.0.1:0").await?;
                        for i in 0..50u16 {
                            let name = if i % 5 == 0 {
                                format!("host{c}-{i}.example")
                            } else {
                                format!("host{c}-{i}.test")
                            };
                            let answer = udp_example::query(&socket, addr, &name, i).await?;
                            assert_eq!(answer, udp_example::lookup(&name), "{name}");
                        }
                        std::io::Result::Ok(())
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap().unwrap();
            }
        });
    }

    #[test]
    fn one_udp_socket_shared_by_a_sender_and_a_receiver_task() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let peer_addr = peer.local_addr().unwrap();
            socket.connect(peer_addr).await.unwrap();
            ember::spawn(async move {
                // Echo 100 datagrams back.
                let mut buf = [0; 64];
                for _ in 0..100 {
                    let (n, from) = peer.recv_from(&mut buf).await?;
                    peer.send_to(&buf[..n], from).await?;
                }
                std::io::Result::Ok(())
            });
            let receiver = ember::spawn({
                let socket = Arc::clone(&socket);
                async move {
                    let mut buf = [0; 64];
                    let mut sum = 0u64;
                    for _ in 0..100 {
                        let n = socket.recv(&mut buf).await?;
                        sum += u64::from(buf[..n][0]);
                    }
                    std::io::Result::Ok(sum)
                }
            });
            for i in 0..100u8 {
                socket.send(&[i]).await.unwrap();
                // One in flight at a time would be a ping-pong; a few at a
                // time keeps the receiver busy without overrunning loopback.
                if i % 8 == 7 {
                    ember::task::yield_now().await;
                }
            }
            assert_eq!(receiver.await.unwrap().unwrap(), (0..100u64).sum());
        });
    }

    #[test]
    fn unix_echo_of_1_mib_with_a_half_close() {
        let _guard = watchdog(Duration::from_secs(60));
        let dir = SocketDir::new("echo");
        let path = dir.0.join("echo.sock");
        block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            ember::spawn(unix_example::serve(listener));
            let data = random_bytes(7, 1 << 20);
            let stream = UnixStream::connect(&path).await.unwrap();
            let (mut read, mut write) = stream.into_split();
            let writer = ember::spawn({
                let data = data.clone();
                async move {
                    write.write_all(&data).await?;
                    write.close().await // half-close: the server sees the end
                }
            });
            let mut echoed = Vec::new();
            read.read_to_end(&mut echoed).await.unwrap();
            writer.await.unwrap().unwrap();
            assert!(echoed == data, "the echo differs");
        });
    }

    #[test]
    fn reuseport_listeners_in_two_tasks_serve_one_port() {
        const CONNECTIONS: usize = 40;
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let listen = |addr: std::net::SocketAddr| {
                let socket = TcpSocket::new_v4()?;
                socket.set_reuseport(true)?;
                socket.bind(addr)?;
                socket.listen(128)
            };
            let first = listen("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = first.local_addr().unwrap();
            let second = listen(addr).unwrap();
            let served = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
            for (i, listener) in [first, second].into_iter().enumerate() {
                let served = Arc::clone(&served);
                ember::spawn(async move {
                    loop {
                        let (mut stream, _) = listener.accept().await?;
                        served[i].fetch_add(1, Ordering::Relaxed);
                        stream.write_all(&[i as u8]).await?;
                    }
                    #[allow(unreachable_code)]
                    std::io::Result::Ok(())
                });
            }
            for _ in 0..CONNECTIONS {
                let mut client = TcpStream::connect(addr).await.unwrap();
                let mut who = [0; 1];
                client.read_exact(&mut who).await.unwrap();
            }
            let (a, b) = (served[0].load(Ordering::Relaxed), served[1].load(Ordering::Relaxed));
            assert_eq!(a + b, CONNECTIONS);
            #[cfg(target_os = "linux")]
            assert!(a > 0 && b > 0, "one listener served everything: {a} + {b}");
        });
    }

    #[test]
    fn send_file_to_a_spawned_reader() {
        let _guard = watchdog(Duration::from_secs(60));
        let dir = SocketDir::new("file");
        let path = dir.0.join("payload");
        let data = random_bytes(99, 4 << 20);
        std::fs::write(&path, &data).unwrap();
        block_on(async {
            let listener = ember::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let reader = ember::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                let mut got = Vec::new();
                stream.read_to_end(&mut got).await?;
                std::io::Result::Ok(got)
            });
            let (mut server, _) = listener.accept().await.unwrap();
            let file = std::fs::File::open(&path).unwrap();
            let sent = server.send_file(&file, 4096, 3 << 20).await.unwrap();
            assert_eq!(sent, 3 << 20);
            server.close().await.unwrap();
            let got = reader.await.unwrap().unwrap();
            assert!(got[..] == data[4096..4096 + (3 << 20)], "the received range differs");
        });
    }
}
