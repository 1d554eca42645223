//! Load generator for the child's screener page (`/take` on the console of `qabilet serve`): a
//! screening day in one region. It reads the tickets CSV `qabilet tickets --format csv` writes,
//! signs every child in with its ticket (`POST /take`, each child its own device cookie), then
//! plays all of them at once through the JSON API the page uses: each child loads its state
//! (`GET /take/api/state`), then answers the due item with a random choice every `--think-ms`
//! (±50 %, uniformly, so children are not in lockstep) under a fresh request id, re-sending the
//! same request id after a transport error or a 5xx, until it is done or the run ends.
//!
//! An answer counts when the server acknowledged it (200 with the next state), which it does
//! only after the answer is durable. Its latency is the child's: from the first send to the
//! acknowledgement, including any wait for a pooled connection and any re-send. Only answers
//! sent within the measurement window count: the run is a warm-up (`--warmup-ms`, by default
//! 1.5 × `--think-ms`, by when every child has started) and then `--seconds` of steady state.
//! It reports children signed in, answers acknowledged and per second, latency percentiles,
//! errors by kind, how many children were in progress at once (sampled every 100 ms in the
//! window), state reads, and the CPU the server (`--server-pid`) and the generator used.
//!
//! The children share a bounded pool of HTTP/1.1 keep-alive connections (`--connections`,
//! default 200), as tablets behind a school's proxy would: the console holds at most
//! `CONSOLE_MAX_CONNECTIONS` (256) connections and more would only wait in its backlog.
//!
//! ```text
//! qabilet serve --addr 127.0.0.1:0 --http-addr 127.0.0.1:8080 --db sqlite:///tmp/take.db &
//! # a cohort, its roster and `qabilet tickets --cohort … --format csv --output tickets.csv`
//! cargo run --release -p qabilet-server --example take_load -- --url http://127.0.0.1:8080 \
//!     --tickets tickets.csv --seconds 60
//! ```
//! (tests/bench/take_load.sh does all of it for SQLite and PostgreSQL.) Only loopback
//! addresses are accepted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use qabilet_server::cli::serve::limits::CONSOLE_MAX_CONNECTIONS;
use serde_json::Value;
use tokio::sync::Semaphore;

struct Args {
    url: String,
    tickets: String,
    children: usize,
    think_ms: u64,
    warmup_ms: Option<u64>,
    seconds: u64,
    connections: usize,
    server_pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        tickets: String::new(),
        children: usize::MAX,
        think_ms: 3000,
        warmup_ms: None,
        seconds: 60,
        connections: 200,
        server_pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value.trim_end_matches('/').to_owned(),
            "--tickets" => a.tickets = value,
            "--children" => a.children = value.parse().expect("--children N"),
            "--think-ms" => a.think_ms = value.parse().expect("--think-ms MS"),
            "--warmup-ms" => a.warmup_ms = Some(value.parse().expect("--warmup-ms MS")),
            "--seconds" => a.seconds = value.parse().expect("--seconds S"),
            "--connections" => a.connections = value.parse().expect("--connections N"),
            "--server-pid" => a.server_pid = Some(value.parse().expect("--server-pid PID")),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        a.url.starts_with("http://127.0.0.1:")
            || a.url.starts_with("http://localhost:")
            || a.url.starts_with("http://[::1]:"),
        "load tests target loopback addresses only"
    );
    assert!(
        !a.tickets.is_empty(),
        "--tickets FILE (qabilet tickets --format csv)"
    );
    assert!(
        a.seconds > 0 && a.seconds <= 900 && a.think_ms >= 10,
        "bounded runs only"
    );
    assert!(
        a.connections > 0 && a.connections <= CONSOLE_MAX_CONNECTIONS as usize,
        "--connections: 1 to {CONSOLE_MAX_CONNECTIONS}, the console's cap"
    );
    a
}

/// An answer from the server.
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Bytes,
    /// Time spent waiting for a pooled connection.
    waited: Duration,
}

/// A bounded pool of HTTP/1.1 keep-alive connections to the console; a caller past the bound
/// waits (first come, first served) for a connection to be free.
struct Pool {
    addr: String,
    slots: Semaphore,
    idle: Mutex<Vec<SendRequest<Body>>>,
    opened: AtomicUsize,
}

