//! A simulated standardisation sample drawn from a stated [`DevelopmentalModel`]: the input
//! of norm building (`qabilet norms build`) for demonstration norms, and the known truth
//! against which built norms are judged. Pure and deterministic: the same battery, model,
//! size and seed give the same sample, byte for byte.
//!
//! Per child, in this order, from one ChaCha8 stream seeded with the seed:
//! - a test date uniform over the days of [`SimulationOptions::test_year`], and a birth date
//!   uniform over the days that give an age within the battery's range on that test date
//!   (5:0:0 … 11:11:30 for the demonstration battery), so ages are uniform over the range;
//! - sex (`M`/`F`) and language (`kk`/`ru`), each 50/50;
//! - a latent vector z ~ N(0, R) over the battery's subtests (R: 1 on the diagonal,
//!   ρ_w within a CHC domain, ρ_b between domains), as L·e with L the Cholesky factor of R
//!   and e independent standard normals (Box–Muller);
//! - raw_t = the whole score x with m_t(a) + s_t(a)·z_t in [x − ½, x + ½), clipped to
//!   0 … raw_max (the tails piled on the ends), at the child's exact age in months
//!   a = 12·Y + M + D/30.4375 — so at any fixed age raw_t follows the model's discretised
//!   normal exactly;
//! - with items requested, for subtests with items: the raw score split into item scores
//!   that sum to it, drawn from the conditional distribution of a partial credit (Rasch)
//!   model given the total — θ-free, so the raw score stays exactly the model's while the
//!   items behave like Rasch items around the child's ability (see [`ItemModel`]); one
//!   uniform number per item.

use jiff::Span;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::{DevelopmentalModel, ModelError};
use crate::age::{ChronologicalAge, Date};
use crate::battery::{Battery, Subtest};
use crate::irt::{Item as BankItem, ItemBank, ItemModel as IrtModel};

/// Mean length of a month in days (365.25 / 12): days beyond whole months as a fraction.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulationOptions {
    /// Number of children.
    pub n: usize,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
    /// Whether to split raw scores into item scores.
    pub items: bool,
    /// Calendar year of the test dates.
    pub test_year: i16,
}

impl SimulationOptions {
    /// `n` children from `seed`, without items, tested in 2026.
    pub fn new(n: usize, seed: u64) -> Self {
        SimulationOptions {
            n,
            seed,
            items: false,
            test_year: 2026,
        }
    }
}

/// One simulated child.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedChild {
    /// Row id, `sim-000001` …
    pub id: String,
    /// Birth date.
    pub birth: Date,
    /// Test date.
    pub test: Date,
    /// `M` or `F`.
    pub sex: &'static str,
    /// `kk` or `ru`.
    pub language: &'static str,
    /// Exact age in months, 12·Y + M + D/30.4375.
    pub age_months: f64,
    /// Latent normal score per subtest (battery order).
    pub latent: Vec<f64>,
    /// Raw score per subtest (battery order).
    pub raw: Vec<u16>,
    /// Item scores per subtest (battery order; empty for subtests without items, and for
    /// all subtests when items were not requested).
    pub items: Vec<Vec<u16>>,
}

/// The model's correlation matrix over the battery's subtests (battery order).
pub fn correlation_matrix(model: &DevelopmentalModel, battery: &Battery) -> Vec<Vec<f64>> {
    let k = battery.subtests.len();
    (0..k)
        .map(|i| (0..k).map(|j| model.correlation(battery, i, j)).collect())
        .collect()
}

