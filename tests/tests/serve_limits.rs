//! The limits of `qabilet serve`'s two listeners, from outside: silent and half-sent console
//! clients are disconnected after the header-read timeout; a console full of them leaves the
//! gRPC listener serving, holds no more than its cap of sockets, and serves again once they
//! are gone; SIGTERM lets a console request in flight finish; a silent gRPC client is
//! disconnected after the handshake timeout; and one HTTP/2 connection gets no more concurrent
//! streams than the server advertises (written as raw frames, since a well-behaved client
//! would queue them). Loopback only, a few hundred sockets, each test a few times the 10 s
//! timeouts at most.
//!
//! Two probes, ignored by default, measure the figures of BENCHMARKS.md against a server
//! started by hand (`QABILET_PROBE_*` variables).

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use qabilet_e2e::{Served, runtime};
use qabilet_server::cli::serve::limits::{
    CONSOLE_HEADER_READ_TIMEOUT, CONSOLE_MAX_CONNECTIONS, GRPC_HANDSHAKE_TIMEOUT, GRPC_MAX_CONCURRENT_STREAMS,
};

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("a loopback address")
}

/// How long after `since` the server closed `stream`, reading (and discarding) whatever it sends
/// first; an error if it is still open `limit` after `since`.
fn closed_after(mut stream: TcpStream, since: Instant, limit: Duration) -> Result<Duration, String> {
    let mut buf = [0u8; 4096];
    loop {
        let left = limit
            .saturating_sub(since.elapsed())
            .max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return Ok(since.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!("still open after {:?}", since.elapsed()));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Reset or aborted by the server: closed too.
            Err(_) => return Ok(since.elapsed()),
        }
    }
}

/// Whether `stream` is still open: nothing to read yet, and no end of stream.
fn still_open(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).expect("non-blocking");
    let mut buf = [0u8; 1];
    let open = matches!((&*stream).read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).expect("blocking");
    open
}

/// Reads one HTTP/1.1 response with a `Content-Length`: its status and body.
fn read_response(stream: &mut TcpStream) -> (u16, Vec<u8>) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read the response head");
        assert_eq!(n, 1, "the connection closed inside a response head: {raw:?}");
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.trim().parse().expect("content-length"));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read the body");
    (status, body)
}

fn get(path: &str, host: SocketAddr) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n")
}

/// Open file descriptors of process `pid` (its sockets among them).
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the server's /proc/PID/fd")
        .count()
}

#[test]
fn silent_half_sent_and_idle_console_clients_are_disconnected_after_the_header_timeout() {
    let served = Served::start(&[]);
    let console = addr(&served.console_url);
    let limit = CONSOLE_HEADER_READ_TIMEOUT * 4;
    // Connects and sends nothing.
    let silent = TcpStream::connect(console).expect("connect");
    let silent_since = Instant::now();
    // Sends half a request head.
    let mut half = TcpStream::connect(console).expect("connect");
    half.write_all(format!("GET / HTTP/1.1\r\nHost: {console}\r\n").as_bytes())
        .expect("send half a head");
    let half_since = Instant::now();
    // Gets an answer, then keeps the connection without asking for more.
    let mut idle = TcpStream::connect(console).expect("connect");
    idle.write_all(get("/assets/console.css", console).as_bytes())
        .expect("send");
    assert_eq!(read_response(&mut idle).0, 200);
    let idle_since = Instant::now();
    let waits = [(silent, silent_since), (half, half_since), (idle, idle_since)]
        .map(|(stream, since)| std::thread::spawn(move || closed_after(stream, since, limit)))
        .map(|t| t.join().expect("thread"));
    for (who, waited) in ["silent", "half-sent", "idle keep-alive"].iter().zip(waits) {
        let waited = waited.unwrap_or_else(|e| panic!("the {who} client was not disconnected: {e}"));
        // Disconnected by the timer, not refused at once.
        assert!(
            waited >= CONSOLE_HEADER_READ_TIMEOUT / 2,
            "the {who} client was disconnected after {waited:?}, before the header timeout"
        );
    }
}

