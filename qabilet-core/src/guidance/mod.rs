//! Guidance rules as data: ability domains, thresholds on confidence intervals, age gates,
//! activities, career clusters, stage-2 referral and the optional interest questionnaire,
//! loaded from the files of `norms/guidance/` (described in its README.md).
//!
//! Nothing here reads a file: the caller hands the files' text to
//! [`GuidanceTables::from_files`], which checks every table and the references between them
//! once. The rules are applied by [`crate::report::consultation`].

pub mod activities;
pub mod age_gate;
pub mod clusters;
pub mod domains;
pub mod interests;
mod parse;
pub mod referral;
pub mod thresholds;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use activities::{Activity, Evidence};
pub use age_gate::{AgeGate, AgeGates, Offer, World};
pub use clusters::Cluster;
pub use domains::{DomainRole, DomainRule};
pub use interests::{InterestRules, Interests, InterestsError, Respondent};
pub use referral::{ReferralOutcome, ReferralRules, SingleIndexRate};
pub use thresholds::{StandingKind, Thresholds};

use crate::text::{Lang, LocalizedText};

/// A problem in a guidance file: the file, the line where known, the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}{}: {field}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct GuidanceError {
    /// File name within `norms/guidance/`, e.g. `clusters.csv`.
    pub file: &'static str,
    /// 1-based line, when the problem can be pinned to one.
    pub line: Option<usize>,
    /// The field (TOML key or CSV column) concerned.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// The text of every file of `norms/guidance/` a report is made from: the tables the rules
/// read and the texts its sentences come from (the renderer parses the texts; they are
/// hashed with the tables, so that a changed sentence changes the guidance's identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidanceFiles {
    /// `domains.toml`.
    pub domains_toml: String,
    /// `thresholds.toml`.
    pub thresholds_toml: String,
    /// `age_gates.toml`.
    pub age_gates_toml: String,
    /// `referral.toml`.
    pub referral_toml: String,
    /// `interests.toml`.
    pub interests_toml: String,
    /// `activities.csv`.
    pub activities_csv: String,
    /// `clusters.csv`.
    pub clusters_csv: String,
    /// `texts/kk.ftl`, `texts/ru.ftl`, `texts/en.ftl`: the report's sentences (Fluent).
    pub texts: LocalizedText,
}

impl GuidanceFiles {
    /// The tables' file names, in the order of the fields.
    pub const NAMES: [&'static str; 7] = [
        "domains.toml",
        "thresholds.toml",
        "age_gates.toml",
        "referral.toml",
        "interests.toml",
        "activities.csv",
        "clusters.csv",
    ];

    /// The file name of the texts in `lang`: `texts/<code>.ftl`.
    pub fn text_name(lang: Lang) -> &'static str {
        match lang {
            Lang::Kk => "texts/kk.ftl",
            Lang::Ru => "texts/ru.ftl",
            Lang::En => "texts/en.ftl",
        }
    }

    /// Gathers the files through `read(name)` (e.g. reading `norms/guidance/<name>`), names
    /// as [`GuidanceFiles::named`] lists them.
    ///
    /// # Errors
    /// The first error `read` returns.
    pub fn read_with<E>(mut read: impl FnMut(&str) -> Result<String, E>) -> Result<Self, E> {
        Ok(GuidanceFiles {
            domains_toml: read(Self::NAMES[0])?,
            thresholds_toml: read(Self::NAMES[1])?,
            age_gates_toml: read(Self::NAMES[2])?,
            referral_toml: read(Self::NAMES[3])?,
            interests_toml: read(Self::NAMES[4])?,
            activities_csv: read(Self::NAMES[5])?,
            clusters_csv: read(Self::NAMES[6])?,
            texts: LocalizedText {
                kk: read(Self::text_name(Lang::Kk))?,
                ru: read(Self::text_name(Lang::Ru))?,
                en: read(Self::text_name(Lang::En))?,
            },
        })
    }

    /// Every file with its name, in hashing order: the tables in [`GuidanceFiles::NAMES`]
    /// order, then the texts in kk, ru, en.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        let tables = [
            &self.domains_toml,
            &self.thresholds_toml,
            &self.age_gates_toml,
            &self.referral_toml,
            &self.interests_toml,
            &self.activities_csv,
            &self.clusters_csv,
        ];
        let mut files: Vec<(&'static str, &str)> = Self::NAMES
            .into_iter()
            .zip(tables)
            .map(|(name, text)| (name, text.as_str()))
            .collect();
        files.extend(Lang::ALL.map(|l| (Self::text_name(l), self.texts.get(l))));
        files
    }

    /// The guidance hash: the norm-set hash's rule ([`crate::norms::file_set_hash`]) over
    /// [`GuidanceFiles::named`] (norms/guidance/README.md).
    pub fn hash(&self) -> String {
        crate::norms::file_set_hash(self.named())
    }
}

/// What every report names about the guidance it was made with: the SHA-256 over the
/// guidance files, tables and texts ([`GuidanceFiles::hash`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GuidanceId {
    /// `sha256:<hex>` over the guidance files.
    pub hash: String,
}

impl fmt::Display for GuidanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hash)
    }
}

/// Every guidance table, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidanceTables {
    /// Ability domains (`domains.toml`), in file order.
    pub domains: Vec<DomainRule>,
    /// Thresholds (`thresholds.toml`).
    pub thresholds: Thresholds,
    /// Age gates and worlds of work (`age_gates.toml`).
    pub age_gates: AgeGates,
    /// Stage-2 referral (`referral.toml`).
    pub referral: ReferralRules,
    /// The interest questionnaire (`interests.toml`).
    pub interests: InterestRules,
    /// Activities (`activities.csv`), in file order.
    pub activities: Vec<Activity>,
    /// Career clusters (`clusters.csv`), in file order.
    pub clusters: Vec<Cluster>,
    /// The files' identity.
    pub id: GuidanceId,
}

impl GuidanceTables {
    /// Parses and checks every table and the references between them (domains named by
    /// worlds, clusters and activities exist; clusters use only domains that may drive
    /// careers; the questionnaire's worlds are the age gates' worlds), and records the
    /// files' identity (the texts are hashed, not parsed: the renderer parses them).
    ///
    /// # Errors
    /// The first problem found, with its file, line and field.
    pub fn from_files(files: &GuidanceFiles) -> Result<Self, GuidanceError> {
        let domains = domains::parse(&files.domains_toml)?;
        let thresholds = thresholds::parse(&files.thresholds_toml)?;
        let age_gates = age_gate::parse(&files.age_gates_toml, &domains)?;
        let referral = referral::parse(&files.referral_toml, &domains)?;
        let interests = interests::parse(&files.interests_toml, &age_gates)?;
        let activities = activities::parse(&files.activities_csv, &domains)?;
        let clusters = clusters::parse(&files.clusters_csv, &domains, &age_gates)?;
        Ok(GuidanceTables {
            domains,
            thresholds,
            age_gates,
            referral,
            interests,
            activities,
            clusters,
            id: GuidanceId { hash: files.hash() },
        })
    }

    /// The domain rule with this key.
    pub fn domain(&self, key: &str) -> Option<&DomainRule> {
        self.domains.iter().find(|d| d.key == key)
    }

    /// The domain rule of a CHC code.
    pub fn domain_of(&self, chc: crate::battery::Domain) -> Option<&DomainRule> {
        self.domains.iter().find(|d| d.chc == chc)
    }
}