/// Lower-triangular Cholesky factor L with L·Lᵀ = `a`.
///
/// # Errors
/// [`ModelError`] when `a` is not positive definite.
pub fn cholesky(a: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, ModelError> {
    let k = a.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i][p] * l[j][p]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d.is_nan() || d <= 0.0 {
                    return Err(ModelError(
                        "the correlation matrix is not positive definite".into(),
                    ));
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    Ok(l)
}

/// The whole raw score whose interval [x − ½, x + ½) holds `value`, clipped to 0 … `raw_max`.
pub fn discretise(value: f64, raw_max: u16) -> u16 {
    let x = (value + 0.5).floor();
    if x <= 0.0 {
        0
    } else if x >= f64::from(raw_max) {
        raw_max
    } else {
        x as u16
    }
}

/// Standard normal draws by Box–Muller, both values of each pair used.
struct Normals {
    spare: Option<f64>,
}

impl Normals {
    fn draw(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // u1 in (0, 1]: ln never sees 0.
        let u1 = 1.0 - rng.random::<f64>();
        let u2 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }
}

/// Spacing of the step difficulties of an item scored 0 … m with m ≥ 2, in logits.
pub const STEP_SPACING: f64 = 0.6;

/// The partial credit model (PCM) of one subtest's items, for drawing item scores given the
/// subtest's raw score: Rasch items for 0/1 scoring, Masters' (1982) partial credit items
/// for 0 … m scoring.
///
/// The subtest has n items in administration order with maxima m_i. Item i (0-based) has
/// location b_i = −3 + 6·(i + ½)/n logits (easy to hard) and step difficulties
/// δ_ij = b_i + (j − (m_i + 1)/2)·[`STEP_SPACING`] for j = 1 … m_i (a 0/1 item: δ_i1 = b_i).
/// Under the PCM, P(X_i = x | θ) ∝ exp(x·θ − Σ_{j≤x} δ_ij), so with the category weights
/// w_i(x) = exp(−Σ_{j≤x} δ_ij) (w_i(0) = 1) the probability of a score vector x is
/// exp(r·θ)·Π w_i(x_i) / Π_i Σ_y exp(y·θ)·w_i(y), r = Σ x_i, where the denominator does not
/// depend on x. The total r is a sufficient statistic for θ, and conditioning on it removes θ:
///
/// P(x_1 … x_n | Σ x_i = r) = Π w_i(x_i) / γ_r,
///
/// γ_r the elementary symmetric function of order r of the item weight polynomials
/// Σ_x w_i(x)·t^x (the coefficient of t^r in their product) — the conditional likelihood of
/// Andersen (1973) for the Rasch model, extended to partial credit items by Masters (1982).
/// (Shifting every b_i by the same constant multiplies each term by the same exp(−c·r), so
/// only the spacing of the locations and steps matters, not their origin.)
/// Sources: E. B. Andersen (1973), *Conditional inference and models for measuring*,
/// Copenhagen: Mentalhygiejnisk Forlag; G. N. Masters (1982), A Rasch model for partial
/// credit scoring, *Psychometrika* 47, 149–174.
///
/// Item scores drawn from this distribution keep the raw score exactly while the items
/// behave like Rasch items around the child's (unknown) ability. Drawing: with the backward
/// tables G_k(s) = Σ over scores of items k … n−1 summing to s of the product of their
/// weights (G_n(0) = 1; G_0(r) = γ_r), for k = 0 … n−1 item k scores x with probability
/// w_k(x)·G_{k+1}(s − x) / G_k(s), s the total still to be placed. The tables are built once
/// in log space (log-sum-exp), so weights far beyond the range of f64 when multiplied out
/// (100 items with maxima 5) stay finite, and kept as conditional cumulative probabilities
/// per item and remaining total: a draw is one uniform number per item and a short search.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemModel {
    maxima: Vec<u16>,
    /// Sum of the maxima.
    total: u32,
    /// Per item k: P(X_k ≤ x | s still to be placed on items k … n−1) at `[s·(m_k + 1) + x]`,
    /// for s = 0 … Σ_{i≥k} m_i and x = 0 … m_k; 1.0 exactly from the highest possible x on.
    cumulative: Vec<Vec<f64>>,
}

impl ItemModel {
    /// The model of a subtest whose items (administration order) have these maxima.
    pub fn new(maxima: &[u16]) -> Self {
        let n = maxima.len();
        // ln G_{k+1}(s), starting with ln G_n = [ln 1].
        let mut log_g_next = vec![0.0];
        let mut cumulative = vec![Vec::new(); n];
        for k in (0..n).rev() {
            let m = usize::from(maxima[k]);
            let b = -3.0 + 6.0 * (k as f64 + 0.5) / n as f64;
            // ln w_k(x) = −Σ_{j≤x} δ_kj.
            let mut log_w = vec![0.0; m + 1];
            for x in 1..=m {
                let delta = b + (x as f64 - (m as f64 + 1.0) / 2.0) * STEP_SPACING;
                log_w[x] = log_w[x - 1] - delta;
            }
            let rest = log_g_next.len() - 1; // Σ_{i>k} m_i
            let mut log_g = Vec::with_capacity(rest + m + 1);
            let mut cum = vec![1.0; (rest + m + 1) * (m + 1)];
            let mut terms = vec![0.0; m + 1];
            for s in 0..=rest + m {
                // Possible scores of item k: the other items hold at most `rest`.
                let (lo, hi) = (s.saturating_sub(rest), s.min(m));
                for x in lo..=hi {
                    terms[x] = log_w[x] + log_g_next[s - x];
                }
                let top = terms[lo..=hi].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let row = &mut cum[s * (m + 1)..(s + 1) * (m + 1)];
                let mut acc = 0.0;
                for x in 0..=m {
                    if (lo..=hi).contains(&x) {
                        acc += (terms[x] - top).exp();
                    }
                    row[x] = acc;
                }
                // acc ≥ 1 (the largest term contributes exp(0)); acc/acc is exactly 1.
                for c in row.iter_mut() {
                    *c /= acc;
                }
                log_g.push(top + acc.ln());
            }
            cumulative[k] = cum;
            log_g_next = log_g;
        }
        ItemModel {
            maxima: maxima.to_vec(),
            total: maxima.iter().map(|&m| u32::from(m)).sum(),
            cumulative,
        }
    }

