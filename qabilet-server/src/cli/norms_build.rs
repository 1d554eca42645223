//! `qabilet norms build`: a norm folder from a standardisation sample (continuous norming in
//! `qabilet_core::norms::build`), with `continuous.csv` and a diagnostics folder (text, JSON,
//! one SVG of percentile curves per subtest). Subtests are fitted on several threads; nothing
//! is written unless the whole norm set is built and accepted by the scorer's validation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::{Args, ValueEnum};
use qabilet_core::battery::Battery;
use qabilet_core::norms::build::{self, BuildOptions, ProvenanceInput, SubtestFit};
use qabilet_core::norms::{self, NormStatus, ReliabilityRow, StandardisationSample};

use crate::error::CliError;
use crate::files::{self, AtomicFile, Named};
use crate::{norm_dir, svg};

pub const LONG_ABOUT: &str = "\
Build a norm folder from a standardisation sample by continuous norming.

For every subtest, the distribution of raw scores given age is fitted over the whole age
range — an LMS (Box-Cox) model with smooth age curves, or distribution regression as a
penalised correction to it, chosen by 5-fold cross-validation — then made monotone in raw score and in age,
and tabulated as scaled scores per age band at each band's mid-age. Composite norms come from
the sample's sums of scaled scores, reliabilities from item columns (Cronbach's alpha per
band; --reliability supplies stated values where there are none), base rates from the
sample. The method is described in norms/BUILDING.md.

Input: one row per child, id,birth_date,test_date,sex,language,<subtest raw>…, optional item
columns <subtest>.<item> and an optional weight column (the format of `qabilet norms
simulate`). Every problem in the sample is reported with its line and column.

Writes into --out: battery.toml (copied), subtests.csv, composites.csv, reliability.csv,
base_rates.csv (when the sample allows), provenance.toml, continuous.csv (the unrounded z of
every raw score at every month) and diagnostics/ (report.txt, report.json, <subtest>.svg).
Nothing is written unless the whole set is built and passes the scorer's validation.

Exit codes: 0 built; 1 files could not be written; 2 unreadable or invalid battery, sample
or reliability file, a sample that cannot support the norms (the message says where), or a
file to write that is the --sample or --reliability file.

Example (the demonstration norms' own sample; about 2 s on 2 cores):
  qabilet norms build --sample norms/qabilet-primary-demo/standardisation/sample.csv \\
    --battery norms/qabilet-primary-demo --out /tmp/demo-norms \\
    --reliability norms/qabilet-primary-demo/standardisation/stated_reliability.csv";

/// Who may use the norms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// Not for decisions about children (simulated or unapproved samples).
    Demonstration,
    /// Approved for clinical use.
    Clinical,
}

/// Arguments of `qabilet norms build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Standardisation sample (CSV, `-` for standard input).
    #[arg(long, value_name = "FILE|-")]
    pub sample: String,
    /// Battery folder whose battery.toml defines the subtests and composites.
    #[arg(long, value_name = "DIR")]
    pub battery: PathBuf,
    /// Folder to write the norm set to (created if missing; may be the battery folder).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Stated reliabilities for subtests without item columns, in the reliability.csv format
    /// (scale,age_min_months,age_max_months,reliability; subtest rows only).
    #[arg(long, value_name = "FILE")]
    pub reliability: Option<PathBuf>,
    /// Width of the age bands of subtests.csv, months.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=84))]
    pub band_months: u16,
    /// Width of the age bands of reliability.csv, months.
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = clap::value_parser!(u16).range(1..=84))]
    pub reliability_band_months: u16,
    /// Status written to provenance.toml. Only say clinical for a real sample approved for use.
    #[arg(long, value_enum, default_value_t = Status::Demonstration)]
    pub status: Status,
    /// Notice every score on these norms carries (default for demonstration status: not for
    /// clinical decisions).
    #[arg(long, value_name = "TEXT")]
    pub notice: Option<String>,
    /// Intended use written to provenance.toml.
    #[arg(long, value_name = "TEXT")]
    pub intended_use: Option<String>,
    /// Where the sample came from, in words, for provenance.toml's method.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub sample_description: String,
    /// Date written as `created` (ISO, default today) — fix it to rebuild byte for byte.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub created: Option<String>,
    /// Worker threads fitting subtests, 1–256 (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

const DEMONSTRATION_NOTICE: &str = "demonstration norms — not for clinical decisions";
const DEMONSTRATION_USE: &str = "Not approved for the assessment, diagnosis, classification or \
placement of any child: for software demonstration, testing and research on the norming method.";

