//! Compiles `proto/qabilet/v1/*.proto` with protox (pure Rust: no system `protoc`) into the
//! tonic server and client code, and writes the descriptor set that the reflection service
//! serves. Generated code lives in OUT_DIR and is never committed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    let files: Vec<PathBuf> = std::fs::read_dir(root.join("qabilet/v1"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    // The folder, so that a new .proto file reruns this script too (cargo scans a folder
    // for any change), and each file.
    println!("cargo:rerun-if-changed={}", root.join("qabilet/v1").display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let descriptors = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("qabilet_v1_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
