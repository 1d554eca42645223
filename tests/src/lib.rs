//! Shared helpers of the end-to-end tests: locating the real `qabilet` binary and the
//! repository's files, starting the server, tokens, authenticated requests, a child with a
//! session, and comparing CSV outputs cell by cell.

pub mod browser;
pub mod http;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use qabilet_server::grpc::pb;
use qabilet_server::grpc::pb::assessment_client::AssessmentClient;
use qabilet_server::grpc::pb::catalog_client::CatalogClient;
use qabilet_server::grpc::pb::{Child, GetBatteryRequest, GetNextItemRequest, RecordResponseRequest};
use tonic::transport::Channel;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `qabilet` binary of this build, built first if needed; `QABILET_E2E_BIN` names another
/// build to test instead (e.g. an earlier commit's, to see a regression test fail on it).
pub fn qabilet_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("QABILET_E2E_BIN") {
            return PathBuf::from(bin);
        }
        // Build (or confirm up to date) the binary in the same target directory and profile.
        // Without the variables cargo sets for a test process: build scripts that watch them
        // (ring's watches CARGO_MANIFEST_DIR and CARGO_PKG_*) would otherwise rebuild their
        // crate and everything above it on every alternation with a plain `cargo test`.
        let mut build = Command::new(env!("CARGO"));
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                ]
                .contains(&name.as_ref())
            {
                build.env_remove(name.as_ref());
            }
        }
        let status = build
            .args(["build", "--quiet", "-p", "qabilet-server", "--bin", "qabilet"])
            .current_dir(repo())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of qabilet failed");
        let exe = std::env::current_exe().expect("test executable");
        // target/debug/deps/<test> → target/debug/qabilet
        let dir = exe.parent().and_then(Path::parent).expect("target dir");
        dir.join(format!("qabilet{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// A `qabilet` command run from the repository root, with the end-to-end tests' IIN key
/// ([`iin_key_file`]) so that no key file is created in the repository.
pub fn qabilet() -> Command {
    let mut c = Command::new(qabilet_bin());
    c.current_dir(repo());
    c.env("QABILET_IIN_KEY_FILE", iin_key_file());
    c
}

/// The IIN key of every server and command the end-to-end tests run (a fixed test key,
/// written once per test process beside the binary, atomically).
pub fn iin_key_file() -> PathBuf {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = qabilet_bin().parent().expect("target dir").to_path_buf();
        let path = dir.join("e2e-iin.key");
        let tmp = dir.join(format!("e2e-iin.key.{}", std::process::id()));
        std::fs::write(&tmp, format!("{}\n", "5a".repeat(32))).expect("write the test IIN key");
        std::fs::rename(&tmp, &path).expect("place the test IIN key");
        path
    })
    .clone()
}

/// Compares two CSV texts cell by cell; in column `error` only emptiness must agree.
/// Returns every mismatch as "row id, column: left ≠ right".
pub fn csv_mismatches(left: &str, right: &str) -> Vec<String> {
    let read = |t: &str| -> (csv::StringRecord, Vec<csv::StringRecord>) {
        let mut r = csv::Reader::from_reader(t.as_bytes());
        let h = r.headers().expect("header").clone();
        (h, r.records().map(|x| x.expect("record")).collect())
    };
    let ((lh, lr), (rh, rr)) = (read(left), read(right));
    let mut out = Vec::new();
    if lh != rh {
        out.push(format!("headers differ:\n{lh:?}\n{rh:?}"));
        return out;
    }
    if lr.len() != rr.len() {
        out.push(format!("row counts differ: {} vs {}", lr.len(), rr.len()));
    }
    for (a, b) in lr.iter().zip(&rr) {
        for (i, name) in lh.iter().enumerate() {
            let (x, y) = (&a[i], &b[i]);
            let same = if name == "error" {
                x.is_empty() == y.is_empty()
            } else {
                x == y
            };
            if !same {
                out.push(format!("{}, {name}: {x:?} ≠ {y:?}", &a[0]));
            }
        }
    }
    out
}

