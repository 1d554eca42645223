//! JSON Lines output of `qabilet score --format json`: one object per input row — a scored
//! row is the scored profile's JSON (`qabilet_core::profile::ScoredProfile`, raw scores in
//! column order) followed by `"error": null`; a row that could not be scored echoes its input
//! (raw cells as given), the norm set and the notice, with the reason in `error`. The service's
//! `profile_json` is the line of a scored row ([`line`]).

use qabilet_core::profile::{Profile, RawScores, ScoredProfile};
use qabilet_core::{NormSet, NormSetId, ScoreRequest};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::columns::Columns;

/// Raw-score cells in input column order: numbers where they are plain digits, the text as
/// given otherwise, `null` when empty.
struct RawCells<'a> {
    norms: &'a NormSet,
    cols: &'a Columns,
    record: &'a csv::ByteRecord,
}

impl Serialize for RawCells<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.cols.subtests.len()))?;
        for &(col, sub) in &self.cols.subtests {
            let id = &self.norms.battery.subtests[sub].id;
            let text = text(self.record, col);
            if text.is_empty() {
                map.serialize_entry(id, &())?;
            } else if let Some(n) = text
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| text.parse::<u64>().ok())
                .flatten()
            {
                map.serialize_entry(id, &n)?;
            } else {
                map.serialize_entry(id, text)?;
            }
        }
        map.end()
    }
}

fn text(record: &csv::ByteRecord, i: usize) -> &str {
    record
        .get(i)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
        .trim()
}

/// A scored row: the profile's fields, then the row's `error` (none).
#[derive(Serialize)]
struct Scored<'a> {
    #[serde(flatten)]
    profile: &'a ScoredProfile,
    error: Option<&'a str>,
}

/// The line of a scored profile, as `qabilet score --format json` writes it (without the
/// newline).
pub fn line(profile: &ScoredProfile) -> String {
    // Serialising plain data cannot fail.
    serde_json::to_string(&Scored { profile, error: None }).unwrap_or_default()
}

#[derive(Serialize)]
struct Failed<'a> {
    id: &'a str,
    birth_date: &'a str,
    test_date: &'a str,
    raw: RawCells<'a>,
    notice: Option<&'a str>,
    norm_set: &'a NormSetId,
    error: &'a str,
}

/// Appends the line of a scored record: raw scores in column order, `null` where a column is
/// empty.
pub fn scored(
    out: &mut Vec<u8>,
    norms: &NormSet,
    record: &csv::ByteRecord,
    cols: &Columns,
    request: &ScoreRequest,
    profile: &Profile<'_>,
) {
    let mut scored = ScoredProfile::new(text(record, cols.id), request, profile);
    scored.raw = RawScores(
        cols.subtests
            .iter()
            .map(|&(_, sub)| (norms.battery.subtests[sub].id.clone(), request.raw[sub]))
            .collect(),
    );
    // Serialising plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(
        &mut *out,
        &Scored {
            profile: &scored,
            error: None,
        },
    );
    out.push(b'\n');
}

/// Appends the line of a record that could not be scored.
pub fn bad(out: &mut Vec<u8>, norms: &NormSet, record: &csv::ByteRecord, cols: &Columns, reason: &str) {
    let line = Failed {
        id: text(record, cols.id),
        birth_date: text(record, cols.birth),
        test_date: text(record, cols.test),
        raw: RawCells { norms, cols, record },
        notice: norms.id.notice.as_deref(),
        norm_set: &norms.id,
        error: reason,
    };
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
}
