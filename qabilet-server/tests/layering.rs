//! The service's layering, checked on the source: transports (the gRPC services and the
//! console) call the application layer and nothing below it — no policy check, no audit
//! write, no store call — and the console builds no bearer header. A handler that did any
//! of these would be a second, unaudited way in.

use std::path::{Path, PathBuf};

/// The `.rs` files under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Lines of `files` that contain any of `forbidden`, outside comments.
fn offenders(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

#[test]
fn transports_reach_policy_audit_and_store_only_through_the_application() {
    let mut files = sources(&src("grpc"));
    files.extend(sources(&src("console")));
    assert!(files.len() >= 15, "{files:?}");
    let found = offenders(
        &files,
        &[
            "policy::",
            "auth::policy",
            ".audit(",
            "AuditEntry",
            "dyn Store",
            "Authenticator",
            ".store.",
            "store::open_store",
        ],
    );
    assert!(
        found.is_empty(),
        "transports below the application layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_console_builds_no_bearer_header() {
    let found = offenders(
        &sources(&src("console")),
        &["Bearer", "authorization", "MetadataValue", "tonic::Request"],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_checks_see_a_planted_offence() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("x.rs");
    std::fs::write(
        &file,
        "// policy:: in a comment is fine\nlet ok = policy::allowed(p, a, r);\n",
    )
    .expect("write");
    let found = offenders(&[file], &["policy::"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("let ok = policy::allowed(p, a, r);"));
}
