//! `qabilet cat simulate`: a simulation study of an adaptive test on an item bank, reported
//! as catsim and catR do (bias, RMSE, test length, SE, item exposure, test overlap, RMSE by
//! true-θ decile). `qabilet cat calibrate`: Sympson–Hetter exposure parameters by the
//! iterative simulation procedure, written back into the bank.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use qabilet_core::cat::{
    Calibration, CalibrationSpec, CatConfig, CatEngine, ContentTargets, Exposure, Selection,
    SimulationReport, SimulationSpec, StoppingRule, ThetaDistribution, calibrate_sympson_hetter, simulate,
};
use qabilet_core::irt::{Estimator, ItemBank};

use crate::error::CliError;
use crate::files::{self, Named};

pub(super) const LONG_ABOUT: &str = "\
Simulate adaptive tests on an item bank: simulees with true θ drawn from --theta-dist answer
by the item models; the report gives bias, RMSE and the θ̂–θ correlation of the final
estimate, mean/min/max test length, mean SE, why tests stopped, item exposure rates (maximum,
share of items never used, share above 0.2), the test overlap rate (mean share of items two
simulees have in common) and bias/RMSE by decile of true θ.

Interim θ is EAP (N(0,1) prior, 61 points on [−6, 6]) after every answer; its posterior SD is
the SE of --se-target. Selection: mfi (maximum Fisher information, default), kl
(Kullback–Leibler over θ̂ ± 3/√n, Chang & Ying 1996), astrat (a-stratified with --strata
strata, b closest to θ̂, Chang & Ying 1999). Exposure: none, randomesque:N (at random among
the N best, Kingsbury & Zara 1989), sympson-hetter (the bank's exposure.sympson_hetter).
--content FILE.json holds target shares, e.g. {\"number\": 0.5, \"space\": 0.3, \"verbal\": 0.2}
(Kingsbury & Zara 1989); items outside those areas are not given.

The study is reproducible: the same bank, settings and --seed give the same report.

Example:
  qabilet cat simulate --bank qabilet-core/tests/reference/irt/banks/twopl20.json --examinees 1000 --max-items 10";

/// Distribution of the simulees' true θ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThetaDist {
    /// N(0, 1).
    Normal,
    /// Uniform on [−3, 3).
    Uniform,
}

/// Item-selection criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SelectionArg {
    /// Maximum Fisher information at θ̂.
    Mfi,
    /// Kullback–Leibler information over θ̂ ± 3/√n.
    Kl,
    /// a-stratified, b closest to θ̂.
    Astrat,
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A readable summary.
    Text,
    /// One JSON object with the settings and the full report (exposure and selection rates
    /// per item id).
    Json,
}

/// The rules of the adaptive test, shared by `cat simulate` and `cat calibrate`.
#[derive(Debug, Args)]
pub struct CatRulesArgs {
    /// No SE-based stop before this many items.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_items: usize,
    /// Maximum test length.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_items: usize,
    /// Stop once SE(θ̂) ≤ this (default: fixed length --max-items).
    #[arg(long, value_name = "SE")]
    pub se_target: Option<f64>,
    /// Item selection.
    #[arg(long, value_enum, value_name = "mfi|kl|astrat", default_value_t = SelectionArg::Mfi, hide_possible_values = true)]
    pub selection: SelectionArg,
    /// Number of a-strata for --selection astrat.
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub strata: usize,
    /// Content targets (JSON object area → proportion).
    #[arg(long, value_name = "FILE.json")]
    pub content: Option<PathBuf>,
    /// Final estimator.
    #[arg(long, value_name = "eap|map|mle|wle", default_value = "eap")]
    pub estimator: Estimator,
}

impl CatRulesArgs {
    /// The configuration these flags describe, with `exposure` control.
    fn config(&self, exposure: Exposure) -> Result<CatConfig, CliError> {
        let content = match &self.content {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))?;
                let targets: BTreeMap<String, f64> = serde_json::from_str(&text).map_err(|e| {
                    CliError::Usage(format!(
                        "{}: expected a JSON object of area → proportion: {e}",
                        path.display()
                    ))
                })?;
                Some(ContentTargets(targets))
            }
        };
        let selection = match self.selection {
            SelectionArg::Mfi => Selection::Mfi,
            SelectionArg::Kl => Selection::Kl,
            SelectionArg::Astrat => Selection::AStratified { strata: self.strata },
        };
        Ok(CatConfig {
            selection,
            exposure,
            content,
            stopping: StoppingRule {
                min_items: self.min_items,
                max_items: self.max_items,
                se_target: self.se_target,
            },
            final_estimator: self.estimator,
        })
    }
}

