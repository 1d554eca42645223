//! A standardisation sample: one row per child, read from CSV text against a battery and
//! validated once, so that norm building and reliability work on trusted values.
//!
//! Format (issue 3, norms/FORMATS.md for ages): a header naming `id`, `birth_date`,
//! `test_date`, `sex` and `language` (in any order), then raw-score columns named by subtest
//! id (`voc`, …), optional item-score columns `<subtest>.<item-id>` (`voc.voc01`, …) and an
//! optional `weight` column (raking / post-stratification weights, default 1). An empty raw
//! or item cell means "not administered". Every subtest and item column is optional; a
//! column the battery does not define is an error.
//!
//! Validation collects every problem — up to [`MAX_ERRORS`] — rather than stopping at the
//! first, each with its line, column and reason: missing or repeated ids, dates that are not
//! ISO `yyyy-mm-dd`, a test date before the birth date, a calendar-exact age (see
//! [`crate::age`]) outside the battery's range (an error, never a clamp), raw scores that
//! are not whole numbers in `0 … raw max`, item scores outside `0 … item max`, weights that
//! are not positive finite numbers (or are empty), and rows with the wrong number of fields.

use std::collections::HashMap;
use std::fmt;

use thiserror::Error;

use crate::age::{self, AgeError, ChronologicalAge, Date};
use crate::battery::Battery;

/// At most this many problems are collected; the rest are only counted.
pub const MAX_ERRORS: usize = 100;

/// The fixed columns every sample must have.
pub const REQUIRED_COLUMNS: [&str; 5] = ["id", "birth_date", "test_date", "sex", "language"];

/// One child of a standardisation sample, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledChild {
    /// The child's id, unique within the sample.
    pub id: String,
    /// Date of birth.
    pub birth: Date,
    /// Date of testing.
    pub test: Date,
    /// Calendar-exact age on the test date, within the battery's range.
    pub age: ChronologicalAge,
    /// The `sex` cell, as given (trimmed).
    pub sex: String,
    /// The `language` cell, as given (trimmed).
    pub language: String,
    /// Raw score per subtest in battery order; `None` = not administered or no column.
    pub raw: Vec<Option<u16>>,
    /// Item scores per subtest (battery order), per item (the subtest's item order);
    /// `None` = no column for the item, or an empty cell.
    pub items: Vec<Vec<Option<u16>>>,
    /// Sampling weight (1 when the sample has no `weight` column); positive and finite.
    pub weight: f64,
}

/// A validated standardisation sample.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardisationSample {
    /// Children in file order.
    pub children: Vec<SampledChild>,
    /// Whether the file has a raw-score column, per subtest in battery order.
    pub raw_columns: Vec<bool>,
    /// Whether the file has an item column, per subtest and item (battery order).
    pub item_columns: Vec<Vec<bool>>,
    /// Whether the file has a `weight` column.
    pub weighted: bool,
}

/// One problem in a sample file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleError {
    /// 1-based line of the file (the header is line 1).
    pub line: usize,
    /// 1-based column and its header name, when the problem lies in one cell.
    pub column: Option<(usize, String)>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some((i, name)) => write!(f, "line {}, column {i} ({name}): {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Every problem found in a sample file (at most [`MAX_ERRORS`], and how many more).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct SampleErrors {
    /// The problems, in file order.
    pub errors: Vec<SampleError>,
    /// Problems found beyond [`MAX_ERRORS`] and not listed.
    pub more: usize,
}

impl fmt::Display for SampleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.errors.len() + self.more;
        write!(
            f,
            "{total} problem{} in the sample",
            if total == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        if self.more > 0 {
            write!(f, "\n  … and {} more", self.more)?;
        }
        Ok(())
    }
}

/// Collects errors up to the cap.
#[derive(Default)]
struct Collector {
    errors: Vec<SampleError>,
    more: usize,
}

impl Collector {
    fn push(&mut self, line: usize, column: Option<(usize, &str)>, reason: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(SampleError {
                line,
                column: column.map(|(i, n)| (i + 1, n.to_owned())),
                reason: reason.into(),
            });
        } else {
            self.more += 1;
        }
    }
}

/// What a column of the file holds.
#[derive(Debug, Clone, Copy)]
enum Column {
    Fixed,
    Raw(usize),
    Item(usize, usize),
    Weight,
}

