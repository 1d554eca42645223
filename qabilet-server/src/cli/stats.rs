//! `qabilet stats …`: sample statistics for researchers: `stats dif`, Mantel–Haenszel DIF
//! between two groups (e.g. the Kazakh and Russian versions of a test), and `stats
//! reliability`, alpha, split-half and SEM per age band of a standardisation sample.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use qabilet_core::norms::StandardisationSample;
use qabilet_core::stats::{
    DifError, DifReport, DifSample, DifStatus, EtsClass, Group, ReliabilityOptions, sample_reliability,
};

use crate::error::CliError;
use crate::files::{self, Named};
use crate::norm_dir;

const DIF_LONG_ABOUT: &str = "\
Mantel–Haenszel differential item functioning (DIF) of dichotomous items between a focal and
a reference group, matched on the total score, with the ETS A/B/C classification.

INPUT (CSV, UTF-8, header row): an `id` column, the group column named by --group, and every
other column is an item scored 0 (wrong) or 1 (right); an empty cell is a missing response.
  id,language,i01,i02,i03,…
  c0001,kk,1,0,1,…
  c0002,ru,1,1,,…
Rows whose group value is neither --focal nor --reference are ignored (and counted). A row
with a missing response on any item is left out of every item's analysis (and counted), so
all items are matched on one criterion: the total score over all items, the studied item
included (Holland & Thayer 1988). Any cell other than 0, 1 or empty is an error naming its
line and column (exit 2); so is a repeated id.

OUTPUT (CSV), one row per item, in input order:
  item,n_reference,n_focal,p_reference,p_focal,alpha_mh,chi2_mh,p_value,delta_mh,se_delta,
  class,favours,status
n_* examinees analysed; p_* proportion correct (unmatched); alpha_mh the MH common odds
ratio (reference over focal); chi2_mh the MH chi-square with continuity correction and
p_value its upper tail (1 df); delta_mh = −2.35·ln(alpha_mh) (ETS delta metric; negative:
the item is harder for the focal group) and se_delta its standard error
(Robins–Breslow–Greenland); class A, B or C; favours reference or focal (the sign of
delta_mh, whatever the class). status:
  ok              every column filled
  constant        everyone analysed answered alike: no statistics
  no_information  no score level holds both groups with both answers: no statistics
  unbounded       chi2_mh and p_value only: alpha_mh is 0 or infinite (favours says which)

ETS CLASSES (.05 level), in this order: A if |delta| < 1 or p_value ≥ .05; C if
|delta| ≥ 1.5 and |delta| − 1 > Φ⁻¹(.95)·se_delta, Φ⁻¹(.95) = 1.6449… (|delta| significantly
greater than 1, one-sided); B otherwise.

A summary (items per class, examinees used and left out) is printed on stderr. Rules and
sources: norms/DIF.md.

Exit codes: 0 done; 1 results could not be written; 2 unreadable input, a bad header or
cell, a group with no complete examinee, or an --output that is the --sample file.

Example:
  qabilet stats dif --sample qabilet-core/tests/reference/dif/sample.csv \\
      --group language --focal kk --reference ru";

/// `qabilet stats …`.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Mantel–Haenszel DIF of 0/1 items between a focal and a reference group, with ETS
    /// A/B/C classes.
    #[command(long_about = DIF_LONG_ABOUT)]
    Dif(DifArgs),
    /// Cronbach's alpha, split-half (Spearman–Brown) and SEM per subtest and age band of a
    /// standardisation sample, from its item columns.
    #[command(long_about = RELIABILITY_LONG_ABOUT)]
    Reliability(ReliabilityArgs),
}

