//! `provenance.toml` of a built norm set: the fields every norm set has (norms/FORMATS.md)
//! and a `[build]` table recording how the tables were made — sample, sizes per band,
//! method and parameters, the model chosen per subtest and its fit statistics.

use std::fmt::Write as _;

use super::diagnostics::Diagnostics;
use super::{BuildOptions, ProvenanceInput};
use crate::norms::NormStatus;

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The method paragraph: what was done, in words (`{folds}` is replaced by the number of
/// cross-validation folds).
pub const METHOD: &str = "Continuous norming (qabilet norms build). For every subtest the distribution of raw \
scores given age is fitted over the whole age range from the standardisation sample: (1) a Box-Cox (LMS) \
model whose median, coefficient of variation and skew are polynomial curves in age, fitted by maximum \
likelihood with whole raw scores treated as interval-censored (floors and ceilings modelled), degrees chosen \
by AIC; (2) distribution regression - for every raw threshold, the LMS fit's probit curve plus a \
polynomial correction in age with a ridge penalty; (3) the LMS fit and each penalty and degree of distribution regression are compared \
by {folds}-fold cross-validated log-likelihood and the simplest within one standard error of the best is \
refitted on the whole sample; (4) the fit is made \
monotone in raw score and in age by rearrangement (Chernozhukov, Fernandez-Val and Galichon 2009). Normal \
scores use the midpoint convention z = inverse-normal(P(X < x) + P(X = x)/2); scaled scores are 10 + 3z rounded \
half away from zero at each band's mid-age. Composite norms come from a variance-corrected Gaussian kernel \
estimate of the distribution of sums of scaled scores in the sample (Jones 1991); subtest reliabilities are \
Cronbach's alpha from item scores per band (or stated values where the sample has no item data); composite \
reliabilities follow Mosier (1943); base rates are the sample's own.";

/// The whole file.
pub fn provenance_toml(
    battery_id: &str,
    input: &ProvenanceInput,
    options: &BuildOptions,
    diagnostics: &Diagnostics,
) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Provenance of norms built by `qabilet norms build` (format: norms/FORMATS.md)."
    );
    if input.status == NormStatus::Demonstration {
        let _ = writeln!(o, "# DEMONSTRATION NORMS: not for decisions about any child.");
    }
    let _ = writeln!(o, "battery = {}", quoted(battery_id));
    let status = match input.status {
        NormStatus::Demonstration => "demonstration",
        NormStatus::Clinical => "clinical",
    };
    let _ = writeln!(o, "status = \"{status}\"");
    let _ = writeln!(o, "notice = {}", quoted(&input.notice));
    let mut method = METHOD.replace("{folds}", &options.continuous.folds.to_string());
    if !input.sample_description.is_empty() {
        method = format!("{} {method}", input.sample_description);
    }
    let _ = writeln!(o, "method = {}", quoted(&method));
    let _ = writeln!(o, "created = {}", quoted(&input.created));
    let _ = writeln!(o, "sample_size = {}", diagnostics.sample_size);
    let _ = writeln!(o, "generator = {}", quoted(&input.generator));
    let _ = writeln!(o, "intended_use = {}", quoted(&input.intended_use));
    let _ = writeln!(o, "\n[build]");
    let _ = writeln!(o, "sample_file = {}", quoted(&input.sample_name));
    let _ = writeln!(o, "sample_sha256 = {}", quoted(&input.sample_sha256));
    let _ = writeln!(o, "weighted = {}", diagnostics.weighted);
    let _ = writeln!(o, "band_months = {}", options.band_months);
    let _ = writeln!(o, "reliability_band_months = {}", options.reliability_band_months);
    let _ = writeln!(o, "cv_folds = {}", options.continuous.folds);
    let lambdas: Vec<String> = options
        .continuous
        .lambdas
        .iter()
        .map(|l| format!("{l:?}"))
        .collect();
    let _ = writeln!(o, "dr_penalties = [{}]", lambdas.join(", "));
    let degrees: Vec<String> = options
        .continuous
        .dr_degrees
        .iter()
        .map(|d| d.to_string())
        .collect();
    let _ = writeln!(o, "dr_degrees = [{}]", degrees.join(", "));
    let _ = writeln!(o, "base_rates = {}", quoted(&diagnostics.base_rates));
    for b in &diagnostics.bands {
        let _ = writeln!(
            o,
            "\n[[build.band]]\nage_min_months = {}\nage_max_months = {}\nn = {}",
            b.age_min_months, b.age_max_months, b.n
        );
    }
    for s in &diagnostics.subtests {
        let c = &s.candidates[s.chosen];
        let _ = writeln!(o, "\n[build.subtest.{}]", s.subtest);
        let _ = writeln!(o, "n = {}", s.n);
        let _ = writeln!(o, "model = {}", quoted(&s.model));
        let _ = writeln!(o, "family = {}", quoted(c.family));
        let degrees: Vec<String> = c.degrees.iter().map(|d| d.to_string()).collect();
        let _ = writeln!(o, "degrees = [{}]", degrees.join(", "));
        if let Some(l) = c.lambda {
            let _ = writeln!(o, "penalty = {l:?}");
        }
        let _ = writeln!(o, "log_lik_per_child = {:.6}", s.log_lik_per_child);
        let _ = writeln!(o, "cv_log_lik_per_child = {:.6}", s.cv_log_lik_per_child);
        let _ = writeln!(o, "pseudo_r2 = {:.4}", s.pseudo_r2);
        let _ = writeln!(o, "repair_max_shift_raw = {:.6}", s.repair.max_shift_in_raw);
        let _ = writeln!(o, "repair_max_shift_age = {:.6}", s.repair.max_shift_in_age);
    }
    o
}