#[test]
fn a_console_full_of_silent_clients_leaves_grpc_serving_and_serves_again_once_they_are_gone() {
    let served = Served::start(&[]);
    let console = addr(&served.console_url);
    let pid = served.pid();
    let before = open_files(pid);
    let cap = CONSOLE_MAX_CONNECTIONS as usize;
    let past_cap = 64;
    let since = Instant::now();
    let silent: Vec<TcpStream> = (0..cap + past_cap)
        .map(|_| TcpStream::connect(console).expect("connect (the kernel's backlog takes it)"))
        .collect();
    // A whole request past the cap: it waits for a slot.
    let mut late = TcpStream::connect(console).expect("connect");
    late.write_all(get("/assets/console.css", console).as_bytes())
        .expect("send");

    // The gRPC listener answers meanwhile, on its own socket.
    runtime().block_on(async {
        let channel = tonic::transport::Channel::from_shared(served.url.clone())
            .expect("url")
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .expect("a gRPC connection while the console is full");
        let reply = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect("a gRPC call while the console is full")
            .into_inner();
        assert_eq!(
            reply.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    });
    assert!(
        still_open(&silent[0]),
        "the gRPC call was answered only after the console's silent clients were disconnected"
    );

    // The server holds the cap's sockets, not one per client: sampled a few times, in case
    // accepting lags.
    let most = (0..10)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            open_files(pid)
        })
        .max()
        .expect("samples");
    assert!(
        most <= before + cap + past_cap / 4,
        "{} clients took the server from {before} to {most} open files (cap {cap})",
        cap + past_cap
    );

    // Once the silent clients are disconnected, the waiting request is answered…
    late.set_read_timeout(Some(CONSOLE_HEADER_READ_TIMEOUT * 6))
        .expect("read timeout");
    let (status, _) = read_response(&mut late);
    assert_eq!(status, 200);
    let waited = since.elapsed();
    assert!(
        waited >= CONSOLE_HEADER_READ_TIMEOUT / 2,
        "the request past the cap was answered after {waited:?}, without waiting for a slot"
    );
    // A slot is freed only by closing a connection.
    assert!(
        silent.iter().any(|s| !still_open(s)),
        "answered while every silent client was still connected"
    );
    // …and so is a new client.
    let mut fresh = TcpStream::connect(console).expect("connect");
    fresh
        .set_read_timeout(Some(CONSOLE_HEADER_READ_TIMEOUT * 2))
        .expect("read timeout");
    fresh
        .write_all(get("/assets/console.css", console).as_bytes())
        .expect("send");
    assert_eq!(read_response(&mut fresh).0, 200);
}

#[test]
fn sigterm_lets_a_console_request_in_flight_finish() {
    let served = Served::start(&[]);
    let console = addr(&served.console_url);
    let mut client = TcpStream::connect(console).expect("connect");
    client
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    // The server answers 100 Continue once its handler reads the body: the request is in flight.
    client
        .write_all(
            format!(
                "POST /lang HTTP/1.1\r\nHost: {console}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 7\r\nExpect: 100-continue\r\n\r\n"
            )
            .as_bytes(),
        )
        .expect("send the head");
    let mut cont = [0u8; 25];
    client.read_exact(&mut cont).expect("100 Continue");
    assert_eq!(&cont, b"HTTP/1.1 100 Continue\r\n\r\n");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &served.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // The console stops accepting…
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(console).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the console still accepts after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // …but the request in flight is answered…
    client.write_all(b"lang=en").expect("send the body");
    let (status, _) = read_response(&mut client);
    assert_eq!(status, 303);
    // …and the server then exits cleanly.
    assert!(served.terminate().success());
}

