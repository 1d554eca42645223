//! `qabilet score`: a CSV of children's raw subtest scores in, normed scores out (CSV or
//! JSON Lines). A bad row is reported in its own `error` cell and every other row is still
//! scored; `--strict` stops at the first bad row instead.

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use qabilet_core::ScoringOptions;

use super::{Format, ScoreArgs};
use crate::batch::{self, BatchError, BatchOptions, OutputFormat};
use crate::error::CliError;
use crate::files::{self, Named, Output};
use crate::norm_dir;

pub(super) const LONG_ABOUT: &str = "\
Score a CSV of children's raw subtest scores against a battery's norms.

INPUT (CSV, UTF-8, header row):
  id,birth_date,test_date,<subtest-id>,…
  child-001,2019-03-14,2026-05-02,18,21,,14,…
Dates are ISO yyyy-mm-dd. Subtest columns are the battery's subtest ids, in any order, any
subset; an empty cell means the subtest was not administered. The columns sex, language and
weight of the standardisation-sample format may be present; they are echoed, not used. Raw scores are whole numbers
from 0 to the subtest's maximum (anything else is an error, never clamped).

OUTPUT (CSV): the input columns unchanged, then
  age                                   calendar-exact age Y:M:D
  <subtest>_scaled, <subtest>_percentile  per subtest, in battery order
  <composite>_sum, _index, _percentile, _ci_low, _ci_high, _class, _basis
                                        per composite; basis is complete, prorated or
                                        substituted; empty when it cannot be computed
  battery, battery_version, norm_set, notice, error
With --format json: JSON Lines, one object per input row, holding the full profile
(subtest intervals, strengths and weaknesses, pairwise discrepancies, base rates).

A bad row (invalid date, age outside the norms, raw score out of range, wrong number of
fields, …) gets `line N: reason` in its `error` cell and empty score cells; the other rows
are still scored, and the count of bad rows is printed on stderr. With --strict the run
stops at the first bad row (exit 2); the rows before it have been written.

Rows are scored on every core and written in input order. Progress is shown on stderr
when it is a terminal.

Exit codes: 0 done (see stderr for bad rows); 1 results could not be written; 2 a missing
or invalid norm folder or input file, an unusable header, a bad row under --strict, or an
--output that is one of the files read (the same file under any name).

Example:
  qabilet score --battery norms/qabilet-primary-demo --input examples/children.csv";

/// Reports progress on stderr when it is a terminal.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Progress {
            enabled: io::stderr().is_terminal(),
            started: now,
            last: now,
            shown: false,
        }
    }

    fn update(&mut self, rows: u64) {
        if self.enabled && self.last.elapsed() >= Duration::from_millis(500) {
            self.last = Instant::now();
            self.shown = true;
            let rate = rows as f64 / self.started.elapsed().as_secs_f64();
            eprint!("\rscored {rows} rows ({rate:.0} rows/s)…");
        }
    }

    fn finish(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(super) fn run(args: &ScoreArgs) -> Result<(), CliError> {
    let norms = norm_dir::load(&args.battery)?;
    let in_name = args.input.as_str();
    let mut inputs = vec![Named::new("--input", in_name)];
    inputs.extend(
        norm_dir::norm_files(&args.battery, &norms.battery)
            .into_iter()
            .map(|path| Named::new("--battery", path)),
    );
    files::refuse_same_file(&Named::new("--output", &args.output), &inputs)?;
    let input = files::open_input(in_name)?;
    let out_name = files::output_name(&args.output);
    let options = BatchOptions {
        scoring: ScoringOptions {
            ci_level: args.ci,
            ci_method: args.ci_method,
        },
        format: match args.format {
            Format::Csv => OutputFormat::Csv,
            Format::Json => OutputFormat::JsonLines,
        },
        strict: args.strict,
        workers: match args.threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
    };
    let mut progress = Progress::new();
    // Created once the header has been checked; committed when the run ends without error.
    let mut output = None;
    let slot = &mut output;
    let summary = batch::score_csv(
        &norms,
        input,
        move || Ok(Option::insert(slot, Output::create(&args.output)?)),
        options,
        &mut |rows| progress.update(rows),
    );
    progress.finish();
    // A reader that stops early (`| head`) is not a failure, as in other Unix tools.
    if let Err(BatchError::Write(e)) = &summary
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        return Ok(());
    }
    let summary = summary.map_err(|e| match e {
        BatchError::Header(reason) => CliError::Input {
            path: in_name.to_owned(),
            line: 1,
            reason,
        },
        BatchError::Unreadable(line, reason) => CliError::Input {
            path: in_name.to_owned(),
            line,
            reason: format!("unreadable CSV: {reason}"),
        },
        BatchError::Write(e) => CliError::write(out_name, e),
    })?;
    // Under --strict the rows before the bad one are kept, as the message says.
    if let Some(output) = output {
        output.commit()?;
    }
    if let Some((line, reason)) = summary.stopped_at {
        return Err(CliError::StrictRow {
            path: in_name.to_owned(),
            line,
            reason,
        });
    }
    let scored = summary.rows - summary.bad;
    eprintln!(
        "qabilet: scored {} of {} with {}{}",
        scored,
        plural(summary.rows, "row", "rows"),
        norms.id,
        if summary.bad > 0 {
            format!(
                "; {} had errors (see the `error` cells)",
                plural(summary.bad, "row", "rows")
            )
        } else {
            String::new()
        }
    );
    if let Some(notice) = &norms.id.notice {
        eprintln!("qabilet: {notice}");
    }
    Ok(())
}
