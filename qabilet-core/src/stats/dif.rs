//! Mantel–Haenszel differential item functioning (DIF) for dichotomous items, matched on
//! the total score, with the ETS A/B/C classification. Rules and sources in norms/DIF.md.
//!
//! Each examinee belongs to the reference group, the focal group, or neither (ignored, but
//! counted). An examinee with a missing response on any studied item is left out of the
//! analysis of every item (and counted), so all items are analysed on one sample and
//! matched on one criterion: the total score over all studied items, the studied item
//! included (Holland & Thayer 1988). Each score level is a stratum k, tabulated as
//!
//! | group | correct | incorrect |
//! | --- | --- | --- |
//! | reference | A_k | B_k |
//! | focal | C_k | D_k |
//!
//! Only strata that hold both groups enter the statistics; the others carry no information
//! about the group difference at that score (their terms are zero) and are skipped.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use thiserror::Error;

use crate::normal;

/// The ETS delta scale factor: MH D-DIF = −2.35·ln α_MH (Holland & Thayer 1988; 2.35 ≈ 4/1.7,
/// the delta metric's SD of 4 over the logistic–normal scaling constant).
pub const DELTA_SCALE: f64 = 2.35;

/// Significance level of both tests behind the ETS classification.
pub const SIGNIFICANCE: f64 = 0.05;

/// Which comparison group an examinee belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// The reference group (A, B in the 2×2 tables).
    Reference,
    /// The focal group (C, D in the 2×2 tables).
    Focal,
    /// Any other group value: ignored, counted.
    Other,
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Group::Reference => "reference",
            Group::Focal => "focal",
            Group::Other => "other",
        })
    }
}

/// Why a DIF analysis cannot be set up or run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DifError {
    /// No studied item.
    #[error("no items to study")]
    NoItems,
    /// An item id is empty.
    #[error("item {position}: empty id")]
    EmptyItemId {
        /// 1-based position.
        position: usize,
    },
    /// An item id is given twice.
    #[error("item '{id}' appears twice")]
    DuplicateItem {
        /// The id.
        id: String,
    },
    /// An examinee's responses do not match the items.
    #[error("examinee {examinee}: {given} responses for {items} items")]
    Length {
        /// 1-based examinee number, in the order added.
        examinee: usize,
        /// Responses given.
        given: usize,
        /// Studied items.
        items: usize,
    },
    /// The reference or focal group has no examinee with complete responses.
    #[error(
        "the {group} group has no examinee with a response to every item \
         ({excluded_missing} excluded for missing responses)"
    )]
    EmptyGroup {
        /// Which group.
        group: Group,
        /// Its examinees left out for missing responses.
        excluded_missing: usize,
    },
}

/// One stratum's 2×2 table: A, B reference correct/incorrect, C, D focal correct/incorrect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stratum {
    /// Reference group, correct.
    pub a: u64,
    /// Reference group, incorrect.
    pub b: u64,
    /// Focal group, correct.
    pub c: u64,
    /// Focal group, incorrect.
    pub d: u64,
}

/// What could be computed for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifStatus {
    /// α_MH, χ²_MH, its p-value, MH D-DIF, its SE and the ETS class are all finite.
    Ok,
    /// Every analysed examinee answered the item the same way (all correct or all wrong):
    /// nothing to compare.
    Constant,
    /// No stratum holds both groups with both a correct and an incorrect answer, so
    /// Σ Var(A_k) = 0 and α_MH = 0/0: no statistic exists.
    NoInformation,
    /// χ²_MH and its p-value exist, but one of Σ A_k D_k/N_k, Σ B_k C_k/N_k is zero, so
    /// α_MH is 0 or ∞ and MH D-DIF is ±∞ (its sign is in `favours`); no SE and no class.
    Unbounded,
}

impl fmt::Display for DifStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DifStatus::Ok => "ok",
            DifStatus::Constant => "constant",
            DifStatus::NoInformation => "no_information",
            DifStatus::Unbounded => "unbounded",
        })
    }
}

