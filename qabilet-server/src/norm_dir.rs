//! Reading a battery folder (`norms/<battery-id>/`) into the texts `qabilet-core` validates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use qabilet_core::battery::Battery;
use qabilet_core::battery::content::ContentFile;
use qabilet_core::norms::model::DevelopmentalModel;
use qabilet_core::{NormFiles, NormSet};

use crate::error::CliError;
use crate::files;

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
    let battery_toml = read("battery.toml")?;
    // The banks and content battery.toml names; a battery that does not parse is reported by
    // the loader.
    let (item_banks, content) = match Battery::from_toml(&battery_toml) {
        Ok(battery) => (read_item_banks(dir, &battery)?, read_content(dir, &battery)?),
        Err(_) => (BTreeMap::new(), BTreeMap::new()),
    };
    Ok(NormFiles {
        battery_toml,
        item_banks,
        content,
        subtests_csv: read("subtests.csv")?,
        composites_csv: read("composites.csv")?,
        reliability_csv: read("reliability.csv")?,
        base_rates_csv,
        provenance_toml: read("provenance.toml")?,
    })
}

/// Reads the item bank of every adaptive subtest of `battery` (`items/<subtest>.json`), by
/// the path battery.toml names.
///
/// # Errors
/// [`CliError::Read`] naming the bank that could not be read.
pub fn read_item_banks(dir: &Path, battery: &Battery) -> Result<BTreeMap<String, String>, CliError> {
    battery
        .item_bank_files()
        .into_iter()
        .map(|file| {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| CliError::read(path, e))?;
            Ok((file.to_owned(), text))
        })
        .collect()
}

/// Reads the item content of `battery`: every `content/<subtest>.toml` it names and every file
/// those name, as bytes, by path. A file that does not exist is left out (the loader reports
/// it missing, with the file that names it); so is what a content file that does not parse
/// names (the loader reports the parse error).
///
/// # Errors
/// [`CliError::Read`] naming a file that exists but could not be read.
pub fn read_content(dir: &Path, battery: &Battery) -> Result<BTreeMap<String, Vec<u8>>, CliError> {
    let read = |file: &str| {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::read(path, e)),
        }
    };
    let mut out = BTreeMap::new();
    for file in battery.content_files() {
        let Some(bytes) = read(file)? else { continue };
        let named: Vec<String> = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| ContentFile::parse(file, text).ok())
            .map(|c| c.files().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        out.insert(file.to_owned(), bytes);
        for media in named {
            if let Some(bytes) = read(&media)? {
                out.insert(media, bytes);
            }
        }
    }
    Ok(out)
}

/// Writes item content files (path → bytes) under `out`, creating folders, each atomically.
///
/// # Errors
/// [`CliError::Write`] naming the file.
pub fn write_content(out: &Path, content: &BTreeMap<String, Vec<u8>>) -> Result<(), CliError> {
    for (file, bytes) in content {
        let path = out.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CliError::write(parent, e))?;
        }
        files::write_atomically(&path, bytes)?;
    }
    Ok(())
}

/// Writes the item banks of `banks` under `out` (creating `items/`), each atomically.
///
/// # Errors
/// [`CliError::Write`] naming the file.
pub fn write_item_banks(out: &Path, banks: &BTreeMap<String, String>) -> Result<(), CliError> {
    for (file, text) in banks {
        let path = out.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CliError::write(parent, e))?;
        }
        files::write_atomically(&path, text.as_bytes())?;
    }
    Ok(())
}

/// The files of battery folder `dir` that [`load`] reads (`base_rates.csv` whether or not it
/// exists), with the item banks and item content files `battery` names: what an output must
/// not be.
pub fn norm_files(dir: &Path, battery: &Battery) -> Vec<PathBuf> {
    [
        "battery.toml",
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "base_rates.csv",
        "provenance.toml",
    ]
    .into_iter()
    .chain(battery.item_bank_files())
    .chain(battery.content_files())
    .map(|name| dir.join(name))
    .collect()
}

/// The files of battery folder `dir` that [`read_model`] read into `folder`: battery.toml,
/// the model's file and the item banks.
pub fn model_files(dir: &Path, folder: &ModelFolder) -> Vec<PathBuf> {
    let model = if folder.from_model_file {
        "model.toml"
    } else {
        "provenance.toml"
    };
    ["battery.toml", model]
        .into_iter()
        .chain(folder.battery.item_bank_files())
        .map(|name| dir.join(name))
        .collect()
}

/// Reads and validates a folder's `battery.toml` alone; returns its text too.
///
/// # Errors
/// [`CliError::Read`] or [`CliError::Norms`].
pub fn read_battery(dir: &Path) -> Result<(String, Battery), CliError> {
    let path = dir.join("battery.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| CliError::read(path, e))?;
    let battery = Battery::from_toml(&text).map_err(|e| CliError::Norms {
        dir: dir.display().to_string(),
        source: e.into(),
    })?;
    Ok((text, battery))
}

/// A battery folder's definition and the developmental model stated in its `model.toml` (or,
/// for norms computed from the model itself, in the `[model]` table of its `provenance.toml`),
/// with the files' text.
pub struct ModelFolder {
    /// `battery.toml`.
    pub battery_toml: String,
    /// The item banks of its adaptive subtests, by path.
    pub item_banks: BTreeMap<String, String>,
    /// The text of the file the model was read from: `model.toml` (written in the
    /// provenance.toml format: the provenance of tables computed from the model) or
    /// `provenance.toml`.
    pub provenance_toml: String,
    /// Whether the model came from `model.toml` (the folder's own tables are then built from
    /// a sample, not from the model).
    pub from_model_file: bool,
    /// The validated battery.
    pub battery: Battery,
    /// The `[model]` table.
    pub model: DevelopmentalModel,
}

/// Reads a folder's battery and its developmental model: the `[model]` table of `model.toml`
/// when the folder has one (norms built from a sample simulated from the model), else that of
/// `provenance.toml` (norms computed from the model).
///
/// # Errors
/// [`CliError::Read`], [`CliError::Norms`], or [`CliError::Usage`] for a missing or invalid model.
pub fn read_model(dir: &Path) -> Result<ModelFolder, CliError> {
    let (battery_toml, battery) = read_battery(dir)?;
    let read_optional = |name: &str| {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::read(path, e)),
        }
    };
    let (model_file, provenance_toml) = match read_optional("model.toml")? {
        Some(text) => ("model.toml", text),
        None => (
            "provenance.toml",
            read_optional("provenance.toml")?.unwrap_or_default(),
        ),
    };
    let model = DevelopmentalModel::from_provenance(&battery, &provenance_toml)
        .map_err(|e| CliError::Usage(format!("{}/{model_file}: {e}", dir.display())))?;
    let item_banks = read_item_banks(dir, &battery)?;
    Ok(ModelFolder {
        battery_toml,
        item_banks,
        provenance_toml,
        from_model_file: model_file == "model.toml",
        battery,
        model,
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
