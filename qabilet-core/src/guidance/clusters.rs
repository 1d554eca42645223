//! Career clusters (`clusters.csv`), offered only at ages 10–11 and only to explore: the
//! ability pattern behind each (domains that may drive careers), its worlds of work, its
//! ISCO-08 unit groups (which the national classifier НК РК 01-2017 follows) and O*NET-SOC
//! codes, and the sector of the national Atlas of new professions where known.

use serde::Serialize;

use super::parse::{CsvRows, error, list};
use super::{AgeGates, DomainRule, GuidanceError, domains};

const FILE: &str = "clusters.csv";

/// One row of `clusters.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// Key; message `cluster-<key>`.
    pub key: String,
    /// The ability pattern: domain keys.
    pub domains: Vec<String>,
    /// Worlds of work the cluster belongs to.
    pub worlds: Vec<String>,
    /// ISCO-08 unit groups (4 digits).
    pub isco08: Vec<String>,
    /// O*NET-SOC codes (`NN-NNNN.NN`).
    pub onet_soc: Vec<String>,
    /// Atlas of new professions sector, where known.
    pub atlas_sector: Option<String>,
    /// Citation key of README.md.
    pub source: String,
    /// Line in the file (for traces).
    pub line: usize,
}

const HEADER: [&str; 7] = [
    "key",
    "domains",
    "worlds",
    "isco08",
    "onet_soc",
    "atlas_sector",
    "source",
];

fn is_onet(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            2 => *c == b'-',
            7 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

pub(super) fn parse(
    text: &str,
    domain_rules: &[DomainRule],
    gates: &AgeGates,
) -> Result<Vec<Cluster>, GuidanceError> {
    let csv = CsvRows::parse(FILE, text, &HEADER)?;
    let mut out: Vec<Cluster> = Vec::new();
    for (line, cells) in csv.rows {
        let at = Some(line);
        let [key, domain_cell, worlds, isco, onet, atlas, source] = <[String; 7]>::try_from(cells)
            .map_err(|c| error(FILE, at, "-", format!("{} cells, expected 7", c.len())))?;
        if key.is_empty() || out.iter().any(|c| c.key == key) {
            return Err(error(FILE, at, "key", format!("'{key}' is empty or repeated")));
        }
        let domains = list(&domain_cell);
        if domains.is_empty() {
            return Err(error(FILE, at, "domains", "a cluster needs an ability pattern"));
        }
        for d in &domains {
            let rule = domains::require(domain_rules, d, FILE, at, "domains")?;
            if !rule.drives_careers {
                return Err(error(
                    FILE,
                    at,
                    "domains",
                    format!("'{d}' may not drive career suggestions"),
                ));
            }
        }
        let worlds = list(&worlds);
        if let Some(w) = worlds.iter().find(|w| !gates.worlds.iter().any(|g| &g.key == *w)) {
            return Err(error(
                FILE,
                at,
                "worlds",
                format!("'{w}' is not a world of age_gates.toml"),
            ));
        }
        let isco08 = list(&isco);
        if isco08.is_empty() {
            return Err(error(FILE, at, "isco08", "at least one ISCO-08 unit group"));
        }
        if let Some(c) = isco08
            .iter()
            .find(|c| c.len() != 4 || !c.bytes().all(|b| b.is_ascii_digit()) || c.starts_with('0'))
        {
            return Err(error(
                FILE,
                at,
                "isco08",
                format!("'{c}' is not a civilian ISCO-08 unit group (4 digits)"),
            ));
        }
        let onet_soc = list(&onet);
        if let Some(c) = onet_soc.iter().find(|c| !is_onet(c)) {
            return Err(error(
                FILE,
                at,
                "onet_soc",
                format!("'{c}' is not an O*NET-SOC code NN-NNNN.NN"),
            ));
        }
        if source.is_empty() {
            return Err(error(FILE, at, "source", "every cluster needs a source"));
        }
        out.push(Cluster {
            key,
            domains,
            worlds,
            isco08,
            onet_soc,
            atlas_sector: (!atlas.is_empty()).then_some(atlas),
            source,
            line,
        });
    }
    Ok(out)
}
