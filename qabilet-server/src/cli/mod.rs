//! Command-line interface: flags parsed by clap into raw arguments, then each subcommand
//! validates them and runs. The contract is stable (README.md, Tour 2 and the `--help` of each command): scripts and
//! other tools depend on it.

mod cat;
mod cohort;
pub(crate) mod iin_key;
mod irt;
mod norms;
mod norms_build;
mod operator;
mod referral;
mod report;
mod roster;
mod score;
pub mod serve;
mod stats;
mod tickets;
mod token;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::CliError;

/// Qabilet: aptitude diagnostics for children aged 5:0–11:11.
///
/// Scores children's raw subtest scores against a battery's norm tables, writing normed
/// scores with confidence intervals and profile analysis, and checks norm folders or rebuilds
/// demonstration norms. Every output names the battery, version and norm-set hash it was
/// computed with; outputs built on demonstration norms say so.
///
/// Start with: qabilet serve (the gRPC service), or for batch work:
/// qabilet score --battery norms/qabilet-primary-demo --input examples/children.csv
#[derive(Debug, Parser)]
#[command(name = "qabilet", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC service (Catalog, Scoring, Assessment, health, reflection) on the bundled
    /// norms and an SQLite (or PostgreSQL) database.
    Serve(serve::ServeArgs),
    /// Score a CSV of children's raw subtest scores against a battery's norms.
    #[command(long_about = score::LONG_ABOUT)]
    Score(ScoreArgs),
    /// Check a norm folder, build norms from a standardisation sample, rebuild model-based
    /// demonstration tables, or simulate a standardisation sample from a stated model.
    #[command(subcommand)]
    Norms(NormsCommand),
    /// Item response theory: ability estimates on an item bank.
    #[command(subcommand)]
    Irt(IrtCommand),
    /// Sample statistics: Mantel–Haenszel DIF between two groups; reliability by age band.
    #[command(subcommand)]
    Stats(stats::StatsCommand),
    /// Computerised adaptive testing: simulation studies and exposure calibration on an item bank.
    #[command(subcommand)]
    Cat(cat::CatCommand),
    /// Write a child's consultation report (HTML, PDF or JSON) in Kazakh, Russian or English
    /// from a record of `score --format json`.
    #[command(long_about = report::LONG_ABOUT)]
    Report(report::ReportArgs),
    /// Create, list and revoke the bearer tokens of the gRPC service (with their roles).
    #[command(subcommand, long_about = token::LONG_ABOUT, after_help = token::ROLES)]
    Token(token::TokenCommand),
    /// Create and list screening cohorts (stage 1).
    #[command(subcommand, long_about = cohort::LONG_ABOUT)]
    Cohort(cohort::CohortCommand),
    /// Import a cohort's roster from CSV (all or nothing), or export it.
    #[command(subcommand, long_about = roster::LONG_ABOUT)]
    Roster(roster::RosterCommand),
    /// Plan a referral rule: referral rate, sensitivity and PPV of a cut for one or two
    /// stages, under the norm population's model.
    #[command(subcommand)]
    Referral(referral::ReferralCommand),
    /// Issue a cohort's one-time tickets and write the sheets to print (CSV or PDF).
    #[command(long_about = tickets::LONG_ABOUT)]
    Tickets(tickets::TicketsArgs),
}

/// `qabilet irt …`.
#[derive(Debug, Subcommand)]
pub enum IrtCommand {
    /// Estimate θ with a standard error for each response pattern (EAP, MAP, MLE or WLE).
    #[command(long_about = irt::LONG_ABOUT)]
    Score(irt::IrtScoreArgs),
}

/// Output format of `score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One CSV row per input row (the input columns, then the scores).
    Csv,
    /// JSON Lines: one JSON object per input row with the full profile.
    Json,
}

/// Arguments of `qabilet score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Battery folder with battery.toml and norm tables, e.g. norms/qabilet-primary-demo.
    #[arg(long, value_name = "DIR")]
    pub battery: PathBuf,
    /// Input CSV (`-` for standard input): id,birth_date,test_date,<subtest-id>…
    #[arg(long, value_name = "FILE|-")]
    pub input: String,
    /// Where to write results (`-` for standard output).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub output: String,
    /// Confidence level of intervals, in percent.
    #[arg(long, value_name = "68|90|95|99", default_value = "95")]
    pub ci: qabilet_core::ConfidenceLevel,
    /// Interval method: centred on the estimated true score, or on the obtained score.
    #[arg(long, value_name = "true-score|obtained", default_value = "true-score")]
    pub ci_method: qabilet_core::CiMethod,
    /// Output format: csv (the input columns, then scores) or json (JSON Lines with the full
    /// profile).
    #[arg(long, value_enum, value_name = "csv|json", default_value_t = Format::Csv, hide_possible_values = true)]
    pub format: Format,
    /// Stop at the first bad row with exit code 2 (default: report it in its `error` cell and
    /// go on).
    #[arg(long)]
    pub strict: bool,
    /// Worker threads scoring in parallel, 1–256 (default: one per core). Output order is
    /// always the input order.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// `qabilet norms …`.
