//! Calibrates the raw-score SDs of the demonstration battery's developmental model so that
//! simulated items are as internally consistent as the model states.
//!
//! For every subtest with items, at each end of the age range (60 and 143 months) this finds
//! by bisection the raw-score SD s at which Cronbach's alpha of simulated item scores matches
//! the stated reliability (`reliability_at_60`, `reliability_at_143`). Children are simulated
//! at the fixed age exactly as `qabilet_core::norms::simulate` does it: raw = the normal draw
//! m(a) + s·z discretised to 0 … raw_max, split into item scores by the partial credit
//! model's conditional distribution given the total ([`ItemModel`]). At a fixed end age the
//! model's SD is the end value itself, so each end is calibrated on its own. Every evaluation
//! uses the same random numbers (common random numbers), so alpha is a nearly smooth, increasing
//! function of s and the bisection converges. The SD is capped at raw_max/4 (larger SDs are
//! implausible for the raw range); a subtest whose stated reliability needs more is flagged.
//! Subtests without items (speeded, raw_max only) keep their SDs.
//!
//! The calibrated SDs, rounded to 0.1, are then checked through `simulate` itself: a large
//! sample drawn from the model with the new SDs, alpha within the age bands 60–65 and
//! 138–143 months.
//!
//! Also prints, for plausibility, the model's share of children at raw 0 (60 months) and at
//! raw_max (143 months) under the new SDs: larger SDs pile more of the tails on the ends.
//! Prints a TOML snippet of the new values. Nothing is written.
//!
//! ```text
//! cargo run --release -p qabilet-core --example calibrate_demo_sd [-- N_PER_AGE [CHECK_N]]
//! ```
//!
//! N_PER_AGE: children per fixed-age evaluation (default 100 000); CHECK_N: size of the
//! checking sample (default 200 000, about 14 000 per 6-month band). About a minute in
//! release mode.

use qabilet_core::Battery;
use qabilet_core::normal;
use qabilet_core::norms::model::{DevelopmentalModel, SubtestModel};
use qabilet_core::norms::simulate::{ItemModel, SimulationOptions, discretise, simulate};
use qabilet_core::stats::cronbach_alpha;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");
/// Seed of the fixed-age evaluations (the same for every evaluation).
const SEED: u64 = 60_143;
/// Seed of the checking sample (independent of [`SEED`]).
const CHECK_SEED: u64 = 2_027;
/// Accepted distance of alpha from the stated reliability.
const TOLERANCE: f64 = 0.01;

/// Cronbach's alpha of `n` children aged exactly `age` months whose raw score is the
/// discretised normal with the model's median and SD `sd`, split into items by `items`.
fn alpha_at(sm: &SubtestModel, raw_max: u16, items: &ItemModel, age: f64, sd: f64, n: usize) -> f64 {
    let mut rng_z = ChaCha8Rng::seed_from_u64(SEED);
    let mut rng_items = ChaCha8Rng::seed_from_u64(SEED + 1);
    let m = sm.median(f64::from(raw_max), age);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            // u in (0, 1): the quantile stays finite.
            let u = 1.0 - rng_z.random::<f64>();
            let z = normal::quantile(u.min(1.0 - f64::EPSILON));
            let raw = discretise(m + sd * z, raw_max);
            items
                .sample(raw, &mut rng_items)
                .into_iter()
                .map(f64::from)
                .collect()
        })
        .collect();
    cronbach_alpha(&rows).unwrap_or(f64::NAN)
}

/// Result of calibrating one end of the age range.
struct Fit {
    /// SD rounded to 0.1 (the cap rounded down when capped).
    sd: f64,
    /// Alpha at the rounded SD.
    alpha: f64,
    /// When the stated reliability needs an SD above the cap: that SD (rounded to 0.1; `None`
    /// inside `Some` when even raw_max/2 does not reach it).
    capped: Option<Option<f64>>,
}