impl StandardisationSample {
    /// Reads and validates a sample's CSV text against `battery`.
    ///
    /// # Errors
    /// [`SampleErrors`] listing every problem found (up to [`MAX_ERRORS`]); a bad header
    /// stops before the rows are read.
    pub fn parse(battery: &Battery, text: &str) -> Result<Self, SampleErrors> {
        let mut errs = Collector::default();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                errs.push(1, None, format!("unreadable header: {e}"));
                return Err(finish(errs));
            }
        };
        let names: Vec<&str> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                }
            })
            .collect();
        let columns = read_header(battery, &names, &mut errs);
        let Some((columns, fixed)) = columns.filter(|_| errs.errors.is_empty()) else {
            return Err(finish(errs));
        };
        let mut raw_columns = vec![false; battery.subtests.len()];
        let mut item_columns: Vec<Vec<bool>> = battery
            .subtests
            .iter()
            .map(|s| vec![false; s.items.len()])
            .collect();
        let mut weighted = false;
        for c in &columns {
            match *c {
                Column::Raw(s) => raw_columns[s] = true,
                Column::Item(s, i) => item_columns[s][i] = true,
                Column::Weight => weighted = true,
                Column::Fixed => {}
            }
        }

        let mut children = Vec::new();
        let mut first_line_of_id: HashMap<String, usize> = HashMap::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    errs.push(line, None, format!("malformed CSV: {e}"));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line() as usize);
            if record.len() != names.len() {
                errs.push(
                    line,
                    None,
                    format!("row has {} fields, the header has {}", record.len(), names.len()),
                );
                continue;
            }
            let before = errs.errors.len() + errs.more;
            let cell = |f: usize| (fixed[f], &record[fixed[f]]);
            let col = |i: usize| Some((i, names[i]));

            let (id_col, id) = cell(0);
            if id.is_empty() {
                errs.push(line, col(id_col), "id is empty");
            } else if let Some(first) = first_line_of_id.get(id) {
                errs.push(
                    line,
                    col(id_col),
                    format!("id '{id}' already appears on line {first}"),
                );
            } else {
                first_line_of_id.insert(id.to_owned(), line);
            }
            let mut date = |f: usize| {
                let (c, text) = cell(f);
                age::parse_date(text)
                    .map_err(|e| errs.push(line, col(c), e.to_string()))
                    .ok()
            };
            let (birth, test) = (date(1), date(2));
            let age = match (birth, test) {
                (Some(b), Some(t)) => match ChronologicalAge::between(b, t) {
                    Ok(a) if a.in_months() < battery.age_min || a.in_months() > battery.age_max => {
                        let reason = AgeError::OutsideNorms {
                            age: a,
                            min: battery.age_min,
                            max: battery.age_max,
                        };
                        errs.push(line, col(fixed[2]), reason.to_string());
                        None
                    }
                    Ok(a) => Some(a),
                    Err(e) => {
                        errs.push(line, col(fixed[2]), e.to_string());
                        None
                    }
                },
                _ => None,
            };

            let mut raw = vec![None; battery.subtests.len()];
            let mut items: Vec<Vec<Option<u16>>> = battery
                .subtests
                .iter()
                .map(|s| vec![None; s.items.len()])
                .collect();
            let mut weight = 1.0;
            for (i, c) in columns.iter().enumerate() {
                let text = &record[i];
                match *c {
                    Column::Fixed => {}
                    Column::Raw(s) => {
                        let max = battery.subtests[s].raw_max;
                        match score(text, max, "raw score") {
                            Ok(v) => raw[s] = v,
                            Err(reason) => errs.push(line, col(i), reason),
                        }
                    }
                    Column::Item(s, k) => {
                        let max = battery.subtests[s].items[k].max;
                        match score(text, max, "item score") {
                            Ok(v) => items[s][k] = v,
                            Err(reason) => errs.push(line, col(i), reason),
                        }
                    }
                    Column::Weight => match text.parse::<f64>() {
                        Ok(w) if w.is_finite() && w > 0.0 => weight = w,
                        _ if text.is_empty() => errs.push(line, col(i), "weight is empty"),
                        _ => errs.push(line, col(i), format!("weight '{text}' is not a positive number")),
                    },
                }
            }
            if errs.errors.len() + errs.more != before {
                continue;
            }
            if let (Some(birth), Some(test), Some(age)) = (birth, test, age) {
                children.push(SampledChild {
                    id: id.to_owned(),
                    birth,
                    test,
                    age,
                    sex: cell(3).1.to_owned(),
                    language: cell(4).1.to_owned(),
                    raw,
                    items,
                    weight,
                });
            }
        }
        if !errs.errors.is_empty() {
            return Err(finish(errs));
        }
        if children.is_empty() {
            errs.push(1, None, "the sample has no rows");
            return Err(finish(errs));
        }
        Ok(StandardisationSample {
            children,
            raw_columns,
            item_columns,
            weighted,
        })
    }
}

fn finish(c: Collector) -> SampleErrors {
    SampleErrors {
        errors: c.errors,
        more: c.more,
    }
}