/// A `qabilet serve` process on a free loopback port with a fresh SQLite database (unless
/// `--db` is given), stopped with SIGTERM when dropped.
pub struct Served {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>` (`https://…` when the server speaks TLS), for a tonic client.
    pub url: String,
    /// `http://127.0.0.1:<port>`: the psychologist's console (HTTP).
    pub console_url: String,
    /// The admin token the server printed for its new database.
    pub admin_token: Option<String>,
    /// The database URL the server uses.
    pub db: String,
    /// The lines the server wrote on stderr (a pipe) up to and including its gRPC address.
    pub startup_log: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Served {
    /// Starts `qabilet serve --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --norms norms` with
    /// `args` and waits until it listens.
    pub fn start(args: &[&str]) -> Served {
        let dir = tempfile::tempdir().expect("tmp");
        let db = format!("sqlite://{}", dir.path().join("qabilet.db").display());
        let mut served = Served::start_with_db(&db, args);
        served._dir = Some(dir);
        served
    }

    /// As [`Served::start`], with environment variables `env` set for the server.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().expect("tmp");
        let db = format!("sqlite://{}", dir.path().join("qabilet.db").display());
        let mut served = Served::start_in(&db, args, env);
        served._dir = Some(dir);
        served
    }

    /// Starts the server on database `db` (kept after the server stops).
    pub fn start_with_db(db: &str, args: &[&str]) -> Served {
        Served::start_in(db, args, &[])
    }

    /// Starts the server on database `db` with its console on `console_addr` (a browser's
    /// pages keep their origin across a restart on the same address).
    pub fn start_with_db_at(db: &str, console_addr: &str) -> Served {
        Served::start_on(db, console_addr, "norms", &[], &[])
    }

    /// As [`Served::start`], serving the batteries of `norms` instead of the repository's.
    pub fn start_with_norms(norms: &Path) -> Served {
        let dir = tempfile::tempdir().expect("tmp");
        let db = format!("sqlite://{}", dir.path().join("qabilet.db").display());
        let norms = norms.to_str().expect("a UTF-8 path");
        let mut served = Served::start_on(&db, "127.0.0.1:0", norms, &[], &[]);
        served._dir = Some(dir);
        served
    }

    fn start_in(db: &str, args: &[&str], env: &[(&str, &str)]) -> Served {
        Served::start_on(db, "127.0.0.1:0", "norms", args, env)
    }

    fn start_on(db: &str, console_addr: &str, norms: &str, args: &[&str], env: &[(&str, &str)]) -> Served {
        use std::io::{BufRead, BufReader};
        let mut child = qabilet()
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--http-addr",
                console_addr,
                "--norms",
                norms,
                "--db",
                db,
            ])
            .args(args)
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start qabilet serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut admin_token = None;
        let mut console_url = String::new();
        let mut startup_log = Vec::new();
        let url = loop {
            let line = lines
                .next()
                .expect("qabilet serve exited before listening")
                .expect("stderr line");
            startup_log.push(line.clone());
            if let Some(token) = line.strip_prefix("qabilet: admin token ") {
                admin_token = Some(token.trim().to_owned());
            }
            // Printed before the gRPC line.
            if let Some(url) = line.strip_prefix("qabilet: serving the console on ") {
                console_url = url.trim().to_owned();
            }
            // "qabilet: serving gRPC on ADDR (plaintext)" or "… (TLS)".
            if let Some(rest) = line.strip_prefix("qabilet: serving gRPC on ") {
                let (addr, transport) = rest.split_once(' ').unwrap_or((rest, ""));
                let scheme = if transport == "(TLS)" { "https" } else { "http" };
                break format!("{scheme}://{addr}");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served {
            child,
            url,
            console_url,
            admin_token,
            db: db.to_owned(),
            startup_log,
            _dir: None,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        self.child.wait().expect("wait")
    }

    /// Sends SIGKILL and waits (the process gets no chance to clean up).
    pub fn kill(mut self) {
        self.signal("-KILL");
        let _ = self.child.wait();
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal("-TERM");
            let _ = self.child.wait();
        }
    }
}