pub fn run(args: &BuildArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let (battery_toml, battery) = norm_dir::read_battery(&args.battery)?;
    let carried = build::CarriedFiles {
        item_banks: norm_dir::read_item_banks(&args.battery, &battery)?,
        content: norm_dir::read_content(&args.battery, &battery)?,
        battery_toml,
    };
    let in_name = args.sample.as_str();
    let bytes = files::read_input(in_name)?;
    let sample = StandardisationSample::parse(&battery, &bytes).map_err(|e| CliError::sample(in_name, &e))?;
    eprintln!("read {} children from {in_name}", sample.children.len());
    let explicit_reliability = match &args.reliability {
        Some(path) => read_reliability(path, &battery)?,
        None => Vec::new(),
    };
    let options = BuildOptions {
        band_months: args.band_months,
        reliability_band_months: args.reliability_band_months,
        explicit_reliability,
        ..BuildOptions::default()
    };
    let created = match &args.created {
        Some(date) => {
            date.parse::<jiff::civil::Date>()
                .map_err(|e| CliError::Usage(format!("--created {date}: {e}")))?;
            date.clone()
        }
        None => today_utc()?,
    };
    if args.status == Status::Clinical && args.intended_use.as_deref().is_none_or(|u| u.trim().is_empty()) {
        return Err(CliError::Usage("--status clinical needs --intended-use".into()));
    }
    let fits = fit_all(&battery, &sample, &options, args.threads)?;
    let demonstration = args.status == Status::Demonstration;
    let provenance = ProvenanceInput {
        status: if demonstration {
            NormStatus::Demonstration
        } else {
            NormStatus::Clinical
        },
        notice: args.notice.clone().unwrap_or_else(|| {
            if demonstration {
                DEMONSTRATION_NOTICE.to_owned()
            } else {
                String::new()
            }
        }),
        intended_use: args.intended_use.clone().unwrap_or_else(|| {
            if demonstration {
                DEMONSTRATION_USE.to_owned()
            } else {
                String::new()
            }
        }),
        generator: generator_command(args, &created),
        created,
        sample_name: in_name.to_owned(),
        sample_sha256: norms::sha256(bytes.as_bytes()),
        sample_description: args.sample_description.clone(),
    };
    let built = build::assemble(&carried, &battery, &sample, &fits, &options, &provenance)
        .map_err(|e| CliError::Usage(format!("{in_name}: {e}")))?;
    write_folder(args, &built, &sample, &battery)?;
    eprintln!(
        "wrote {} ({} subtests, {} children) to {} in {:.2?}",
        if demonstration {
            "demonstration norms"
        } else {
            "norms"
        },
        battery.subtests.len(),
        sample.children.len(),
        args.out.display(),
        started.elapsed()
    );
    for w in &built.diagnostics.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

/// Fits every subtest on `threads` workers, reporting each as it finishes.
fn fit_all(
    battery: &Battery,
    sample: &StandardisationSample,
    options: &BuildOptions,
    threads: Option<u16>,
) -> Result<Vec<SubtestFit>, CliError> {
    let k = battery.subtests.len();
    let workers = threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(k.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SubtestFit, build::BuildError>>>> = Mutex::new(vec![None; k]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let s = next.fetch_add(1, Ordering::Relaxed);
                    if s >= k {
                        break;
                    }
                    let t = Instant::now();
                    let fit = build::fit_subtest(battery, sample, s, options);
                    let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                    match &fit {
                        Ok(f) => {
                            let c = &f.candidates[f.chosen];
                            eprintln!(
                                "fitted {} ({finished}/{k}) in {:.2?}: {} {:?}{}",
                                battery.subtests[s].id,
                                t.elapsed(),
                                c.family,
                                c.degrees,
                                c.lambda.map(|l| format!(" λ = {l}")).unwrap_or_default()
                            );
                        }
                        Err(_) => eprintln!("could not fit {} ({finished}/{k})", battery.subtests[s].id),
                    }
                    results.lock().unwrap_or_else(|p| p.into_inner())[s] = Some(fit);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| unreachable!("every subtest is fitted")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Today's date in UTC (the build has no other use for a time zone).
fn today_utc() -> Result<String, CliError> {
    let days = jiff::Timestamp::now().as_second().div_euclid(86_400);
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(days))
        .map(|d| d.to_string())
        .map_err(|e| CliError::Usage(format!("today's date: {e}")))
}

/// The command line as recorded in provenance.toml: run again on the same sample, it writes
/// the same files (the date is recorded as `--created`).
fn generator_command(args: &BuildArgs, created: &str) -> String {
    let mut cmd = format!(
        "qabilet norms build --sample {} --battery {} --out {}",
        shell_word(&args.sample),
        shell_word(&args.battery.display().to_string()),
        shell_word(&args.out.display().to_string())
    );
    if let Some(r) = &args.reliability {
        cmd.push_str(&format!(
            " --reliability {}",
            shell_word(&r.display().to_string())
        ));
    }
    if args.band_months != 3 {
        cmd.push_str(&format!(" --band-months {}", args.band_months));
    }
    if args.reliability_band_months != 12 {
        cmd.push_str(&format!(
            " --reliability-band-months {}",
            args.reliability_band_months
        ));
    }
    if args.status == Status::Clinical {
        cmd.push_str(" --status clinical");
    }
    for (flag, value) in [("--notice", &args.notice), ("--intended-use", &args.intended_use)] {
        if let Some(v) = value {
            cmd.push_str(&format!(" {flag} {}", shell_word(v)));
        }
    }
    if !args.sample_description.is_empty() {
        cmd.push_str(&format!(
            " --sample-description {}",
            shell_word(&args.sample_description)
        ));
    }
    cmd.push_str(&format!(" --created {created}"));
    cmd
}

/// `word` as one POSIX shell word: as is when plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=-+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Reads `--reliability` (`qabilet_core::norms::stated_rows`: the reliability.csv format,
/// subtests of the battery), with the file and line of the first problem.
fn read_reliability(path: &Path, battery: &Battery) -> Result<Vec<ReliabilityRow>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))?;
    norms::stated_rows(battery, &path.display().to_string(), &text).map_err(|e| CliError::Input {
        path: e.file,
        line: e.line.unwrap_or(1) as u64,
        reason: e.reason,
    })
}

