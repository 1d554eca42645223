//! `qabilet report`: one child's scored record (as `qabilet score --format json` writes it)
//! in, the consultation report out as HTML, PDF or JSON, in Kazakh, Russian or English.
//!
//! The battery is found under `--norms` by the record's battery id, and its norm-set hash
//! must equal the record's (a report is never built on other norms than the scores). The
//! output is written atomically and is never one of the files read (`crate::files`).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use qabilet_core::Lang;
use qabilet_core::guidance::{GuidanceFiles, Interests};
use qabilet_core::profile::ScoredProfile;
use qabilet_core::report::consultation;

use crate::error::CliError;
use crate::files::{self, Named};
use crate::guidance_dir;
use crate::norm_dir;
use crate::report::{GENERATOR_VERSION, ReportContext, ReportEdits, render_html, render_pdf};

pub(super) const LONG_ABOUT: &str = "\
Write a child's consultation report (HTML, PDF or JSON) in Kazakh, Russian or English.

INPUT: one record as `qabilet score --format json` writes it: a JSON object, or JSON Lines
with one object per child (then --id chooses the record; without --id the file must hold
exactly one). The battery is read from --norms/<battery-id> and its norm-set hash must equal
the record's; the guidance tables and texts from --guidance (texts/<lang>.ftl).

OUTPUT: a self-contained HTML page (inline chart, printable), a PDF (A4, fonts embedded) or
the report as data (JSON), written beside FILE and renamed to FILE when complete.

Optional: --interests FILE.json, the interest questionnaire
  {\"respondent\":\"parent\",\"ratings\":{\"people\":4,\"things\":5,\"data\":3,\"ideas\":2}}
and --edits FILE.json, a psychologist's wording of items by item id
  {\"strengths/spatial\":{\"text\":\"…\",\"author\":\"…\",\"time\":\"2026-05-15T10:30:00Z\"}}
(item ids: summary/<key>, profile/<domain>, strengths/<domain>, support/<domain>,
learning/<domain>, activities/<domain>/<activity>, directions/<key>, referral,
referral/rates/<n>, interests, caveats/<key>; `--format json` lists them under item_ids).

Exit codes: 0 written; 1 the output could not be written; 2 a missing or invalid input,
norm folder, guidance table or text file, a record scored on other norms, or an --out that
is one of the files read.

Example:
  qabilet score --battery norms/qabilet-primary-demo --input examples/children.csv \\
      --format json --output scored.jsonl
  qabilet report --input scored.jsonl --id child-003 --lang kk --format pdf --out child-003.kk.pdf";

/// Output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A self-contained HTML page.
    Html,
    /// A PDF (A4).
    Pdf,
    /// The report as data, with its item ids.
    Json,
}

/// Arguments of `qabilet report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Scored record(s): JSON, or JSON Lines as `qabilet score --format json` writes them.
    #[arg(long, value_name = "SCORED.json")]
    pub input: PathBuf,
    /// Record id to report on when the input holds several.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Language of the report.
    #[arg(long, value_name = "kk|ru|en")]
    pub lang: Lang,
    /// Output format.
    #[arg(long, value_enum, value_name = "html|pdf|json")]
    pub format: ReportFormat,
    /// Where to write the report.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Folder holding the battery folders (the record's battery is <DIR>/<battery-id>).
    #[arg(long, value_name = "DIR", default_value = "norms")]
    pub norms: PathBuf,
    /// Folder of the guidance tables, with texts/<lang>.ftl.
    #[arg(long, value_name = "DIR", default_value = "norms/guidance")]
    pub guidance: PathBuf,
    /// The interest questionnaire (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub interests: Option<PathBuf>,
    /// A psychologist's edits by item id (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub edits: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))
}

fn usage(path: &Path, reason: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("{}: {reason}", path.display()))
}

