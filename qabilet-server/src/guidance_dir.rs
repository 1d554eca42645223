//! Reading a guidance folder (`norms/guidance/`): the tables `qabilet-core` checks, with the
//! folder's identity (the SHA-256 over the tables and the texts), and the report texts of
//! every language parsed and checked for every key a report can use. The command line and
//! the service load it here, the same way.

use std::path::Path;

use qabilet_core::Lang;
use qabilet_core::guidance::{GuidanceFiles, GuidanceTables};
use qabilet_core::report::message_keys;

use crate::error::CliError;
use crate::report::Texts;

/// A guidance folder, loaded and checked.
#[derive(Debug)]
pub struct LoadedGuidance {
    /// The tables reports are built with; `tables.id` is the folder's identity.
    pub tables: GuidanceTables,
    /// The texts of `texts/{kk,ru,en}.ftl`, in [`Lang::ALL`] order, each with every key a
    /// report built from `tables` can use.
    pub texts: Vec<Texts>,
}

impl LoadedGuidance {
    /// The texts in `lang`.
    pub fn texts(&self, lang: Lang) -> &Texts {
        let i = Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0);
        &self.texts[i]
    }
}

/// Reads the tables and texts of the guidance folder `dir` and checks them.
///
/// # Errors
/// [`CliError::Read`] naming a file that cannot be read; [`CliError::Usage`] naming the file,
/// line and field of a table that fails its checks, or the text file with a syntax error or
/// without a message a report needs.
pub fn load(dir: &Path) -> Result<LoadedGuidance, CliError> {
    let files = GuidanceFiles::read_with(|name| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| CliError::read(path, e))
    })?;
    let tables =
        GuidanceTables::from_files(&files).map_err(|e| CliError::Usage(format!("{}/{e}", dir.display())))?;
    let required = message_keys(&tables);
    let texts = Lang::ALL
        .into_iter()
        .map(|lang| {
            let path = dir.join(GuidanceFiles::text_name(lang));
            Texts::parse(
                lang,
                &path.display().to_string(),
                files.texts.get(lang).to_owned(),
                &required,
            )
            .map_err(|e| CliError::Usage(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LoadedGuidance { tables, texts })
}

/// The guidance a server builds reports with, or why it has none.
#[derive(Debug, Clone)]
pub enum Guidance {
    /// Loaded and checked at start.
    Loaded(std::sync::Arc<LoadedGuidance>),
    /// The folder was missing: the message every report request is answered with.
    Missing(String),
}

impl Guidance {
    /// Loads the folder `dir` for a server. A missing folder is not an error — the server
    /// runs without reports — but an unreadable or invalid table is.
    ///
    /// # Errors
    /// As [`load`].
    pub fn load(dir: &Path) -> Result<Guidance, CliError> {
        if !dir.is_dir() {
            return Ok(Guidance::Missing(format!(
                "reports are unavailable: the server has no guidance tables ({} is not a folder; \
                 start it with --guidance DIR)",
                dir.display()
            )));
        }
        Ok(Guidance::Loaded(std::sync::Arc::new(load(dir)?)))
    }

    /// The loaded guidance, or why there is none.
    ///
    /// # Errors
    /// The reason the server has no guidance.
    pub fn loaded(&self) -> Result<&LoadedGuidance, String> {
        match self {
            Guidance::Loaded(g) => Ok(g),
            Guidance::Missing(why) => Err(why.clone()),
        }
    }
}