impl Pool {
    fn new(addr: String, connections: usize) -> Pool {
        Pool {
            addr,
            slots: Semaphore::new(connections),
            idle: Mutex::new(Vec::new()),
            opened: AtomicUsize::new(0),
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, String> {
        let stream = tokio::net::TcpStream::connect(&self.addr)
            .await
            .map_err(|e| format!("connect: {}", e.kind()))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| "handshake".to_owned())?;
        tokio::spawn(conn);
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(sender)
    }

    /// Sends `request` on a pooled connection (a new one if none is idle, or the idle one was
    /// closed by the server); an error is the kind of transport failure.
    async fn send(&self, request: Request<Body>) -> Result<Reply, String> {
        let asked = Instant::now();
        let _slot = self.slots.acquire().await.expect("the pool is never closed");
        let waited = asked.elapsed();
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut conn = match idle {
            Some(c) => c,
            None => self.connect().await?,
        };
        if conn.ready().await.is_err() {
            conn = self.connect().await?;
        }
        let response = conn.send_request(request).await.map_err(|e| {
            if e.is_incomplete_message() {
                "connection closed".to_owned()
            } else {
                "send".to_owned()
            }
        })?;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(Body::new(body), 1 << 20)
            .await
            .map_err(|_| "reading the body".to_owned())?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            waited,
        })
    }
}

/// What the run shares: the pool, the clock and the counters.
struct Run {
    pool: Pool,
    host: String,
    think: Duration,
    window_start: Instant,
    deadline: Instant,
    in_progress: AtomicUsize,
    finished: AtomicUsize,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Run {
    fn request(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Request<Body> {
        let mut r = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::HOST, &self.host);
        if method == Method::POST {
            r = r.header(header::ORIGIN, format!("http://{}", self.host));
        }
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, format!("qabilet_take={c}"));
        }
        match body {
            Some((content_type, b)) => r
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(b))
                .expect("request"),
            None => r.body(Body::empty()).expect("request"),
        }
    }

    fn error(&self, kind: impl Into<String>) {
        *self
            .errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(kind.into())
            .or_default() += 1;
    }

    /// A think time: `think` ± 50 %, uniformly.
    fn think(&self) -> Duration {
        self.think.mul_f64(rand::random_range(0.5..1.5))
    }
}

/// Signs a child in with its ticket; its device cookie.
async fn sign_in(run: &Run, ticket: &str) -> Result<(String, Duration), String> {
    let started = Instant::now();
    let reply = run
        .pool
        .send(run.request(
            Method::POST,
            "/take",
            None,
            Some(("application/x-www-form-urlencoded", format!("ticket={ticket}"))),
        ))
        .await?;
    if reply.status != StatusCode::SEE_OTHER {
        return Err(format!("sign-in HTTP {}", reply.status.as_u16()));
    }
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("qabilet_take="))
        .and_then(|v| v.split(';').next())
        .map(|c| (c.to_owned(), started.elapsed()))
        .ok_or_else(|| "sign-in without a cookie".to_owned())
}

/// What one child measured.
#[derive(Default)]
struct Measured {
    /// Acknowledged answers sent in the window: the child's latency and the time it waited
    /// for a pooled connection on the acknowledged attempt.
    answers: Vec<(Duration, Duration)>,
    /// State reads (whenever they happened).
    states: Vec<Duration>,
}

