//! CSV output rows of `qabilet score`, formatted straight into a byte buffer. Hand-written
//! because the generic writer's per-field work was a measured hot spot (BENCHMARKS.md);
//! quoting follows RFC 4180 as the `csv` crate's "necessary" style does.

use qabilet_core::NormSet;
use qabilet_core::battery::{COMPOSITE_SCORE_COLUMNS, SUBTEST_SCORE_COLUMNS};
use qabilet_core::profile::Profile;
use qabilet_core::scale::percentile_one_decimal;

use super::columns::Columns;

/// Appends `field`, quoted when it holds a comma, quote or line break.
pub fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    if field.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

/// The output header: input columns, then the scores, then identity and error.
pub fn header(norms: &NormSet, cols: &Columns) -> Vec<u8> {
    let b = &norms.battery;
    let mut names: Vec<String> = cols.names.clone();
    names.push("age".into());
    for s in &b.subtests {
        names.extend(SUBTEST_SCORE_COLUMNS.map(|x| format!("{}_{x}", s.id)));
    }
    for c in &b.composites {
        names.extend(COMPOSITE_SCORE_COLUMNS.map(|x| format!("{}_{x}", c.id)));
    }
    names.extend(["battery", "battery_version", "norm_set", "notice", "error"].map(String::from));
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(&mut out, n.as_bytes());
    }
    out.push(b'\n');
    out
}

/// Formats rows; text that depends only on the norm set is prepared once.
pub struct CsvRows<'n> {
    norms: &'n NormSet,
    /// Percentile text of each scaled score (from the scale's minimum).
    scaled_percentile: Vec<String>,
    /// Per composite: percentile text of each sum (from the lowest sum).
    composite_percentile: Vec<(i32, Vec<String>)>,
    /// `,battery,version,hash,notice,` — everything before the error cell.
    identity: Vec<u8>,
    /// Empty cells of a row that could not be scored (age, subtests, composites).
    blanks: Vec<u8>,
    number: itoa::Buffer,
}

impl<'n> CsvRows<'n> {
    /// Prepares the fixed text of `norms`.
    pub fn new(norms: &'n NormSet) -> Self {
        let b = &norms.battery;
        let scale = b.scaled_scale;
        let scaled_percentile = (scale.min..=scale.max)
            .map(|s| format!("{:.1}", norms.scaled_percentile(s)))
            .collect();
        let composite_percentile = b
            .composites
            .iter()
            .enumerate()
            .map(|(c, composite)| {
                let k = composite.subtests.len() as i32;
                let lo = k * scale.min;
                let texts = (lo..=k * scale.max)
                    .map(|sum| format!("{:.1}", percentile_one_decimal(norms.composites.lookup(c, sum).1)))
                    .collect();
                (lo, texts)
            })
            .collect();
        let mut identity = Vec::new();
        for field in [
            norms.id.battery.as_str(),
            norms.id.version.as_str(),
            norms.id.hash.as_str(),
            norms.id.notice.as_deref().unwrap_or(""),
        ] {
            identity.push(b',');
            push_field(&mut identity, field.as_bytes());
        }
        identity.push(b',');
        let blanks = vec![
            b',';
            1 + SUBTEST_SCORE_COLUMNS.len() * b.subtests.len()
                + COMPOSITE_SCORE_COLUMNS.len() * b.composites.len()
        ];
        CsvRows {
            norms,
            scaled_percentile,
            composite_percentile,
            identity,
            blanks,
            number: itoa::Buffer::new(),
        }
    }

    fn int(&mut self, out: &mut Vec<u8>, n: i32) {
        out.push(b',');
        out.extend_from_slice(self.number.format(n).as_bytes());
    }

    fn echo(out: &mut Vec<u8>, record: &csv::ByteRecord, cols: &Columns) {
        for i in 0..cols.width {
            if i > 0 {
                out.push(b',');
            }
            push_field(out, record.get(i).unwrap_or(b""));
        }
    }

    /// Appends the row of a scored record.
    pub fn scored(
        &mut self,
        out: &mut Vec<u8>,
        record: &csv::ByteRecord,
        cols: &Columns,
        profile: &Profile<'_>,
    ) {
        Self::echo(out, record, cols);
        let age = profile.age;
        self.int(out, i32::from(age.years));
        out.push(b':');
        out.extend_from_slice(self.number.format(age.months).as_bytes());
        out.push(b':');
        out.extend_from_slice(self.number.format(age.days).as_bytes());
        let battery = &self.norms.battery;
        let min = battery.scaled_scale.min;
        let mut next = profile.subtests.iter().peekable();
        for subtest in &battery.subtests {
            match next.peek() {
                Some(s) if s.id == subtest.id => {
                    self.int(out, s.scaled);
                    out.push(b',');
                    out.extend_from_slice(self.scaled_percentile[(s.scaled - min) as usize].as_bytes());
                    next.next();
                }
                _ => out.extend_from_slice(b",,"),
            }
        }
        for (c, composite) in profile.composites.iter().enumerate() {
            match &composite.value {
                Some(v) => {
                    self.int(out, v.sum);
                    self.int(out, v.index);
                    out.push(b',');
                    let (lo, texts) = &self.composite_percentile[c];
                    out.extend_from_slice(texts[(v.sum - lo) as usize].as_bytes());
                    self.int(out, v.ci.low);
                    self.int(out, v.ci.high);
                    out.push(b',');
                    out.extend_from_slice(v.classification.as_bytes());
                    out.push(b',');
                    out.extend_from_slice(v.basis.as_str().as_bytes());
                }
                None => out.extend_from_slice(b",,,,,,,"),
            }
        }
        out.extend_from_slice(&self.identity);
        out.push(b'\n');
    }

    /// Appends the row of a record that could not be scored.
    pub fn bad(&mut self, out: &mut Vec<u8>, record: &csv::ByteRecord, cols: &Columns, reason: &str) {
        Self::echo(out, record, cols);
        out.extend_from_slice(&self.blanks);
        out.extend_from_slice(&self.identity);
        push_field(out, reason.as_bytes());
        out.push(b'\n');
    }
}
