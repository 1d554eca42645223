//! Reading a battery folder (`norms/<battery-id>/`) into the texts `qabilet-core` validates.

use std::path::Path;

use qabilet_core::{NormFiles, NormSet};

use crate::error::CliError;

/// Reads the files of a battery folder. `base_rates.csv` is optional.
///
/// # Errors
/// [`CliError::Read`] naming the file that could not be read.
pub fn read_files(dir: &Path) -> Result<NormFiles, CliError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| CliError::read(path, e))
    };
    let base_rates = dir.join("base_rates.csv");
    let base_rates_csv = match std::fs::read_to_string(&base_rates) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(CliError::read(base_rates, e)),
    };
    Ok(NormFiles {
        battery_toml: read("battery.toml")?,
        subtests_csv: read("subtests.csv")?,
        composites_csv: read("composites.csv")?,
        reliability_csv: read("reliability.csv")?,
        base_rates_csv,
        provenance_toml: read("provenance.toml")?,
    })
}

/// Reads and validates a battery folder.
///
/// # Errors
/// [`CliError::Read`] or [`CliError::Norms`] with file, line and reason.
pub fn load(dir: &Path) -> Result<NormSet, CliError> {
    let files = read_files(dir)?;
    NormSet::from_files(&files).map_err(|source| CliError::Norms {
        dir: dir.display().to_string(),
        source,
    })
}
