//! What a child's record must hold before it can be scored, checked once: valid dates, an
//! age inside the norms, and raw scores that are whole numbers within each subtest's range.
//! A raw score out of range is an error, never a clamp.

use thiserror::Error;

use crate::age::{self, AgeError, AgeInMonths, ChronologicalAge, Date};
use crate::norms::NormSet;

/// Why a record cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RowError {
    /// A date is not a valid ISO date.
    #[error("{field}: {source}")]
    Date {
        /// `birth_date` or `test_date`.
        field: &'static str,
        /// The underlying problem.
        source: AgeError,
    },
    /// The test precedes birth, or the age is outside the norms.
    #[error(transparent)]
    Age(AgeError),
    /// A raw score names no subtest of the battery.
    #[error("unknown subtest '{0}'")]
    UnknownSubtest(String),
    /// A subtest is given twice.
    #[error("subtest '{0}' is given twice")]
    DuplicateSubtest(String),
    /// A raw score is not a whole number.
    #[error("{subtest}: raw score '{text}' is not a whole number")]
    RawNotWhole {
        /// Subtest id.
        subtest: String,
        /// The offending text.
        text: String,
    },
    /// A raw score is outside 0 … the subtest's maximum.
    #[error("{subtest}: raw score {raw} is outside 0–{max}")]
    RawOutOfRange {
        /// Subtest id.
        subtest: String,
        /// The raw score given.
        raw: i64,
        /// The subtest's maximum raw score.
        max: u16,
    },
}

/// A record ready to score: age within the norms, raw scores within range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRequest {
    /// Date of birth.
    pub birth: Date,
    /// Date of testing.
    pub test: Date,
    /// Calendar-exact age on the test date.
    pub age: ChronologicalAge,
    /// Raw score per subtest in battery order; `None` = not administered.
    pub raw: Vec<Option<u16>>,
}

impl ScoreRequest {
    /// Checks dates and raw scores given as text, with subtests named by id; an empty text
    /// means "not administered".
    ///
    /// # Errors
    /// The first [`RowError`] found.
    pub fn parse<'a>(
        norms: &NormSet,
        birth: &str,
        test: &str,
        raw: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, RowError> {
        let mut cells = Vec::new();
        for (id, text) in raw {
            let s = norms
                .battery
                .subtest_index(id)
                .ok_or_else(|| RowError::UnknownSubtest(id.to_owned()))?;
            cells.push((s, text));
        }
        Self::from_cells(norms, birth, test, cells)
    }

    /// As [`ScoreRequest::parse`], with subtests named by battery position (the CLI maps
    /// columns to positions once per file).
    ///
    /// # Errors
    /// The first [`RowError`] found.
    pub fn from_cells<'a>(
        norms: &NormSet,
        birth: &str,
        test: &str,
        cells: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Result<Self, RowError> {
        let birth = age::parse_date(birth).map_err(|source| RowError::Date {
            field: "birth_date",
            source,
        })?;
        let test = age::parse_date(test).map_err(|source| RowError::Date {
            field: "test_date",
            source,
        })?;
        let mut raw = vec![None; norms.battery.subtests.len()];
        let mut given = vec![false; raw.len()];
        for (s, text) in cells {
            let subtest = &norms.battery.subtests[s];
            if std::mem::replace(&mut given[s], true) {
                return Err(RowError::DuplicateSubtest(subtest.id.clone()));
            }
            if text.is_empty() {
                continue;
            }
            raw[s] = Some(parse_raw(text, &subtest.id, subtest.raw_max)?);
        }
        Self::new(norms, birth, test, raw)
    }

    /// Checks typed values: the age must be within the norms and raw scores within range.
    ///
    /// # Errors
    /// [`RowError::Age`] or [`RowError::RawOutOfRange`].
    ///
    /// # Panics
    /// When `raw` does not hold exactly one slot per subtest of the battery (a programming
    /// error, not bad data).
    pub fn new(norms: &NormSet, birth: Date, test: Date, raw: Vec<Option<u16>>) -> Result<Self, RowError> {
        let battery = &norms.battery;
        let age = battery.age_on(birth, test).map_err(RowError::Age)?;
        assert_eq!(
            raw.len(),
            battery.subtests.len(),
            "one raw score slot per subtest"
        );
        for (subtest, r) in battery.subtests.iter().zip(&raw) {
            if let Some(r) = *r
                && r > subtest.raw_max
            {
                return Err(RowError::RawOutOfRange {
                    subtest: subtest.id.clone(),
                    raw: i64::from(r),
                    max: subtest.raw_max,
                });
            }
        }
        Ok(ScoreRequest {
            birth,
            test,
            age,
            raw,
        })
    }

    /// Whole months of age, the norm-band key.
    pub fn age_months(&self) -> AgeInMonths {
        self.age.in_months()
    }
}

/// A raw score from text: digits only (an optional leading '-' is read to report it as out
/// of range rather than as garbage).
fn parse_raw(text: &str, subtest: &str, max: u16) -> Result<u16, RowError> {
    let not_whole = || RowError::RawNotWhole {
        subtest: subtest.to_owned(),
        text: text.to_owned(),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_whole());
    }
    // Saturate: any number too long for i64 is out of range all the same.
    let value: i64 = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    let value = if negative { -value } else { value };
    if value < 0 || value > i64::from(max) {
        return Err(RowError::RawOutOfRange {
            subtest: subtest.to_owned(),
            raw: value,
            max,
        });
    }
    Ok(value as u16)
}
