//! `qabilet irt score`: ability estimates for response patterns on an item bank.

use std::path::PathBuf;

use clap::Args;
use qabilet_core::irt::{EapGrid, Estimate, Estimator, ItemBank, ResponsePattern, point_estimate};

use crate::error::CliError;
use crate::files::{self, Named};

pub(super) const LONG_ABOUT: &str = "\
Estimate ability (θ, logistic metric, D = 1) for response patterns on an item bank.

BANK (JSON): {\"items\": [{\"id\": \"i1\", \"model\": \"2pl\", \"a\": 1.2, \"b\": -0.5}, …]} with models
rasch (b), 2pl (a, b), 3pl (a, b, c), gpcm (a, b = steps), grm (a, b = increasing thresholds).

INPUT (CSV): id,<item-id>,… with one category per cell (0 … the item's highest), empty for an
item not administered. Item columns may be any subset of the bank, in any order.

OUTPUT (CSV): id,theta,se,status,error — status is ok, not_estimable (e.g. MLE of an
all-correct pattern: no finite maximum; never clamped) or no_responses; a bad row (unknown
category, not a whole number) has status invalid and the reason, with its line, in error.

ESTIMATORS: eap (default; N(0,1) prior on --quad-points equally spaced points over
--theta-range, SE = posterior SD), map (posterior mode, SE = 1/√(I+1)), mle (SE = 1/√I),
wle (Warm 1989, SE = 1/√I). Rules in norms/IRT.md.

Example:
  qabilet irt score --bank qabilet-core/tests/reference/irt/banks/twopl20.json --input patterns.csv";

/// Arguments of `qabilet irt score`.
#[derive(Debug, Args)]
pub struct IrtScoreArgs {
    /// Item bank (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub bank: PathBuf,
    /// Response patterns (CSV, `-` for standard input): id,<item-id>…
    #[arg(long, value_name = "FILE|-")]
    pub input: String,
    /// Where to write estimates (`-` for standard output).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub output: String,
    /// Estimator.
    #[arg(long, value_name = "eap|map|mle|wle", default_value = "eap")]
    pub estimator: Estimator,
    /// EAP quadrature points.
    #[arg(long, value_name = "N", default_value_t = 61, value_parser = clap::value_parser!(u32).range(2..=10_001))]
    pub quad_points: u32,
    /// EAP grid range, `LO,HI`.
    #[arg(
        long,
        value_name = "LO,HI",
        default_value = "-6,6",
        allow_hyphen_values = true
    )]
    pub theta_range: String,
    /// Stop at the first bad row with exit code 2.
    #[arg(long)]
    pub strict: bool,
}

fn parse_range(text: &str) -> Result<(f64, f64), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--theta-range '{text}': expected LO,HI with LO < HI, e.g. -6,6"
        ))
    };
    let (lo, hi) = text.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if lo.is_finite() && hi.is_finite() && lo < hi {
        Ok((lo, hi))
    } else {
        Err(bad())
    }
}

fn number(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

pub(super) fn run(args: &IrtScoreArgs) -> Result<(), CliError> {
    let (lo, hi) = parse_range(&args.theta_range)?;
    files::refuse_same_file(
        &Named::new("--output", &args.output),
        &[
            Named::new("--input", &args.input),
            Named::new("--bank", &args.bank),
        ],
    )?;
    let (_, bank) = files::read_bank(&args.bank)?;
    let grid = EapGrid::new(&bank, args.quad_points as usize, lo, hi).map_err(CliError::Usage)?;
    let in_name = args.input.as_str();
    let (mut reader, header) = files::csv_input(in_name)?;
    let input_error = |line: u64, reason: String| CliError::Input {
        path: in_name.to_owned(),
        line,
        reason,
    };
    if header.get(0).map(|h| h.trim_start_matches('\u{feff}')) != Some("id") {
        return Err(input_error(1, "the first column must be 'id'".into()));
    }
    let mut columns = Vec::with_capacity(header.len() - 1);
    for name in header.iter().skip(1) {
        let item = bank
            .position(name)
            .ok_or_else(|| input_error(1, format!("column '{name}' is not an item of the bank")))?;
        if columns.contains(&item) {
            return Err(input_error(1, format!("item '{name}' appears twice")));
        }
        columns.push(item);
    }
    let mut writer = files::csv_output(&args.output)?;
    let write_err = files::csv_write_error(&args.output);
    writer
        .write_record(["id", "theta", "se", "status", "error"])
        .map_err(write_err)?;
    let mut scratch = qabilet_core::irt::EapScratch::default();
    let (mut rows, mut bad) = (0u64, 0u64);
    for record in reader.records() {
        let record = record.map_err(|e| {
            input_error(
                e.position().map_or(0, |p| p.line()),
                format!("unreadable CSV: {e}"),
            )
        })?;
        rows += 1;
        let line = record.position().map_or(0, |p| p.line());
        let id = record.get(0).unwrap_or("").trim();
        let pattern = read_pattern(&bank, &columns, &record, header.len());
        match pattern {
            Ok(pattern) => {
                let estimate: Estimate = match args.estimator {
                    Estimator::Eap => grid.estimate(&pattern, &mut scratch),
                    other => point_estimate(&bank, &pattern, other),
                };
                let status = estimate.status.to_string();
                writer
                    .write_record([id, &number(estimate.theta), &number(estimate.se), &status, ""])
                    .map_err(write_err)?;
            }
            Err(reason) => {
                if args.strict {
                    // The rows before the bad one are kept, as the message says.
                    files::commit_csv(writer)?;
                    return Err(CliError::StrictRow {
                        path: in_name.to_owned(),
                        line,
                        reason,
                    });
                }
                bad += 1;
                writer
                    .write_record([id, "", "", "invalid", &format!("line {line}: {reason}")])
                    .map_err(write_err)?;
            }
        }
    }
    files::commit_csv(writer)?;
    eprintln!(
        "qabilet: estimated {} of {rows} patterns ({}){}",
        rows - bad,
        args.estimator,
        if bad > 0 {
            format!("; {bad} invalid (see the error cells)")
        } else {
            String::new()
        }
    );
    Ok(())
}

fn read_pattern(
    bank: &ItemBank,
    columns: &[usize],
    record: &csv::StringRecord,
    width: usize,
) -> Result<ResponsePattern, String> {
    if record.len() != width {
        return Err(format!("row has {} fields, the header has {width}", record.len()));
    }
    let mut responses = vec![None; bank.items.len()];
    for (cell, &item) in record.iter().skip(1).zip(columns) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let k: u32 = cell.parse().map_err(|_| {
            format!(
                "item '{}': '{cell}' is not a category (a whole number)",
                bank.items[item].id
            )
        })?;
        responses[item] = Some(k);
    }
    ResponsePattern::new(bank, responses).map_err(|e| e.to_string())
}