    /// Draws item scores that sum to `raw` from P(x | Σx = raw), using exactly one uniform
    /// number of `rng` per item (whatever `raw` is).
    ///
    /// # Panics
    /// When `raw` exceeds the sum of the maxima.
    pub fn sample(&self, raw: u16, rng: &mut ChaCha8Rng) -> Vec<u16> {
        assert!(
            u32::from(raw) <= self.total,
            "raw score {raw} above the sum of item maxima {}",
            self.total
        );
        let mut s = usize::from(raw);
        let mut scores = Vec::with_capacity(self.maxima.len());
        for (&m, cum) in self.maxima.iter().zip(&self.cumulative) {
            let m = usize::from(m);
            let u = rng.random::<f64>();
            let row = &cum[s * (m + 1)..(s + 1) * (m + 1)];
            // u < 1 and the row reaches 1 exactly at the highest possible score.
            let x = row.iter().position(|&c| u < c).unwrap_or(m.min(s));
            s -= x;
            scores.push(x as u16);
        }
        debug_assert_eq!(s, 0);
        scores
    }
}

/// The IRT item bank of [`ItemModel`] for `subtest` (items in administration order): the
/// model its simulated item scores follow, in the bank format of norms/IRT.md (logistic
/// metric, D = 1). A 0/1 item is a Rasch item with b = b_i = −3 + 6·(i + ½)/n; an item scored
/// 0 … m with m ≥ 2 is a GPCM item with a = 1 and steps δ_ij (Masters' partial credit item).
/// The locations are computed exactly as [`ItemModel::new`] computes them. `provenance`
/// becomes the bank's provenance text.
pub fn item_bank(subtest: &Subtest, provenance: Option<String>) -> ItemBank {
    let n = subtest.items.len();
    let items = subtest
        .items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let b = -3.0 + 6.0 * (k as f64 + 0.5) / n as f64;
            let m = item.max;
            let model = if m == 1 {
                IrtModel::Rasch { b }
            } else {
                let steps = (1..=m)
                    .map(|x| b + (f64::from(x) - (f64::from(m) + 1.0) / 2.0) * STEP_SPACING)
                    .collect();
                IrtModel::Gpcm { a: 1.0, b: steps }
            };
            BankItem {
                id: item.id.clone(),
                model,
                content: None,
                sympson_hetter: None,
            }
        })
        .collect();
    ItemBank { items, provenance }
}

/// Splits `raw` into item scores (administration order, within 0 … max, summing to `raw`)
/// drawn from the conditional distribution of the partial credit model given the total: see
/// [`ItemModel`], which this builds from `maxima` for each call (build it once and call
/// [`ItemModel::sample`] to split many scores of one subtest). One uniform number of `rng`
/// per item; deterministic for a given `rng` state.
///
/// # Panics
/// When `raw` exceeds the sum of `maxima`.
pub fn split_items(raw: u16, maxima: &[u16], rng: &mut ChaCha8Rng) -> Vec<u16> {
    ItemModel::new(maxima).sample(raw, rng)
}

