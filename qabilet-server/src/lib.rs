//! The `qabilet` binary's code: command-line subcommands for batch work (the gRPC service
//! joins them later). Scoring itself lives in `qabilet-core`; this crate reads files, writes
//! results and turns errors into messages and exit codes.
#![forbid(unsafe_code)]

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