#[test]
fn a_silent_grpc_client_is_disconnected_after_the_handshake_timeout() {
    let served = Served::start(&[]);
    let silent = TcpStream::connect(addr(&served.url)).expect("connect");
    let waited = closed_after(silent, Instant::now(), GRPC_HANDSHAKE_TIMEOUT * 4)
        .unwrap_or_else(|e| panic!("a gRPC client that sent nothing was not disconnected: {e}"));
    assert!(
        waited >= GRPC_HANDSHAKE_TIMEOUT / 2,
        "disconnected after {waited:?}, before the handshake timeout"
    );
}

/// HTTP/2 as raw frames (RFC 9113), just enough to open streams past the advertised limit.
mod h2 {
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    pub const DATA: u8 = 0;
    pub const HEADERS: u8 = 1;
    pub const RST_STREAM: u8 = 3;
    pub const SETTINGS: u8 = 4;
    pub const PING: u8 = 6;
    pub const GOAWAY: u8 = 7;
    pub const END_STREAM: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const ACK: u8 = 0x1;
    pub const REFUSED_STREAM: u32 = 0x7;
    pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    pub struct Frame {
        pub kind: u8,
        pub flags: u8,
        pub stream: u32,
        pub payload: Vec<u8>,
    }

    pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = len.to_be_bytes()[1..].to_vec();
        out.push(kind);
        out.push(flags);
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// A header block of literal fields without indexing (HPACK, RFC 7541 §6.2.2).
    pub fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            let mut n = s.len();
            if n < 127 {
                out.push(n as u8);
            } else {
                out.push(127);
                n -= 127;
                while n >= 128 {
                    out.push((n % 128) as u8 | 0x80);
                    n /= 128;
                }
                out.push(n as u8);
            }
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::new();
        for (name, value) in fields {
            out.push(0);
            string(&mut out, name);
            string(&mut out, value);
        }
        out
    }

    /// The next frame, answering the server's SETTINGS and PINGs on the way; `None` when
    /// `deadline` passes first.
    pub fn next(stream: &mut TcpStream, deadline: Instant) -> Option<Frame> {
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            stream.set_read_timeout(Some(left)).expect("read timeout");
            let mut head = [0u8; 9];
            match stream.read_exact(&mut head) {
                Ok(()) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return None,
                Err(e) => panic!("the HTTP/2 connection failed: {e}"),
            }
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut payload = vec![0u8; len];
            stream.read_exact(&mut payload).expect("frame payload");
            let f = Frame {
                kind: head[3],
                flags: head[4],
                stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff,
                payload,
            };
            match (f.kind, f.flags & ACK) {
                (SETTINGS, 0) => stream.write_all(&frame(SETTINGS, ACK, 0, &[])).expect("ack"),
                (PING, 0) => stream.write_all(&frame(PING, ACK, 0, &f.payload)).expect("pong"),
                (SETTINGS | PING, _) => {}
                _ => return Some(f),
            }
        }
    }
}