/// Draws a sample of `options.n` children from `model` for `battery`.
///
/// # Errors
/// [`ModelError`] when the model's correlation matrix is not positive definite, or the test
/// year leaves no room for the battery's ages.
pub fn simulate(
    battery: &Battery,
    model: &DevelopmentalModel,
    options: &SimulationOptions,
) -> Result<Vec<SimulatedChild>, ModelError> {
    let l = cholesky(&correlation_matrix(model, battery))?;
    let k = battery.subtests.len();
    let subtest_models: Vec<_> = battery
        .subtests
        .iter()
        .map(|s| {
            model
                .subtest
                .get(&s.id)
                .copied()
                .ok_or_else(|| ModelError(format!("no [model.subtest.{}]", s.id)))
        })
        .collect::<Result<_, _>>()?;
    let bad_year = || ModelError(format!("test year {} is out of range", options.test_year));
    let year_start = Date::new(options.test_year, 1, 1).map_err(|_| bad_year())?;
    let days_in_year = i64::from(year_start.days_in_year());
    let months = |m: u16| Span::new().months(i64::from(m));
    let width = usize::max(6, options.n.to_string().len());
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut normals = Normals { spare: None };
    let item_models: Vec<Option<ItemModel>> = battery
        .subtests
        .iter()
        .map(|s| {
            (options.items && !s.items.is_empty()).then(|| {
                let maxima: Vec<u16> = s.items.iter().map(|i| i.max).collect();
                ItemModel::new(&maxima)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(options.n);
    for row in 0..options.n {
        let test = year_start
            .checked_add(Span::new().days(rng.random_range(0..days_in_year)))
            .map_err(|_| bad_year())?;
        // Youngest: born exactly age_min months before; oldest: one day after age_max + 1
        // months before (the day the child would leave the range).
        let youngest = test
            .checked_sub(months(battery.age_min.0))
            .map_err(|_| bad_year())?;
        let oldest = test
            .checked_sub(months(battery.age_max.0 + 1))
            .and_then(|d| d.checked_add(Span::new().days(1)))
            .map_err(|_| bad_year())?;
        let span_days = i64::from(oldest.until(youngest).map_err(|_| bad_year())?.get_days());
        let birth = oldest
            .checked_add(Span::new().days(rng.random_range(0..=span_days)))
            .map_err(|_| bad_year())?;
        let age = ChronologicalAge::between(birth, test).map_err(|_| bad_year())?;
        debug_assert!((battery.age_min..=battery.age_max).contains(&age.in_months()));
        let age_months = f64::from(age.in_months().0) + f64::from(age.days) / DAYS_PER_MONTH;
        let sex = if rng.random::<bool>() { "M" } else { "F" };
        let language = if rng.random::<bool>() { "kk" } else { "ru" };
        let e: Vec<f64> = (0..k).map(|_| normals.draw(&mut rng)).collect();
        let latent: Vec<f64> = (0..k).map(|i| (0..=i).map(|j| l[i][j] * e[j]).sum()).collect();
        let raw: Vec<u16> = battery
            .subtests
            .iter()
            .zip(&subtest_models)
            .zip(&latent)
            .map(|((s, sm), &z)| {
                let value = sm.median(f64::from(s.raw_max), age_months) + sm.sd(age_months) * z;
                discretise(value, s.raw_max)
            })
            .collect();
        let items = item_models
            .iter()
            .zip(&raw)
            .map(|(m, &x)| m.as_ref().map_or_else(Vec::new, |m| m.sample(x, &mut rng)))
            .collect();
        out.push(SimulatedChild {
            id: format!("sim-{:0width$}", row + 1),
            birth,
            test,
            sex,
            language,
            age_months,
            latent,
            raw,
            items,
        });
    }
    Ok(out)
}

/// The sample as CSV, the input format of norm building:
/// `id,birth_date,test_date,sex,language,<subtest>…`, then, when `items`, `<subtest>.<item>`
/// for every item of every subtest with items (battery and administration order).
pub fn to_csv(battery: &Battery, children: &[SimulatedChild], items: bool) -> String {
    let mut out = String::from("id,birth_date,test_date,sex,language");
    for s in &battery.subtests {
        out.push(',');
        out.push_str(&s.id);
    }
    if items {
        for s in &battery.subtests {
            for i in &s.items {
                out.push_str(&format!(",{}.{}", s.id, i.id));
            }
        }
    }
    out.push('\n');
    for c in children {
        out.push_str(&format!(
            "{},{},{},{},{}",
            c.id, c.birth, c.test, c.sex, c.language
        ));
        for x in &c.raw {
            out.push(',');
            out.push_str(&x.to_string());
        }
        if items {
            for (s, scores) in battery.subtests.iter().zip(&c.items) {
                debug_assert_eq!(s.items.len(), scores.len());
                for x in scores {
                    out.push(',');
                    out.push_str(&x.to_string());
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normal;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");

    fn demo() -> (Battery, DevelopmentalModel) {
        let read = |f: &str| std::fs::read_to_string(format!("{DIR}/{f}")).expect("read norm file");
        let battery = Battery::from_toml(&read("battery.toml")).expect("battery");
        let model = DevelopmentalModel::from_provenance(&battery, &read("model.toml")).expect("model");
        (battery, model)
    }

    fn sample(n: usize, seed: u64, items: bool) -> (Battery, DevelopmentalModel, Vec<SimulatedChild>) {
        let (battery, model) = demo();
        let options = SimulationOptions {
            items,
            ..SimulationOptions::new(n, seed)
        };
        let children = simulate(&battery, &model, &options).expect("simulate");
        (battery, model, children)
    }

    #[test]
    fn same_seed_same_sample_other_seed_other_sample() {
        let (battery, model) = demo();
        let csv = |seed| {
            let o = SimulationOptions {
                items: true,
                ..SimulationOptions::new(300, seed)
            };
            to_csv(&battery, &simulate(&battery, &model, &o).expect("simulate"), true)
        };
        let a = csv(7);
        assert_eq!(a, csv(7));
        assert_ne!(a, csv(8));
        assert_eq!(a.lines().count(), 301);
    }

    #[test]
    fn ages_cover_the_range_and_dates_agree() {
        let (battery, _, children) = sample(5_000, 1, false);
        let mut seen = [false; 144];
        for c in &children {
            let age = ChronologicalAge::between(c.birth, c.test).expect("age");
            let m = age.in_months();
            assert!((battery.age_min..=battery.age_max).contains(&m), "{} {age}", c.id);
            assert_eq!(c.test.year(), 2026);
            assert!((c.age_months - f64::from(m.0) - f64::from(age.days) / DAYS_PER_MONTH).abs() < 1e-12);
            seen[usize::from(m.0)] = true;
        }
        assert!((60..=143).all(|m| seen[m]), "every month of age is drawn");
        // Uniform ages: mean near (60 + 144)/2 = 102 months, SD 84/√12 ≈ 24.2.
        let mean = children.iter().map(|c| c.age_months).sum::<f64>() / children.len() as f64;
        assert!(
            (mean - 102.0).abs() < 4.0 * 24.2 / (children.len() as f64).sqrt(),
            "{mean}"
        );
    }

    #[test]
    fn items_sum_to_the_raw_score_and_vary() {
        let (battery, _, children) = sample(2_000, 3, true);
        for (t, s) in battery.subtests.iter().enumerate() {
            if s.items.is_empty() {
                assert!(children.iter().all(|c| c.items[t].is_empty()));
                continue;
            }
            for c in &children {
                let scores = &c.items[t];
                assert_eq!(scores.len(), s.items.len());
                assert!(scores.iter().zip(&s.items).all(|(x, i)| *x <= i.max));
                assert_eq!(
                    scores.iter().map(|&x| u32::from(x)).sum::<u32>(),
                    u32::from(c.raw[t])
                );
            }
            // Cronbach's alpha is finite and positive: the total varies and so do some items.
            let n = children.len() as f64;
            let var = |f: &dyn Fn(&SimulatedChild) -> f64| {
                let m = children.iter().map(f).sum::<f64>() / n;
                children.iter().map(|c| (f(c) - m).powi(2)).sum::<f64>() / (n - 1.0)
            };
            let item_var: f64 = (0..s.items.len())
                .map(|i| var(&|c: &SimulatedChild| f64::from(c.items[t][i])))
                .sum();
            let total_var = var(&|c: &SimulatedChild| f64::from(c.raw[t]));
            let k = s.items.len() as f64;
            let alpha = k / (k - 1.0) * (1.0 - item_var / total_var);
            assert!(
                alpha.is_finite() && alpha > 0.5 && alpha < 1.0,
                "{}: alpha {alpha}",
                s.id
            );
        }
    }

    #[test]
    fn discretise_piles_tails_on_the_ends() {
        assert_eq!(discretise(-3.0, 10), 0);
        assert_eq!(discretise(0.49, 10), 0);
        assert_eq!(discretise(0.5, 10), 1);
        assert_eq!(discretise(9.49, 10), 9);
        assert_eq!(discretise(9.5, 10), 10);
        assert_eq!(discretise(40.0, 10), 10);
    }

    #[test]
    fn cholesky_rebuilds_the_matrix_and_rejects_indefinite_ones() {
        let (battery, model) = demo();
        let r = correlation_matrix(&model, &battery);
        let l = cholesky(&r).expect("positive definite");
        for i in 0..r.len() {
            for j in 0..r.len() {
                let back: f64 = (0..r.len()).map(|p| l[i][p] * l[j][p]).sum();
                assert!((back - r[i][j]).abs() < 1e-12);
            }
        }
        let bad = vec![vec![1.0, 0.9, -0.9], vec![0.9, 1.0, 0.9], vec![-0.9, 0.9, 1.0]];
        assert!(cholesky(&bad).is_err());
    }

    /// 20,000 children: within one 3-month band the share at or below each raw score matches
    /// the model's discretised normal CDF at the band's mid-age within 4 standard errors, and
    /// the latent scores correlate as stated.
    #[test]
    fn marginals_and_correlations_match_the_model() {
        let (battery, model, children) = sample(20_000, 2026, false);
        for (lo, hi) in [(60u16, 62u16), (99, 101), (141, 143)] {
            let mid = f64::from(lo + hi) / 2.0 + 0.5;
            let band: Vec<&SimulatedChild> = children
                .iter()
                .filter(|c| (f64::from(lo)..f64::from(hi + 1)).contains(&c.age_months))
                .collect();
            assert!(band.len() > 550, "{} children in {lo}–{hi}", band.len());
            let n = band.len() as f64;
            for (t, s) in battery.subtests.iter().enumerate() {
                let sm = model.subtest[&s.id];
                let (m, sd) = (sm.median(f64::from(s.raw_max), mid), sm.sd(mid));
                for x in 0..s.raw_max {
                    let p = normal::cdf((f64::from(x) + 0.5 - m) / sd);
                    let share = band.iter().filter(|c| c.raw[t] <= x).count() as f64 / n;
                    let se = (p * (1.0 - p) / n).sqrt().max(0.5 / n);
                    assert!(
                        (share - p).abs() <= 4.0 * se + 1.0 / n,
                        "{} band {lo}–{hi} raw ≤ {x}: sample {share:.4}, model {p:.4} (SE {se:.4})",
                        s.id
                    );
                }
                assert!(band.iter().all(|c| c.raw[t] <= s.raw_max));
            }
        }
        // Latent correlations: sim–voc (both Gc) ρ_w, sim–mr (Gc, Gf) ρ_b; SE ≈ (1 − ρ²)/√N.
        let idx = |id: &str| battery.subtest_index(id).expect("subtest");
        let corr = |a: usize, b: usize| {
            let n = children.len() as f64;
            let (ma, mb) = (
                children.iter().map(|c| c.latent[a]).sum::<f64>() / n,
                children.iter().map(|c| c.latent[b]).sum::<f64>() / n,
            );
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for c in &children {
                let (x, y) = (c.latent[a] - ma, c.latent[b] - mb);
                sab += x * y;
                saa += x * x;
                sbb += y * y;
            }
            sab / (saa * sbb).sqrt()
        };
        let (sim, voc, mr) = (idx("sim"), idx("voc"), idx("mr"));
        assert_eq!(battery.subtests[sim].domain, battery.subtests[voc].domain);
        assert_ne!(battery.subtests[sim].domain, battery.subtests[mr].domain);
        let se = |rho: f64| (1.0 - rho * rho) / (children.len() as f64).sqrt();
        let (rw, rb) = (model.within_domain_correlation, model.between_domain_correlation);
        let (cw, cb) = (corr(sim, voc), corr(sim, mr));
        assert!((cw - rw).abs() < 4.0 * se(rw), "within-domain r {cw} vs {rw}");
        assert!((cb - rb).abs() < 4.0 * se(rb), "between-domain r {cb} vs {rb}");
        // Latent marginals: mean 0, SD 1.
        for t in 0..battery.subtests.len() {
            let n = children.len() as f64;
            let mean = children.iter().map(|c| c.latent[t]).sum::<f64>() / n;
            let var = children.iter().map(|c| (c.latent[t] - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!(mean.abs() < 4.0 / n.sqrt(), "latent mean {mean}");
            assert!(
                (var.sqrt() - 1.0).abs() < 4.0 * (0.5 / n).sqrt(),
                "latent SD {}",
                var.sqrt()
            );
        }
    }
}
