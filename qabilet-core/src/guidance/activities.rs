//! Activities (`activities.csv`): what a family or school can do, per domain and age, each
//! with an evidence tag saying what kind of evidence supports it as practice of the domain
//! (never as training that transfers to other abilities).

use serde::Serialize;

use super::parse::{CsvRows, error};
use super::{DomainRule, GuidanceError, domains};

const FILE: &str = "activities.csv";

/// The domain key of activities offered for broad exploration.
pub const BROAD: &str = "broad";

/// What kind of evidence supports an activity (README.md "Evidence tags").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Randomised controlled trials, or a meta-analysis of them.
    Rct,
    /// Controlled studies without random assignment.
    QuasiExperimental,
    /// Associations only.
    Correlational,
    /// Published professional guidance, without trials of this activity.
    ExpertConsensus,
    /// This project's choice; no published evidence was found.
    ProjectJudgement,
}

impl Evidence {
    /// All tags.
    pub const ALL: [Evidence; 5] = [
        Self::Rct,
        Self::QuasiExperimental,
        Self::Correlational,
        Self::ExpertConsensus,
        Self::ProjectJudgement,
    ];

    /// The tag as written in the file and in message keys (`evidence-<tag>`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Rct => "rct",
            Self::QuasiExperimental => "quasi-experimental",
            Self::Correlational => "correlational",
            Self::ExpertConsensus => "expert-consensus",
            Self::ProjectJudgement => "project-judgement",
        }
    }
}

/// One row of `activities.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Domain key, or [`BROAD`].
    pub domain: String,
    /// Youngest whole year of age, inclusive.
    pub age_min: u16,
    /// Oldest whole year of age, inclusive.
    pub age_max: u16,
    /// Message key suffix: the text is `activity-<key>`.
    pub key: String,
    /// Evidence tag.
    pub evidence: Evidence,
    /// Citation key of README.md.
    pub source: String,
    /// Line in the file (for traces).
    pub line: usize,
}

const HEADER: [&str; 6] = [
    "domain",
    "age_min",
    "age_max",
    "activity_key",
    "evidence",
    "source",
];

pub(super) fn parse(text: &str, domain_rules: &[DomainRule]) -> Result<Vec<Activity>, GuidanceError> {
    let csv = CsvRows::parse(FILE, text, &HEADER)?;
    let mut out: Vec<Activity> = Vec::new();
    for (line, cells) in csv.rows {
        let at = Some(line);
        let [domain, age_min, age_max, key, evidence, source] = <[String; 6]>::try_from(cells)
            .map_err(|c| error(FILE, at, "-", format!("{} cells, expected 6", c.len())))?;
        if domain != BROAD {
            domains::require(domain_rules, &domain, FILE, at, "domain")?;
        }
        let age = |field: &str, v: &str| {
            v.parse::<u16>()
                .map_err(|_| error(FILE, at, field, format!("'{v}' is not a whole number of years")))
        };
        let (age_min, age_max) = (age("age_min", &age_min)?, age("age_max", &age_max)?);
        if age_min > age_max {
            return Err(error(FILE, at, "age_max", "below age_min"));
        }
        let evidence = Evidence::ALL
            .into_iter()
            .find(|e| e.code() == evidence)
            .ok_or_else(|| {
                error(
                    FILE,
                    at,
                    "evidence",
                    format!("'{evidence}' is not an evidence tag"),
                )
            })?;
        if key.is_empty() || out.iter().any(|a| a.key == key && a.domain == domain) {
            return Err(error(
                FILE,
                at,
                "activity_key",
                format!("'{key}' is empty or repeated"),
            ));
        }
        if source.is_empty() {
            return Err(error(FILE, at, "source", "every activity needs a source"));
        }
        out.push(Activity {
            domain,
            age_min,
            age_max,
            key,
            evidence,
            source,
            line,
        });
    }
    Ok(out)
}

/// The activities of `domain` for a child of `years`, in file order, at most `max`.
pub fn select<'a>(all: &'a [Activity], domain: &str, years: u16, max: usize) -> Vec<&'a Activity> {
    all.iter()
        .filter(|a| a.domain == domain && (a.age_min..=a.age_max).contains(&years))
        .take(max)
        .collect()
}
