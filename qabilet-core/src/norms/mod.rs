//! Norm sets: a battery's definition with its norm tables, loaded from the files of one
//! `norms/<battery-id>/` folder, validated once, and identified by a SHA-256 over the files.
//! Scoring reads the compiled tables; see [`crate::profile`].

mod base_rates;
pub mod build;
mod composite_norms;
mod csv_table;
mod error;
pub mod model;
mod provenance;
mod reliability;
pub mod sample;
pub mod simulate;
mod subtest_norms;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use base_rates::{BaseRate, BaseRates, CORE_MEAN, Comparison};
pub use composite_norms::{CompositeNorms, CompositeRow};
pub use error::NormError;
pub use provenance::{NormStatus, Provenance};
pub use reliability::{Reliabilities, ReliabilityRow, stated_rows};
pub use sample::{SampleError, SampleErrors, SampledChild, StandardisationSample};
pub use subtest_norms::{SubtestNorms, SubtestRow};

use crate::administration::AdaptiveForm;
use crate::battery::Battery;
use crate::battery::content::{ContentError, ContentFile, SubtestContent};
use crate::irt::ItemBank;

/// The text of a battery folder's files, as read by the caller (the library does no I/O).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormFiles {
    /// `battery.toml`.
    pub battery_toml: String,
    /// `subtests.csv`.
    pub subtests_csv: String,
    /// `composites.csv`.
    pub composites_csv: String,
    /// `reliability.csv`.
    pub reliability_csv: String,
    /// `base_rates.csv`, when the norm set has one.
    pub base_rates_csv: Option<String>,
    /// `provenance.toml`.
    pub provenance_toml: String,
    /// The item banks of the battery's adaptive subtests, by the path `battery.toml` names
    /// (`items/<subtest>.json`), with their text ([`Battery::item_bank_files`] lists them).
    pub item_banks: BTreeMap<String, String>,
    /// The item content of the battery's subtests, by path within the folder: every
    /// `content/<subtest>.toml` that `battery.toml` names ([`Battery::content_files`]) and
    /// every file those name ([`ContentFile::files`]), with their bytes. A named file that is
    /// absent here is reported missing.
    pub content: BTreeMap<String, Vec<u8>>,
}

impl NormFiles {
    /// File names in hashing order, with the text of each present file.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        let mut files = vec![
            ("battery.toml", self.battery_toml.as_str()),
            ("subtests.csv", self.subtests_csv.as_str()),
            ("composites.csv", self.composites_csv.as_str()),
            ("reliability.csv", self.reliability_csv.as_str()),
        ];
        if let Some(b) = &self.base_rates_csv {
            files.push(("base_rates.csv", b.as_str()));
        }
        files.push(("provenance.toml", self.provenance_toml.as_str()));
        files
    }

    /// The item banks in hashing order (by path), after the files of [`NormFiles::named`].
    pub fn banks(&self) -> impl Iterator<Item = (&str, &str)> {
        self.item_banks.iter().map(|(p, t)| (p.as_str(), t.as_str()))
    }

    /// The norm-set hash: the [`file_set_hash`] rule over the files in order — the tables,
    /// then the item banks by path, then the item content files by path (norms/FORMATS.md).
    pub fn hash(&self) -> String {
        let texts = self.named().into_iter().chain(self.banks());
        let content = self.content.iter().map(|(p, b)| (p.as_str(), b.as_slice()));
        bytes_set_hash(texts.map(|(p, t)| (p, t.as_bytes())).chain(content))
    }
}

/// The identity of a set of files: `sha256:<64 hex>` of SHA-256 over, per file in the order
/// given, its name, NUL, its length in bytes in decimal, NUL, its bytes (norms/FORMATS.md).
/// The norm-set hash and the guidance hash are computed by this one rule.
pub fn file_set_hash<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    bytes_set_hash(files.into_iter().map(|(name, text)| (name, text.as_bytes())))
}

/// [`file_set_hash`] over files given as bytes (item content includes binary audio).
fn bytes_set_hash<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (name, bytes) in files {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(bytes.len().to_string().as_bytes());
        h.update([0]);
        h.update(bytes);
    }
    hex_digest(h)
}

/// `sha256:<64 hex>` of `bytes` (how a build records the sample it was made from).
pub fn sha256(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    hex_digest(h)
}

fn hex_digest(h: Sha256) -> String {
    let digest = h.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What every result names: the battery, its version and the exact norm files used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormSetId {
    /// Battery id.
    pub battery: String,
    /// Battery version.
    pub version: String,
    /// `sha256:<hex>` over the norm files.
    pub hash: String,
    /// The notice outputs must carry (demonstration norms), if any.
    #[serde(default)]
    pub notice: Option<String>,
}

impl fmt::Display for NormSetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{} ({})", self.battery, self.version, self.hash)
    }
}

/// A battery with validated norm tables, ready to score.
#[derive(Debug, Clone)]
pub struct NormSet {
    /// The battery definition.
    pub battery: Battery,
    /// Raw → scaled tables.
    pub subtests: SubtestNorms,
    /// Sum → index tables.
    pub composites: CompositeNorms,
    /// Reliabilities by age.
    pub reliability: Reliabilities,
    /// Base rates of differences (empty when the norm set has none).
    pub base_rates: BaseRates,
    /// Where the norms came from.
    pub provenance: Provenance,
    /// Identity carried by every result.
    pub id: Arc<NormSetId>,
    /// Per subtest (battery order), its adaptive form with the bank, for adaptive subtests.
    pub adaptive: Vec<Option<Arc<AdaptiveForm>>>,
    /// Per subtest (battery order), its item content, for subtests that have content.
    pub content: Vec<Option<Arc<SubtestContent>>>,
    /// Percentile of each scaled score, index `scaled − scale.min`: 100·Φ((s − mean)/sd)
    /// to one decimal.
    pub(crate) scaled_percentiles: Vec<f64>,
}

