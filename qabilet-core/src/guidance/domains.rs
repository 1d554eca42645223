//! Ability domains (`domains.toml`): each CHC broad ability the battery reports, its message
//! key, its role, and whether it may drive career suggestions. Working memory and processing
//! speed are "how the child learns best", never career signals (project judgement; sources
//! in the file).

use serde::{Deserialize, Serialize};

use super::GuidanceError;
use super::parse::{error, toml_file};
use crate::battery::Domain;

const FILE: &str = "domains.toml";

/// What a domain is used for in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainRole {
    /// The general composite: summary and referral.
    General,
    /// An ability that may point to directions, worlds of work and clusters.
    Ability,
    /// A learning-process ability (Gwm, Gs): "how the child learns best".
    Learning,
}

/// One domain of `domains.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRule {
    /// Key used by the other tables and in message keys, e.g. `spatial`.
    pub key: String,
    /// CHC code; a battery composite with this `domain` belongs to the domain.
    pub chc: Domain,
    /// What the domain is used for.
    pub role: DomainRole,
    /// Whether a strength here may drive worlds of work and career clusters.
    pub drives_careers: bool,
    /// Message key of the domain's name.
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomains {
    domain: Vec<toml::Spanned<DomainRule>>,
}

pub(super) fn parse(text: &str) -> Result<Vec<DomainRule>, GuidanceError> {
    let raw: RawDomains = toml_file(FILE, text)?;
    let mut out: Vec<DomainRule> = Vec::new();
    for spanned in raw.domain {
        let line = Some(crate::source::line_at(text, spanned.span().start));
        let d = spanned.into_inner();
        if d.key.is_empty() || !d.key.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(error(
                FILE,
                line,
                "key",
                format!("'{}' is not lowercase letters and '-'", d.key),
            ));
        }
        if out.iter().any(|o| o.key == d.key) {
            return Err(error(FILE, line, "key", format!("'{}' appears twice", d.key)));
        }
        if out.iter().any(|o| o.chc == d.chc) {
            return Err(error(
                FILE,
                line,
                "chc",
                format!("{:?} belongs to two domains", d.chc),
            ));
        }
        if d.drives_careers && d.role != DomainRole::Ability {
            return Err(error(
                FILE,
                line,
                "drives_careers",
                format!("'{}' is not an ability domain and may not drive careers", d.key),
            ));
        }
        out.push(d);
    }
    if !out.iter().any(|d| d.role == DomainRole::General) {
        return Err(error(FILE, None, "role", "no domain has role \"general\""));
    }
    Ok(out)
}

/// The domain with `key`, or an error naming the referring file, line and field.
pub(super) fn require<'d>(
    domains: &'d [DomainRule],
    key: &str,
    file: &'static str,
    line: Option<usize>,
    field: &str,
) -> Result<&'d DomainRule, GuidanceError> {
    domains.iter().find(|d| d.key == key).ok_or_else(|| {
        error(
            file,
            line,
            field,
            format!("'{key}' is not a domain of domains.toml"),
        )
    })
}
