//! `qabilet roster …`: import a cohort's roster from CSV (all or nothing) and export it back,
//! directly in the service's database.

use std::io::{Read, Write};
use std::path::Path;

use clap::{Args, Subcommand};

use super::operator::{OperatorArgs, app_error, with_app};
use crate::app::{Caller, MAX_ROSTER_BYTES, roster_csv};
use crate::error::CliError;
use crate::files::{AtomicFile, open_input, output_name};

/// `qabilet roster --help`.
pub(super) const LONG_ABOUT: &str = "\
Import a cohort's roster from CSV, or export it.

The roster has a header row and one row per child. Columns, in any order:
  code         the child's code in the centre (letters, digits, - _ .), required
  birth_date   YYYY-MM-DD, required; the child's age on the cohort's first day must be
               within the battery's ages
  language     the language the child is tested in: kk, ru or en, required
  class        the class within the cohort, e.g. 2А, required
  given_name, family_name   optional
  sex          F, M or empty
  iin          the national identity number (12 digits), optional. Checked (check digit,
               birth date, century and sex digit against birth_date and sex) and never stored:
               only its keyed hash (HMAC-SHA-256 with the key of --iin-key-file), which
               finds the same child across cohorts and centres.

All or nothing: a roster with any bad row imports nothing, exits 2 and lists every bad row
as `line N, column C: reason`. A code already registered in the centre must have the same
birth date, sex and IIN; importing the same roster again changes nothing. The export has the
same columns, with iin_linked (yes/no) in place of iin, and imports back unchanged.

Exit codes: 0 done; 1 the database failed; 2 bad input.

Example:
  qabilet roster import --cohort cohorts/01j… --input roster.csv
  qabilet roster export --cohort cohorts/01j… --output roster-back.csv";

/// `qabilet roster …`.
#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Import a roster CSV into a cohort (all rows or none).
    Import(ImportArgs),
    /// Write a cohort's roster as CSV.
    Export(ExportArgs),
}

/// Arguments of `qabilet roster import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    operator: OperatorArgs,
    /// The cohort, as `cohorts/ID` (or the bare id).
    #[arg(long, value_name = "COHORT")]
    cohort: String,
    /// The roster CSV (UTF-8); - for standard input.
    #[arg(long, value_name = "FILE")]
    input: String,
}

/// Arguments of `qabilet roster export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    operator: OperatorArgs,
    /// The cohort, as `cohorts/ID` (or the bare id).
    #[arg(long, value_name = "COHORT")]
    cohort: String,
    /// Where to write the CSV; - for standard output.
    #[arg(long, value_name = "FILE", default_value = "-")]
    output: String,
}

/// `cohorts/ID` for a bare id.
pub(super) fn cohort_name(given: &str) -> String {
    if given.starts_with("cohorts/") {
        given.to_owned()
    } else {
        format!("cohorts/{given}")
    }
}

/// Runs `qabilet roster …`.
pub fn run(command: &RosterCommand) -> Result<(), CliError> {
    match command {
        RosterCommand::Import(args) => {
            let mut bytes = Vec::new();
            open_input(&args.input)?
                .take(MAX_ROSTER_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::read(&args.input, e))?;
            if bytes.len() > MAX_ROSTER_BYTES {
                return Err(CliError::Usage(format!(
                    "{}: larger than {MAX_ROSTER_BYTES} bytes; split the roster by class",
                    args.input
                )));
            }
            with_app(&args.operator, async |app| {
                let done = app
                    .import_roster(&Caller::operator(), &cohort_name(&args.cohort), &bytes)
                    .await
                    .map_err(|e| app_error(Path::new(&args.input), e))?;
                let c = done.counts;
                eprintln!(
                    "{}: {} row(s): {} child(ren) registered, {} completed, {} added to the cohort, {} moved \
                     to another class, {} unchanged",
                    args.input,
                    done.rows,
                    c.children_created,
                    c.children_updated,
                    c.members_added,
                    c.members_moved,
                    c.unchanged
                );
                Ok(())
            })
        }
        RosterCommand::Export(args) => with_app(&args.operator, async |app| {
            let (_, members) = app
                .roster(&Caller::operator(), &cohort_name(&args.cohort))
                .await
                .map_err(|e| app_error(Path::new(&args.cohort), e))?;
            write_output(&args.output, &roster_csv(&members))
        }),
    }
}

/// Writes `bytes` to `output` (`-`: standard output; a file is replaced whole or not at all).
pub(super) fn write_output(output: &str, bytes: &[u8]) -> Result<(), CliError> {
    if output == "-" {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| CliError::write(output_name(output), e));
    }
    let mut file = AtomicFile::create(output).map_err(|e| CliError::write(output, e))?;
    file.write_all(bytes).map_err(|e| CliError::write(output, e))?;
    file.commit().map_err(|e| CliError::write(output, e))
}