/// Writes every file of the norm set into `out`: each to its partial file first, and only
/// when all are written are they put in place (provenance.toml last), so a failure while
/// writing leaves the old folder as it was. No file written may be `--sample` or
/// `--reliability`; battery.toml and the item banks are copies of `--battery`'s, so `out` may
/// be the battery folder.
fn write_folder(
    args: &BuildArgs,
    built: &build::BuiltNorms,
    sample: &StandardisationSample,
    battery: &Battery,
) -> Result<(), CliError> {
    let out = args.out.as_path();
    let diagnostics_dir = out.join("diagnostics");
    let f = &built.files;
    let json = serde_json::to_string_pretty(&built.diagnostics)
        .map_err(|e| CliError::Usage(format!("diagnostics: {e}")))?;
    let mut to_write: Vec<(PathBuf, String)> = vec![
        (out.join("battery.toml"), f.battery_toml.clone()),
        (out.join("subtests.csv"), f.subtests_csv.clone()),
        (out.join("composites.csv"), f.composites_csv.clone()),
        (out.join("reliability.csv"), f.reliability_csv.clone()),
        (out.join("provenance.toml"), f.provenance_toml.clone()),
        (out.join("continuous.csv"), built.continuous_csv.clone()),
        (diagnostics_dir.join("report.txt"), built.diagnostics.to_text()),
        (diagnostics_dir.join("report.json"), json + "\n"),
    ];
    for (s, d) in built.diagnostics.subtests.iter().enumerate() {
        let points: Vec<(f64, u16)> = sample
            .children
            .iter()
            .filter_map(|c| {
                c.raw[s].map(|r| {
                    let age = f64::from(c.age.in_months().0)
                        + f64::from(c.age.days) / norms::simulate::DAYS_PER_MONTH;
                    (age, r)
                })
            })
            .collect();
        let chart = svg::percentile_curves(d, battery.age_min.0, &points);
        to_write.push((diagnostics_dir.join(format!("{}.svg", d.subtest)), chart));
    }
    if let Some(text) = &f.base_rates_csv {
        to_write.push((out.join("base_rates.csv"), text.clone()));
    }
    for (file, text) in &f.item_banks {
        to_write.push((out.join(file), text.clone()));
    }
    let mut inputs = vec![Named::new("--sample", &args.sample)];
    inputs.extend(args.reliability.iter().map(|p| Named::new("--reliability", p)));
    for (path, _) in &to_write {
        files::refuse_same_file(&Named::new("--out", path), &inputs)?;
    }
    // Item content is carried unchanged: written only into another folder, before the tables.
    if !f.content.is_empty() && !files::same_file(out, &args.battery) {
        norm_dir::write_content(out, &f.content)?;
    }
    // provenance.toml last: a folder whose provenance is new has every new table.
    to_write.sort_by_key(|(path, _)| path.file_name().is_some_and(|n| n == "provenance.toml"));
    let mut written = Vec::with_capacity(to_write.len());
    for (path, text) in &to_write {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| CliError::write(folder, e))?;
        }
        let mut file = AtomicFile::create(path).map_err(|e| CliError::write(path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| CliError::write(path, e))?;
        written.push(file);
    }
    let provenance = written.pop().unwrap_or_else(|| unreachable!("files to write"));
    for file in written {
        let path = file.target().to_owned();
        file.commit().map_err(|e| CliError::write(path, e))?;
    }
    if f.base_rates_csv.is_none() {
        // A stale base_rates.csv from an earlier build would be loaded with the new tables.
        let stale = out.join("base_rates.csv");
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError::write(&stale, e)),
        }
    }
    let path = provenance.target().to_owned();
    provenance.commit().map_err(|e| CliError::write(path, e))
}
