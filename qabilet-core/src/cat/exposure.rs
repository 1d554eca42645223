//! Exposure control: how often the most informative items are given.
//!
//! - Randomesque (Kingsbury & Zara 1989): the item is drawn at random (uniformly) among the
//!   n best candidates by the selection criterion.
//! - Sympson–Hetter (Sympson & Hetter 1985): the best candidate is given with probability
//!   K_i (the bank's `exposure.sympson_hetter`, 1 where absent); otherwise it is set aside
//!   for the rest of this examinee's test and selection runs again without it.

use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::CatError;
use crate::irt::ItemBank;

/// The exposure-control method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Exposure {
    /// Always the best candidate.
    #[default]
    None,
    /// At random among the `n` best candidates.
    Randomesque {
        /// Group size (≥ 1; 1 is no control).
        n: usize,
    },
    /// Give the selected item with probability K_i, else set it aside and select again.
    SympsonHetter,
}

/// A text that names no exposure-control method.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}': expected none, randomesque:N (N ≥ 1) or sympson-hetter")]
pub struct UnknownExposure(pub String);

impl FromStr for Exposure {
    type Err = UnknownExposure;

    /// Reads `none`, `randomesque:N` (N ≥ 1) or `sympson-hetter`, as [`Exposure`]'s
    /// `Display` writes them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(Exposure::None),
            "sympson-hetter" => Ok(Exposure::SympsonHetter),
            _ => text
                .strip_prefix("randomesque:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n >= 1)
                .map(|n| Exposure::Randomesque { n })
                .ok_or_else(|| UnknownExposure(text.to_owned())),
        }
    }
}

impl fmt::Display for Exposure {
    /// `none`, `randomesque:N` or `sympson-hetter`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::None => f.write_str("none"),
            Exposure::Randomesque { n } => write!(f, "randomesque:{n}"),
            Exposure::SympsonHetter => f.write_str("sympson-hetter"),
        }
    }
}

impl Exposure {
    pub(super) fn validate(&self, bank: &ItemBank) -> Result<(), CatError> {
        match self {
            Exposure::Randomesque { n: 0 } => Err(CatError::Randomesque),
            Exposure::SympsonHetter if bank.items.iter().all(|i| i.sympson_hetter.is_none()) => {
                Err(CatError::NoSympsonHetter)
            }
            _ => Ok(()),
        }
    }

    /// How many of the best candidates the selector must return.
    pub(super) fn group(&self) -> usize {
        match *self {
            Exposure::Randomesque { n } => n.max(1),
            Exposure::None | Exposure::SympsonHetter => 1,
        }
    }

    /// The candidate to offer from `ranked` (best first, non-empty): a uniform draw for
    /// randomesque with more than one candidate, else the first. A draw is made only when
    /// there is a choice.
    pub(super) fn pick(&self, ranked: &[(f64, usize)], rng: &mut ChaCha8Rng) -> usize {
        match self {
            Exposure::Randomesque { .. } if ranked.len() > 1 => ranked[rng.random_range(0..ranked.len())].1,
            _ => ranked[0].1,
        }
    }

    /// Whether the offered item with Sympson–Hetter parameter `k` is given. A uniform draw
    /// u ∈ [0, 1) is made only under Sympson–Hetter with k < 1; the item is given if u < k.
    pub(super) fn admits(&self, k: Option<f64>, rng: &mut ChaCha8Rng) -> bool {
        match (self, k) {
            (Exposure::SympsonHetter, Some(k)) if k < 1.0 => rng.random::<f64>() < k,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_reads_back() {
        for e in [
            Exposure::None,
            Exposure::SympsonHetter,
            Exposure::Randomesque { n: 1 },
            Exposure::Randomesque { n: 12 },
        ] {
            assert_eq!(e.to_string().parse::<Exposure>(), Ok(e));
        }
        for bad in [
            "",
            "randomesque",
            "randomesque:0",
            "randomesque:-1",
            "Sympson-Hetter",
            "none ",
        ] {
            assert_eq!(bad.parse::<Exposure>(), Err(UnknownExposure(bad.to_owned())));
        }
    }
}