/// The SD in [lo, hi] at which alpha reaches `target`, by bisection to 0.005, rounded to 0.1.
fn bisect(alpha: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    while hi - lo > 0.005 {
        let mid = (lo + hi) / 2.0;
        if alpha(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (((lo + hi) / 2.0) * 10.0).round() / 10.0
}

/// Calibrates the SD in [0.5, raw_max/4] for alpha = `target` at `age`.
fn calibrate(sm: &SubtestModel, raw_max: u16, items: &ItemModel, age: f64, target: f64, n: usize) -> Fit {
    let cap = f64::from(raw_max) / 4.0;
    let alpha = |sd: f64| alpha_at(sm, raw_max, items, age, sd, n);
    if alpha(cap) < target {
        let far = f64::from(raw_max) / 2.0;
        let needed = (alpha(far) >= target).then(|| bisect(alpha, target, cap, far));
        // The cap rounded down to 0.1, so the reported SD stays within it.
        let sd = (cap * 10.0).floor() / 10.0;
        return Fit {
            sd,
            alpha: alpha(sd),
            capped: Some(needed),
        };
    }
    let sd = bisect(alpha, target, 0.5, cap);
    Fit {
        sd,
        alpha: alpha(sd),
        capped: None,
    }
}

/// Comment on a capped fit for the TOML snippet.
fn cap_note(f: &Fit) -> String {
    match f.capped {
        None => String::new(),
        Some(Some(sd)) => format!("; capped at raw_max/4, would need {sd:.1}"),
        Some(None) => "; capped at raw_max/4, not reached even at raw_max/2".into(),
    }
}

/// Model shares of children at raw 0 and at raw_max, age `age`, SD `sd`.
fn ends(sm: &SubtestModel, raw_max: u16, age: f64, sd: f64) -> (f64, f64) {
    let m = sm.median(f64::from(raw_max), age);
    (
        normal::cdf((0.5 - m) / sd),
        1.0 - normal::cdf((f64::from(raw_max) - 0.5 - m) / sd),
    )
}

/// Alpha of subtest `t` among children of `children` aged `lo` ≤ age < `hi` months.
fn band_alpha(
    children: &[qabilet_core::norms::simulate::SimulatedChild],
    t: usize,
    lo: f64,
    hi: f64,
) -> (f64, usize) {
    let rows: Vec<Vec<f64>> = children
        .iter()
        .filter(|c| (lo..hi).contains(&c.age_months))
        .map(|c| c.items[t].iter().copied().map(f64::from).collect())
        .collect();
    (cronbach_alpha(&rows).unwrap_or(f64::NAN), rows.len())
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.replace('_', "")
                .parse()
                .expect("arguments: N_PER_AGE [CHECK_N]")
        })
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let check_n = args.get(1).copied().unwrap_or(200_000);
    let read = |f: &str| std::fs::read_to_string(format!("{DIR}/{f}")).expect("read norm file");
    let battery = Battery::from_toml(&read("battery.toml")).expect("battery");
    let model = DevelopmentalModel::from_provenance(&battery, &read("model.toml")).expect("model");
    let (a_lo, a_hi) = (f64::from(battery.age_min.0), f64::from(battery.age_max.0));

    let mut new_model = model.clone();
    let mut snippet = String::new();
    let mut shares = format!(
        "{:<4} {:>4} | {:>6} {:>6} {:>8} {:>8} | {:>6} {:>6} {:>8} {:>8}\n",
        "id", "max", "m60", "new60", "at 0", "at max", "m143", "new143", "at 0", "at max"
    );
    println!("fixed-age calibration, {n} children per evaluation");
    println!(
        "{:<4} {:>4} {:>5} | {:>6} {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6}",
        "id",
        "max",
        "cap",
        "r60",
        "old60",
        "a_old",
        "new60",
        "a_new",
        "r143",
        "old143",
        "a_old",
        "new143",
        "a_new"
    );
    for s in &battery.subtests {
        let sm = model.subtest[&s.id];
        if s.items.is_empty() {
            println!("{:<4} {:>4}  no items: SDs unchanged", s.id, s.raw_max);
            continue;
        }
        let maxima: Vec<u16> = s.items.iter().map(|i| i.max).collect();
        let items = ItemModel::new(&maxima);
        let old_60 = alpha_at(&sm, s.raw_max, &items, a_lo, sm.sd_at_60, n);
        let old_143 = alpha_at(&sm, s.raw_max, &items, a_hi, sm.sd_at_143, n);
        let f60 = calibrate(&sm, s.raw_max, &items, a_lo, sm.reliability_at_60, n);
        let f143 = calibrate(&sm, s.raw_max, &items, a_hi, sm.reliability_at_143, n);
        let flag = |f: &Fit| if f.capped.is_some() { "CAP" } else { "" };
        println!(
            "{:<4} {:>4} {:>5.2} | {:>6.2} {:>6.1} {:>6.3} {:>6.1} {:>6.3}{:<3} | {:>6.2} {:>6.1} {:>6.3} {:>6.1} {:>6.3}{:<3}",
            s.id,
            s.raw_max,
            f64::from(s.raw_max) / 4.0,
            sm.reliability_at_60,
            sm.sd_at_60,
            old_60,
            f60.sd,
            f60.alpha,
            flag(&f60),
            sm.reliability_at_143,
            sm.sd_at_143,
            old_143,
            f143.sd,
            f143.alpha,
            flag(&f143),
        );
        let (f0, c0) = ends(&sm, s.raw_max, a_lo, f60.sd);
        let (f1, c1) = ends(&sm, s.raw_max, a_hi, f143.sd);
        shares.push_str(&format!(
            "{:<4} {:>4} | {:>6.1} {:>6.1} {:>7.1}% {:>7.1}% | {:>6.1} {:>6.1} {:>7.1}% {:>7.1}%\n",
            s.id,
            s.raw_max,
            sm.median(f64::from(s.raw_max), a_lo),
            f60.sd,
            100.0 * f0,
            100.0 * c0,
            sm.median(f64::from(s.raw_max), a_hi),
            f143.sd,
            100.0 * f1,
            100.0 * c1,
        ));
        let nm = new_model.subtest.get_mut(&s.id).expect("subtest model");
        nm.sd_at_60 = f60.sd;
        nm.sd_at_143 = f143.sd;
        let line = |key: &str, f: &Fit, stated: f64| {
            format!(
                "{:<20}# alpha {:.3} (stated {stated:.2}){}\n",
                format!("{key} = {:.1}", f.sd),
                f.alpha,
                cap_note(f)
            )
        };
        snippet.push_str(&format!("[model.subtest.{}]\n", s.id));
        snippet.push_str(&line("sd_at_60", &f60, sm.reliability_at_60));
        snippet.push_str(&line("sd_at_143", &f143, sm.reliability_at_143));
        snippet.push('\n');
    }

    println!("\nmedian, new SD and model shares at raw 0 and at raw_max, at 60 and 143 months");
    print!("{shares}");
    println!("\ncheck through simulate(): {check_n} children, new SDs, alpha per age band");
    let options = SimulationOptions {
        items: true,
        ..SimulationOptions::new(check_n, CHECK_SEED)
    };
    let children = simulate(&battery, &new_model, &options).expect("simulate");
    let (b60, b143) = ((a_lo, a_lo + 6.0), (a_hi - 5.0, a_hi + 1.0));
    println!(
        "{:<4} {:>6} {:>9} {:>6} {:>7} | {:>6} {:>9} {:>6} {:>7}",
        "id", "r60", "alpha", "n", "ok", "r143", "alpha", "n", "ok"
    );
    for (t, s) in battery.subtests.iter().enumerate() {
        if s.items.is_empty() {
            continue;
        }
        let sm = model.subtest[&s.id];
        let (x60, n60) = band_alpha(&children, t, b60.0, b60.1);
        let (x143, n143) = band_alpha(&children, t, b143.0, b143.1);
        let ok = |a: f64, r: f64| if (a - r).abs() <= TOLERANCE { "yes" } else { "NO" };
        println!(
            "{:<4} {:>6.2} {:>9.3} {:>6} {:>7} | {:>6.2} {:>9.3} {:>6} {:>7}",
            s.id,
            sm.reliability_at_60,
            x60,
            n60,
            ok(x60, sm.reliability_at_60),
            sm.reliability_at_143,
            x143,
            n143,
            ok(x143, sm.reliability_at_143),
        );
    }
    println!("\n{snippet}");
}
