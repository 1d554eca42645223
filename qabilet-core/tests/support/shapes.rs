//! Known truths for judging continuous norming: raw-score distributions given exactly, as a
//! discrete CDF F(r | a) = P(X ≤ r | age a) for every age a in [60, 144) months; a sample
//! generator drawing from them; and the error metrics of a fitted norm against them.
//!
//! Shared test support: included by `#[path = "support/shapes.rs"] mod shapes;` from
//! integration tests and examples of qabilet-core, so it uses only `qabilet_core`, `statrs`,
//! `rand` and `rand_chacha`. `tests/reference/shapes/reference.py` re-implements the shapes
//! independently (scipy) and `tests/shapes_reference.rs` checks the two agree.
//!
//! Rules shared by every shape:
//! - the normal score of raw x is the midpoint one, z = Φ⁻¹((F(x−1) + F(x))/2), F(−1) = 0;
//! - F(raw_max) = 1 exactly: whatever the latent score puts above the top is piled there,
//!   as whatever it puts below 0 is piled on 0 (floors and ceilings);
//! - age curves are written against t = (a − 60)/84, so t = 0 at 5:0 and t = 1 at 12:0.

#![allow(dead_code)]

use qabilet_core::age::{ChronologicalAge, Date};
use qabilet_core::normal;
use qabilet_core::norms::simulate::DAYS_PER_MONTH;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::function::{beta::ln_beta, gamma::ln_gamma};

/// Youngest and oldest whole months of age of the shapes (5:0 and 11:11).
pub const AGE_MIN: u16 = 60;
pub const AGE_MAX: u16 = 143;

/// A raw-score distribution known exactly at every age.
pub trait Truth {
    /// Highest raw score (the lowest is 0).
    fn raw_max(&self) -> u16;
    /// F(r | age) = P(X ≤ r | age); 1 at `raw_max`.
    fn cdf(&self, age: f64, r: u16) -> f64;
    /// Subtest id (column name in the sample and id in battery.toml).
    fn name(&self) -> &str;

    /// Normal score of raw `x` at `age`, midpoint convention.
    fn z(&self, age: f64, x: u16) -> f64 {
        let below = if x == 0 { 0.0 } else { self.cdf(age, x - 1) };
        normal::midpoint_z(below, self.cdf(age, x) - below)
    }

    /// Smallest r with F(r | age) ≥ u.
    fn quantile(&self, age: f64, u: f64) -> u16 {
        smallest_reaching(self.raw_max(), u, |r| self.cdf(age, r))
    }
}

