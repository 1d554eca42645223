//! The figures of a one- or two-stage referral plan under the population model.
//!
//! With the latent standardised true score Z ~ N(0, 1), a stage of reliability r whose rule
//! reduces to X ≥ c′ passes a child with probability g(z) = Φ((√r·z − y)/√(1 − r)) given
//! Z = z, where y = (c′ − 100)/15; a = (t − 100)/15. Then
//! - referred_rate = P(X ≥ c′) = Φ(−y) and above_rate = P(Z ≥ a) = Φ(−a), in closed form;
//! - the joint P(X ≥ c′, Z ≥ a) = ∫_a^∞ φ(z)·g(z) dz, by quadrature;
//! - sensitivity = joint / above_rate; ppv = joint / referred_rate.
//!
//! Two stages measure the same Z with independent errors and refer when both pass
//! (conjunctive): overall_referred_rate = ∫ φ·g₁·g₂ over the whole line and the overall joint
//! = ∫_a^∞ φ·g₁·g₂. Stage-2 figures alone are those of stage 2 given to everyone. A
//! quadrature's rates are kept within [0, 1] and its joint at or below the referral rate (the
//! caps only absorb rounding). ppv is `None` when the referral rate is 0 (no one referred, or a rate
//! below the smallest f64): there is no one to be right about.

use serde::Serialize;

use super::quadrature::{density, integrate};
use super::{Field, IndexPoint, ReferralError, Reliability, Rule};
use crate::normal;

/// One stage: a rule, the instrument's reliability and the cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// When a child passes.
    pub rule: Rule,
    /// Reliability of the stage's index.
    pub reliability: Reliability,
    /// The cut the rule compares with.
    pub cut: IndexPoint,
}

impl Stage {
    /// The observed index c′ from which a child passes this stage (see [`Rule::threshold`]).
    pub fn threshold(&self) -> f64 {
        self.rule.threshold(self.reliability.get(), self.cut.get())
    }

    /// The threshold on the standard normal scale, y = (c′ − 100)/15.
    fn y(&self) -> f64 {
        (self.threshold() - super::rule::MEAN) / super::rule::SD
    }

    /// P(pass | Z = z) = Φ((√r·z − y)/√(1 − r)).
    fn pass_given(&self, y: f64) -> impl Fn(f64) -> f64 {
        let r = self.reliability.get();
        let (loading, error) = (r.sqrt(), (1.0 - r).sqrt());
        move |z| normal::cdf((loading * z - y) / error)
    }

    /// Quadrature break points: the latent score m = y/√r at which the pass probability is ½,
    /// and m ± k·w for k = 1, 2, 4, 8, 16, w = √((1 − r)/r) being the width of g's rise, so
    /// that no panel next to the rise is much wider than its distance from it (at r near 1
    /// the rise is narrower than a 20-point rule on a unit panel can see).
    fn breaks(&self, y: f64) -> [f64; 11] {
        let r = self.reliability.get();
        let (m, w) = (y / r.sqrt(), ((1.0 - r) / r).sqrt());
        let mut points = [m; 11];
        for (i, k) in [1.0, 2.0, 4.0, 8.0, 16.0].into_iter().enumerate() {
            points[2 * i + 1] = m - k * w;
            points[2 * i + 2] = m + k * w;
        }
        points
    }
}

/// A referral plan: one stage, or two stages under the same kind of rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Children truly above this index are the ones to find.
    pub above: IndexPoint,
    /// The screening stage.
    pub stage1: Stage,
    /// The second stage, if any.
    pub stage2: Option<Stage>,
}

/// Rates of one stage or of the two stages together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// P(referred).
    pub referred_rate: f64,
    /// P(referred | truly above).
    pub sensitivity: f64,
    /// P(truly above | referred); `None` when no one is referred.
    pub ppv: Option<f64>,
}

/// Everything the planner says about a plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanFigures {
    /// P(truly above t).
    pub above_rate: f64,
    /// Stage 1.
    pub stage1: Figures,
    /// Stage 2 alone (given to everyone).
    pub stage2: Option<Figures>,
    /// Referred when both stages pass.
    pub overall: Option<Figures>,
}

impl Plan {
    /// Validates a plan: reliabilities strictly inside (0, 1), cuts and `above` within 40–160;
    /// `stage2` is (reliability, cut) of the second stage under the same `rule`.
    ///
    /// # Errors
    /// The first out-of-range input, named.
    pub fn new(
        rule: Rule,
        reliability: f64,
        cut: f64,
        above: f64,
        stage2: Option<(f64, f64)>,
    ) -> Result<Self, ReferralError> {
        let stage1 = Stage {
            rule,
            reliability: Reliability::new(Field::Reliability, reliability)?,
            cut: IndexPoint::new(Field::Cut, cut)?,
        };
        let above = IndexPoint::new(Field::Above, above)?;
        let stage2 = match stage2 {
            None => None,
            Some((r, c)) => Some(Stage {
                rule,
                reliability: Reliability::new(Field::Stage2Reliability, r)?,
                cut: IndexPoint::new(Field::Stage2Cut, c)?,
            }),
        };
        Ok(Plan {
            above,
            stage1,
            stage2,
        })
    }

    /// The plan's figures.
    ///
    /// ```
    /// use qabilet_core::referral::{Plan, Rule};
    /// let plan = Plan::new(Rule::Observed, 0.9, 130.0, 130.0, None).unwrap();
    /// let f = plan.figures();
    /// assert!((f.stage1.referred_rate - 0.022750131948179195).abs() < 1e-15);
    /// // Cut and "truly above" both at 130: as many referred as able, so sensitivity = PPV.
    /// assert!((f.stage1.sensitivity - 0.7006026324900341).abs() < 1e-12);
    /// assert!((f.stage1.ppv.unwrap() - f.stage1.sensitivity).abs() < 1e-12);
    /// ```
    pub fn figures(&self) -> PlanFigures {
        let a = self.above.standardised();
        let above_rate = normal::cdf(-a);
        let stage1 = stage_figures(&self.stage1, a, above_rate);
        let (stage2, overall) = match &self.stage2 {
            None => (None, None),
            Some(s2) => {
                let (y1, y2) = (self.stage1.y(), s2.y());
                let (g1, g2) = (self.stage1.pass_given(y1), s2.pass_given(y2));
                let f = |z: f64| density(z) * g1(z) * g2(z);
                let breaks: Vec<f64> = self.stage1.breaks(y1).into_iter().chain(s2.breaks(y2)).collect();
                let joint = integrate(&f, Some(a), None, &breaks);
                let below = integrate(&f, None, Some(a), &breaks);
                (
                    Some(stage_figures(s2, a, above_rate)),
                    Some(ratios(below + joint, joint, above_rate)),
                )
            }
        };
        PlanFigures {
            above_rate,
            stage1,
            stage2,
            overall,
        }
    }
}

fn stage_figures(stage: &Stage, a: f64, above_rate: f64) -> Figures {
    let y = stage.y();
    let g = stage.pass_given(y);
    let joint = integrate(&|z: f64| density(z) * g(z), Some(a), None, &stage.breaks(y));
    ratios(normal::cdf(-y), joint, above_rate)
}

fn ratios(referred_rate: f64, joint: f64, above_rate: f64) -> Figures {
    let referred_rate = referred_rate.clamp(0.0, 1.0);
    let joint = joint.clamp(0.0, referred_rate.min(above_rate));
    Figures {
        referred_rate,
        sensitivity: joint / above_rate,
        ppv: (referred_rate > 0.0).then(|| joint / referred_rate),
    }
}