/// Maps header names to columns; `None` when a required column is missing. Also returns
/// the position of each required column.
fn read_header(battery: &Battery, names: &[&str], errs: &mut Collector) -> Option<(Vec<Column>, [usize; 5])> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut columns = Vec::with_capacity(names.len());
    let mut fixed = [usize::MAX; 5];
    for (i, &name) in names.iter().enumerate() {
        if let Some(first) = seen.insert(name, i) {
            errs.push(
                1,
                Some((i, name)),
                format!("column '{name}' appears twice (first as column {})", first + 1),
            );
        }
        let column = if let Some(f) = REQUIRED_COLUMNS.iter().position(|&r| r == name) {
            fixed[f] = i;
            Some(Column::Fixed)
        } else if name == "weight" {
            Some(Column::Weight)
        } else if let Some(s) = battery.subtest_index(name) {
            Some(Column::Raw(s))
        } else if let Some((sub, item)) = name.split_once('.') {
            match battery.subtest_index(sub) {
                None => {
                    errs.push(1, Some((i, name)), format!("unknown subtest '{sub}'"));
                    None
                }
                Some(s) => match battery.subtests[s].items.iter().position(|it| it.id == item) {
                    Some(k) => Some(Column::Item(s, k)),
                    None => {
                        errs.push(
                            1,
                            Some((i, name)),
                            format!("subtest '{sub}' has no item '{item}'"),
                        );
                        None
                    }
                },
            }
        } else {
            errs.push(
                1,
                Some((i, name)),
                format!(
                    "unknown column '{name}' (expected {}, a subtest id, <subtest>.<item> or weight)",
                    REQUIRED_COLUMNS.join(", ")
                ),
            );
            None
        };
        columns.push(column.unwrap_or(Column::Weight));
    }
    let mut complete = true;
    for (f, &pos) in fixed.iter().enumerate() {
        if pos == usize::MAX {
            errs.push(1, None, format!("no '{}' column", REQUIRED_COLUMNS[f]));
            complete = false;
        }
    }
    complete.then_some((columns, fixed))
}

