//! Chronological age: calendar-exact years, months and days between a birth date and a
//! test date, and the whole months of age that select a norm band.
//!
//! Rule (norms/FORMATS.md, "Ages"): Y, M, D are such that the birth date plus
//! 12·Y + M months, plus D days, is the test date, where adding months to a day that the
//! target month lacks lands on that month's last day (31 January plus one month is 28 or 29
//! February). Months are counted from the birth date, not chained: born 31 January, on
//! 30 March the age is 0:1:30.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A calendar date (proleptic Gregorian), as written in ISO 8601: `2019-03-14`.
pub type Date = jiff::civil::Date;

/// Why an age could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AgeError {
    /// The text is not an ISO `yyyy-mm-dd` date.
    #[error("{}", describe_invalid(text))]
    InvalidDate {
        /// The offending text.
        text: String,
    },
    /// The test date lies before the birth date.
    #[error("test date {test} is before birth date {birth}")]
    TestBeforeBirth {
        /// Birth date.
        birth: Date,
        /// Test date.
        test: Date,
    },
    /// The age lies outside the range the norms cover.
    #[error("age {age} is outside the norms' range {min}–{max}")]
    OutsideNorms {
        /// The child's age.
        age: ChronologicalAge,
        /// Youngest age covered, as `Y:M`.
        min: AgeInMonths,
        /// Oldest age covered, as `Y:M`.
        max: AgeInMonths,
    },
}

fn describe_invalid(text: &str) -> String {
    let b = text.as_bytes();
    if text.is_empty() {
        "date is empty (expected yyyy-mm-dd, e.g. 2019-03-14)".into()
    } else if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        format!("'{text}' is not a calendar date")
    } else {
        format!("'{text}' is not a date of the form yyyy-mm-dd (e.g. 2019-03-14)")
    }
}

/// Parses an ISO `yyyy-mm-dd` date, strictly (no time, no surrounding spaces).
pub fn parse_date(text: &str) -> Result<Date, AgeError> {
    let invalid = || AgeError::InvalidDate {
        text: text.to_owned(),
    };
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(invalid());
    }
    let num = |s: &[u8]| -> Option<i32> {
        s.iter().try_fold(0i32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10])) else {
        return Err(invalid());
    };
    let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d)) else {
        return Err(invalid());
    };
    Date::new(y, m, d).map_err(|_| invalid())
}

/// Whole months of age, `12·years + months`: the unit of norm-band bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AgeInMonths(pub u16);

impl fmt::Display for AgeInMonths {
    /// Written `Y:M`, as norm manuals do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0 / 12, self.0 % 12)
    }
}

/// A calendar-exact age: years, months and days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChronologicalAge {
    /// Completed years.
    pub years: u16,
    /// Completed months beyond the years, 0–11.
    pub months: u8,
    /// Days beyond the months, 0–30.
    pub days: u8,
}

impl ChronologicalAge {
    /// Calendar-exact age on `test` of a child born on `birth`.
    ///
    /// # Errors
    /// [`AgeError::TestBeforeBirth`] when `test < birth`.
    ///
    /// # Examples
    /// ```
    /// use qabilet_core::age::{parse_date, ChronologicalAge};
    /// let age = ChronologicalAge::between(parse_date("2021-01-31")?, parse_date("2021-03-30")?)?;
    /// assert_eq!(age.to_string(), "0:1:30");
    /// # Ok::<(), qabilet_core::AgeError>(())
    /// ```
    pub fn between(birth: Date, test: Date) -> Result<Self, AgeError> {
        if test < birth {
            return Err(AgeError::TestBeforeBirth { birth, test });
        }
        let mut months = (i32::from(test.year()) - i32::from(birth.year())) * 12 + i32::from(test.month())
            - i32::from(birth.month());
        let mut anchor = add_months(birth, months);
        if anchor > test {
            months -= 1;
            anchor = add_months(birth, months);
        }
        // `anchor <= test < add_months(birth, months + 1)`: the test date is in the anchor's
        // month or the next one.
        let days = if anchor.month() == test.month() {
            test.day() - anchor.day()
        } else {
            anchor.days_in_month() - anchor.day() + test.day()
        };
        // `months` is non-negative because test >= birth, and bounded by the date range.
        let months = u32::try_from(months).unwrap_or(0);
        Ok(ChronologicalAge {
            years: u16::try_from(months / 12).unwrap_or(u16::MAX),
            months: (months % 12) as u8,
            days: u8::try_from(days).unwrap_or(0),
        })
    }

