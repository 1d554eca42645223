//! The `qabilet` binary's code: the service (`qabilet serve`: gRPC and the psychologist's
//! console over one application layer) and the command-line subcommands for batch work.
//! Scoring itself lives in `qabilet-core`; this crate stores, authorizes, audits, reads
//! files, writes results and turns errors into messages, exit codes and statuses.
//!
//! ```text
//! grpc (authentication layer, conversion, statuses) ─┐
//! console (session cookie, forms, pages) ────────────┼─→ app (operations) ─→ qabilet-core
//! cli token ─────────────────────────────────────────┘          └─→ store (SQLite | PostgreSQL)
//! ```
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod batch;
pub mod cli;
pub mod console;
pub mod error;
pub mod files;
pub mod grpc;
pub mod guidance_dir;
pub mod norm_dir;
pub mod report;
pub mod store;
pub mod svg;
pub mod tickets;
