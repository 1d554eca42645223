//! Age gates (`age_gates.toml`): what a report may offer at each whole year of age — 5–6
//! development directions only; 7–9 broad worlds of work (people / things / data / ideas,
//! after Prediger 1982); 10–11 at most three career clusters, worded as "explore". The
//! worlds of work and the domains pointing to each are in the same file.

use serde::{Deserialize, Serialize};

use super::parse::{error, toml_file};
use super::{DomainRule, GuidanceError, domains};

const FILE: &str = "age_gates.toml";

/// What a gate offers beyond activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    /// Development directions only.
    DevelopmentDirections,
    /// Directions and broad worlds of work.
    WorldsOfWork,
    /// Directions and a few career clusters to explore.
    CareerClusters,
}

/// One `[[gate]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeGate {
    /// Rule id, e.g. `age-7-9`.
    pub id: String,
    /// Youngest whole year of age, inclusive.
    pub age_min_years: u16,
    /// Oldest whole year of age, inclusive.
    pub age_max_years: u16,
    /// What the gate offers.
    pub offers: Offer,
    /// Most clusters offered (career-cluster gates only).
    #[serde(default)]
    pub max_clusters: Option<usize>,
}

/// One `[[world]]` of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// `people`, `things`, `data` or `ideas`; message key `world-<key>`.
    pub key: String,
    /// Domains whose strength points to this world.
    pub domains: Vec<String>,
}

/// `age_gates.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgeGates {
    /// Gates in age order, partitioning the covered years.
    pub gates: Vec<AgeGate>,
    /// Worlds of work, in file order (never ranked).
    pub worlds: Vec<World>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGates {
    gate: Vec<toml::Spanned<AgeGate>>,
    world: Vec<toml::Spanned<World>>,
}

pub(super) fn parse(text: &str, domain_rules: &[DomainRule]) -> Result<AgeGates, GuidanceError> {
    let raw: RawGates = toml_file(FILE, text)?;
    let mut gates: Vec<AgeGate> = Vec::new();
    for spanned in raw.gate {
        let line = Some(crate::source::line_at(text, spanned.span().start));
        let g = spanned.into_inner();
        if g.age_min_years > g.age_max_years {
            return Err(error(FILE, line, "age_max_years", "below age_min_years"));
        }
        if let Some(prev) = gates.last()
            && g.age_min_years != prev.age_max_years + 1
        {
            return Err(error(
                FILE,
                line,
                "age_min_years",
                "gates must follow each other without gap or overlap",
            ));
        }
        match (g.offers, g.max_clusters) {
            (Offer::CareerClusters, None | Some(0)) => {
                return Err(error(
                    FILE,
                    line,
                    "max_clusters",
                    "a career-cluster gate needs max_clusters ≥ 1",
                ));
            }
            (Offer::CareerClusters, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(error(
                    FILE,
                    line,
                    "max_clusters",
                    "only a career-cluster gate has max_clusters",
                ));
            }
        }
        gates.push(g);
    }
    let mut worlds: Vec<World> = Vec::new();
    for spanned in raw.world {
        let line = Some(crate::source::line_at(text, spanned.span().start));
        let w = spanned.into_inner();
        if worlds.iter().any(|o| o.key == w.key) {
            return Err(error(
                FILE,
                line,
                "key",
                format!("world '{}' appears twice", w.key),
            ));
        }
        for d in &w.domains {
            let rule = domains::require(domain_rules, d, FILE, line, "domains")?;
            if !rule.drives_careers {
                return Err(error(
                    FILE,
                    line,
                    "domains",
                    format!("'{d}' may not drive career suggestions"),
                ));
            }
        }
        worlds.push(w);
    }
    if gates.is_empty() {
        return Err(error(FILE, None, "gate", "no gates"));
    }
    Ok(AgeGates { gates, worlds })
}

impl AgeGates {
    /// The gate of a child of `years` whole years, if any covers it.
    pub fn gate_for(&self, years: u16) -> Option<&AgeGate> {
        self.gates
            .iter()
            .find(|g| (g.age_min_years..=g.age_max_years).contains(&years))
    }
}
