//! `qabilet referral plan`: what a referral rule and cut do to a population, before anyone is
//! tested — the share referred, the share of truly able children found (sensitivity) and the
//! share of those referred who are truly able (PPV), for one stage or two.

use clap::{Args, Subcommand, ValueEnum};
use qabilet_core::referral::{Field, Figures, Plan, PlanFigures, ReferralError, Rule};
use serde::Serialize;

use crate::error::CliError;
use crate::files;

pub(super) const LONG_ABOUT: &str = "\
Plan a referral rule before screening: of all children, how many a cut refers, how many of
the truly able it finds, and how many of those referred are truly able — for one screening
stage, or a screening stage followed by a second test.

MODEL (classical test theory): an index on the 100/15 scale with reliability r is a true
score plus an independent error; true scores are normal, as in the norm population. A child
is truly above --above when their standardised true score is at least (above − 100)/15. A
second stage measures the same true score with its own reliability and an independent error.

RULES (--rule; the same for both stages):
  observed  referred when the index ≥ --cut (the default)
  upper90   referred when the upper bound of the 90 % true-score interval
            100 + r·(X − 100) + 1.6449·15·√(r(1 − r)) reaches the cut (unrounded)
  upper95   the same with the 95 % interval (1.95996…)
An interval rule is lenient at moderate cuts; at a high cut with a low reliability it is the
stricter one, because the interval is centred on the estimated true score, which regresses
to the mean.

OUTPUT: referred_rate = P(referred); above_rate = P(truly above); sensitivity =
P(referred | truly above); ppv = P(truly above | referred), none (JSON null) when no one is
referred. With --stage2-reliability and --stage2-cut: the second stage alone (as if everyone
took it) and both stages together (referred when both pass). Probabilities are exact to about
1e-12 (quadrature over the true score, no simulation). Rules, formulas and sources:
norms/REFERRAL.md.

Exit codes: 0 done; 1 the output could not be written; 2 a flag out of range (reliability
outside (0, 1), a cut or --above outside 40–160) or a second stage half given.

Examples:
  qabilet referral plan --reliability 0.85 --cut 120 --above 130 --rule upper90
  qabilet referral plan --reliability 0.80 --cut 115 --above 130 \\
      --stage2-reliability 0.95 --stage2-cut 130 --format json";

/// `qabilet referral …`.
#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Referral rate, sensitivity and PPV of a rule and cut, for one or two stages, under the
    /// norm population's model.
    #[command(long_about = LONG_ABOUT)]
    Plan(PlanArgs),
}

/// Output format of `referral plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A table for people.
    Text,
    /// One JSON object: the inputs and the figures.
    Json,
}

/// Arguments of `qabilet referral plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Reliability of the screening index, strictly between 0 and 1.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub reliability: f64,
    /// The cut on the index scale (40–160) the rule compares with.
    #[arg(long, value_name = "INDEX", allow_hyphen_values = true)]
    pub cut: f64,
    /// The children to find: those whose true score is above this index (40–160).
    #[arg(
        long,
        value_name = "INDEX",
        default_value_t = 130.0,
        allow_hyphen_values = true
    )]
    pub above: f64,
    /// When a child passes: the observed index reaches the cut, or the upper bound of its 90 %
    /// or 95 % true-score interval does.
    #[arg(long, value_name = "observed|upper90|upper95", default_value = "observed")]
    pub rule: Rule,
    /// Reliability of a second stage (with --stage2-cut).
    #[arg(long, value_name = "R", requires = "stage2_cut", allow_hyphen_values = true)]
    pub stage2_reliability: Option<f64>,
    /// The second stage's cut, 40–160 (with --stage2-reliability).
    #[arg(
        long,
        value_name = "INDEX",
        requires = "stage2_reliability",
        allow_hyphen_values = true
    )]
    pub stage2_cut: Option<f64>,
    /// Output format: text (a table) or json (one object).
    #[arg(long, value_enum, value_name = "text|json", default_value_t = PlanFormat::Text, hide_possible_values = true)]
    pub format: PlanFormat,
}

/// Runs a `qabilet referral` subcommand.
pub(super) fn run(command: &ReferralCommand) -> Result<(), CliError> {
    match command {
        ReferralCommand::Plan(args) => plan(args),
    }
}

fn flag(field: Field) -> &'static str {
    match field {
        Field::Reliability => "--reliability",
        Field::Cut => "--cut",
        Field::Above => "--above",
        Field::Stage2Reliability => "--stage2-reliability",
        Field::Stage2Cut => "--stage2-cut",
    }
}

fn usage(e: &ReferralError) -> CliError {
    CliError::Usage(match e {
        ReferralError::Reliability { field, value } => {
            format!(
                "{} {value}: a reliability must lie strictly between 0 and 1",
                flag(*field)
            )
        }
        ReferralError::Index { field, value } => {
            format!(
                "{} {value}: must lie within the index scale, 40–160",
                flag(*field)
            )
        }
        other => other.to_string(),
    })
}