/// Arguments of `qabilet stats dif`.
#[derive(Debug, Args)]
pub struct DifArgs {
    /// Responses (CSV, `-` for standard input): id,<group column>,<item>… scored 0/1.
    #[arg(long, value_name = "FILE.csv|-")]
    pub sample: String,
    /// Name of the column holding each examinee's group.
    #[arg(long, value_name = "COLUMN")]
    pub group: String,
    /// Group value of the focal group (e.g. kk).
    #[arg(long, value_name = "VALUE")]
    pub focal: String,
    /// Group value of the reference group (e.g. ru).
    #[arg(long, value_name = "VALUE")]
    pub reference: String,
    /// Where to write the results (`-` for standard output).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub output: String,
}

/// Runs a `qabilet stats` subcommand.
pub(super) fn run(command: StatsCommand) -> Result<(), CliError> {
    match command {
        StatsCommand::Dif(args) => dif(&args),
        StatsCommand::Reliability(args) => reliability(&args),
    }
}

/// A number as the shortest text that reads back as the same f64; exponent notation for
/// very small or very large magnitudes (p-values can be 1e-40).
fn number(x: f64) -> String {
    let m = x.abs();
    if m != 0.0 && !(1e-4..1e16).contains(&m) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

fn dif(args: &DifArgs) -> Result<(), CliError> {
    let (focal, reference) = (args.focal.trim(), args.reference.trim());
    if focal == reference {
        return Err(CliError::Usage(format!(
            "--focal and --reference are both '{focal}': name two different groups"
        )));
    }
    let in_name = args.sample.as_str();
    files::refuse_same_file(
        &Named::new("--output", &args.output),
        &[Named::new("--sample", in_name)],
    )?;
    let (mut reader, header) = files::csv_input(in_name)?;
    let input_error = |line: u64, reason: String| CliError::Input {
        path: in_name.to_owned(),
        line,
        reason,
    };
    let names: Vec<&str> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            }
            .trim()
        })
        .collect();
    let mut seen = HashSet::new();
    for name in &names {
        if !seen.insert(*name) {
            return Err(input_error(1, format!("column '{name}' appears twice")));
        }
    }
    let id_col = names
        .iter()
        .position(|&n| n == "id")
        .ok_or_else(|| input_error(1, "no 'id' column".into()))?;
    let group_col = names
        .iter()
        .position(|&n| n == args.group.trim())
        .ok_or_else(|| {
            input_error(
                1,
                format!("no group column '{}' (columns: {})", args.group, names.join(",")),
            )
        })?;
    if group_col == id_col {
        return Err(CliError::Usage("--group cannot be the 'id' column".into()));
    }
    let item_cols: Vec<usize> = (0..names.len())
        .filter(|&i| i != id_col && i != group_col)
        .collect();
    let items: Vec<String> = item_cols.iter().map(|&i| names[i].to_owned()).collect();
    let mut sample = DifSample::new(items).map_err(|e| match e {
        DifError::NoItems => input_error(
            1,
            "no item columns (every column other than id and the group is an item)".into(),
        ),
        other => input_error(1, other.to_string()),
    })?;
    let mut ids = HashSet::new();
    let mut group_values = BTreeSet::new();
    let mut responses = vec![None; item_cols.len()];
    for record in reader.records() {
        let record = record.map_err(|e| {
            input_error(
                e.position().map_or(0, |p| p.line()),
                format!("unreadable CSV: {e}"),
            )
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != names.len() {
            return Err(input_error(
                line,
                format!("row has {} fields, the header has {}", record.len(), names.len()),
            ));
        }
        let id = record[id_col].trim();
        if !ids.insert(id.to_owned()) {
            return Err(input_error(line, format!("id '{id}' appears twice")));
        }
        let value = record[group_col].trim();
        let group = if value == focal {
            Group::Focal
        } else if value == reference {
            Group::Reference
        } else {
            Group::Other
        };
        if group_values.len() < 20 {
            group_values.insert(value.to_owned());
        }
        for (slot, &col) in responses.iter_mut().zip(&item_cols) {
            *slot = match record[col].trim() {
                "" => None,
                "0" => Some(false),
                "1" => Some(true),
                other => {
                    return Err(input_error(
                        line,
                        format!(
                            "id '{id}', column '{}': '{other}' is not 0, 1 or empty",
                            names[col]
                        ),
                    ));
                }
            };
        }
        // One response per item by construction.
        sample
            .push(group, &responses)
            .map_err(|e| input_error(line, e.to_string()))?;
    }
    let report = sample.analyse().map_err(|e| match e {
        DifError::EmptyGroup {
            group,
            excluded_missing,
        } => {
            let value = if group == Group::Focal { focal } else { reference };
            let seen: Vec<String> = group_values.iter().map(|v| format!("'{v}'")).collect();
            CliError::Usage(format!(
                "{in_name}: no {group}-group examinee ({} = '{value}') with a response to every item \
                 ({excluded_missing} left out for missing responses); values seen in {}: {}",
                args.group,
                args.group,
                seen.join(", ")
            ))
        }
        other => CliError::Usage(format!("{in_name}: {other}")),
    })?;
    write(args, &report)?;
    let e = &report.examinees;
    let unclassified = report
        .items
        .iter()
        .filter(|i| i.mh.status != DifStatus::Ok)
        .count();
    eprintln!(
        "qabilet: MH DIF, focal {focal} vs reference {reference}, {} items: A {}, B {}, C {}{}; \
         examinees used {} ({reference} {}, {focal} {}), left out {} with missing responses, \
         {} in other groups; {} score levels hold both groups",
        report.items.len(),
        report.count(EtsClass::A),
        report.count(EtsClass::B),
        report.count(EtsClass::C),
        if unclassified > 0 {
            format!(", not classified {unclassified} (see status)")
        } else {
            String::new()
        },
        e.reference + e.focal,
        e.reference,
        e.focal,
        e.missing_reference + e.missing_focal,
        e.other,
        report.strata,
    );
    Ok(())
}

fn write(args: &DifArgs, report: &DifReport) -> Result<(), CliError> {
    let mut writer = files::csv_output(&args.output)?;
    let write_err = files::csv_write_error(&args.output);
    writer
        .write_record([
            "item",
            "n_reference",
            "n_focal",
            "p_reference",
            "p_focal",
            "alpha_mh",
            "chi2_mh",
            "p_value",
            "delta_mh",
            "se_delta",
            "class",
            "favours",
            "status",
        ])
        .map_err(write_err)?;
    for item in &report.items {
        let mh = &item.mh;
        writer
            .write_record([
                item.item.clone(),
                item.n_reference.to_string(),
                item.n_focal.to_string(),
                number(item.p_reference),
                number(item.p_focal),
                opt(mh.alpha_mh),
                opt(mh.chi2_mh),
                opt(mh.p_value),
                opt(mh.delta_mh),
                opt(mh.se_delta),
                mh.class.map(|c| c.to_string()).unwrap_or_default(),
                mh.favours.map(|f| f.to_string()).unwrap_or_default(),
                mh.status.to_string(),
            ])
            .map_err(write_err)?;
    }
    files::commit_csv(writer)
}

const RELIABILITY_LONG_ABOUT: &str = "\
Internal-consistency reliability of each subtest per age band of a standardisation sample:
Cronbach's alpha, split-half (odd–even items) with the Spearman–Brown correction, and the
standard error of measurement on the battery's scaled-score scale.

INPUT (CSV, UTF-8, header row), one row per child, as for norm building:
  id,birth_date,test_date,sex,language,<subtest>…,<subtest>.<item>…[,weight]
  c0001,2018-03-14,2025-04-01,f,kk,21,…,1,0,2,…,1.0
Raw-score columns are named by subtest id, item columns `<subtest>.<item-id>` with the item
ids of battery.toml; an empty cell means not administered. The whole file is validated
first: every problem (up to 100) is listed as line, column and reason, with exit code 2 —
missing or repeated ids, invalid dates, ages outside the battery's range (calendar-exact),
raw scores outside 0…raw max, item scores outside 0…item max, unknown columns, weights
that are not positive.

OUTPUT (CSV), one row per subtest with a raw or item column (battery order) and age band:
  subtest,age_min_months,age_max_months,n,items,alpha,split_half,sem_alpha,status
n children in the band with every item column of the subtest filled (listwise; they alone
are analysed); items the subtest's item columns; alpha = k/(k−1)·(1 − Σσᵢ²/σ²_X);
split_half = 2r/(1+r), r the correlation of odd-item and even-item totals (items in
battery order); sem_alpha = SD·√(1 − alpha), SD of the scaled-score scale (3). Weights are
not used. status:
  ok                    every column filled
  too_few_items         fewer than 2 item columns (e.g. a speed test): nothing computed
  too_few_children      fewer than --min-n complete cases: nothing computed
  zero_variance         everyone in the band has the same total: nothing computed
  split_half_undefined  alpha and SEM only: a half's total does not vary, or r = −1

Exit codes: 0 done; 1 results could not be written; 2 unreadable battery or sample, a
sample with problems, or an --output that is one of the files read.

Example:
  qabilet stats reliability --sample qabilet-core/tests/reference/reliability/sample.csv \\
      --battery norms/qabilet-primary-demo";

/// Arguments of `qabilet stats reliability`.
#[derive(Debug, Args)]
pub struct ReliabilityArgs {
    /// Standardisation sample (CSV, `-` for standard input):
    /// id,birth_date,test_date,sex,language,<subtest>…,<subtest>.<item>…[,weight].
    #[arg(long, value_name = "FILE.csv|-")]
    pub sample: String,
    /// Battery folder holding battery.toml, e.g. norms/qabilet-primary-demo.
    #[arg(long, value_name = "DIR")]
    pub battery: PathBuf,
    /// Width of the age bands in months, from the battery's youngest age.
    #[arg(long, value_name = "MONTHS", default_value_t = 12, value_parser = clap::value_parser!(u16).range(1..))]
    pub band_months: u16,
    /// Fewest complete cases in a band for which coefficients are computed (at least 2).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..))]
    pub min_n: u32,
    /// Where to write the results (`-` for standard output).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub output: String,
}

fn reliability(args: &ReliabilityArgs) -> Result<(), CliError> {
    let in_name = args.sample.as_str();
    files::refuse_same_file(
        &Named::new("--output", &args.output),
        &[
            Named::new("--sample", in_name),
            Named::new("--battery", args.battery.join("battery.toml")),
        ],
    )?;
    let (_, battery) = norm_dir::read_battery(&args.battery)?;
    let text = files::read_input(in_name)?;
    let sample = StandardisationSample::parse(&battery, &text).map_err(|e| CliError::sample(in_name, &e))?;
    let options = ReliabilityOptions {
        band_months: args.band_months,
        min_children: usize::try_from(args.min_n).unwrap_or(usize::MAX),
        ..ReliabilityOptions::for_battery(&battery)
    };
    let results = sample_reliability(&battery, &sample, &options);

    let mut writer = files::csv_output(&args.output)?;
    let write_err = files::csv_write_error(&args.output);
    writer
        .write_record([
            "subtest",
            "age_min_months",
            "age_max_months",
            "n",
            "items",
            "alpha",
            "split_half",
            "sem_alpha",
            "status",
        ])
        .map_err(write_err)?;
    for r in &results {
        writer
            .write_record([
                r.subtest.clone(),
                r.age_min_months.to_string(),
                r.age_max_months.to_string(),
                r.n.to_string(),
                r.items.to_string(),
                opt(r.alpha),
                opt(r.split_half),
                opt(r.sem_alpha),
                r.status.to_string(),
            ])
            .map_err(write_err)?;
    }
    files::commit_csv(writer)?;
    let computed = results.iter().filter(|r| r.alpha.is_some()).count();
    eprintln!(
        "qabilet: reliability of {} children, {} subtest×band rows, {computed} with coefficients; \
         bands of {} months, at least {} complete cases",
        sample.children.len(),
        results.len(),
        args.band_months,
        args.min_n,
    );
    Ok(())
}