#[test]
fn one_grpc_connection_gets_no_more_concurrent_streams_than_advertised() {
    let served = Served::start(&[]);
    let grpc = addr(&served.url);
    let token = served.admin_token.clone().expect("admin token");
    let limit = GRPC_MAX_CONCURRENT_STREAMS as usize;
    let extra = 20;
    let mut conn = TcpStream::connect(grpc).expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let block = h2::header_block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", &grpc.to_string()),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("authorization", &format!("Bearer {token}")),
    ]);
    // Every stream opened at once, none with its request body: each one the server admits
    // stays open, waiting for it.
    let mut out = h2::PREFACE.to_vec();
    out.extend(h2::frame(h2::SETTINGS, 0, 0, &[]));
    let ids: Vec<u32> = (0..(limit + extra) as u32).map(|i| 2 * i + 1).collect();
    for &id in &ids {
        out.extend(h2::frame(h2::HEADERS, h2::END_HEADERS, id, &block));
    }
    conn.write_all(&out).expect("open the streams");

    // The streams past the limit are refused.
    let mut refused = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while refused.len() < extra {
        let Some(f) = h2::next(&mut conn, deadline) else {
            panic!(
                "{} of {} streams opened at once on one connection were refused; the server admits more than {limit}",
                refused.len(),
                ids.len()
            );
        };
        match f.kind {
            h2::RST_STREAM => {
                let reason = u32::from_be_bytes(f.payload[..4].try_into().expect("reason"));
                refused.insert(f.stream, reason);
            }
            h2::GOAWAY => panic!("the server closed the connection: {:?}", f.payload),
            _ => {}
        }
    }
    assert!(
        refused.values().all(|&r| r == h2::REFUSED_STREAM),
        "reasons: {refused:?}"
    );
    let admitted: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|id| !refused.contains_key(id))
        .collect();
    assert!(admitted.len() <= limit, "{} streams admitted", admitted.len());

    // The admitted ones are served once their requests arrive (an empty HealthCheckRequest).
    let mut out = Vec::new();
    for &id in &admitted {
        out.extend(h2::frame(h2::DATA, h2::END_STREAM, id, &[0, 0, 0, 0, 0]));
    }
    conn.write_all(&out).expect("send the requests");
    let mut finished = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while finished.len() < admitted.len() {
        let f = h2::next(&mut conn, deadline).unwrap_or_else(|| {
            panic!(
                "{} of {} admitted streams answered",
                finished.len(),
                admitted.len()
            )
        });
        match f.kind {
            h2::HEADERS | h2::DATA if f.flags & h2::END_STREAM != 0 => {
                finished.insert(f.stream);
            }
            h2::RST_STREAM => panic!("admitted stream {} reset: {:?}", f.stream, f.payload),
            h2::GOAWAY => panic!("the server closed the connection: {:?}", f.payload),
            _ => {}
        }
    }
    assert_eq!(finished.into_iter().collect::<Vec<_>>(), admitted);
}

/// A probe's setting from the environment.
fn probe_env(name: &str) -> Option<String> {
    std::env::var(format!("QABILET_PROBE_{name}")).ok()
}

fn probe_number(name: &str, default: usize) -> usize {
    probe_env(name).map_or(default, |v| v.parse().expect("a number"))
}

/// The resident memory of process `pid`, MiB (`VmRSS` of /proc/PID/status).
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