/// `GET /take/api/state`, re-sent after a transport error or a 5xx until the run ends.
async fn load_state(run: &Run, cookie: &str, m: &mut Measured) -> Option<Value> {
    while Instant::now() < run.deadline {
        let started = Instant::now();
        let error = |kind: String| {
            if started >= run.window_start {
                run.error(kind);
            }
        };
        match run
            .pool
            .send(run.request(Method::GET, "/take/api/state", Some(cookie), None))
            .await
        {
            Ok(r) if r.status == StatusCode::OK => {
                m.states.push(started.elapsed());
                return serde_json::from_slice(&r.body).ok();
            }
            Ok(r) if r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS => {
                error(format!("state HTTP {}", r.status.as_u16()));
            }
            Ok(r) => {
                error(format!("state HTTP {}", r.status.as_u16()));
                return None;
            }
            Err(kind) => error(format!("state transport: {kind}")),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    None
}

/// One child, from loading the page until it is done or the run ends.
async fn child(run: Arc<Run>, id: usize, cookie: String) -> Measured {
    let mut m = Measured::default();
    // Children open the page at random moments of the first think time.
    tokio::time::sleep(run.think.mul_f64(rand::random_range(0.0..1.0))).await;
    let Some(mut state) = load_state(&run, &cookie, &mut m).await else {
        return m;
    };
    run.in_progress.fetch_add(1, Ordering::Relaxed);
    let mut n = 0u64;
    loop {
        match state["status"].as_str() {
            Some("item") => {}
            Some("done") => {
                run.finished.fetch_add(1, Ordering::Relaxed);
                break;
            }
            _ => {
                // Paused by the proctor, or a state the generator does not know: look again.
                tokio::time::sleep(run.think()).await;
                match load_state(&run, &cookie, &mut m).await {
                    Some(s) => state = s,
                    None => break,
                }
                continue;
            }
        }
        tokio::time::sleep(run.think()).await;
        if Instant::now() >= run.deadline {
            break;
        }
        n += 1;
        let options = state["item"]["options"].as_array().map_or(1, Vec::len).max(1);
        let body = serde_json::json!({
            "request_id": format!("load-{id}-{n}-{:016x}", rand::random::<u64>()),
            "subtest": state["subtest"]["id"],
            "item": state["item"]["id"],
            "choice": rand::random_range(0..options),
        })
        .to_string();
        let started = Instant::now();
        let in_window = started >= run.window_start;
        let next = loop {
            let sent = run
                .pool
                .send(run.request(
                    Method::POST,
                    "/take/api/answer",
                    Some(&cookie),
                    Some(("application/json", body.clone())),
                ))
                .await;
            let retry = match sent {
                Ok(r) if r.status == StatusCode::OK => {
                    if in_window {
                        m.answers.push((started.elapsed(), r.waited));
                    }
                    break serde_json::from_slice::<Value>(&r.body).ok();
                }
                Ok(r) => {
                    let kind = serde_json::from_slice::<Value>(&r.body)
                        .ok()
                        .and_then(|v| v["error"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    if in_window {
                        run.error(format!("answer HTTP {} {kind}", r.status.as_u16()));
                    }
                    r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS
                }
                Err(kind) => {
                    if in_window {
                        run.error(format!("answer transport: {kind}"));
                    }
                    true
                }
            };
            if !retry || Instant::now() >= run.deadline {
                // Refused (not due, invalid): the page asks for the state again.
                break None;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        state = match next {
            Some(s) => s,
            None => match load_state(&run, &cookie, &mut m).await {
                Some(s) => s,
                None => break,
            },
        };
    }
    run.in_progress.fetch_sub(1, Ordering::Relaxed);
    m
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn spread(sorted: &[Duration]) -> String {
    format!(
        "p50 {}, p90 {}, p99 {}, max {}",
        ms(percentile(sorted, 0.50)),
        ms(percentile(sorted, 0.90)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    )
}

/// CPU time (user + system) of a process so far, from /proc (Linux's USER_HZ of 100).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn read_tickets(path: &str, most: usize) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let column = reader
        .headers()
        .expect("a header row")
        .iter()
        .position(|h| h == "ticket")
        .expect("a ticket column");
    reader
        .records()
        .map(|r| r.expect("a CSV row")[column].to_owned())
        .take(most)
        .collect()
}

#[tokio::main]
async fn main() {
    let a = args();
    let tickets = read_tickets(&a.tickets, a.children);
    let think = Duration::from_millis(a.think_ms);
    let warmup = Duration::from_millis(a.warmup_ms.unwrap_or(a.think_ms * 3 / 2));
    let window = Duration::from_secs(a.seconds);
    let host = a.url.trim_start_matches("http://").to_owned();

    // Sign every child in (the pool bounds how many at once).
    let signing = Instant::now();
    let setup = Arc::new(Run {
        pool: Pool::new(host.clone(), a.connections),
        host: host.clone(),
        think,
        window_start: signing,
        deadline: signing + Duration::from_secs(600),
        in_progress: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        errors: Mutex::new(BTreeMap::new()),
    });
    let signs: Vec<_> = tickets
        .iter()
        .map(|t| {
            let run = setup.clone();
            let t = t.clone();
            tokio::spawn(async move { sign_in(&run, &t).await })
        })
        .collect();
    let mut cookies = Vec::with_capacity(tickets.len());
    let mut sign_latency = Vec::with_capacity(tickets.len());
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    for s in signs {
        match s.await.expect("task") {
            Ok((cookie, took)) => {
                cookies.push(cookie);
                sign_latency.push(took);
            }
            Err(kind) => *refused.entry(kind).or_default() += 1,
        }
    }
    let signed_in_for = signing.elapsed();
    sign_latency.sort();
    println!(
        "signed in {} of {} children in {:.1} s ({:.0}/s, {} connections); sign-in latency {}{}",
        cookies.len(),
        tickets.len(),
        signed_in_for.as_secs_f64(),
        cookies.len() as f64 / signed_in_for.as_secs_f64(),
        a.connections,
        spread(&sign_latency),
        if refused.is_empty() {
            String::new()
        } else {
            format!("; not signed in: {refused:?}")
        }
    );

    // Play them all.
    let started = Instant::now();
    let run = Arc::new(Run {
        pool: Pool::new(host, a.connections),
        host: setup.host.clone(),
        think,
        window_start: started + warmup,
        deadline: started + warmup + window,
        in_progress: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        errors: Mutex::new(BTreeMap::new()),
    });
    drop(setup);
    let children: Vec<_> = cookies
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(child(run.clone(), i, c)))
        .collect();
    tokio::time::sleep_until((started + warmup).into()).await;
    let server_pid = a.server_pid.map(|p| p.to_string());
    let cpu_before = (
        server_pid.as_deref().and_then(cpu_seconds),
        cpu_seconds("self"),
        Instant::now(),
    );
    let (mut fewest, mut most) = (usize::MAX, 0);
    while Instant::now() < run.deadline {
        let now = run.in_progress.load(Ordering::Relaxed);
        fewest = fewest.min(now);
        most = most.max(now);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu_window = cpu_before.2.elapsed().as_secs_f64();
    let cpu_server = server_pid
        .as_deref()
        .and_then(cpu_seconds)
        .zip(cpu_before.0)
        .map(|(after, before)| (after - before) / cpu_window * 100.0);
    let cpu_self = cpu_seconds("self")
        .zip(cpu_before.1)
        .map(|(after, before)| (after - before) / cpu_window * 100.0);
    let mut answers = Vec::new();
    let mut states = Vec::new();
    for c in children {
        let m = c.await.expect("task");
        answers.extend(m.answers);
        states.extend(m.states);
    }
    let mut latency: Vec<Duration> = answers.iter().map(|(l, _)| *l).collect();
    let mut waited: Vec<Duration> = answers.iter().map(|(_, w)| *w).collect();
    latency.sort();
    waited.sort();
    states.sort();
    let seconds = window.as_secs_f64();
    println!(
        "{} children, think {} ms ±50 %, warm-up {:.1} s, window {:.0} s: {} answers acknowledged, {:.1}/s (offered about {:.1}/s)",
        tickets.len(),
        a.think_ms,
        warmup.as_secs_f64(),
        seconds,
        latency.len(),
        latency.len() as f64 / seconds,
        most as f64 / think.as_secs_f64(),
    );
    println!("answer latency: {}", spread(&latency));
    println!("  of it waiting for a pooled connection: {}", spread(&waited));
    println!(
        "state reads: {} (at start and after a refusal), {}",
        states.len(),
        spread(&states)
    );
    println!(
        "children in progress at once in the window: min {}, max {}; finished the screener: {}; connections opened: {}",
        if fewest == usize::MAX { 0 } else { fewest },
        most,
        run.finished.load(Ordering::Relaxed),
        run.pool.opened.load(Ordering::Relaxed),
    );
    let errors = run.errors.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if errors.is_empty() {
        println!("errors in the window: none");
    } else {
        println!("errors in the window: {errors:?}");
    }
    let pct = |v: Option<f64>| v.map_or("n/a".to_owned(), |p| format!("{p:.0} %"));
    println!(
        "CPU in the window (100 % = one core): server {}, generator {}",
        pct(cpu_server),
        pct(cpu_self)
    );
}