/// A score cell: empty (not administered) or a whole number in `0 ..= max`.
fn score(text: &str, max: u16, what: &str) -> Result<Option<u16>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let value: i64 = text
        .parse()
        .map_err(|_| format!("{what} '{text}' is not a whole number"))?;
    if (0..=i64::from(max)).contains(&value) {
        Ok(Some(value as u16))
    } else {
        Err(format!("{what} {value} is outside 0–{max}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn battery() -> Battery {
        Battery::from_toml(include_str!("../../../norms/qabilet-primary-demo/battery.toml"))
            .expect("demo battery")
    }

    const HEADER: &str = "id,birth_date,test_date,sex,language,inf,inf.inf01,inf.inf02,sim.sim05,weight";
    const GOOD: &str = "c01,2018-03-14,2025-04-01,f,kk,20,1,0,2,1.5";

    fn parse(rows: &[&str]) -> Result<StandardisationSample, SampleErrors> {
        let text = std::iter::once(HEADER)
            .chain(rows.iter().copied())
            .collect::<Vec<_>>()
            .join("\n");
        StandardisationSample::parse(&battery(), &text)
    }

    /// (line, column, fragment of the reason) of every error.
    fn errors(rows: &[&str]) -> Vec<(usize, Option<usize>, String)> {
        parse(rows)
            .expect_err("should fail")
            .errors
            .into_iter()
            .map(|e| (e.line, e.column.map(|c| c.0), e.reason))
            .collect()
    }

    fn one(bad: &str, line: usize, column: Option<usize>, fragment: &str) {
        let found = errors(&[GOOD, bad]);
        assert_eq!(found.len(), 1, "{bad}: {found:?}");
        let (l, c, reason) = &found[0];
        assert_eq!((*l, *c), (line, column), "{bad}: {reason}");
        assert!(reason.contains(fragment), "{bad}: '{reason}' lacks '{fragment}'");
    }

    #[test]
    fn reads_a_good_sample() {
        let s = parse(&[GOOD, "c02,2019-05-20,2025-04-01,m,ru,,,1,,1"]).expect("valid");
        assert_eq!(s.children.len(), 2);
        let b = battery();
        let (inf, sim) = (b.subtest_index("inf").unwrap(), b.subtest_index("sim").unwrap());
        let c = &s.children[0];
        assert_eq!(c.age.to_string(), "7:0:18");
        assert_eq!((c.sex.as_str(), c.language.as_str(), c.weight), ("f", "kk", 1.5));
        assert_eq!(c.raw[inf], Some(20));
        assert_eq!(&c.items[inf][..3], &[Some(1), Some(0), None]);
        assert_eq!(c.items[sim][4], Some(2));
        let d = &s.children[1];
        assert_eq!((d.raw[inf], d.items[inf][1], d.weight), (None, Some(1), 1.0));
        assert!(s.raw_columns[inf] && !s.raw_columns[sim] && s.weighted);
        assert!(s.item_columns[inf][0] && s.item_columns[inf][1] && !s.item_columns[inf][2]);
        assert!(s.item_columns[sim][4] && !s.item_columns[sim][0]);
    }

    #[test]
    fn each_bad_cell_is_reported_at_its_line_and_column() {
        one(
            ",2018-03-14,2025-04-01,f,kk,20,1,0,2,1",
            3,
            Some(1),
            "id is empty",
        );
        one(
            "c01,2018-03-15,2025-04-01,f,kk,20,1,0,2,1",
            3,
            Some(1),
            "already appears on line 2",
        );
        one(
            "c02,2018-02-30,2025-04-01,f,kk,20,1,0,2,1",
            3,
            Some(2),
            "not a calendar date",
        );
        one(
            "c02,2018-03-14,01/04/2025,f,kk,20,1,0,2,1",
            3,
            Some(3),
            "yyyy-mm-dd",
        );
        one(
            "c02,2018-03-14,2017-04-01,f,kk,20,1,0,2,1",
            3,
            Some(3),
            "before birth date",
        );
        one(
            "c02,2021-03-14,2025-04-01,f,kk,20,1,0,2,1",
            3,
            Some(3),
            "outside the norms' range",
        );
        one(
            "c02,2013-03-14,2025-04-01,f,kk,20,1,0,2,1",
            3,
            Some(3),
            "outside the norms' range",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,twenty,1,0,2,1",
            3,
            Some(6),
            "not a whole number",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,29,1,0,2,1",
            3,
            Some(6),
            "raw score 29 is outside 0–28",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,-1,1,0,2,1",
            3,
            Some(6),
            "outside 0–28",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,2,0,2,1",
            3,
            Some(7),
            "item score 2 is outside 0–1",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,1,0,3,1",
            3,
            Some(9),
            "item score 3 is outside 0–2",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,1,0,0.5,1",
            3,
            Some(9),
            "not a whole number",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,1,0,2,0",
            3,
            Some(10),
            "not a positive number",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,1,0,2,-2",
            3,
            Some(10),
            "not a positive number",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,1,0,2,NaN",
            3,
            Some(10),
            "not a positive number",
        );
        one(
            "c02,2018-03-14,2025-04-01,f,kk,20,1,0,2",
            3,
            None,
            "row has 9 fields",
        );
    }

    #[test]
    fn every_problem_is_collected_not_just_the_first() {
        let found = errors(&[
            GOOD,
            "c02,2018-13-01,2025-04-01,f,kk,99,1,0,2,1",
            GOOD,
            "c03,2018-03-14,2025-04-01,f,kk,20,1,5,2,x",
        ]);
        let at: Vec<_> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
        assert_eq!(
            at,
            [
                (3, Some(2)),
                (3, Some(6)),
                (4, Some(1)),
                (5, Some(8)),
                (5, Some(10))
            ]
        );
    }

    #[test]
    fn errors_are_capped() {
        let rows: Vec<String> = (0..MAX_ERRORS + 7)
            .map(|i| format!("c{i},2018-03-14,2025-04-01,f,kk,99,1,0,2,1"))
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let e = parse(&rows).expect_err("all bad");
        assert_eq!((e.errors.len(), e.more), (MAX_ERRORS, 7));
        assert!(e.to_string().contains("… and 7 more"));
    }

    #[test]
    fn header_problems_name_their_columns() {
        let b = battery();
        let e = StandardisationSample::parse(
            &b,
            "id,birth_date,test_date,sex,language,inf,xyz,inf.zzz,foo.inf01,inf\nc1,2018-03-14,2025-04-01,f,kk,1,1,1,1,1",
        )
        .expect_err("bad header");
        let at: Vec<_> = e
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_ref().map(|c| c.0)))
            .collect();
        assert_eq!(at, [(1, Some(7)), (1, Some(8)), (1, Some(9)), (1, Some(10))]);
        assert!(e.errors[0].reason.contains("unknown column 'xyz'"));
        assert!(e.errors[1].reason.contains("no item 'zzz'"));
        assert!(e.errors[2].reason.contains("unknown subtest 'foo'"));
        assert!(e.errors[3].reason.contains("appears twice"));
        let e =
            StandardisationSample::parse(&b, "id,birth_date,test_date,language,inf\n").expect_err("no sex");
        assert_eq!(e.errors[0].reason, "no 'sex' column");
    }
}