fn plan(args: &PlanArgs) -> Result<(), CliError> {
    let stage2 = args.stage2_reliability.zip(args.stage2_cut);
    let plan = Plan::new(args.rule, args.reliability, args.cut, args.above, stage2).map_err(|e| usage(&e))?;
    let figures = plan.figures();
    let text = match args.format {
        PlanFormat::Json => {
            let mut json = serde_json::to_string_pretty(&JsonPlan::new(&plan, &figures))
                .map_err(|e| CliError::write("standard output", std::io::Error::other(e)))?;
            json.push('\n');
            json
        }
        PlanFormat::Text => text(&plan, &figures),
    };
    files::write_output("-", text.as_bytes())
}

#[derive(Serialize)]
struct JsonPlan {
    rule: Rule,
    reliability: f64,
    cut: f64,
    above: f64,
    referred_rate: f64,
    above_rate: f64,
    sensitivity: f64,
    ppv: Option<f64>,
    #[serde(flatten)]
    stage2: Option<JsonStage2>,
}

#[derive(Serialize)]
struct JsonStage2 {
    stage2_reliability: f64,
    stage2_cut: f64,
    stage2_referred_rate: f64,
    stage2_sensitivity: f64,
    stage2_ppv: Option<f64>,
    overall_referred_rate: f64,
    overall_sensitivity: f64,
    overall_ppv: Option<f64>,
}

impl JsonPlan {
    fn new(plan: &Plan, f: &PlanFigures) -> Self {
        let stage2 = match (plan.stage2, f.stage2, f.overall) {
            (Some(s), Some(f2), Some(all)) => Some(JsonStage2 {
                stage2_reliability: s.reliability.get(),
                stage2_cut: s.cut.get(),
                stage2_referred_rate: f2.referred_rate,
                stage2_sensitivity: f2.sensitivity,
                stage2_ppv: f2.ppv,
                overall_referred_rate: all.referred_rate,
                overall_sensitivity: all.sensitivity,
                overall_ppv: all.ppv,
            }),
            _ => None,
        };
        JsonPlan {
            rule: plan.stage1.rule,
            reliability: plan.stage1.reliability.get(),
            cut: plan.stage1.cut.get(),
            above: plan.above.get(),
            referred_rate: f.stage1.referred_rate,
            above_rate: f.above_rate,
            sensitivity: f.stage1.sensitivity,
            ppv: f.stage1.ppv,
            stage2,
        }
    }
}

fn percent(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        format!("{:.4} %", 100.0 * x)
    } else {
        format!("{:.1} %", 100.0 * x)
    }
}

fn row(name: &str, f: &Figures) -> String {
    format!(
        "{name:<15}{:>10}{:>13}{:>10}\n",
        percent(f.referred_rate),
        percent(f.sensitivity),
        f.ppv.map_or_else(|| "none".to_owned(), percent)
    )
}

fn text(plan: &Plan, f: &PlanFigures) -> String {
    let rule = plan.stage1.rule;
    let passes = |name: &str, s: &qabilet_core::referral::Stage| {
        let r = s.reliability.get();
        let how = match rule {
            Rule::Observed => String::new(),
            Rule::Upper90 | Rule::Upper95 => format!(
                " (the upper bound of its {} % interval reaches {})",
                if rule == Rule::Upper90 { 90 } else { 95 },
                s.cut.get()
            ),
        };
        format!(
            "{name}: reliability {r}, rule {rule}, cut {}: passes when the index ≥ {:.2}{how}\n",
            s.cut.get(),
            s.threshold()
        )
    };
    let mut out = passes("Stage 1", &plan.stage1);
    if let Some(s2) = &plan.stage2 {
        out.push_str(&passes("Stage 2", s2));
    }
    let above = plan.above.get();
    out.push_str(&format!(
        "Truly above {above}: {} of children (true score at least {:.3} SD above the mean)\n\n",
        percent(f.above_rate),
        plan.above.standardised()
    ));
    out.push_str(&format!(
        "{:<15}{:>10}{:>13}{:>10}\n",
        "", "referred", "sensitivity", "PPV"
    ));
    out.push_str(&row("stage 1", &f.stage1));
    if let (Some(f2), Some(all)) = (&f.stage2, &f.overall) {
        out.push_str(&row("stage 2 alone", f2));
        out.push_str(&row("both stages", all));
    }
    let last = f.overall.unwrap_or(f.stage1);
    let found = f.above_rate * last.sensitivity * 1000.0;
    out.push_str(&format!(
        "\nPer 1,000 children{}: {:.1} referred, {found:.1} of them truly above {above}; {:.1} of the {:.1} \
         truly above {above} are not referred.\n",
        if f.overall.is_some() { ", both stages" } else { "" },
        last.referred_rate * 1000.0,
        f.above_rate * 1000.0 - found,
        f.above_rate * 1000.0,
    ));
    out.push_str(
        "Model: normal true scores as in the norm population, independent errors (norms/REFERRAL.md).\n",
    );
    out
}