impl ThetaDist {
    fn distribution(self) -> ThetaDistribution {
        match self {
            ThetaDist::Normal => ThetaDistribution::STANDARD_NORMAL,
            ThetaDist::Uniform => ThetaDistribution::UNIFORM_3,
        }
    }
}

/// Arguments of `qabilet cat simulate`.
#[derive(Debug, Args)]
pub struct CatSimulateArgs {
    /// Item bank (JSON, as for `irt score`).
    #[arg(long, value_name = "FILE.json")]
    pub bank: PathBuf,
    /// Number of simulees (≥ 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    pub examinees: u32,
    /// Distribution of true θ: normal N(0, 1) or uniform on [−3, 3).
    #[arg(long, value_enum, value_name = "normal|uniform", default_value_t = ThetaDist::Normal, hide_possible_values = true)]
    pub theta_dist: ThetaDist,
    /// Seed of every random draw.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// The rules of the test.
    #[command(flatten)]
    pub rules: CatRulesArgs,
    /// Exposure control: none, randomesque:N or sympson-hetter.
    #[arg(
        long,
        value_name = "none|randomesque:N|sympson-hetter",
        default_value = "none"
    )]
    pub exposure: Exposure,
    /// Report format.
    #[arg(long, value_enum, value_name = "text|json", default_value_t = ReportFormat::Text, hide_possible_values = true)]
    pub format: ReportFormat,
}

pub(super) const CALIBRATE_LONG_ABOUT: &str = "\
Calibrate the Sympson–Hetter exposure parameters K_i of an item bank for a target maximum
exposure rate --r-max, by the iterative procedure of Sympson & Hetter (1985; van der Linden &
Glas, Elements of Adaptive Testing, ch. on exposure control): start with K_i = 1; each round
simulate --examinees simulees with the current K_i and the test rules given (as for
`cat simulate`), record every item's selection rate P(S) (chosen, whether then given or set
aside) and exposure rate P(A); set K_i = 1 where P(S) ≤ r_max, else K_i = r_max / P(S).
Rounds stop once every P(A) ≤ r_max + --tolerance (that round's K_i are written) or after
--rounds rounds (the last update is written). Round t uses seed S + t − 1.

With N simulees the realised rates scatter about K_i·P(S) by about √(r_max(1 − r_max)/N), and
the highest limited item lies about twice that above r_max: allow for it in --tolerance or
raise --examinees. A per-round table goes to stderr; the bank is written to --out in the bank
format of norms/IRT.md, one item per line, with every item's exposure.sympson_hetter set
(other fields kept), for `cat simulate --exposure sympson-hetter`.

Example:
  qabilet cat calibrate --bank bank.json --r-max 0.25 --examinees 2000 --rounds 15 --max-items 20 --out bank_sh.json";

/// Arguments of `qabilet cat calibrate`.
#[derive(Debug, Args)]
pub struct CatCalibrateArgs {
    /// Item bank (JSON, as for `irt score`); its own Sympson–Hetter parameters are ignored.
    #[arg(long, value_name = "FILE.json")]
    pub bank: PathBuf,
    /// Target maximum exposure rate, in (0, 1].
    #[arg(long, value_name = "R")]
    pub r_max: f64,
    /// Simulees per round (≥ 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    pub examinees: u32,
    /// Most rounds (≥ 1).
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Stop once every exposure rate is ≤ r_max + this.
    #[arg(long, value_name = "T", default_value_t = 0.02)]
    pub tolerance: f64,
    /// Distribution of true θ: normal N(0, 1) or uniform on [−3, 3).
    #[arg(long, value_enum, value_name = "normal|uniform", default_value_t = ThetaDist::Normal, hide_possible_values = true)]
    pub theta_dist: ThetaDist,
    /// Seed of the first round (round t: S + t − 1).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// The rules of the test.
    #[command(flatten)]
    pub rules: CatRulesArgs,
    /// Where to write the bank with its Sympson–Hetter parameters.
    #[arg(long, value_name = "FILE.json")]
    pub out: PathBuf,
}

fn calibrate(args: &CatCalibrateArgs) -> Result<(), CliError> {
    let mut inputs = vec![Named::new("--bank", &args.bank)];
    inputs.extend(
        args.rules
            .content
            .iter()
            .map(|path| Named::new("--content", path)),
    );
    files::refuse_same_file(&Named::new("--out", &args.out), &inputs)?;
    let (_, bank) = files::read_bank(&args.bank)?;
    let config = args.rules.config(Exposure::None)?;
    let spec = CalibrationSpec {
        examinees: args.examinees as usize,
        theta: args.theta_dist.distribution(),
        r_max: args.r_max,
        rounds: args.rounds as usize,
        tolerance: args.tolerance,
        seed: args.seed,
    };
    let calibration = calibrate_sympson_hetter(&bank, &config, &spec)
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.bank.display())))?;
    let out = bank.with_sympson_hetter(&calibration.k).to_json();
    files::write_atomically(&args.out, out.as_bytes())?;
    eprint!("{}", calibration_table(args, &bank, &calibration));
    Ok(())
}