#[derive(Debug, Subcommand)]
pub enum NormsCommand {
    /// Validate a battery folder and print its identity (battery, version, norm-set hash).
    ///
    /// Every file is checked: age bands and raw ranges without gaps or overlaps, scaled
    /// scores that never fall as raw scores rise, known ids, reliabilities in (0, 1). The
    /// first problem is reported as folder/file:line: reason, with exit code 2. The format
    /// is documented in norms/FORMATS.md.
    Check {
        /// Battery folder.
        #[arg(long, value_name = "DIR")]
        battery: PathBuf,
    },
    /// Write the tables a stated developmental model implies (model.toml, or provenance.toml's
    /// [model]).
    ///
    /// Writes subtests.csv, composites.csv, reliability.csv and base_rates.csv computed from
    /// the `[model]` table of the folder's model.toml (with --out, also battery.toml and the
    /// model file as provenance.toml), or of its provenance.toml when there is no model.toml.
    /// A folder whose norms are built from a sample (it has a model.toml) is never overwritten:
    /// give --out. The result is byte-for-byte reproducible. These are demonstration norms:
    /// they describe no population of children.
    Demo {
        /// Battery folder holding battery.toml and a [model] table (model.toml or provenance.toml).
        #[arg(long, value_name = "DIR")]
        battery: PathBuf,
        /// Folder to write the tables to (default: the battery folder, unless it has a model.toml).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Draw a simulated standardisation sample from a stated developmental model (model.toml).
    ///
    /// Writes one row per child, id,birth_date,test_date,sex,language,<subtest>… (with --items
    /// also <subtest>.<item>… for subtests with items): the input format of norm building.
    /// Ages are uniform over the battery's range (test dates in 2026); the latent scores are
    /// multivariate normal with the model's within- and between-domain correlations; each raw
    /// score is the model's discretised normal at the child's exact age. The same battery,
    /// --n and --seed give the same file byte for byte. The sample describes no population of
    /// children: norms built from it are demonstration norms.
    Simulate(SimulateArgs),
    /// Build a norm folder from a standardisation sample (continuous norming), with
    /// continuous.csv and diagnostics.
    #[command(long_about = norms_build::LONG_ABOUT)]
    Build(norms_build::BuildArgs),
}

/// Arguments of `qabilet norms simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Battery folder holding battery.toml and a [model] table (model.toml or provenance.toml).
    #[arg(long, value_name = "DIR")]
    pub battery: PathBuf,
    /// Number of children, 1–10,000,000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub n: u64,
    /// Seed of the random generator (ChaCha8).
    #[arg(long, value_name = "S", default_value_t = 20261124)]
    pub seed: u64,
    /// Also write item scores (columns <subtest>.<item>), drawn from the partial credit model's
    /// distribution of item scores given the raw score (Rasch for 0/1 items).
    #[arg(long)]
    pub items: bool,
    /// Where to write the sample (`-` for standard output).
    #[arg(long, value_name = "FILE|-")]
    pub out: String,
}

/// Runs a parsed command line.
///
/// # Errors
/// A [`CliError`], which `main` prints and turns into an exit code.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => serve::run(&args),
        Command::Score(args) => score::run(&args),
        Command::Norms(NormsCommand::Check { battery }) => norms::check(&battery),
        Command::Norms(NormsCommand::Demo { battery, out }) => norms::demo(&battery, out.as_deref()),
        Command::Norms(NormsCommand::Simulate(args)) => norms::simulate(&args),
        Command::Norms(NormsCommand::Build(args)) => norms_build::run(&args),
        Command::Irt(IrtCommand::Score(args)) => irt::run(&args),
        Command::Stats(command) => stats::run(command),
        Command::Cat(command) => cat::dispatch(&command),
        Command::Token(command) => token::run(&command),
        Command::Report(args) => report::run(&args),
        Command::Cohort(command) => cohort::run(&command),
        Command::Roster(command) => roster::run(&command),
        Command::Tickets(args) => tickets::run(&args),
        Command::Referral(command) => referral::run(&command),
    }
}