/// The ETS DIF categories (Dorans & Holland 1993; Zwick 2012).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum EtsClass {
    /// Negligible: |Δ| < 1, or χ²_MH not significant at .05.
    A,
    /// Moderate: neither A nor C.
    B,
    /// Large: |Δ| ≥ 1.5 and |Δ| significantly greater than 1 (one-sided, .05).
    C,
}

impl fmt::Display for EtsClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EtsClass::A => "A",
            EtsClass::B => "B",
            EtsClass::C => "C",
        })
    }
}

/// Which group an item is easier for, at equal total score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Favours {
    /// α_MH > 1, Δ < 0: the reference group does better (ETS "−", against the focal group).
    Reference,
    /// α_MH < 1, Δ > 0: the focal group does better (ETS "+").
    Focal,
}

impl fmt::Display for Favours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Favours::Reference => "reference",
            Favours::Focal => "focal",
        })
    }
}

/// The Mantel–Haenszel statistics of one item from its strata. Fields other than `status`
/// are `None` where the status says they do not exist; never NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MhStatistics {
    /// What could be computed.
    pub status: DifStatus,
    /// α_MH = Σ(A_k D_k/N_k) / Σ(B_k C_k/N_k). `Ok` only.
    pub alpha_mh: Option<f64>,
    /// χ²_MH = (max(|Σ A_k − Σ E(A_k)| − ½, 0))² / Σ Var(A_k). `Ok` and `Unbounded`.
    pub chi2_mh: Option<f64>,
    /// P(χ²₁ ≥ χ²_MH). `Ok` and `Unbounded`.
    pub p_value: Option<f64>,
    /// MH D-DIF Δ = −2.35·ln α_MH. `Ok` only.
    pub delta_mh: Option<f64>,
    /// SE(Δ) = 2.35·√Var(ln α_MH), Robins–Breslow–Greenland variance. `Ok` only.
    pub se_delta: Option<f64>,
    /// ETS class from Δ, SE(Δ) and the p-value ([`ets_class`]). `Ok` only.
    pub class: Option<EtsClass>,
    /// Sign of Δ (`None` when Δ = 0 exactly). `Ok` and `Unbounded`.
    pub favours: Option<Favours>,
}

impl MhStatistics {
    fn empty(status: DifStatus) -> Self {
        MhStatistics {
            status,
            alpha_mh: None,
            chi2_mh: None,
            p_value: None,
            delta_mh: None,
            se_delta: None,
            class: None,
            favours: None,
        }
    }
}