/// Smallest r in 0 … raw_max with cdf(r) ≥ u, by binary search (cdf is nondecreasing and
/// cdf(raw_max) = 1 ≥ u).
fn smallest_reaching(raw_max: u16, u: f64, cdf: impl Fn(u16) -> f64) -> u16 {
    let (mut lo, mut hi) = (0u16, raw_max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= u {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The truths of a battery as the plain references `simulate`, `battery_toml` and
/// `sample_csv` take.
pub fn refs(battery: &[Box<dyn Truth + Sync>]) -> Vec<&dyn Truth> {
    battery.iter().map(|t| t.as_ref() as &dyn Truth).collect()
}

// ---------------------------------------------------------------------------------------
// Age curves

/// A smooth function of age in months; t = (a − 60)/84.
#[derive(Debug, Clone, Copy)]
pub enum Curve {
    /// at60 + (at144 − at60)·t.
    Linear { at60: f64, at144: f64 },
    /// lo + (hi − lo) / (1 + exp(−(a − centre)/width)).
    Logistic {
        lo: f64,
        hi: f64,
        centre: f64,
        width: f64,
    },
    /// lo + (hi − lo)·exp(−b·exp(−c·(a − 60))).
    Gompertz { lo: f64, hi: f64, b: f64, c: f64 },
    /// A proportion linear on the logit scale: logistic(logit(at60) + (logit(at144) −
    /// logit(at60))·t).
    LogitLinear { at60: f64, at144: f64 },
}

impl Curve {
    /// The curve at age `a` (months).
    pub fn at(self, a: f64) -> f64 {
        let t = (a - 60.0) / 84.0;
        match self {
            Curve::Linear { at60, at144 } => at60 + (at144 - at60) * t,
            Curve::Logistic {
                lo,
                hi,
                centre,
                width,
            } => lo + (hi - lo) / (1.0 + (-(a - centre) / width).exp()),
            Curve::Gompertz { lo, hi, b, c } => lo + (hi - lo) * (-b * (-c * (a - 60.0)).exp()).exp(),
            Curve::LogitLinear { at60, at144 } => {
                let logit = |p: f64| (p / (1.0 - p)).ln();
                let x = logit(at60) + (logit(at144) - logit(at60)) * t;
                1.0 / (1.0 + (-x).exp())
            }
        }
    }
}

const fn constant(v: f64) -> Curve {
    Curve::Linear { at60: v, at144: v }
}

// ---------------------------------------------------------------------------------------
// Kind A: Box–Cox (LMS)

/// Box–Cox latent score Y > 0 (LMS, Cole & Green 1992): z = ((Y/M)^L − 1)/(L·S) is standard
/// normal (log(Y/M)/S when L = 0). Raw x is observed when Y − 1 ∈ [x − ½, x + ½), so
/// F(r) = Φ(z_LMS(r + 1.5)) below the top. Mass the Box–Cox family puts at Y ≤ 0 (L > 0) or
/// at Y = ∞ (L < 0) lands on 0 or raw_max with the rest of the tails.
#[derive(Debug, Clone)]
pub struct BoxCoxShape {
    pub name: &'static str,
    pub raw_max: u16,
    /// Median M(a) of Y (raw median + 1).
    pub m: Curve,
    /// Coefficient of variation S(a).
    pub s: Curve,
    /// Box–Cox power L(a).
    pub l: Curve,
}

/// The LMS normal score of y > 0. expm1 keeps ((y/M)^L − 1)/L accurate as L nears 0.
pub fn z_lms(y: f64, m: f64, s: f64, l: f64) -> f64 {
    let log_ratio = (y / m).ln();
    if l == 0.0 {
        log_ratio / s
    } else {
        (l * log_ratio).exp_m1() / (l * s)
    }
}

impl Truth for BoxCoxShape {
    fn raw_max(&self) -> u16 {
        self.raw_max
    }

    fn cdf(&self, age: f64, r: u16) -> f64 {
        if r >= self.raw_max {
            return 1.0;
        }
        let y = f64::from(r) + 1.5;
        normal::cdf(z_lms(y, self.m.at(age), self.s.at(age), self.l.at(age)))
    }

    fn name(&self) -> &str {
        self.name
    }
}

/// Four LMS subtests. Medians rise with age; S shrinks. `lms20` has a marked floor (22 %
/// score 0 at 60.5 months); `lms30` changes skew (L from 2, short upper tail, to −0.5,
/// crossing 0 at 127.2 months); `lms60` has a marked ceiling (36 % at raw_max at 132.5
/// months, 54 % at 143.5).
pub fn lms_battery() -> Vec<Box<dyn Truth + Sync>> {
    let lin = |at60, at144| Curve::Linear { at60, at144 };
    vec![
        Box::new(BoxCoxShape {
            name: "lms20",
            raw_max: 20,
            m: Curve::Logistic {
                lo: 0.5,
                hi: 17.5,
                centre: 90.0,
                width: 14.0,
            },
            s: lin(0.55, 0.20),
            l: lin(0.3, 0.8),
        }),
        Box::new(BoxCoxShape {
            name: "lms30",
            raw_max: 30,
            m: Curve::Gompertz {
                lo: 3.0,
                hi: 23.0,
                b: 2.0,
                c: 0.03,
            },
            s: lin(0.30, 0.20),
            l: lin(2.0, -0.5),
        }),
        Box::new(BoxCoxShape {
            name: "lms45",
            raw_max: 45,
            m: Curve::Logistic {
                lo: 4.0,
                hi: 40.0,
                centre: 100.0,
                width: 20.0,
            },
            s: lin(0.35, 0.15),
            l: lin(1.0, 0.2),
        }),
        Box::new(BoxCoxShape {
            name: "lms60",
            raw_max: 60,
            m: Curve::Logistic {
                lo: 8.0,
                hi: 65.0,
                centre: 92.0,
                width: 20.0,
            },
            s: lin(0.30, 0.07),
            l: lin(1.2, 1.8),
        }),
    ]
}

// ---------------------------------------------------------------------------------------
// Kind B: shapes no single Box–Cox family fits

/// Beta-binomial(n = raw_max, α = p·φ, β = (1 − p)·φ): mean p(a)·n, overdispersion
/// ρ = 1/(φ + 1) fixed.
#[derive(Debug, Clone)]
pub struct BetaBinomialShape {
    pub name: &'static str,
    pub raw_max: u16,
    /// Mean proportion p(a).
    pub p: Curve,
    /// α + β.
    pub phi: f64,
}

impl BetaBinomialShape {
    /// P(X = k) for k = 0 … n: C(n, k)·B(k + α, n − k + β)/B(α, β), from ln Γ and ln B.
    fn pmf(&self, age: f64) -> Vec<f64> {
        let n = f64::from(self.raw_max);
        let p = self.p.at(age);
        let (a, b) = (p * self.phi, (1.0 - p) * self.phi);
        let ln_norm = ln_gamma(n + 1.0) - ln_beta(a, b);
        (0..=self.raw_max)
            .map(|k| {
                let k = f64::from(k);
                let ln_choose = ln_norm - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0);
                (ln_choose + ln_beta(k + a, n - k + b)).exp()
            })
            .collect()
    }
}

impl Truth for BetaBinomialShape {
    fn raw_max(&self) -> u16 {
        self.raw_max
    }

    fn cdf(&self, age: f64, r: u16) -> f64 {
        cdf_from_pmf(&self.pmf(age), r)
    }

    /// The pmf computed once per draw, not once per step of the search (same values).
    fn quantile(&self, age: f64, u: f64) -> u16 {
        let pmf = self.pmf(age);
        smallest_reaching(self.raw_max, u, |r| cdf_from_pmf(&pmf, r))
    }

    fn name(&self) -> &str {
        self.name
    }
}

/// F(r) from the pmf 0 … n, summed from the nearer end and divided by the sum of all terms:
/// rounding shared by every term cancels, and 1 − F keeps its relative accuracy in the upper
/// tail. F(n) = 1.
fn cdf_from_pmf(pmf: &[f64], r: u16) -> f64 {
    let (lower, upper) = pmf.split_at((usize::from(r) + 1).min(pmf.len()));
    if upper.is_empty() {
        return 1.0;
    }
    let (lo, hi): (f64, f64) = (lower.iter().sum(), upper.iter().sum());
    if lo <= hi {
        lo / (lo + hi)
    } else {
        1.0 - hi / (lo + hi)
    }
}

/// One component of a mixture: a discretised normal.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// Mixing weight w(a) (weights are divided by their sum).
    pub weight: Curve,
    /// Median curve, read at age a − delay.
    pub median: Curve,
    /// SD, read at age a.
    pub sd: Curve,
    /// Months the part's development lags the median curve.
    pub delay: f64,
}

/// A mixture of discretised normals: a part's value v is observed as the whole x with
/// v ∈ [x − ½, x + ½), so F_part(r) = Φ((r + ½ − median)/sd) below the top (tails piled on
/// 0 and raw_max as in kind A); F = Σ w·F_part / Σ w.
#[derive(Debug, Clone)]
pub struct MixtureShape {
    pub name: &'static str,
    pub raw_max: u16,
    pub parts: Vec<Part>,
}

impl Truth for MixtureShape {
    fn raw_max(&self) -> u16 {
        self.raw_max
    }

    fn cdf(&self, age: f64, r: u16) -> f64 {
        if r >= self.raw_max {
            return 1.0;
        }
        let x = f64::from(r) + 0.5;
        let (mut total, mut weights) = (0.0, 0.0);
        for p in &self.parts {
            let w = p.weight.at(age);
            total += w * normal::cdf((x - p.median.at(age - p.delay)) / p.sd.at(age));
            weights += w;
        }
        total / weights
    }

    fn name(&self) -> &str {
        self.name
    }
}

/// Three subtests: `bb` (beta-binomial from a floor at 5 to a ceiling at 11: 15.5 % score 0
/// at 60.5 months, 15.5 % score 40 at 143.5), `delay` (20 %
/// lag the typical curve by 24 months), `bimodal` (two groups near 30 % and 70 % of the
/// maximum, the upper one growing from 30 % to 70 % of children).
pub fn nonparametric_battery() -> Vec<Box<dyn Truth + Sync>> {
    let lin = |at60, at144| Curve::Linear { at60, at144 };
    let growth = Curve::Logistic {
        lo: 2.0,
        hi: 32.0,
        centre: 96.0,
        width: 18.0,
    };
    vec![
        Box::new(BetaBinomialShape {
            name: "bb",
            raw_max: 40,
            p: Curve::LogitLinear {
                at60: 0.12,
                at144: 0.88,
            },
            phi: 8.0,
        }),
        Box::new(MixtureShape {
            name: "delay",
            raw_max: 36,
            parts: vec![
                Part {
                    weight: constant(0.8),
                    median: growth,
                    sd: lin(2.5, 4.0),
                    delay: 0.0,
                },
                Part {
                    weight: constant(0.2),
                    median: growth,
                    sd: constant(4.5),
                    delay: 24.0,
                },
            ],
        }),
        Box::new(MixtureShape {
            name: "bimodal",
            raw_max: 50,
            parts: vec![
                Part {
                    weight: lin(0.7, 0.3),
                    median: lin(11.0, 19.0),
                    sd: lin(3.0, 3.5),
                    delay: 0.0,
                },
                Part {
                    weight: lin(0.3, 0.7),
                    median: lin(31.0, 39.0),
                    sd: lin(3.5, 4.0),
                    delay: 0.0,
                },
            ],
        }),
    ]
}

// ---------------------------------------------------------------------------------------
// Sample generator

/// One simulated child.
#[derive(Debug, Clone, PartialEq)]
pub struct SimChild {
    /// `c000001` …
    pub id: String,
    /// ISO date.
    pub birth_date: String,
    /// ISO date.
    pub test_date: String,
    /// Exact age in months, 12·Y + M + D/30.4375.
    pub age_months: f64,
    /// Raw score per truth, in the order given.
    pub raw: Vec<u16>,
}

/// Standard normals by Box–Muller (both values of each pair used).
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
        let (r, t) = ((-2.0 * u1.ln()).sqrt(), std::f64::consts::TAU * u2);
        self.spare = Some(r * t.sin());
        r * t.cos()
    }
}

