//! The batteries a server has loaded: every folder of the norms directory that holds a
//! `battery.toml`, validated once at start, by battery id. Resources are named
//! `batteries/{id}`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use qabilet_core::NormSet;

use crate::error::CliError;
use crate::norm_dir;

/// Loaded norm sets by battery id.
#[derive(Debug, Default)]
pub struct Registry {
    batteries: BTreeMap<String, Arc<NormSet>>,
}

impl Registry {
    /// Loads every battery folder directly under `dir` (a folder that is itself a battery
    /// folder is loaded alone).
    ///
    /// # Errors
    /// The first folder that cannot be read or fails validation, or no battery at all.
    pub fn load(dir: &Path) -> Result<Self, CliError> {
        let mut folders = Vec::new();
        if dir.join("battery.toml").is_file() {
            folders.push(dir.to_path_buf());
        } else {
            let entries = std::fs::read_dir(dir).map_err(|e| CliError::read(dir, e))?;
            for entry in entries {
                let path = entry.map_err(|e| CliError::read(dir, e))?.path();
                if path.join("battery.toml").is_file() {
                    folders.push(path);
                }
            }
        }
        folders.sort();
        let mut batteries = BTreeMap::new();
        for folder in folders {
            let norms = norm_dir::load(&folder)?;
            let id = norms.battery.id.clone();
            if batteries.insert(id.clone(), Arc::new(norms)).is_some() {
                return Err(CliError::Usage(format!(
                    "{}: battery '{id}' is defined by two folders",
                    folder.display()
                )));
            }
        }
        if batteries.is_empty() {
            return Err(CliError::Usage(format!(
                "{}: no battery folder (with battery.toml) found",
                dir.display()
            )));
        }
        Ok(Registry { batteries })
    }

    /// The norm set of battery `id`.
    pub fn get(&self, id: &str) -> Option<&Arc<NormSet>> {
        self.batteries.get(id)
    }

    /// Every battery, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Arc<NormSet>)> {
        self.batteries.iter()
    }
}

/// The battery id of a resource name `batteries/{id}`.
pub fn battery_id(name: &str) -> Option<&str> {
    name.strip_prefix("batteries/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}