/// The Mantel–Haenszel statistics of one item over its score strata.
///
/// With N_k = A_k + B_k + C_k + D_k, n_Rk = A_k + B_k, n_Fk = C_k + D_k, m_1k = A_k + C_k,
/// m_0k = B_k + D_k, summed over the strata holding both groups (the others are skipped):
///
/// - α_MH = Σ(A_k D_k/N_k) / Σ(B_k C_k/N_k) (Mantel & Haenszel 1959);
/// - χ²_MH = (max(|Σ A_k − Σ E(A_k)| − ½, 0))² / Σ Var(A_k), E(A_k) = n_Rk m_1k / N_k,
///   Var(A_k) = n_Rk n_Fk m_1k m_0k / (N_k² (N_k − 1)) (Holland & Thayer 1988, with the
///   continuity correction; it never makes |Σ A_k − Σ E(A_k)| negative, so a deviation
///   below ½ gives χ² = 0); p = P(χ²₁ ≥ χ²_MH);
/// - Δ = −2.35·ln α_MH; SE(Δ) = 2.35·√Var(ln α_MH) with the Robins, Breslow & Greenland
///   (1986) variance, with R_k = A_k D_k/N_k, S_k = B_k C_k/N_k, P_k = (A_k + D_k)/N_k,
///   Q_k = (B_k + C_k)/N_k, R = ΣR_k, S = ΣS_k:
///   Var(ln α_MH) = ΣP_kR_k/(2R²) + Σ(P_kS_k + Q_kR_k)/(2RS) + ΣQ_kS_k/(2S²)
///   (algebraically the same as Phillips & Holland 1987);
/// - the class by [`ets_class`].
///
/// A stratum with both groups contributes to Σ Var(A_k) only if it also holds a correct and
/// an incorrect answer. If no stratum does, the status is [`DifStatus::NoInformation`]
/// (or [`DifStatus::Constant`] when the item has a single response value in all the
/// strata given); if R or S is zero, [`DifStatus::Unbounded`].
///
/// # Examples
/// ```
/// use qabilet_core::stats::{DifStatus, Stratum, mantel_haenszel};
/// let strata = [Stratum { a: 30, b: 10, c: 20, d: 20 }, Stratum { a: 40, b: 5, c: 30, d: 10 }];
/// let mh = mantel_haenszel(&strata);
/// assert_eq!(mh.status, DifStatus::Ok);
/// assert!(mh.delta_mh.unwrap() < -1.0); // easier for the reference group
/// ```
pub fn mantel_haenszel(strata: &[Stratum]) -> MhStatistics {
    let (mut correct, mut incorrect) = (0u64, 0u64);
    let (mut sum_a, mut sum_e, mut sum_v) = (0.0, 0.0, 0.0);
    let (mut r, mut s, mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut informative = 0usize;
    for t in strata {
        correct += t.a + t.c;
        incorrect += t.b + t.d;
        let (n_r, n_f) = (t.a + t.b, t.c + t.d);
        if n_r == 0 || n_f == 0 {
            continue;
        }
        let (m1, m0) = (t.a + t.c, t.b + t.d);
        if m1 > 0 && m0 > 0 {
            informative += 1;
        }
        let (a, b, c, d) = (t.a as f64, t.b as f64, t.c as f64, t.d as f64);
        let n = a + b + c + d;
        let (n_r, n_f, m1, m0) = (n_r as f64, n_f as f64, m1 as f64, m0 as f64);
        sum_a += a;
        sum_e += n_r * m1 / n;
        sum_v += n_r * n_f * m1 * m0 / (n * n * (n - 1.0));
        let (r_k, s_k) = (a * d / n, b * c / n);
        let (p_k, q_k) = ((a + d) / n, (b + c) / n);
        r += r_k;
        s += s_k;
        pr += p_k * r_k;
        ps_qr += p_k * s_k + q_k * r_k;
        qs += q_k * s_k;
    }
    if correct == 0 || incorrect == 0 {
        return MhStatistics::empty(DifStatus::Constant);
    }
    if informative == 0 {
        return MhStatistics::empty(DifStatus::NoInformation);
    }
    // An informative stratum has all four margins positive, so A_k D_k + B_k C_k > 0 and
    // r + s > 0: at most one of them is zero.
    let deviation = ((sum_a - sum_e).abs() - 0.5).max(0.0);
    let chi2 = deviation * deviation / sum_v;
    let p_value = chi_square_1_sf(chi2);
    if r == 0.0 || s == 0.0 {
        return MhStatistics {
            chi2_mh: Some(chi2),
            p_value: Some(p_value),
            // r = 0: α = 0, Δ = +∞ (focal does better); s = 0: α = ∞, Δ = −∞.
            favours: Some(if r == 0.0 {
                Favours::Focal
            } else {
                Favours::Reference
            }),
            ..MhStatistics::empty(DifStatus::Unbounded)
        };
    }
    let alpha = r / s;
    let var_ln = pr / (2.0 * r * r) + ps_qr / (2.0 * r * s) + qs / (2.0 * s * s);
    let delta = -DELTA_SCALE * alpha.ln();
    let se = DELTA_SCALE * var_ln.sqrt();
    MhStatistics {
        status: DifStatus::Ok,
        alpha_mh: Some(alpha),
        chi2_mh: Some(chi2),
        p_value: Some(p_value),
        delta_mh: Some(delta),
        se_delta: Some(se),
        class: Some(ets_class(delta, se, p_value)),
        favours: favours(delta),
    }
}

fn favours(delta: f64) -> Option<Favours> {
    if delta < 0.0 {
        Some(Favours::Reference)
    } else if delta > 0.0 {
        Some(Favours::Focal)
    } else {
        None
    }
}

/// P(χ²₁ ≥ x), the upper tail of the χ² distribution with one degree of freedom (statrs;
/// it underflows to 0 beyond x ≈ 1400).
fn chi_square_1_sf(x: f64) -> f64 {
    ChiSquared::new(1.0)
        .expect("one degree of freedom is a valid parameter")
        .sf(x)
}

/// The ETS A/B/C class of an item with MH D-DIF `delta`, its standard error `se` and the
/// p-value of χ²_MH, at the .05 level (Dorans & Holland 1993; Zwick 2012), in this order:
///
/// - **A** if |Δ| < 1 or p ≥ .05 (no DIF shown by χ²_MH, or a negligible one);
/// - **C** if |Δ| ≥ 1.5 and |Δ| − 1 > z·SE(Δ) with z = Φ⁻¹(.95) = 1.6448536… (|Δ|
///   significantly greater than 1: one-sided z test at .05);
/// - **B** otherwise.
pub fn ets_class(delta: f64, se: f64, p_value: f64) -> EtsClass {
    let size = delta.abs();
    if size < 1.0 || p_value >= SIGNIFICANCE {
        EtsClass::A
    } else if size >= 1.5 && size - 1.0 > normal::quantile(1.0 - SIGNIFICANCE) * se {
        EtsClass::C
    } else {
        EtsClass::B
    }
}

/// Dichotomous responses of reference- and focal-group examinees to a set of studied items,
/// ready for a Mantel–Haenszel DIF analysis ([`DifSample::analyse`]).
#[derive(Debug, Clone)]
pub struct DifSample {
    items: Vec<String>,
    /// Complete examinees: their group and, row by row, 0/1 per item.
    groups: Vec<Group>,
    responses: Vec<u8>,
    added: usize,
    missing_reference: usize,
    missing_focal: usize,
    other: usize,
}

impl DifSample {
    /// An empty sample for the studied items, in this order.
    ///
    /// # Errors
    /// [`DifError::NoItems`], [`DifError::EmptyItemId`] or [`DifError::DuplicateItem`].
    pub fn new(items: Vec<String>) -> Result<Self, DifError> {
        if items.is_empty() {
            return Err(DifError::NoItems);
        }
        let mut seen = HashSet::new();
        for (i, id) in items.iter().enumerate() {
            if id.is_empty() {
                return Err(DifError::EmptyItemId { position: i + 1 });
            }
            if !seen.insert(id.as_str()) {
                return Err(DifError::DuplicateItem { id: id.clone() });
            }
        }
        Ok(DifSample {
            items,
            groups: Vec::new(),
            responses: Vec::new(),
            added: 0,
            missing_reference: 0,
            missing_focal: 0,
            other: 0,
        })
    }

    /// The studied items.
    pub fn items(&self) -> &[String] {
        &self.items
    }

    /// Adds one examinee: their group and one response per item (`Some(true)` correct,
    /// `Some(false)` incorrect, `None` missing). Examinees of [`Group::Other`] and those
    /// with any missing response are counted and left out of the analysis.
    ///
    /// # Errors
    /// [`DifError::Length`] if there is not one response per item.
    pub fn push(&mut self, group: Group, responses: &[Option<bool>]) -> Result<(), DifError> {
        self.added += 1;
        if responses.len() != self.items.len() {
            return Err(DifError::Length {
                examinee: self.added,
                given: responses.len(),
                items: self.items.len(),
            });
        }
        let complete = responses.iter().all(Option::is_some);
        match (group, complete) {
            (Group::Other, _) => self.other += 1,
            (Group::Reference, false) => self.missing_reference += 1,
            (Group::Focal, false) => self.missing_focal += 1,
            (group, true) => {
                self.groups.push(group);
                self.responses
                    .extend(responses.iter().map(|r| u8::from(*r == Some(true))));
            }
        }
        Ok(())
    }

    /// Mantel–Haenszel DIF for every item ([`mantel_haenszel`]), matched on the total score
    /// over all studied items, the studied item included.
    ///
    /// # Errors
    /// [`DifError::EmptyGroup`] when the reference or the focal group has no examinee with
    /// complete responses.
    pub fn analyse(&self) -> Result<DifReport, DifError> {
        let count = |g: Group| self.groups.iter().filter(|&&x| x == g).count();
        let (n_reference, n_focal) = (count(Group::Reference), count(Group::Focal));
        for (group, n, excluded_missing) in [
            (Group::Reference, n_reference, self.missing_reference),
            (Group::Focal, n_focal, self.missing_focal),
        ] {
            if n == 0 {
                return Err(DifError::EmptyGroup {
                    group,
                    excluded_missing,
                });
            }
        }
        let j = self.items.len();
        let levels = j + 1;
        // tables[item * levels + score] is that item's 2×2 table at that total score.
        let mut tables = vec![Stratum::default(); j * levels];
        let mut reference_at = vec![false; levels];
        let mut focal_at = vec![false; levels];
        for (group, row) in self.groups.iter().zip(self.responses.chunks_exact(j)) {
            let score = row.iter().map(|&x| usize::from(x)).sum::<usize>();
            match group {
                Group::Reference => reference_at[score] = true,
                _ => focal_at[score] = true,
            }
            for (item, &x) in row.iter().enumerate() {
                let t = &mut tables[item * levels + score];
                match (group, x) {
                    (Group::Reference, 1) => t.a += 1,
                    (Group::Reference, _) => t.b += 1,
                    (_, 1) => t.c += 1,
                    (_, _) => t.d += 1,
                }
            }
        }
        let items = self
            .items
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let strata = &tables[i * levels..(i + 1) * levels];
                let (ref_correct, focal_correct) =
                    strata.iter().fold((0u64, 0u64), |(r, f), t| (r + t.a, f + t.c));
                ItemDif {
                    item: id.clone(),
                    n_reference,
                    n_focal,
                    p_reference: ref_correct as f64 / n_reference as f64,
                    p_focal: focal_correct as f64 / n_focal as f64,
                    mh: mantel_haenszel(strata),
                }
            })
            .collect();
        Ok(DifReport {
            items,
            examinees: ExamineeCounts {
                reference: n_reference,
                focal: n_focal,
                missing_reference: self.missing_reference,
                missing_focal: self.missing_focal,
                other: self.other,
            },
            strata: reference_at
                .iter()
                .zip(&focal_at)
                .filter(|(r, f)| **r && **f)
                .count(),
        })
    }
}

