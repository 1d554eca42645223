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
