//! Composites: sums of subtest scaled scores converted to index scores, with the battery's
//! allowed substitutions and proration.

use serde::{Deserialize, Serialize};

use super::subtest::Domain;
use crate::text::LocalizedText;

/// Whether a composite summarises one domain or general ability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompositeKind {
    /// A domain index (compared pairwise in discrepancy analysis).
    Index,
    /// A general-ability composite.
    General,
}

/// A supplemental subtest allowed to stand in for a missing member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Substitution {
    /// Position of the member it replaces, in the battery's subtest list.
    pub replace: usize,
    /// Position of the substitute, in the battery's subtest list.
    pub with: usize,
}

/// A composite as the battery defines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composite {
    /// Id.
    pub id: String,
    /// Domain index or general composite.
    pub kind: CompositeKind,
    /// The ability it summarises.
    pub domain: Domain,
    /// Names in kk, ru, en.
    pub names: LocalizedText,
    /// Member subtests, as positions in the battery's subtest list.
    pub subtests: Vec<usize>,
    /// How many missing members may be prorated.
    pub max_prorated: usize,
    /// Allowed substitutions, in order of preference.
    pub substitutions: Vec<Substitution>,
    /// How many substitutions may be used at once.
    pub max_substitutions: usize,
}