    /// Whole months of age, the unit of norm bands (saturating at `u16::MAX`, far beyond
    /// any norm table, for ages over 5,461 years).
    pub fn in_months(self) -> AgeInMonths {
        let months = u32::from(self.years) * 12 + u32::from(self.months);
        AgeInMonths(u16::try_from(months).unwrap_or(u16::MAX))
    }

    /// The date this age is reached by a child born on `birth` (the inverse of
    /// [`ChronologicalAge::between`] for ages it returns).
    pub fn date_from(self, birth: Date) -> Option<Date> {
        let anchor = add_months(birth, i32::from(self.years) * 12 + i32::from(self.months));
        anchor
            .checked_add(jiff::Span::new().days(i64::from(self.days)))
            .ok()
    }
}

impl fmt::Display for ChronologicalAge {
    /// Written `Y:M:D`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.years, self.months, self.days)
    }
}

impl Serialize for ChronologicalAge {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ChronologicalAge {
    /// Reads `Y:M:D`, as written.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A [`Date`] in serde as ISO `yyyy-mm-dd` text, read strictly ([`parse_date`]): use with
/// `#[serde(with = "qabilet_core::age::iso_date")]`.
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Date, parse_date};

    /// Writes `yyyy-mm-dd`.
    ///
    /// # Errors
    /// Those of the serializer.
    pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!(
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        ))
    }

    /// Reads `yyyy-mm-dd`.
    ///
    /// # Errors
    /// A text that is not such a date.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        parse_date(&text).map_err(serde::de::Error::custom)
    }
}

impl FromStr for ChronologicalAge {
    type Err = String;

    /// Parses `Y:M:D`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let mut next = |what: &str| {
            parts
                .next()
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or_else(|| format!("'{s}' is not an age Y:M:D ({what} missing)"))
        };
        let (years, months, days) = (next("years")?, next("months")?, next("days")?);
        if parts.next().is_some() {
            return Err(format!("'{s}' is not an age Y:M:D (too many parts)"));
        }
        if months > 11 || days > 30 {
            return Err(format!("'{s}' is not an age Y:M:D (months ≤ 11, days ≤ 30)"));
        }
        Ok(ChronologicalAge {
            years,
            months: months as u8,
            days: days as u8,
        })
    }
}

/// `date` plus `months` calendar months, landing on the target month's last day when it is
/// shorter than `date`'s day.
fn add_months(date: Date, months: i32) -> Date {
    let total = i32::from(date.year()) * 12 + i32::from(date.month()) - 1 + months;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    // Both fit: years stay within jiff's range for any date a child can be born on, and
    // month is 1–12.
    let year = i16::try_from(year).unwrap_or(i16::MAX);
    let first = Date::new(year, month as i8, 1).unwrap_or(date);
    let day = date.day().min(first.days_in_month());
    Date::new(year, month as i8, day).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn month_end_birthdays_count_months_from_birth() {
        let age = |b, t| ChronologicalAge::between(d(b), d(t)).unwrap().to_string();
        assert_eq!(age("2021-01-31", "2021-03-30"), "0:1:30");
        assert_eq!(age("2021-01-31", "2021-02-28"), "0:1:0");
        assert_eq!(age("2020-01-31", "2020-02-29"), "0:1:0");
        assert_eq!(age("2020-01-31", "2020-02-28"), "0:0:28");
        assert_eq!(age("2020-02-29", "2021-02-28"), "1:0:0");
        assert_eq!(age("2019-05-10", "2019-05-10"), "0:0:0");
    }

    #[test]
    fn rejects_test_before_birth_and_bad_dates() {
        assert!(matches!(
            ChronologicalAge::between(d("2020-05-10"), d("2020-05-09")),
            Err(AgeError::TestBeforeBirth { .. })
        ));
        for bad in [
            "2020-02-30",
            "2020-13-01",
            "20-01-01",
            "2020-1-01",
            "2020-01-01 ",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn in_months_and_display() {
        let age = ChronologicalAge::between(d("2015-03-01"), d("2026-02-28")).unwrap();
        assert_eq!(age.to_string(), "10:11:27");
        assert_eq!(age.in_months(), AgeInMonths(131));
        assert_eq!(age.in_months().to_string(), "10:11");
    }
}
