//! `qabilet serve` over TLS (rustls), its identity named in a `--config` file: a client that
//! trusts the certificate is served; a plaintext client is not; a bad config file is refused
//! with its line before anything starts.

use qabilet_e2e::{Served, qabilet, runtime};
use qabilet_server::grpc::pb::ListBatteriesRequest;
use qabilet_server::grpc::pb::catalog_client::CatalogClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// A self-signed certificate for `localhost`, written as PEM files into `dir`, with a config
/// file naming them by paths relative to it. Returns (config path, certificate PEM).
fn tls_config(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    std::fs::write(dir.join("server.pem"), cert.pem()).expect("write cert");
    std::fs::write(dir.join("server.key"), signing_key.serialize_pem()).expect("write key");
    let config = dir.join("qabilet.toml");
    std::fs::write(
        &config,
        "# TLS identity, relative to this file\ntls_cert = \"server.pem\"\ntls_key = \"server.key\"\nlog_format = \"json\"\n",
    )
    .expect("write config");
    (config, cert.pem())
}

#[test]
fn tls_from_a_config_file_serves_trusting_clients_only() {
    let dir = tempfile::tempdir().expect("tmp");
    let (config, cert_pem) = tls_config(dir.path());
    let served = Served::start(&["--config", config.to_str().expect("utf-8 path")]);
    assert!(served.url.starts_with("https://127.0.0.1:"), "{}", served.url);
    let token = served.admin_token.clone().expect("admin token");
    runtime().block_on(async {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&cert_pem))
            .domain_name("localhost");
        let channel = Channel::from_shared(served.url.clone())
            .expect("url")
            .tls_config(tls)
            .expect("tls config")
            .connect()
            .await
            .expect("TLS connect");
        let mut catalog = CatalogClient::new(channel);
        let mut request = tonic::Request::new(ListBatteriesRequest::default());
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let batteries = catalog
            .list_batteries(request)
            .await
            .expect("list over TLS")
            .into_inner();
        assert!(!batteries.batteries.is_empty());

        // The same port without TLS: no gRPC answer.
        let plain_url = served.url.replacen("https://", "http://", 1);
        let plain = async {
            let mut c = CatalogClient::connect(plain_url).await?;
            c.list_batteries(ListBatteriesRequest::default())
                .await
                .map_err(Into::into)
                .map(|_| ())
        };
        let refused: Result<(), Box<dyn std::error::Error>> =
            tokio::time::timeout(std::time::Duration::from_secs(10), plain)
                .await
                .expect("a plaintext client is answered or refused within 10 s");
        assert!(refused.is_err(), "a plaintext client was served by the TLS port");
    });
}

#[test]
fn a_bad_config_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("qabilet.toml");
    std::fs::write(&config, "addr = \"127.0.0.1:0\"\nnorm = \"elsewhere\"\n").expect("write");
    let out = qabilet()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .expect("run qabilet serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("qabilet.toml: line 2:") && stderr.contains("norm"),
        "{stderr}"
    );

    // Half a TLS identity from flags: refused by the argument parser.
    let out = qabilet()
        .args(["serve", "--tls-cert", "x.pem"])
        .output()
        .expect("run qabilet serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}