/// Creates a token with `qabilet token create` on `db` and returns its secret.
pub fn create_token(db: &str, role: &str, centre: &str, subject: &str) -> String {
    let out = qabilet()
        .args([
            "token",
            "create",
            "--db",
            db,
            "--role",
            role,
            "--centre",
            centre,
            "--subject",
            subject,
        ])
        .output()
        .expect("run qabilet token create");
    assert!(
        out.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// A single-threaded Tokio runtime for a test's async client code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `message` as a request carrying `token` as its bearer token.
pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    r
}

/// The demonstration battery's resource name.
pub const DEMO_BATTERY: &str = "batteries/qabilet-primary-demo";

/// Creates `child` and starts a session of the demonstration battery on `test_date`, as the
/// holder of `token`. `request_id` names both writes ("child-{id}", "start-{id}"); empty
/// sends none. Panics on any refusal: callers test what comes after.
pub async fn child_with_session(
    client: &mut AssessmentClient<Channel>,
    token: &str,
    child: pb::Child,
    test_date: &str,
    request_id: &str,
) -> (pb::Child, pb::Session) {
    let id = |prefix: &str| {
        if request_id.is_empty() {
            String::new()
        } else {
            format!("{prefix}-{request_id}")
        }
    };
    let child = client
        .create_child(authed(
            token,
            pb::CreateChildRequest {
                child: Some(child),
                request_id: id("child"),
            },
        ))
        .await
        .expect("create the child")
        .into_inner();
    let session = client
        .start_session(authed(
            token,
            pb::StartSessionRequest {
                child: child.name.clone(),
                battery: DEMO_BATTERY.into(),
                test_date: test_date.into(),
                request_id: id("start"),
            },
        ))
        .await
        .expect("start the session")
        .into_inner();
    (child, session)
}

/// A child of 8 with code `code` and a session of the demo battery in which every subtest was
/// administered as GetNextItem directs (the first half of each item subtest passed, speed
/// totals at half their maximum); the session is left active. Returns (child name, session
/// name).
pub async fn administered_session(url: &str, psy: &str, code: &str) -> (String, String) {
    let mut catalog = CatalogClient::connect(url.to_owned()).await.expect("connect");
    let battery = catalog
        .get_battery(authed(
            psy,
            GetBatteryRequest {
                name: DEMO_BATTERY.into(),
            },
        ))
        .await
        .expect("battery")
        .into_inner();
    let mut client = AssessmentClient::connect(url.to_owned()).await.expect("connect");
    let child = Child {
        code: code.into(),
        birth_date: "2018-03-10".into(),
        test_language: "kk".into(),
        ..Default::default()
    };
    let (child, session) = child_with_session(&mut client, psy, child, "2026-03-20", code).await;
    let session = session.name;
    for subtest in &battery.subtests {
        let record = |item: String, score: u32, rid: String| {
            authed(
                psy,
                RecordResponseRequest {
                    session: session.clone(),
                    subtest: subtest.id.clone(),
                    item,
                    score,
                    override_reason: String::new(),
                    request_id: rid,
                },
            )
        };
        if subtest.items.is_empty() {
            let total = subtest.raw_max / 2;
            client
                .record_response(record(String::new(), total, format!("{}-total", subtest.id)))
                .await
                .expect("speed total");
            continue;
        }
        let pass = subtest.items.len() / 2;
        for n in 0..=subtest.items.len() {
            let state = client
                .get_next_item(authed(
                    psy,
                    GetNextItemRequest {
                        session: session.clone(),
                        subtest: subtest.id.clone(),
                    },
                ))
                .await
                .expect("next item")
                .into_inner();
            if state.done {
                break;
            }
            assert!(n < subtest.items.len(), "{}: never done", subtest.id);
            let i = subtest
                .items
                .iter()
                .position(|it| it.id == state.next_item)
                .expect("known item");
            let score = if i < pass { subtest.items[i].max } else { 0 };
            client
                .record_response(record(state.next_item, score, format!("{}-{i}", subtest.id)))
                .await
                .expect("record");
        }
    }
    (child.name, session)
}

/// The row of the referral planner's scipy reference
/// (`qabilet-core/tests/reference/referral_plan/expected.csv`) for (rule, r, c, t, r2, c2),
/// as header → cell.
pub fn referral_reference(key: [&str; 6]) -> Vec<(String, String)> {
    let path = repo().join("qabilet-core/tests/reference/referral_plan/expected.csv");
    let mut reader = csv::Reader::from_path(path).expect("reference CSV");
    let header = reader.headers().expect("header").clone();
    let row = reader
        .records()
        .map(|r| r.expect("record"))
        .find(|r| (0..6).all(|i| r[i] == *key[i]))
        .unwrap_or_else(|| panic!("no reference row {key:?}"));
    header
        .iter()
        .map(str::to_owned)
        .zip(row.iter().map(str::to_owned))
        .collect()
}