fn calibration_table(args: &CatCalibrateArgs, bank: &ItemBank, c: &Calibration) -> String {
    let limit = args.r_max + args.tolerance;
    let mut s = format!(
        "Sympson–Hetter calibration: r_max {} (tolerance {}), {} examinees per round, seed {}\n",
        args.r_max, args.tolerance, args.examinees, args.seed
    );
    s += "round  K<1  max P(S)  max P(A)  over  RMSE    length\n";
    for r in &c.rounds {
        s += &format!(
            "{:>5}  {:>3}  {:>8.4}  {:>8.4}  {:>4}  {:.4}  {:>6.2}\n",
            r.round,
            r.limited_items,
            r.max_selection_rate,
            r.max_administration_rate,
            r.items_over,
            r.rmse,
            r.mean_length
        );
    }
    let limited = c.k.iter().filter(|&&k| k < 1.0).count();
    let last = c.rounds.last().map_or(f64::NAN, |r| r.max_administration_rate);
    s += &if c.converged {
        format!(
            "converged in round {}: max P(A) {last:.4} ≤ {limit:.4}; ",
            c.rounds.len()
        )
    } else {
        format!(
            "not converged after {} rounds (max P(A) {last:.4} > {limit:.4}); the last update is written; ",
            c.rounds.len()
        )
    };
    s += &format!(
        "{limited} of {} items with K < 1, written to {}\n",
        bank.items.len(),
        args.out.display()
    );
    s
}

pub(super) fn run(args: &CatSimulateArgs) -> Result<(), CliError> {
    let (_, bank) = files::read_bank(&args.bank)?;
    let config = args.rules.config(args.exposure)?;
    let spec = SimulationSpec {
        examinees: args.examinees as usize,
        theta: args.theta_dist.distribution(),
        seed: args.seed,
    };
    let cat_err = |e: qabilet_core::cat::CatError| CliError::Usage(format!("{}: {e}", args.bank.display()));
    let engine = CatEngine::new(&bank).map_err(cat_err)?;
    let report = simulate(&engine, &config, &spec).map_err(cat_err)?;
    let out = match args.format {
        ReportFormat::Text => text_report(args, &bank, &config, &report),
        ReportFormat::Json => json_report(args, &bank, &config, &spec, &report)?,
    };
    files::write_output("-", out.as_bytes())
}

