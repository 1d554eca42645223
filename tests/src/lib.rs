//! Shared helpers of the end-to-end tests: locating the real `qabilet` binary and the
//! repository's files, and comparing CSV outputs cell by cell.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `qabilet` binary of this build, built first if needed.
pub fn qabilet_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Build (or confirm up to date) the binary in the same target directory and profile.
        let status = Command::new(env!("CARGO"))
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

/// A `qabilet` command run from the repository root.
pub fn qabilet() -> Command {
    let mut c = Command::new(qabilet_bin());
    c.current_dir(repo());
    c
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

/// A `qabilet serve` process on a free loopback port, stopped with SIGTERM when dropped.
pub struct Served {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`, for a tonic client.
    pub url: String,
}

impl Served {
    /// Starts `qabilet serve --addr 127.0.0.1:0` with `args` and waits until it listens.
    pub fn start(args: &[&str]) -> Served {
        use std::io::{BufRead, BufReader};
        let mut child = qabilet()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start qabilet serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("qabilet serve exited before listening")
                .expect("stderr line");
            if let Some(addr) = line.strip_prefix("qabilet: serving gRPC on ") {
                break addr.to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served {
            child,
            url: format!("http://{addr}"),
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal_term();
        let status = self.child.wait().expect("wait");
        std::mem::forget(self);
        status
    }

    fn signal_term(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.signal_term();
        let _ = self.child.wait();
    }
}