fn days(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(86_400 * n)
}

/// `date` minus `years` whole years, landing on the month's last day when it lacks the day
/// (29 February → 28 February): the same as subtracting 12·years calendar months.
fn years_before(date: Date, years: i16) -> Date {
    let first = Date::new(date.year() - years, date.month(), 1).expect("valid year");
    Date::new(first.year(), first.month(), date.day().min(first.days_in_month())).expect("valid day")
}

/// A test date uniform over the days of 2026 and a birth date uniform over the birth dates
/// whose calendar-exact age on it is 60 … 143 whole months: born at most 60 months before,
/// and later than 144 months before (norms/simulate.rs does the same).
fn draw_dates(rng: &mut ChaCha8Rng) -> (Date, Date) {
    let year_start = Date::new(2026, 1, 1).expect("valid date");
    let test = year_start
        .checked_add(days(rng.random_range(0..365)))
        .expect("in 2026");
    // 60 months = 5 years; 144 months = 12 years.
    let youngest = years_before(test, 5);
    let oldest = years_before(test, 12).tomorrow().expect("valid date");
    let span = oldest.until(youngest).expect("dates in range").get_days();
    let birth = oldest
        .checked_add(days(rng.random_range(0..=span as u64)))
        .expect("valid date");
    (birth, test)
}

