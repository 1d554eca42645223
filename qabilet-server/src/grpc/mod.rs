//! The gRPC service `qabilet.v1` (proto/qabilet/v1/*.proto): generated messages and stubs,
//! the authentication layer every service is served behind ([`authenticate`]), one module
//! per service (conversion between messages and the application layer's operations, nothing
//! else), the conversions from `qabilet-core` types, and the one place where errors become
//! gRPC statuses ([`status`]).

pub mod assessment;
pub mod authenticate;
pub mod catalog;
pub mod convert;
pub mod records;
pub mod referrals;
pub mod registry;
pub mod reports;
pub mod requests;
pub mod scoring;
pub mod screening;
pub mod status;

/// Messages and service stubs generated from the .proto files at build time.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("qabilet.v1");
}

/// The encoded descriptor set of `qabilet.v1`, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/qabilet_v1_descriptor.bin"));