/// Who entered a DIF analysis and who did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExamineeCounts {
    /// Reference-group examinees analysed (complete responses).
    pub reference: usize,
    /// Focal-group examinees analysed.
    pub focal: usize,
    /// Reference-group examinees left out for a missing response.
    pub missing_reference: usize,
    /// Focal-group examinees left out for a missing response.
    pub missing_focal: usize,
    /// Examinees of neither group, ignored.
    pub other: usize,
}

/// One item's DIF result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDif {
    /// Item id.
    pub item: String,
    /// Reference-group examinees analysed.
    pub n_reference: usize,
    /// Focal-group examinees analysed.
    pub n_focal: usize,
    /// Proportion correct in the reference group (not matched).
    pub p_reference: f64,
    /// Proportion correct in the focal group (not matched).
    pub p_focal: f64,
    /// The Mantel–Haenszel statistics.
    pub mh: MhStatistics,
}

/// The result of [`DifSample::analyse`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DifReport {
    /// One result per studied item, in the sample's item order.
    pub items: Vec<ItemDif>,
    /// Who was analysed, who was left out.
    pub examinees: ExamineeCounts,
    /// Total-score levels holding both groups (the strata that enter the statistics).
    pub strata: usize,
}

impl DifReport {
    /// How many items fall in an ETS class.
    pub fn count(&self, class: EtsClass) -> usize {
        self.items.iter().filter(|i| i.mh.class == Some(class)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(a: u64, b: u64, c: u64, d: u64) -> Stratum {
        Stratum { a, b, c, d }
    }

    fn close(x: f64, y: f64) {
        assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{x} vs {y}");
    }

    #[test]
    fn single_table_by_hand() {
        // One stratum A=30, B=10, C=20, D=20, N=80: α = (30·20/80)/(10·20/80) = 3;
        // E(A) = 40·50/80 = 25, Var(A) = 40·40·50·30/(80²·79) = 2400000/505600;
        // χ² = (5 − ½)²/Var; Var(ln α) = 1/A + 1/B + 1/C + 1/D for one table (Woolf).
        let mh = mantel_haenszel(&[t(30, 10, 20, 20)]);
        assert_eq!(mh.status, DifStatus::Ok);
        close(mh.alpha_mh.unwrap(), 3.0);
        close(mh.chi2_mh.unwrap(), 4.5 * 4.5 * 505_600.0 / 2_400_000.0);
        close(mh.delta_mh.unwrap(), -2.35 * 3f64.ln());
        let woolf: f64 = 1.0 / 30.0 + 1.0 / 10.0 + 1.0 / 20.0 + 1.0 / 20.0;
        close(mh.se_delta.unwrap(), 2.35 * woolf.sqrt());
        assert_eq!(mh.favours, Some(Favours::Reference));
    }

    #[test]
    fn strata_with_one_group_contribute_nothing() {
        let base = [t(30, 10, 20, 20), t(12, 9, 7, 11)];
        let with_empty = [t(30, 10, 20, 20), t(5, 3, 0, 0), t(12, 9, 7, 11), t(0, 0, 4, 1)];
        let (x, y) = (mantel_haenszel(&base), mantel_haenszel(&with_empty));
        assert_eq!(x, y);
    }

    #[test]
    fn continuity_correction_never_goes_negative() {
        // Symmetric tables: Σ A = Σ E(A), so the corrected deviation is 0, not ½.
        let mh = mantel_haenszel(&[t(10, 10, 10, 10)]);
        assert_eq!(mh.chi2_mh, Some(0.0));
        assert_eq!(mh.p_value, Some(1.0));
        assert_eq!(mh.delta_mh, Some(0.0));
        assert_eq!(mh.favours, None);
        assert_eq!(mh.class, Some(EtsClass::A));
    }

    #[test]
    fn degenerate_items_have_a_status_and_no_numbers() {
        let constant = mantel_haenszel(&[t(5, 0, 3, 0), t(2, 0, 0, 0)]);
        assert_eq!(constant, MhStatistics::empty(DifStatus::Constant));
        // Correct in one stratum, wrong in the other: each stratum is constant.
        let none = mantel_haenszel(&[t(5, 0, 3, 0), t(0, 4, 0, 6)]);
        assert_eq!(none, MhStatistics::empty(DifStatus::NoInformation));
        // Mixed responses, but only where one group is absent.
        let apart = mantel_haenszel(&[t(5, 2, 0, 0), t(0, 0, 3, 3)]);
        assert_eq!(apart.status, DifStatus::NoInformation);
        // Focal all correct (D = 0), reference mixed: Σ A·D/N = 0 → α = 0, Δ = +∞.
        let unbounded = mantel_haenszel(&[t(6, 4, 5, 0), t(8, 2, 7, 0)]);
        assert_eq!(unbounded.status, DifStatus::Unbounded);
        assert_eq!(unbounded.favours, Some(Favours::Focal));
        assert!(unbounded.chi2_mh.unwrap().is_finite() && unbounded.p_value.unwrap() < 1.0);
        assert_eq!(
            (unbounded.alpha_mh, unbounded.delta_mh, unbounded.se_delta),
            (None, None, None)
        );
        assert_eq!(unbounded.class, None);
        let other_way = mantel_haenszel(&[t(6, 0, 5, 3)]);
        assert_eq!(other_way.favours, Some(Favours::Reference));
    }

    #[test]
    fn ets_rule_boundaries() {
        let z = normal::quantile(0.95);
        assert_eq!(ets_class(-0.999, 0.01, 1e-9), EtsClass::A);
        assert_eq!(ets_class(2.5, 0.1, 0.05), EtsClass::A);
        assert_eq!(ets_class(1.0, 0.1, 0.049), EtsClass::B);
        assert_eq!(ets_class(-1.499, 0.01, 1e-9), EtsClass::B);
        assert_eq!(ets_class(-1.5, 0.01, 1e-9), EtsClass::C);
        // 0.5 > z·0.30 = 0.493… but not > z·0.31 = 0.509…
        assert!(0.5 > z * 0.30 && 0.5 < z * 0.31);
        assert_eq!(ets_class(1.5, 0.31, 1e-9), EtsClass::B);
        assert_eq!(ets_class(1.5, 0.30, 1e-9), EtsClass::C);
    }

    fn sample(rows: &[(Group, &[Option<bool>])]) -> DifSample {
        let items = (1..=rows[0].1.len()).map(|i| format!("i{i}")).collect();
        let mut s = DifSample::new(items).unwrap();
        for (g, r) in rows {
            s.push(*g, r).unwrap();
        }
        s
    }

    #[test]
    fn examinees_with_missing_responses_or_other_groups_are_counted_and_left_out() {
        use Group::*;
        let (y, n) = (Some(true), Some(false));
        let s = sample(&[
            (Reference, &[y, n, y]),
            (Reference, &[y, y, n]),
            (Reference, &[None, y, y]),
            (Focal, &[n, n, y]),
            (Focal, &[y, n, None]),
            (Focal, &[y, y, n]),
            (Other, &[y, y, y]),
            (Other, &[None, None, None]),
        ]);
        let report = s.analyse().unwrap();
        let e = report.examinees;
        assert_eq!(
            (
                e.reference,
                e.focal,
                e.missing_reference,
                e.missing_focal,
                e.other
            ),
            (2, 2, 1, 1, 2)
        );
        // Analysed totals: reference 2, 2; focal 1, 2. Only score 2 holds both groups.
        assert_eq!(report.strata, 1);
        let first = &report.items[0];
        assert_eq!((first.n_reference, first.n_focal), (2, 2));
        close(first.p_reference, 1.0);
        close(first.p_focal, 0.5);
    }

    #[test]
    fn sample_errors() {
        assert_eq!(DifSample::new(vec![]).unwrap_err(), DifError::NoItems);
        assert!(matches!(
            DifSample::new(vec!["a".into(), "a".into()]),
            Err(DifError::DuplicateItem { .. })
        ));
        let mut s = DifSample::new(vec!["a".into(), "b".into()]).unwrap();
        assert!(matches!(
            s.push(Group::Focal, &[Some(true)]),
            Err(DifError::Length {
                examinee: 1,
                given: 1,
                items: 2
            })
        ));
        s.push(Group::Reference, &[Some(true), Some(false)]).unwrap();
        s.push(Group::Focal, &[Some(true), None]).unwrap();
        assert_eq!(
            s.analyse().unwrap_err(),
            DifError::EmptyGroup {
                group: Group::Focal,
                excluded_missing: 1
            }
        );
    }
}
