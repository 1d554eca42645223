//! `battery.toml` as written (serde structs mirroring the file) and its checks, producing a
//! [`Battery`]. Every problem is reported with the line of the entry it concerns.

use std::collections::HashSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::adaptive::RawAdaptive;
use super::{
    AgePolicy, Battery, BatteryError, COMPOSITE_SCORE_COLUMNS, Classification, ClassificationBand, Composite,
    CompositeKind, DiscontinueRule, Domain, Item, ProfileRules, ReversalRule, SUBTEST_SCORE_COLUMNS,
    StartPoint, Substitution, Subtest,
};
use crate::age::AgeInMonths;
use crate::scale::Scale;
use crate::text::LocalizedText;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBattery {
    id: Spanned<String>,
    version: String,
    #[serde(default)]
    age_policy: AgePolicy,
    age_min_months: Spanned<u16>,
    age_max_months: Spanned<u16>,
    names: Spanned<LocalizedText>,
    #[serde(default)]
    scales: RawScales,
    #[serde(default)]
    profile: ProfileRules,
    classification: Vec<RawBand>,
    subtest: Vec<RawSubtest>,
    #[serde(default)]
    composite: Vec<RawComposite>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScales {
    #[serde(default = "scaled_default")]
    scaled: Scale,
    #[serde(default = "index_default")]
    index: Scale,
}

fn scaled_default() -> Scale {
    Scale::SCALED
}

fn index_default() -> Scale {
    Scale::INDEX
}

impl Default for RawScales {
    fn default() -> Self {
        RawScales {
            scaled: Scale::SCALED,
            index: Scale::INDEX,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    id: Spanned<String>,
    min: Option<i32>,
    max: Option<i32>,
    labels: Spanned<LocalizedText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubtest {
    id: Spanned<String>,
    domain: Domain,
    #[serde(default)]
    core: bool,
    names: Spanned<LocalizedText>,
    time_limit_seconds: Option<u32>,
    #[serde(default)]
    items: Vec<Item>,
    raw_max: Option<u16>,
    #[serde(default)]
    start_points: Vec<Spanned<StartPoint>>,
    reversal: Option<ReversalRule>,
    discontinue: Option<DiscontinueRule>,
    adaptive: Option<RawAdaptive>,
    content: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComposite {
    id: Spanned<String>,
    kind: CompositeKind,
    domain: Domain,
    names: Spanned<LocalizedText>,
    subtests: Vec<Spanned<String>>,
    #[serde(default)]
    max_prorated: usize,
    #[serde(default)]
    substitutions: Vec<Spanned<RawSubstitution>>,
    max_substitutions: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubstitution {
    replace: String,
    with: String,
}

/// Turns byte offsets into 1-based line numbers.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn at(&self, span: Range<usize>) -> usize {
        crate::source::line_at(self.0, span.start)
    }

    fn error(&self, span: Range<usize>, reason: impl Into<String>) -> BatteryError {
        BatteryError {
            line: Some(self.at(span)),
            reason: reason.into(),
        }
    }
}

pub(super) fn parse(text: &str) -> Result<Battery, BatteryError> {
    let lines = Lines(text);
    let raw: RawBattery = toml::from_str(text).map_err(|e| BatteryError {
        line: e.span().map(|s| lines.at(s)),
        reason: e.message().to_owned(),
    })?;

    check_id(&lines, &raw.id, "battery id")?;
    if let Some(lang) = raw.names.get_ref().first_blank() {
        return Err(lines.error(
            raw.names.span(),
            format!("battery name in '{}' is blank", lang.code()),
        ));
    }
    let (age_min, age_max) = (*raw.age_min_months.get_ref(), *raw.age_max_months.get_ref());
    if age_min > age_max {
        return Err(lines.error(
            raw.age_max_months.span(),
            format!("age_max_months {age_max} is below age_min_months {age_min}"),
        ));
    }
    for (name, scale) in [("scaled", &raw.scales.scaled), ("index", &raw.scales.index)] {
        // Scores are stored compactly (i16) and summed: keep them to ±10,000.
        let ok = scale.sd.is_finite()
            && scale.sd > 0.0
            && scale.min < scale.max
            && scale.min >= -10_000
            && scale.max <= 10_000
            && scale.mean >= f64::from(scale.min)
            && scale.mean <= f64::from(scale.max);
        if !ok {
            return Err(BatteryError {
                line: None,
                reason: format!(
                    "scales.{name}: needs a finite sd > 0, min < max within ±10000, and the mean between min and max"
                ),
            });
        }
    }
    if raw.profile.min_core_subtests < 2 {
        return Err(BatteryError {
            line: None,
            reason: "profile.min_core_subtests must be at least 2".into(),
        });
    }

    let classification = check_classification(&lines, raw.classification)?;
    let subtests = check_subtests(&lines, raw.subtest, age_min)?;
    let composites = check_composites(&lines, raw.composite, &subtests, &raw.scales.scaled)?;
    check_output_columns(&subtests, &composites)?;

    Ok(Battery {
        id: raw.id.into_inner(),
        version: raw.version,
        names: raw.names.into_inner(),
        age_policy: raw.age_policy,
        age_min: AgeInMonths(age_min),
        age_max: AgeInMonths(age_max),
        scaled_scale: raw.scales.scaled,
        index_scale: raw.scales.index,
        profile: raw.profile,
        classification,
        subtests,
        composites,
    })
}

/// Column names of score input and output that no subtest or composite id may take.
const RESERVED_COLUMNS: [&str; 12] = [
    "id",
    "birth_date",
    "test_date",
    "sex",
    "language",
    "weight",
    "age",
    "battery",
    "battery_version",
    "norm_set",
    "notice",
    "error",
];

/// Output columns are `<subtest>_scaled`, `<composite>_index`, …: no id may equal another's
/// column name (a subtest `vci_sum` beside a composite `vci`).
fn check_output_columns(subtests: &[Subtest], composites: &[Composite]) -> Result<(), BatteryError> {
    let mut names: HashSet<String> = RESERVED_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    let subtest_columns = subtests.iter().flat_map(|s| {
        std::iter::once(s.id.clone()).chain(SUBTEST_SCORE_COLUMNS.map(|x| format!("{}_{x}", s.id)))
    });
    let composite_columns = composites
        .iter()
        .flat_map(|c| COMPOSITE_SCORE_COLUMNS.map(|x| format!("{}_{x}", c.id)));
    for name in subtest_columns.chain(composite_columns) {
        if !names.insert(name.clone()) {
            return Err(BatteryError {
                line: None,
                reason: format!("ids give the output column '{name}' twice; rename a subtest or composite"),
            });
        }
    }
    Ok(())
}

/// Ids are column names and resource-name segments: lowercase ASCII letters, digits, '-', '_'.
fn check_id(lines: &Lines, id: &Spanned<String>, what: &str) -> Result<(), BatteryError> {
    let ok = !id.get_ref().is_empty()
        && id
            .get_ref()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(lines.error(
            id.span(),
            format!(
                "{what} '{}' must be lowercase letters, digits, '-' or '_'",
                id.get_ref()
            ),
        ))
    }
}

fn check_classification(lines: &Lines, raw: Vec<RawBand>) -> Result<Classification, BatteryError> {
    let Some(first) = raw.first() else {
        return Err(BatteryError {
            line: None,
            reason: "at least one [[classification]] band is required".into(),
        });
    };
    if first.min.is_some() {
        return Err(lines.error(first.id.span(), "the first classification band must have no min"));
    }
    let mut bands = Vec::with_capacity(raw.len());
    let mut seen = HashSet::new();
    let count = raw.len();
    for (i, band) in raw.into_iter().enumerate() {
        check_id(lines, &band.id, "classification id")?;
        if !seen.insert(band.id.get_ref().clone()) {
            return Err(lines.error(
                band.id.span(),
                format!("duplicate classification id '{}'", band.id.get_ref()),
            ));
        }
        if let Some(lang) = band.labels.get_ref().first_blank() {
            return Err(lines.error(band.labels.span(), format!("label in '{}' is blank", lang.code())));
        }
        let last = i + 1 == count;
        if last != band.max.is_none() {
            return Err(lines.error(band.id.span(), "only the last classification band has no max"));
        }
        if i > 0 {
            let prev_max: Option<i32> = bands.last().and_then(|b: &ClassificationBand| b.max);
            if band.min.is_none() || band.min != prev_max.map(|m| m + 1) {
                return Err(lines.error(
                    band.id.span(),
                    format!(
                        "band '{}' must start at {} (one above the previous band's max)",
                        band.id.get_ref(),
                        prev_max.map_or(0, |m| m + 1)
                    ),
                ));
            }
        }
        if let (Some(min), Some(max)) = (band.min, band.max)
            && min > max
        {
            return Err(lines.error(
                band.id.span(),
                format!("band '{}' has min > max", band.id.get_ref()),
            ));
        }
        bands.push(ClassificationBand {
            id: band.id.into_inner(),
            min: band.min,
            max: band.max,
            labels: band.labels.into_inner(),
        });
    }
    Ok(Classification::new(bands))
}

fn check_subtests(lines: &Lines, raw: Vec<RawSubtest>, age_min: u16) -> Result<Vec<Subtest>, BatteryError> {
    if raw.is_empty() {
        return Err(BatteryError {
            line: None,
            reason: "at least one [[subtest]] is required".into(),
        });
    }
    let mut ids = HashSet::new();
    let mut item_ids = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let span = s.id.span();
        let id = s.id.get_ref().clone();
        check_id(lines, &s.id, "subtest id")?;
        if RESERVED_COLUMNS.contains(&id.as_str()) {
            return Err(lines.error(
                span,
                format!("subtest id '{id}' clashes with an input or output column"),
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(lines.error(span, format!("duplicate subtest id '{id}'")));
        }
        if let Some(lang) = s.names.get_ref().first_blank() {
            return Err(lines.error(
                s.names.span(),
                format!("subtest '{id}': name in '{}' is blank", lang.code()),
            ));
        }
        for item in &s.items {
            if !item_ids.insert(item.id.clone()) {
                return Err(lines.error(span, format!("subtest '{id}': duplicate item id '{}'", item.id)));
            }
            if item.max == 0 {
                return Err(lines.error(span, format!("subtest '{id}': item '{}' has max 0", item.id)));
            }
        }
        let item_sum: u32 = s.items.iter().map(|i| u32::from(i.max)).sum();
        let raw_max = match (s.raw_max, s.items.is_empty()) {
            (None, true) => {
                return Err(lines.error(span, format!("subtest '{id}' needs items or raw_max")));
            }
            (Some(m), true) => m,
            (None, false) => u16::try_from(item_sum)
                .map_err(|_| lines.error(span.clone(), format!("subtest '{id}': raw maximum too large")))?,
            (Some(m), false) if u32::from(m) == item_sum => m,
            (Some(m), false) => {
                return Err(lines.error(
                    span,
                    format!("subtest '{id}': raw_max {m} differs from the sum of item maxima {item_sum}"),
                ));
            }
        };
        if raw_max == 0 {
            return Err(lines.error(span, format!("subtest '{id}': raw maximum is 0")));
        }
        check_rules(lines, span.clone(), &id, &s, age_min)?;
        let adaptive = match s.adaptive {
            Some(a) => Some(
                a.check(&id, s.items.len())
                    .map_err(|reason| lines.error(span, format!("subtest '{id}': {reason}")))?,
            ),
            None => None,
        };
        let content = match s.content {
            Some(path) => {
                let expected = format!("content/{id}.toml");
                if *path.get_ref() != expected || s.items.is_empty() {
                    return Err(lines.error(
                        path.span(),
                        format!(
                            "subtest '{id}': content must be \"{expected}\" and the subtest must have items (got \"{}\")",
                            path.get_ref()
                        ),
                    ));
                }
                Some(path.into_inner())
            }
            None => None,
        };
        out.push(Subtest {
            id,
            domain: s.domain,
            core: s.core,
            names: s.names.into_inner(),
            time_limit_seconds: s.time_limit_seconds,
            items: s.items,
            raw_max,
            start_points: s.start_points.into_iter().map(Spanned::into_inner).collect(),
            reversal: s.reversal,
            discontinue: s.discontinue,
            adaptive,
            content,
        });
    }
    Ok(out)
}

fn check_rules(
    lines: &Lines,
    span: Range<usize>,
    id: &str,
    s: &RawSubtest,
    age_min: u16,
) -> Result<(), BatteryError> {
    let err = |reason: String| lines.error(span.clone(), format!("subtest '{id}': {reason}"));
    if s.items.is_empty() {
        if !s.start_points.is_empty() || s.reversal.is_some() || s.discontinue.is_some() {
            return Err(err(
                "start points, reversal and discontinue rules need items".into()
            ));
        }
        return Ok(());
    }
    // Problems of one start point are reported at its own line.
    let at = |sp: &Spanned<StartPoint>, reason: String| {
        lines.error(sp.span(), format!("subtest '{id}': {reason}"))
    };
    match s.start_points.first() {
        None => return Err(err("needs at least one start point".into())),
        Some(first) if first.get_ref().age_min_months != age_min => {
            return Err(at(
                first,
                format!(
                    "the first start point must apply from age_min_months {age_min}, not {}",
                    first.get_ref().age_min_months
                ),
            ));
        }
        Some(_) => {}
    }
    let mut last_age = None;
    for spanned in &s.start_points {
        let sp = spanned.get_ref();
        if last_age.is_some_and(|a| sp.age_min_months <= a) {
            return Err(at(
                spanned,
                "start points must be in ascending order of age".into(),
            ));
        }
        last_age = Some(sp.age_min_months);
        if !s.items.iter().any(|i| i.id == sp.item) {
            return Err(at(
                spanned,
                format!("start point item '{}' is not an item of this subtest", sp.item),
            ));
        }
    }
    if s.reversal.is_some_and(|r| r.consecutive_perfect == 0) {
        return Err(err("reversal.consecutive_perfect must be at least 1".into()));
    }
    if s.discontinue.is_some_and(|d| d.consecutive_zeros == 0) {
        return Err(err("discontinue.consecutive_zeros must be at least 1".into()));
    }
    Ok(())
}

fn check_composites(
    lines: &Lines,
    raw: Vec<RawComposite>,
    subtests: &[Subtest],
    scaled: &Scale,
) -> Result<Vec<Composite>, BatteryError> {
    let position = |id: &str| subtests.iter().position(|s| s.id == id);
    let mut ids: HashSet<String> = subtests.iter().map(|s| s.id.clone()).collect();
    let mut out = Vec::with_capacity(raw.len());
    for c in raw {
        let span = c.id.span();
        let id = c.id.get_ref().clone();
        let err = |reason: String| lines.error(span.clone(), format!("composite '{id}': {reason}"));
        // Problems of one member or substitution are reported at its own line.
        let err_at =
            |at: Range<usize>, reason: String| lines.error(at, format!("composite '{id}': {reason}"));
        check_id(lines, &c.id, "composite id")?;
        if !ids.insert(id.clone()) {
            return Err(err("id is already used by a subtest or another composite".into()));
        }
        if let Some(lang) = c.names.get_ref().first_blank() {
            return Err(err_at(
                c.names.span(),
                format!("name in '{}' is blank", lang.code()),
            ));
        }
        if c.subtests.is_empty() {
            return Err(err("lists no subtests".into()));
        }
        let mut members = Vec::with_capacity(c.subtests.len());
        for s in &c.subtests {
            let (name, at) = (s.get_ref(), s.span());
            let p = position(name).ok_or_else(|| err_at(at.clone(), format!("unknown subtest '{name}'")))?;
            if members.contains(&p) {
                return Err(err_at(at, format!("subtest '{name}' listed twice")));
            }
            members.push(p);
        }
        if c.max_prorated >= members.len() {
            return Err(err(format!(
                "max_prorated {} must be below the number of subtests {}",
                c.max_prorated,
                members.len()
            )));
        }
        let mut substitutions = Vec::with_capacity(c.substitutions.len());
        for spanned in &c.substitutions {
            let (sub, at) = (spanned.get_ref(), spanned.span());
            let unknown = |s: &str| err_at(at.clone(), format!("unknown subtest '{s}'"));
            let replace = position(&sub.replace).ok_or_else(|| unknown(&sub.replace))?;
            let with = position(&sub.with).ok_or_else(|| unknown(&sub.with))?;
            if !members.contains(&replace) {
                return Err(err_at(
                    at,
                    format!("'{}' is not a member, so it cannot be replaced", sub.replace),
                ));
            }
            if members.contains(&with) {
                return Err(err_at(
                    at,
                    format!("substitute '{}' is already a member", sub.with),
                ));
            }
            substitutions.push(Substitution { replace, with });
        }
        let max_substitutions = c
            .max_substitutions
            .unwrap_or(usize::from(!substitutions.is_empty()));
        if max_substitutions > substitutions.len() || max_substitutions >= members.len() {
            return Err(err(format!(
                "max_substitutions {max_substitutions} must not exceed the substitutions listed ({}) and must \
                 leave at least one member ({} subtests)",
                substitutions.len(),
                members.len()
            )));
        }
        // Sums must fit the composite table's integer range.
        let top = i64::from(scaled.max) * members.len() as i64;
        if top > i64::from(u16::MAX) {
            return Err(err("too many subtests for the scaled scale".into()));
        }
        out.push(Composite {
            id,
            kind: c.kind,
            domain: c.domain,
            names: c.names.into_inner(),
            subtests: members,
            max_prorated: c.max_prorated,
            substitutions,
            max_substitutions,
        });
    }
    Ok(out)
}