/// `n` children from `seed`: per child (one ChaCha8 stream), dates as [`draw_dates`], exact
/// age a, a common factor g ~ N(0, 1) and per truth e_t ~ N(0, 1); latent
/// z_t = λ·g + √(1 − λ²)·e_t, raw_t = truth_t.quantile(a, Φ(z_t)). At any age raw_t follows
/// its truth exactly (a Gaussian copula); truths correlate λ² on the latent scale.
pub fn simulate(truths: &[&dyn Truth], n: usize, seed: u64, factor_loading: f64) -> Vec<SimChild> {
    let lambda = factor_loading;
    let unique = (1.0 - lambda * lambda).sqrt();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normals = Normals { spare: None };
    (0..n)
        .map(|row| {
            let (birth, test) = draw_dates(&mut rng);
            let age = ChronologicalAge::between(birth, test).expect("test after birth");
            let months = age.in_months().0;
            assert!((AGE_MIN..=AGE_MAX).contains(&months), "age {age}");
            let a = f64::from(months) + f64::from(age.days) / DAYS_PER_MONTH;
            let g = normals.draw(&mut rng);
            let raw = truths
                .iter()
                .map(|t| {
                    let z = lambda * g + unique * normals.draw(&mut rng);
                    t.quantile(a, normal::cdf(z))
                })
                .collect();
            SimChild {
                id: format!("c{:06}", row + 1),
                birth_date: birth.to_string(),
                test_date: test.to_string(),
                age_months: a,
                raw,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Battery and sample files

/// Domains given to the subtests in turn (any CHC code will do for norming).
const DOMAINS: [&str; 6] = ["Gc", "Gf", "Gv", "Gq", "Gwm", "Gs"];

/// The standard index-scale classification bands (a battery needs at least one).
const CLASSIFICATION: &str = r#"
[[classification]]
id = "extremely_low"
max = 69
labels = { kk = "Extremely low", ru = "Extremely low", en = "Extremely low" }

[[classification]]
id = "very_low"
min = 70
max = 79
labels = { kk = "Very low", ru = "Very low", en = "Very low" }

[[classification]]
id = "low_average"
min = 80
max = 89
labels = { kk = "Low average", ru = "Low average", en = "Low average" }

[[classification]]
id = "average"
min = 90
max = 109
labels = { kk = "Average", ru = "Average", en = "Average" }

[[classification]]
id = "high_average"
min = 110
max = 119
labels = { kk = "High average", ru = "High average", en = "High average" }

[[classification]]
id = "very_high"
min = 120
max = 129
labels = { kk = "Very high", ru = "Very high", en = "Very high" }

[[classification]]
id = "extremely_high"
min = 130
labels = { kk = "Extremely high", ru = "Extremely high", en = "Extremely high" }
"#;

fn names(text: &str) -> String {
    format!("names = {{ kk = \"{text}\", ru = \"{text}\", en = \"{text}\" }}")
}

/// A battery.toml for `truths`: ages 60–143 months, default scales, one `raw_max` subtest
/// per truth (core, no items, so no start/reversal/discontinue rules), and one general
/// composite `gen` over all of them (no proration).
pub fn battery_toml(id: &str, truths: &[&dyn Truth]) -> String {
    let mut out = format!(
        "id = \"{id}\"\nversion = \"0.0.1\"\nage_policy = \"calendar-exact\"\n\
         age_min_months = {AGE_MIN}\nage_max_months = {AGE_MAX}\n{}\n",
        names(&format!("Shapes battery {id} (simulated truths)"))
    );
    out.push_str(CLASSIFICATION);
    for (i, t) in truths.iter().enumerate() {
        out.push_str(&format!(
            "\n[[subtest]]\nid = \"{}\"\ndomain = \"{}\"\ncore = true\n{}\nraw_max = {}\n",
            t.name(),
            DOMAINS[i % DOMAINS.len()],
            names(t.name()),
            t.raw_max()
        ));
    }
    let members: Vec<String> = truths.iter().map(|t| format!("\"{}\"", t.name())).collect();
    out.push_str(&format!(
        "\n[[composite]]\nid = \"gen\"\nkind = \"general\"\ndomain = \"g\"\n{}\nsubtests = [{}]\n\
         max_prorated = 0\n",
        names("General"),
        members.join(", ")
    ));
    out
}

/// The standardisation-sample CSV: `id,birth_date,test_date,sex,language,<truth names…>`,
/// sex alternating M/F, language kk.
pub fn sample_csv(truths: &[&dyn Truth], children: &[SimChild]) -> String {
    let mut out = String::from("id,birth_date,test_date,sex,language");
    for t in truths {
        out.push(',');
        out.push_str(t.name());
    }
    out.push('\n');
    for (i, c) in children.iter().enumerate() {
        let sex = if i % 2 == 0 { "M" } else { "F" };
        out.push_str(&format!("{},{},{},{sex},kk", c.id, c.birth_date, c.test_date));
        for x in &c.raw {
            out.push_str(&format!(",{x}"));
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------
// Error metrics

/// How well a fitted norm recovers a truth's normal scores. RMSE and max are of
/// fitted − true z. "central": cells with |z_true| ≤ 2.5, unclipped. "all": every cell,
/// both z clipped to ±3.5 first (scaled scores 1–19 only resolve |z| ≤ 3). An empty set
/// has RMSE and max 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recovery {
    pub rmse_central: f64,
    pub max_central: f64,
    pub n_central: usize,
    pub rmse_all: f64,
    pub max_all: f64,
    pub n_all: usize,
}

/// Sum of squares, max |error| and count of a set of errors.
#[derive(Default)]
struct Errors {
    squares: f64,
    max: f64,
    n: usize,
}

impl Errors {
    fn add(&mut self, e: f64) {
        self.squares += e * e;
        self.max = nan_max(self.max, e.abs());
        self.n += 1;
    }

    fn rmse(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.squares / self.n as f64).sqrt()
        }
    }
}

/// The larger of two, NaN when either is (`f64::max` would hide a NaN fitted score).
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Compares `fitted_z(month, raw)` with the truth over every whole month 60 … 143 (truth read
/// at mid-month, month + 0.5) and every raw score 0 … raw_max.
pub fn recovery(truth: &dyn Truth, fitted_z: impl Fn(u16, u16) -> f64) -> Recovery {
    let (mut central, mut all) = (Errors::default(), Errors::default());
    for month in AGE_MIN..=AGE_MAX {
        let age = f64::from(month) + 0.5;
        for raw in 0..=truth.raw_max() {
            let (truth_z, fit) = (truth.z(age, raw), fitted_z(month, raw));
            if truth_z.abs() <= 2.5 {
                central.add(fit - truth_z);
            }
            all.add(fit.clamp(-3.5, 3.5) - truth_z.clamp(-3.5, 3.5));
        }
    }
    Recovery {
        rmse_central: central.rmse(),
        max_central: central.max,
        n_central: central.n,
        rmse_all: all.rmse(),
        max_all: all.max,
        n_all: all.n,
    }
}

/// Pools the cells of several recoveries: RMSE over all pooled cells, max of the maxima.
pub fn combine(parts: &[Recovery]) -> Recovery {
    let pool = |rmse: fn(&Recovery) -> (f64, f64, usize)| {
        let mut e = Errors::default();
        for r in parts {
            let (root_mean_square, max, n) = rmse(r);
            e.squares += root_mean_square * root_mean_square * n as f64;
            e.max = nan_max(e.max, max);
            e.n += n;
        }
        e
    };
    let central = pool(|r| (r.rmse_central, r.max_central, r.n_central));
    let all = pool(|r| (r.rmse_all, r.max_all, r.n_all));
    Recovery {
        rmse_central: central.rmse(),
        max_central: central.max,
        n_central: central.n,
        rmse_all: all.rmse(),
        max_all: all.max,
        n_all: all.n,
    }
}