/// Probe for BENCHMARKS.md: `QABILET_PROBE_STREAMS` BatchScore calls of
/// `QABILET_PROBE_CHILDREN` children each, spread over `QABILET_PROBE_CONNECTIONS`
/// connections, never read; prints the server's memory and how many calls it started.
/// Against a server started by hand: `QABILET_PROBE_URL`, `QABILET_PROBE_PID`,
/// `QABILET_PROBE_TOKEN`.
#[test]
#[ignore = "a measurement for BENCHMARKS.md, against a server started by hand"]
fn probe_unread_batch_streams() {
    use qabilet_server::grpc::pb::scoring_client::ScoringClient;
    use qabilet_server::grpc::pb::{BatchScoreRequest, ChildScores};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let url = probe_env("URL").expect("QABILET_PROBE_URL");
    let pid: u32 = probe_env("PID").expect("QABILET_PROBE_PID").parse().expect("pid");
    let token = probe_env("TOKEN").expect("QABILET_PROBE_TOKEN");
    let streams = probe_number("STREAMS", 600);
    let children = probe_number("CHILDREN", 1000);
    let connections = probe_number("CONNECTIONS", 1);
    // The example children, cycled.
    let text = std::fs::read_to_string(qabilet_e2e::repo().join("examples/children.csv")).expect("read");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().expect("header").clone();
    let examples: Vec<ChildScores> = rows
        .records()
        .map(|row| {
            let row = row.expect("record");
            let mut child = ChildScores::default();
            for (name, cell) in header.iter().zip(row.iter()) {
                match name {
                    "id" => child.id = cell.to_owned(),
                    "birth_date" => child.birth_date = cell.to_owned(),
                    "test_date" => child.test_date = cell.to_owned(),
                    _ if !cell.is_empty() => {
                        child
                            .raw_scores
                            .insert(name.to_owned(), cell.parse().expect("raw"));
                    }
                    _ => {}
                }
            }
            child
        })
        .collect();
    let batch: Vec<ChildScores> = examples.iter().cycle().take(children).cloned().collect();
    let before = rss_mib(pid);
    let started = Arc::new(AtomicUsize::new(0));
    runtime().block_on(async {
        let mut clients = Vec::new();
        for _ in 0..connections {
            let channel = tonic::transport::Channel::from_shared(url.clone())
                .expect("url")
                .connect()
                .await
                .expect("connect");
            clients.push(ScoringClient::new(channel).max_decoding_message_size(64 << 20));
        }
        let mut held = Vec::new();
        for i in 0..streams {
            let mut client = clients[i % connections].clone();
            let request = qabilet_e2e::authed(
                &token,
                BatchScoreRequest {
                    battery: qabilet_e2e::DEMO_BATTERY.into(),
                    children: batch.clone(),
                    options: None,
                },
            );
            let started = started.clone();
            held.push(tokio::spawn(async move {
                let stream = client.batch_score(request).await;
                started.fetch_add(1, Ordering::Relaxed);
                // Held, never read.
                std::future::pending::<()>().await;
                drop(stream);
            }));
        }
        // Until every call has started, or none has for 15 s (at most 3 minutes).
        let (mut most, mut last, mut still) = (before, 0, 0);
        for second in 1..=180 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let rss = rss_mib(pid);
            most = most.max(rss);
            let now = started.load(Ordering::Relaxed);
            (last, still) = if now == last { (now, still + 1) } else { (now, 0) };
            if second % 10 == 0 || now == streams || still == 15 {
                println!("after {second:>3} s: {now} of {streams} calls started, server RSS {rss:.0} MiB");
            }
            if now == streams || still == 15 {
                break;
            }
        }
        println!("server RSS before {before:.0} MiB, most {most:.0} MiB");
        for task in held {
            task.abort();
        }
    });
    std::thread::sleep(Duration::from_secs(10));
    println!(
        "10 s after the client closed its connections: RSS {:.0} MiB",
        rss_mib(pid)
    );
}

/// Probe for BENCHMARKS.md: `QABILET_PROBE_CLIENTS` console connections that send nothing;
/// prints the server's open files and the time a new gRPC health check takes meanwhile.
/// Against a server started by hand: `QABILET_PROBE_CONSOLE` (HOST:PORT), `QABILET_PROBE_URL`,
/// `QABILET_PROBE_PID`.
#[test]
#[ignore = "a measurement for BENCHMARKS.md, against a server started by hand"]
fn probe_silent_console_clients() {
    let console: SocketAddr = probe_env("CONSOLE")
        .expect("QABILET_PROBE_CONSOLE")
        .parse()
        .expect("HOST:PORT");
    let url = probe_env("URL").expect("QABILET_PROBE_URL");
    let pid: u32 = probe_env("PID").expect("QABILET_PROBE_PID").parse().expect("pid");
    let clients = probe_number("CLIENTS", 600);
    let before = open_files(pid);
    let silent: Vec<TcpStream> = (0..clients)
        .map(|_| TcpStream::connect(console).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "{clients} silent console clients: server open files {before} → {}",
        open_files(pid)
    );
    let start = Instant::now();
    let answer = runtime().block_on(async {
        tokio::time::timeout(Duration::from_secs(5), async {
            let channel = tonic::transport::Channel::from_shared(url)
                .expect("url")
                .connect()
                .await
                .map_err(|e| format!("connect: {e}"))?;
            tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .map(|r| r.into_inner().status)
                .map_err(|e| format!("check: {e}"))
        })
        .await
        .unwrap_or_else(|_| Err("no answer within 5 s".to_owned()))
    });
    println!(
        "a new gRPC health check meanwhile: {answer:?} after {:?}",
        start.elapsed()
    );
    for second in [10, 20] {
        std::thread::sleep(Duration::from_secs(10));
        let open = silent.iter().filter(|s| still_open(s)).count();
        println!(
            "after {second} s: {open} of {clients} still connected, server open files {}",
            open_files(pid)
        );
    }
}
