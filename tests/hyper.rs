//! hyper 1.x on ember: `EmberIo`, `EmberExecutor` and `EmberTimer` against
//! real peers (curl, python3's http.server) and hyper itself, over real
//! sockets on 127.0.0.1.

#![cfg(feature = "hyper")]

#[allow(dead_code)]
#[path = "../examples/hello_http.rs"]
mod hello_http;
#[allow(dead_code)]
#[path = "../examples/http_client.rs"]
mod http_client;
mod interop;
mod util;

use std::io::{self, BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ember::hyper::{EmberExecutor, EmberIo, EmberTimer};
use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use interop::{have, Gate, KillOnDrop, HELLO};
use util::{tcp_pair, watchdog};

/// A GET for `path` with a Host header.
fn get(path: &str) -> hyper::Request<Empty<Bytes>> {
    hyper::Request::get(path)
        .header(hyper::header::HOST, "localhost")
        .body(Empty::new())
        .expect("a valid request")
}

#[test]
fn hello_http_answers_curl_over_http1_keep_alive_and_http2() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !have("curl") {
        eprintln!("skipped: curl not found (install it with apt-get install curl)");
        return;
    }
    ember::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stop = Gate::new();
        let server = ember::spawn({
            let stop = Arc::clone(&stop);
            let service = service_fn(hello_http::hello);
            async move { hello_http::serve(listener, service, stop.reached(1)).await }
        });
        let url = format!("http://{addr}/");
        let curl = |args: &'static [&'static str], urls: usize| {
            let url = url.clone();
            ember::spawn_blocking(move || {
                Command::new("curl")
                    .args(["--silent", "--show-error", "--max-time", "20"])
                    .args(args)
                    .args(std::iter::repeat_n(&url, urls))
                    .output()
            })
        };
        // Two requests in one curl: the second reuses the connection
        // (`num_connects` 0) if the server kept it alive.
        const WRITE_OUT: &str = " %{http_version} %{num_connects}\\n";
        let http1 = curl(&["--http1.1", "--write-out", WRITE_OUT], 2);
        let http1 = http1.await.expect("the curl task")?;
        // One request: curl 7.88 fails to reuse a prior-knowledge HTTP/2
        // connection ("Error in the HTTP2 framing layer", against tokio's
        // hyper server too); hyper's own client multiplexes below.
        let http2 = curl(&["--http2-prior-knowledge", "--write-out", WRITE_OUT], 1);
        let http2 = http2.await.expect("the curl task")?;
        for output in [&http1, &http2] {
            assert!(
                output.status.success(),
                "curl failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert_eq!(
            String::from_utf8_lossy(&http1.stdout),
            format!("{HELLO} 1.1 1\n{HELLO} 1.1 0\n")
        );
        assert_eq!(
            String::from_utf8_lossy(&http2.stdout),
            format!("{HELLO} 2 1\n")
        );
        stop.arrive();
        server.await.expect("the server task")
    })
    .expect("serve curl");
}

#[test]
fn http_client_example_fetches_from_hello_http_example() {
    let _watchdog = watchdog(Duration::from_secs(30));
    ember::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url: hyper::Uri = format!("http://{}/", listener.local_addr()?)
            .parse()
            .map_err(io::Error::other)?;
        let stop = Gate::new();
        let server = ember::spawn({
            let stop = Arc::clone(&stop);
            let service = service_fn(hello_http::hello);
            async move { hello_http::serve(listener, service, stop.reached(1)).await }
        });
        let response = http_client::fetch(&url, None).await?;
        assert_eq!(response.status(), hyper::StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        assert_eq!(body.to_bytes(), HELLO);
        stop.arrive();
        server.await.expect("the server task")
    })
    .expect("fetch from hello_http");
}

#[test]
fn hyper_client_fetches_a_file_from_python_http_server() {
    let _watchdog = watchdog(Duration::from_secs(60));
    if !have("python3") {
        eprintln!("skipped: python3 not found");
        return;
    }
    let dir = interop::TempDir::new("hyper-python");
    let payload = util::random_bytes(7, 300_000);
    std::fs::write(dir.0.join("payload.bin"), &payload).expect("write the payload");
    let child = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3 -m http.server");
    let mut server = KillOnDrop(child);
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let mut line = String::new();
    let stdout = server.0.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read python's first line");
    let port: u16 = line
        .split_whitespace()
        .skip_while(|word| *word != "port")
        .nth(1)
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in python's line {line:?}"));

    let body = ember::block_on(async move {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(EmberIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        ember::spawn(connection);
        let response = sender
            .send_request(get("/payload.bin"))
            .await
            .map_err(io::Error::other)?;
        assert_eq!(response.status(), hyper::StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        io::Result::Ok(body.to_bytes())
    })
    .expect("fetch from python");
    assert_eq!(body.len(), payload.len());
    assert!(body == payload, "the body differs from the file");
}

per_flavor! {
    #[test]
    fn http2_serves_50_concurrent_streams_on_one_connection() {
        const STREAMS: usize = 50;
        let _watchdog = watchdog(Duration::from_secs(60));
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            // Every handler waits until all 50 are in: the test completes
            // only if the 50 streams are open at the same time.
            let inside = Gate::new();
            let server = ember::spawn({
                let inside = Arc::clone(&inside);
                async move {
                    let (stream, _) = listener.accept().await?;
                    let service = service_fn(move |request: hyper::Request<_>| {
                        let inside = Arc::clone(&inside);
                        async move {
                            inside.arrive();
                            inside.reached(STREAMS).await;
                            let path = request.uri().path().to_string();
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                Bytes::from(path),
                            )))
                        }
                    });
                    http2::Builder::new(EmberExecutor::new())
                        .timer(EmberTimer::new())
                        .serve_connection(EmberIo::new(stream), service)
                        .await
                        .map_err(io::Error::other)
                }
            });

            let stream = TcpStream::connect(addr).await?;
            let (sender, connection) =
                hyper::client::conn::http2::handshake(EmberExecutor::new(), EmberIo::new(stream))
                    .await
                    .map_err(io::Error::other)?;
            let connection = ember::spawn(connection);
            let requests: Vec<_> = (0..STREAMS)
                .map(|i| {
                    let mut sender = sender.clone();
                    ember::spawn(async move {
                        let request = hyper::Request::get(format!("http://localhost/{i}"))
                            .body(Empty::<Bytes>::new())
                            .map_err(io::Error::other)?;
                        let response =
                            sender.send_request(request).await.map_err(io::Error::other)?;
                        assert_eq!(response.version(), hyper::Version::HTTP_2);
                        let body = response.into_body().collect().await.map_err(io::Error::other)?;
                        io::Result::Ok(body.to_bytes())
                    })
                })
                .collect();
            for (i, request) in requests.into_iter().enumerate() {
                let body = request.await.expect("the request task")?;
                assert_eq!(body, format!("/{i}"));
            }
            drop(sender);
            connection.await.expect("the client connection").map_err(io::Error::other)?;
            server.await.expect("the server task")?;
            io::Result::Ok(())
        })
        .expect("50 HTTP/2 streams");
    }
}

