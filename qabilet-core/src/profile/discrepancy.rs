//! Pairwise discrepancies between index composites: D = index_a − index_b against the
//! critical value z·√(SEM_a² + SEM_b²), SEM = SD·√(1 − r), at α = .05 and .15, with the base
//! rate of |D| where the norm set has one.

use serde::{Deserialize, Serialize};

use super::composite::CompositeScore;
use super::{CriticalValues, Significance, significance};
use crate::battery::CompositeKind;
use crate::norms::{BaseRate, Comparison, NormSet};

/// One pair of index composites (`S`, the type of ids, as in [`super::Substituted`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discrepancy<S = String> {
    /// First composite (earlier in the battery).
    pub a: S,
    /// Second composite.
    pub b: S,
    /// index_a − index_b.
    pub difference: i32,
    /// Critical values at α = .05 and .15.
    pub critical: CriticalValues,
    /// Smallest α at which |difference| is significant.
    pub significance: Option<Significance>,
    /// How often a difference this large occurred in the norm sample.
    pub base_rate: Option<BaseRate>,
}

impl From<&Discrepancy<&str>> for Discrepancy {
    fn from(d: &Discrepancy<&str>) -> Self {
        Discrepancy {
            a: d.a.to_owned(),
            b: d.b.to_owned(),
            difference: d.difference,
            critical: d.critical,
            significance: d.significance,
            base_rate: d.base_rate,
        }
    }
}

/// SE of the difference of two scores with the given SEMs.
pub fn se_difference(sem_a: f64, sem_b: f64) -> f64 {
    (sem_a * sem_a + sem_b * sem_b).sqrt()
}

pub(super) fn analyse<'n>(
    norms: &'n NormSet,
    age: u16,
    composites: &[CompositeScore<&'n str>],
    z: [f64; 2],
    out: &mut Vec<Discrepancy<&'n str>>,
) {
    let battery = &norms.battery;
    let scale = &battery.index_scale;
    let computed = |c: usize| {
        (battery.composites[c].kind == CompositeKind::Index)
            .then(|| composites[c].value.as_ref().map(|v| v.index))
            .flatten()
    };
    for a in 0..composites.len() {
        let Some(ia) = computed(a) else { continue };
        for b in a + 1..composites.len() {
            let Some(ib) = computed(b) else { continue };
            let se = se_difference(
                norms.reliability.composite(a, age).sem(scale),
                norms.reliability.composite(b, age).sem(scale),
            );
            let critical = CriticalValues::new(z, se);
            let difference = ia - ib;
            out.push(Discrepancy {
                a: composites[a].id,
                b: composites[b].id,
                difference,
                critical,
                significance: significance(f64::from(difference), critical),
                base_rate: norms
                    .base_rates
                    .rate(Comparison::Composites(a, b), f64::from(difference)),
            });
        }
    }
}
