//! The guidance folder (`norms/guidance`): its tables and the report texts in every language,
//! read and checked once, for the server and for `qabilet report`.

use std::path::Path;
use std::sync::Arc;

use qabilet_core::Lang;
use qabilet_core::guidance::{GuidanceFiles, GuidanceTables};
use qabilet_core::report::message_keys;

use crate::error::CliError;
use crate::report::Texts;

/// The guidance tables and the report texts in every language, loaded and checked.
#[derive(Debug)]
pub struct LoadedGuidance {
    /// The tables reports are built with.
    pub tables: GuidanceTables,
    /// The texts of `texts/{kk,ru,en}.ftl`, in [`Lang::ALL`] order, each with every key a
    /// report can use.
    pub texts: Vec<Texts>,
}

impl LoadedGuidance {
    /// Reads and checks the folder `dir`.
    ///
    /// # Errors
    /// A file that cannot be read, or a table or text file that fails its checks (file,
    /// line, field and reason).
    pub fn read(dir: &Path) -> Result<LoadedGuidance, CliError> {
        let files = GuidanceFiles::read_with(|name| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| CliError::read(path, e))
        })?;
        let tables = GuidanceTables::from_files(&files)
            .map_err(|e| CliError::Usage(format!("{}/{e}", dir.display())))?;
        let required = message_keys(&tables);
        let texts = Lang::ALL
            .into_iter()
            .map(|lang| {
                let path = dir.join("texts").join(format!("{}.ftl", lang.code()));
                let source = std::fs::read_to_string(&path).map_err(|e| CliError::read(path.clone(), e))?;
                Texts::parse(lang, &path.display().to_string(), source, &required)
                    .map_err(|e| CliError::Usage(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LoadedGuidance { tables, texts })
    }

    /// The texts of `lang`.
    pub fn texts(&self, lang: Lang) -> &Texts {
        let i = Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0);
        &self.texts[i]
    }
}

/// The guidance a server builds reports with, or why it has none.
#[derive(Debug, Clone)]
pub enum Guidance {
    /// Loaded and checked at start.
    Loaded(Arc<LoadedGuidance>),
    /// The folder was missing: the message every report request is answered with.
    Missing(String),
}

impl Guidance {
    /// Loads the folder `dir`. A missing folder is not an error — the server runs without
    /// reports — but an unreadable or invalid table is.
    ///
    /// # Errors
    /// As [`LoadedGuidance::read`].
    pub fn load(dir: &Path) -> Result<Guidance, CliError> {
        if !dir.is_dir() {
            return Ok(Guidance::Missing(format!(
                "reports are unavailable: the server has no guidance tables ({} is not a folder; \
                 start it with --guidance DIR)",
                dir.display()
            )));
        }
        Ok(Guidance::Loaded(Arc::new(LoadedGuidance::read(dir)?)))
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
