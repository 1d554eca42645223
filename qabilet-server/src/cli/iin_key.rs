//! The key of IIN hashes on disk: 64 hex digits (32 random bytes) in a file readable by its
//! owner only, created with a fresh random key when missing.

use std::io::Write;
use std::path::Path;

use qabilet_core::iin::IinKey;

use crate::error::CliError;

/// Reads the key in `path`, or writes a new random one there first.
///
/// # Errors
/// The file cannot be read or created, or holds anything but 64 hex digits.
pub fn load_or_create(path: &Path) -> Result<IinKey, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
        Err(e) => return Err(CliError::read(path, e)),
    };
    let hex = text.trim();
    let bytes = decode_hex(hex).ok_or_else(|| {
        CliError::Usage(format!(
            "{}: an IIN key file holds 64 hex digits (32 bytes) and nothing else",
            path.display()
        ))
    })?;
    IinKey::new(&bytes).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

fn create(path: &Path) -> Result<String, CliError> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(format!("{hex}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| CliError::write(path, e))?;
            tracing::warn!(
                path = %path.display(),
                "created a new IIN key: back it up, and give every server of this database the same file"
            );
            Ok(hex)
        }
        // Another process created it first: read theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))
        }
        Err(e) => Err(CliError::write(path, e)),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iin.key");
        load_or_create(&path).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert_eq!(first.trim().len(), 64);
        load_or_create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            first,
            "an existing key is kept"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
    }

    #[test]
    fn a_malformed_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iin.key");
        std::fs::write(&path, "abc\n").unwrap();
        let e = load_or_create(&path).unwrap_err().to_string();
        assert!(e.contains("64 hex digits"), "{e}");
    }
}
