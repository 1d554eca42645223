//! The settings of `qabilet serve`, resolved once from its flags, their environment variables
//! (clap reads both), the optional `--config` file and the defaults — in that order of
//! precedence — and the TLS identity they name.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tonic::transport::{Identity, ServerTlsConfig};

use super::{LogFormat, ServeArgs};
use crate::error::CliError;

/// Default gRPC address: loopback only, so a first start exposes nothing.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50051";
/// Default console address: loopback only, like the gRPC service.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
/// Default norms folder, relative to the working directory.
pub const DEFAULT_NORMS: &str = "norms";
/// Default guidance tables of reports, relative to the working directory.
pub const DEFAULT_GUIDANCE: &str = "norms/guidance";
/// Default key file of IIN hashes, relative to the working directory.
pub const DEFAULT_IIN_KEY_FILE: &str = "qabilet-iin.key";
/// Default database: an SQLite file in the working directory.
pub const DEFAULT_DB: &str = "sqlite://qabilet.db";

/// The `--config` file: every key optional, unknown keys refused (a misspelt key must not be
/// silently ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
    norms: Option<PathBuf>,
    guidance: Option<PathBuf>,
    db: Option<String>,
    iin_key_file: Option<PathBuf>,
    log_format: Option<LogFormat>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

/// What the service runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub norms: PathBuf,
    pub guidance: PathBuf,
    pub db: String,
    pub iin_key_file: PathBuf,
    pub log_format: LogFormat,
    pub tls: Option<TlsFiles>,
}

/// The PEM files of the server's TLS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Settings {
    /// Flags and environment (already merged by clap) over the config file over the defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Settings, CliError> {
        let (file, base) = match &args.config {
            Some(path) => (read_config(path)?, path.parent().map(Path::to_path_buf)),
            None => (ConfigFile::default(), None),
        };
        // A relative path in the file is relative to the file's folder.
        let from_file = |p: Option<PathBuf>| match (&base, p) {
            (Some(dir), Some(p)) if p.is_relative() => Some(dir.join(p)),
            (_, p) => p,
        };
        let default_addr: SocketAddr = DEFAULT_ADDR.parse().expect("the default address parses");
        let default_http: SocketAddr = DEFAULT_HTTP_ADDR.parse().expect("the default address parses");
        let tls = match (
            args.tls_cert.clone().or_else(|| from_file(file.tls_cert)),
            args.tls_key.clone().or_else(|| from_file(file.tls_key)),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(CliError::Usage(
                    "tls_cert is set but tls_key is not: TLS needs both".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(CliError::Usage(
                    "tls_key is set but tls_cert is not: TLS needs both".into(),
                ));
            }
        };
        Ok(Settings {
            addr: args.addr.or(file.addr).unwrap_or(default_addr),
            http_addr: args.http_addr.or(file.http_addr).unwrap_or(default_http),
            norms: args
                .norms
                .clone()
                .or_else(|| from_file(file.norms))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_NORMS)),
            guidance: args
                .guidance
                .clone()
                .or_else(|| from_file(file.guidance))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_GUIDANCE)),
            db: args
                .db
                .clone()
                .or(file.db)
                .unwrap_or_else(|| DEFAULT_DB.to_owned()),
            iin_key_file: args
                .iin_key_file
                .clone()
                .or_else(|| from_file(file.iin_key_file))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_IIN_KEY_FILE)),
            log_format: args.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            tls,
        })
    }
}

impl TlsFiles {
    /// Reads the certificate chain and key; rustls checks them when the server starts.
    pub fn load(&self) -> Result<ServerTlsConfig, CliError> {
        let read = |p: &Path, what: &str| {
            std::fs::read(p)
                .map_err(|e| CliError::Usage(format!("{}: cannot read the TLS {what}: {e}", p.display())))
        };
        let cert = read(&self.cert, "certificate")?;
        let key = read(&self.key, "key")?;
        for (path, bytes, what) in [
            (&self.cert, &cert, "CERTIFICATE"),
            (&self.key, &key, "PRIVATE KEY"),
        ] {
            if !String::from_utf8_lossy(bytes).contains(&format!("{what}-----")) {
                return Err(CliError::Usage(format!(
                    "{}: not a PEM file with a {what} block",
                    path.display()
                )));
            }
        }
        Ok(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
    }
}

fn read_config(path: &Path) -> Result<ConfigFile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{}: cannot read the config file: {e}", path.display())))?;
    parse_config(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// Parses the config file; the error names the line and the key.
fn parse_config(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => format!("line {line}: {}", e.message()),
            None => e.message().to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServeArgs {
        ServeArgs {
            config: None,
            addr: None,
            http_addr: None,
            norms: None,
            guidance: None,
            db: None,
            iin_key_file: None,
            log_format: None,
            tls_cert: None,
            tls_key: None,
        }
    }

    #[test]
    fn defaults_apply_without_flags_or_file() {
        let s = Settings::resolve(&args()).unwrap();
        assert_eq!(s.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(s.http_addr.to_string(), DEFAULT_HTTP_ADDR);
        assert_eq!(s.norms, PathBuf::from("norms"));
        assert_eq!(s.guidance, PathBuf::from("norms/guidance"));
        assert_eq!(s.db, DEFAULT_DB);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.tls, None);
    }

    #[test]
    fn flags_override_the_file_and_file_paths_are_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qabilet.toml");
        std::fs::write(
            &path,
            "addr = \"127.0.0.1:6000\"\nhttp_addr = \"127.0.0.1:0\"\nnorms = \"batteries\"\nguidance = \"rules\"\ndb = \"sqlite://x.db\"\nlog_format = \"json\"\ntls_cert = \"c.pem\"\ntls_key = \"/k.pem\"\n",
        )
        .unwrap();
        let mut a = args();
        a.config = Some(path);
        a.db = Some("postgres://db/q".into());
        let s = Settings::resolve(&a).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:6000");
        assert_eq!(s.http_addr.to_string(), "127.0.0.1:0");
        assert_eq!(s.norms, dir.path().join("batteries"));
        assert_eq!(s.guidance, dir.path().join("rules"));
        assert_eq!(s.db, "postgres://db/q");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(
            s.tls,
            Some(TlsFiles {
                cert: dir.path().join("c.pem"),
                key: PathBuf::from("/k.pem")
            })
        );
    }

    #[test]
    fn a_bad_file_is_refused_with_its_line() {
        let e = parse_config("addr = \"127.0.0.1:1\"\n\nnorm = \"x\"\n").unwrap_err();
        assert!(e.starts_with("line 3: ") && e.contains("norm"), "{e}");
        let e = parse_config("addr = \"nowhere\"\n").unwrap_err();
        assert!(e.starts_with("line 1: "), "{e}");
    }

    #[test]
    fn half_a_tls_identity_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.toml");
        std::fs::write(&path, "tls_cert = \"c.pem\"\n").unwrap();
        let mut a = args();
        a.config = Some(path);
        assert!(Settings::resolve(&a).is_err());
    }
}