#[test]
fn header_read_timeout_fires_with_ember_timer_on_the_paused_clock() {
    let _watchdog = watchdog(Duration::from_secs(30));
    let rt = ember::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("a paused runtime");
    rt.block_on(async {
        // Take ember's clock an hour away from the wall clock: a timer that
        // read the wall clock would put the deadline an hour in the past
        // and fire at once.
        ember::time::sleep(Duration::from_secs(3600)).await;
        let (mut client, server) = tcp_pair().await;
        // A request line and half the headers, never finished.
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await?;
        let start = ember::time::Instant::now();
        let serve = http1::Builder::new()
            .timer(EmberTimer::new())
            .header_read_timeout(Duration::from_secs(5))
            .serve_connection(EmberIo::new(server), interop::hello_service());
        // Without a timer hyper would wait for the headers forever: the
        // paused clock would then reach this bound and fail the test.
        let served = ember::time::timeout(Duration::from_secs(60), serve)
            .await
            .expect("header_read_timeout did not fire");
        let error = served.expect_err("the headers never arrived");
        assert!(error.is_timeout(), "not a timeout: {error}");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_secs(60),
            "fired after {waited:?} of the paused clock, not after 5 s"
        );
        io::Result::Ok(())
    })
    .expect("the timeout test");
}

#[test]
fn hello_http_shuts_down_gracefully_finishing_the_request_in_flight() {
    let _watchdog = watchdog(Duration::from_secs(30));
    ember::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (started, release, stop) = (Gate::new(), Gate::new(), Gate::new());
        let service = service_fn({
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            move |_request| {
                let (started, release) = (Arc::clone(&started), Arc::clone(&release));
                async move {
                    started.arrive();
                    release.reached(1).await;
                    Ok::<_, std::convert::Infallible>(interop::hello())
                }
            }
        });
        let server = ember::spawn({
            let stop = Arc::clone(&stop);
            async move { hello_http::serve(listener, service, stop.reached(1)).await }
        });

        let stream = TcpStream::connect(addr).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(EmberIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        let connection = ember::spawn(connection);
        let response = ember::spawn(sender.send_request(get("/")));
        started.reached(1).await;

        // The request is in the handler: shut down, then let it finish.
        stop.arrive();
        release.arrive();
        let response = response
            .await
            .expect("the request task")
            .map_err(io::Error::other)?;
        assert_eq!(response.status(), hyper::StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        assert_eq!(body.to_bytes(), HELLO);
        // The server then closed the keep-alive connection and returned.
        server.await.expect("the server task")?;
        connection
            .await
            .expect("the client connection")
            .map_err(io::Error::other)?;
        assert!(sender.is_closed(), "the connection is still open");
        let refused = TcpStream::connect(addr).await;
        assert!(refused.is_err(), "still accepting after the shutdown");
        io::Result::Ok(())
    })
    .expect("graceful shutdown");
}

#[test]
fn ember_sockets_write_vectored_and_other_streams_say_so_when_told() {
    use hyper::rt::Write;
    let _watchdog = watchdog(Duration::from_secs(10));
    ember::block_on(async {
        let (client, _server) = tcp_pair().await;
        assert!(EmberIo::new(client).is_write_vectored());
        let (a, _b) = ember::io::duplex(64);
        let a = EmberIo::new(a);
        assert!(!a.is_write_vectored());
        assert!(a.with_vectored(true).is_write_vectored());
    });
}

#[test]
fn ember_io_turns_a_hyper_stream_back_into_a_futures_io_stream() {
    // The inner EmberIo has hyper's traits, the outer one futures-io's
    // again: the way to use `hyper::upgrade::Upgraded` as an ember stream.
    let _watchdog = watchdog(Duration::from_secs(10));
    ember::block_on(async {
        let (a, mut b) = ember::io::duplex(64);
        let mut twice = EmberIo::new(EmberIo::new(a));
        twice.write_all(b"there").await?;
        let mut buf = [0; 5];
        b.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"there");
        b.write_all(b"and back").await?;
        let mut back = [0; 8];
        twice.read_exact(&mut back).await?;
        assert_eq!(&back, b"and back");
        // close -> hyper's poll_shutdown -> the duplex's poll_close.
        twice.close().await?;
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await?;
        assert!(rest.is_empty());
        io::Result::Ok(())
    })
    .expect("a round trip through both adapters");
}