fn text_report(args: &CatSimulateArgs, bank: &ItemBank, config: &CatConfig, r: &SimulationReport) -> String {
    let mut s = String::new();
    let selection = match config.selection {
        Selection::Mfi => "mfi".to_owned(),
        Selection::Kl => "kl".to_owned(),
        Selection::AStratified { strata } => format!("astrat ({strata} strata)"),
    };
    let content = config.content.as_ref().map_or("none".to_owned(), |c| {
        c.0.iter()
            .map(|(a, p)| format!("{a} {p}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let se = config
        .stopping
        .se_target
        .map_or("none".to_owned(), |s| s.to_string());
    let dist = match args.theta_dist {
        ThetaDist::Normal => "N(0, 1)",
        ThetaDist::Uniform => "U(-3, 3)",
    };
    s += &format!(
        "CAT simulation: {} examinees, true theta ~ {dist}, seed {}\n",
        r.examinees, args.seed
    );
    s += &format!(
        "bank {} ({} items); selection {selection}; exposure {}; content {content}\n",
        args.bank.display(),
        bank.items.len(),
        config.exposure
    );
    s += &format!(
        "stopping: {}-{} items, SE target {se}; interim EAP, final {}\n\n",
        config.stopping.min_items, config.stopping.max_items, config.final_estimator
    );
    s += &format!(
        "estimation  bias {:+.4}  RMSE {:.4}  r {:.4}  mean SE {:.4}  ({} of {} estimated)\n",
        r.bias, r.rmse, r.correlation, r.mean_se, r.estimated, r.examinees
    );
    let reasons: Vec<String> = r.stop_reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
    s += &format!(
        "length      mean {:.2}  min {}  max {}  stopped: {}\n",
        r.mean_length,
        r.min_length,
        r.max_length,
        reasons.join(", ")
    );
    s += &format!(
        "exposure    max {:.4}  never used {:.1}%  over 0.2 {:.1}%  test overlap {:.4}\n\n",
        r.exposure.max,
        100.0 * r.exposure.never_used,
        100.0 * r.exposure.over_0_2,
        r.overlap
    );
    s += "by true-theta decile\ndecile  theta_min  theta_max      n     bias    rmse  length\n";
    for (d, row) in r.deciles.iter().enumerate() {
        s += &format!(
            "{:>6}  {:>9.3}  {:>9.3}  {:>5}  {:>+7.4}  {:>6.4}  {:>6.2}\n",
            d + 1,
            row.theta_min,
            row.theta_max,
            row.examinees,
            row.bias,
            row.rmse,
            row.mean_length
        );
    }
    s
}

fn json_report(
    args: &CatSimulateArgs,
    bank: &ItemBank,
    config: &CatConfig,
    spec: &SimulationSpec,
    r: &SimulationReport,
) -> Result<String, CliError> {
    let to_value = |v: serde_json::Result<serde_json::Value>| {
        v.map_err(|e| CliError::write("standard output", io::Error::other(e)))
    };
    let mut report = to_value(serde_json::to_value(r))?;
    // Exposure and selection rates by item id rather than by position.
    let by_id = |rates: &[f64]| -> serde_json::Value {
        bank.items
            .iter()
            .zip(rates)
            .map(|(item, &rate)| (item.id.clone(), serde_json::Value::from(rate)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    report["exposure"]["rates"] = by_id(&r.exposure.rates);
    report["exposure"]["selection_rates"] = by_id(&r.exposure.selection_rates);
    let out = serde_json::json!({
        "bank": args.bank.display().to_string(),
        "bank_items": bank.items.len(),
        "config": to_value(serde_json::to_value(config))?,
        "simulation": to_value(serde_json::to_value(spec))?,
        "report": report,
    });
    let mut text = serde_json::to_string_pretty(&out)
        .map_err(|e| CliError::write("standard output", io::Error::other(e)))?;
    text.push('\n');
    Ok(text)
}

/// `qabilet cat …`.
#[derive(Debug, clap::Subcommand)]
pub enum CatCommand {
    /// Simulate adaptive tests on an item bank and report precision, length and exposure.
    #[command(long_about = LONG_ABOUT)]
    Simulate(CatSimulateArgs),
    /// Calibrate the bank's Sympson–Hetter exposure parameters for a maximum exposure rate.
    #[command(long_about = CALIBRATE_LONG_ABOUT)]
    Calibrate(CatCalibrateArgs),
}

/// Runs `qabilet cat …`.
pub(super) fn dispatch(command: &CatCommand) -> Result<(), CliError> {
    match command {
        CatCommand::Simulate(args) => run(args),
        CatCommand::Calibrate(args) => calibrate(args),
    }
}