impl NormSet {
    /// Validates a battery folder's files and compiles them for scoring.
    ///
    /// # Errors
    /// The first [`NormError`] found, naming file, line and reason.
    pub fn from_files(files: &NormFiles) -> Result<Self, NormError> {
        let battery = Battery::from_toml(&files.battery_toml)?;
        let provenance = Provenance::parse(&files.provenance_toml)?;
        if provenance.battery != battery.id {
            return Err(NormError {
                file: "provenance.toml".into(),
                line: provenance::battery_line(&files.provenance_toml),
                reason: format!(
                    "battery '{}' does not match battery.toml's '{}'",
                    provenance.battery, battery.id
                ),
            });
        }
        let subtests = SubtestNorms::parse(&battery, &files.subtests_csv)?;
        let composites = CompositeNorms::parse(&battery, &files.composites_csv)?;
        let reliability = Reliabilities::parse(&battery, &files.reliability_csv)?;
        let base_rates = match &files.base_rates_csv {
            Some(text) => BaseRates::parse(&battery, text)?,
            None => BaseRates::default(),
        };
        let adaptive = adaptive_forms(&battery, files)?;
        let content = item_content(&battery, files)?;
        let scale = battery.scaled_scale;
        let scaled_percentiles = (scale.min..=scale.max)
            .map(|s| {
                crate::scale::round_half_away(1000.0 * crate::normal::cdf(scale.z_of(f64::from(s)))) / 10.0
            })
            .collect();
        let id = Arc::new(NormSetId {
            battery: battery.id.clone(),
            version: battery.version.clone(),
            hash: files.hash(),
            notice: provenance.output_notice().map(str::to_owned),
        });
        Ok(NormSet {
            battery,
            subtests,
            composites,
            reliability,
            base_rates,
            provenance,
            id,
            adaptive,
            content,
            scaled_percentiles,
        })
    }
}

/// The adaptive form of every adaptive subtest from its bank file, checked against the
/// subtest; every bank given must be named by a subtest.
fn adaptive_forms(battery: &Battery, files: &NormFiles) -> Result<Vec<Option<Arc<AdaptiveForm>>>, NormError> {
    let named = battery.item_bank_files();
    if let Some(extra) = files.item_banks.keys().find(|p| !named.contains(&p.as_str())) {
        return Err(NormError::in_file(
            extra,
            "no adaptive subtest of battery.toml names this item bank",
        ));
    }
    battery
        .subtests
        .iter()
        .map(|subtest| {
            let Some(rule) = &subtest.adaptive else {
                return Ok(None);
            };
            let file = rule.bank.as_str();
            let text = files.item_banks.get(file).ok_or_else(|| {
                NormError::in_file(
                    file,
                    format!("the item bank of adaptive subtest '{}' is missing", subtest.id),
                )
            })?;
            let bank = ItemBank::from_json(text).map_err(|e| NormError::in_file(file, e.to_string()))?;
            let form =
                AdaptiveForm::new(subtest, &bank).map_err(|e| NormError::in_file(file, e.to_string()))?;
            Ok(Some(Arc::new(form)))
        })
        .collect()
}

/// The item content of every subtest that names a content file, checked against the subtest
/// and the files; every content file given must be a named one or a file those name.
fn item_content(battery: &Battery, files: &NormFiles) -> Result<Vec<Option<Arc<SubtestContent>>>, NormError> {
    let from = |e: ContentError| NormError {
        file: e.file,
        line: e.line,
        reason: e.reason,
    };
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(battery.subtests.len());
    for subtest in &battery.subtests {
        let Some(file) = subtest.content.as_deref() else {
            out.push(None);
            continue;
        };
        let bytes = files.content.get(file).ok_or_else(|| {
            NormError::in_file(
                file,
                format!("the item content of subtest '{}' is missing", subtest.id),
            )
        })?;
        let text = std::str::from_utf8(bytes).map_err(|_| NormError::in_file(file, "not UTF-8 text"))?;
        let parsed = ContentFile::parse(file, text).map_err(from)?;
        used.insert(file.to_owned());
        used.extend(parsed.files().into_iter().map(str::to_owned));
        let checked = SubtestContent::new(subtest, file, parsed, &files.content).map_err(from)?;
        out.push(Some(Arc::new(checked)));
    }
    if let Some(extra) = files.content.keys().find(|p| !used.contains(*p)) {
        return Err(NormError::in_file(
            extra,
            "no content file of battery.toml names this file",
        ));
    }
    Ok(out)
}

impl NormSet {
    /// Percentile rank of a scaled score, 100·Φ((scaled − mean)/SD), to one decimal
    /// (norms/SCORING.md). `scaled` must lie on the battery's scaled scale.
    pub fn scaled_percentile(&self, scaled: i32) -> f64 {
        self.scaled_percentiles[(scaled - self.battery.scaled_scale.min) as usize]
    }
}

/// Writes a number so that it parses back to the same `f64`: one decimal where that is
/// exact (`0.1`, `50.0`), otherwise the shortest round-trip form.
pub(crate) fn decimal(x: f64) -> String {
    let one = format!("{x:.1}");
    if one.parse::<f64>() == Ok(x) {
        one
    } else {
        format!("{x}")
    }
}