/// The record of `input`: the only one, or the one with `id`.
fn select_record(path: &Path, text: &str, id: Option<&str>) -> Result<ScoredProfile, CliError> {
    /// The id of a record, read alone to choose among several.
    #[derive(serde::Deserialize)]
    struct RecordId {
        #[serde(default)]
        id: Option<String>,
    }
    let records: Vec<&str> = if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        vec![text]
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str::<serde::de::IgnoredAny>(l)
                    .map(|_| l)
                    .map_err(|e| usage(path, format!("line {}: not JSON: {e}", n + 1)))
            })
            .collect::<Result<_, _>>()?
    };
    let record_id = |r: &str| serde_json::from_str::<RecordId>(r).ok().and_then(|r| r.id);
    let chosen = match id {
        Some(id) => records
            .iter()
            .find(|r| record_id(r).as_deref() == Some(id))
            .ok_or_else(|| usage(path, format!("no record with id '{id}'")))?,
        None if records.len() == 1 => &records[0],
        None => {
            return Err(usage(
                path,
                format!("{} records: choose one with --id", records.len()),
            ));
        }
    };
    ScoredProfile::from_json(chosen).map_err(|e| usage(path, e))
}

/// Runs `qabilet report`.
///
/// # Errors
/// [`CliError`] naming the file and the reason (exit code 2), or the output that could not
/// be written (1).
pub fn run(args: &ReportArgs) -> Result<(), CliError> {
    let lang = args.lang;
    let record = select_record(&args.input, &read(&args.input)?, args.id.as_deref())?;

    let battery_dir = args.norms.join(&record.norm_set.battery);
    if !battery_dir.join("battery.toml").is_file() {
        return Err(usage(
            &args.input,
            format!(
                "the record's battery '{}' has no folder {}",
                record.norm_set.battery,
                battery_dir.display()
            ),
        ));
    }
    let norms = norm_dir::load(&battery_dir)?;
    if norms.id.hash != record.norm_set.hash {
        return Err(usage(
            &args.input,
            format!(
                "the record was scored with norm set {} but {} has {}: score the child again with these norms, or use the norms it was scored with",
                record.norm_set.hash,
                battery_dir.display(),
                norms.id.hash
            ),
        ));
    }

    let mut inputs = vec![Named::new("--input", &args.input)];
    inputs.extend(args.interests.iter().map(|p| Named::new("--interests", p)));
    inputs.extend(args.edits.iter().map(|p| Named::new("--edits", p)));
    inputs.extend(
        norm_dir::norm_files(&battery_dir, &norms.battery)
            .into_iter()
            .map(|p| Named::new("--norms", p)),
    );
    inputs.extend(
        GuidanceFiles::NAMES
            .iter()
            .copied()
            .chain(Lang::ALL.map(GuidanceFiles::text_name))
            .map(|name| Named::new("--guidance", args.guidance.join(name))),
    );
    files::refuse_same_file(&Named::new("--out", &args.out), &inputs)?;

    let guidance = guidance_dir::load(&args.guidance)?;
    let tables = &guidance.tables;
    let interests = match &args.interests {
        Some(path) => {
            Some(Interests::from_json(&read(path)?, &tables.interests).map_err(|e| usage(path, e))?)
        }
        None => None,
    };
    let report = consultation(
        &record,
        &norms.battery,
        tables,
        interests.as_ref(),
        GENERATOR_VERSION,
    )
    .map_err(|e| usage(&args.input, e))?;
    let edits = match &args.edits {
        Some(path) => {
            let edits = ReportEdits::from_json(&read(path)?).map_err(|e| usage(path, e))?;
            edits.check(&report).map_err(|e| usage(path, e))?;
            edits
        }
        None => ReportEdits::default(),
    };

    let texts = guidance.texts(lang);
    let ctx = ReportContext {
        report: &report,
        norms: &norms,
        tables,
        edits: &edits,
    };
    let bytes = match args.format {
        ReportFormat::Html => render_html(&ctx, texts)
            .map_err(|e| CliError::Usage(e.to_string()))?
            .into_bytes(),
        ReportFormat::Pdf => render_pdf(&ctx, texts).map_err(|e| CliError::Usage(e.to_string()))?,
        ReportFormat::Json => {
            let value = serde_json::json!({
                "report": report,
                "item_ids": report.item_ids(),
                "edits": edits,
            });
            let mut text = serde_json::to_string_pretty(&value).expect("a report serialises");
            text.push('\n');
            text.into_bytes()
        }
    };
    files::write_atomically(&args.out, &bytes)
}
