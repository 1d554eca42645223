//! Rosters: a cohort's children, imported from CSV all or nothing and exported back.
//!
//! The columns (header required, any order): `code`, `birth_date`, `language`, `class`
//! required; `given_name`, `family_name`, `sex`, `iin` optional; `iin_linked` (written by the
//! export) accepted and ignored. Every row is checked on its own (the child's code, names,
//! birth date, age on the cohort's first day within the battery's ages, sex, test language,
//! class, the IIN against birth date and sex), then against the other rows (a code or an IIN
//! twice), then against the children already registered in the centre (the store). Every
//! problem is reported as `line N, column C: reason`; one problem anywhere and nothing is
//! written. The IIN is turned into its keyed hash here and goes no further.

use std::collections::HashMap;

use jiff::civil::Date;
use qabilet_core::iin::{Iin, IinKey, IinSex};
use qabilet_core::{Lang, age};

use super::audit::Audit;
use super::fields::{self, ChildCode, Sex};
use super::{App, AppError, Caller};
use crate::auth::policy::{self, Action};
use crate::store::Personal;
use crate::store::screening::{Cohort, RosterCounts, RosterImport, RosterMember, RosterOutcome, RosterRow};

/// Most rows in one roster (a school's grade is far smaller).
pub const MAX_ROSTER_ROWS: usize = 2000;
/// Largest roster file, bytes.
pub const MAX_ROSTER_BYTES: usize = 2 * 1024 * 1024;
/// Longest class label, e.g. `2А`.
pub const MAX_CLASS_CHARS: usize = 16;
/// Most problems listed for one roster (the rest are counted).
pub const MAX_LISTED_PROBLEMS: usize = 200;

const REQUIRED: [&str; 4] = ["code", "birth_date", "language", "class"];
const OPTIONAL: [&str; 5] = ["given_name", "family_name", "sex", "iin", "iin_linked"];

/// The header of an exported roster.
pub const EXPORT_HEADER: [&str; 8] = [
    "code",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "language",
    "class",
    "iin_linked",
];

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterImported {
    /// Rows read.
    pub rows: u64,
    /// What they changed.
    pub counts: RosterCounts,
}

/// One problem of a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    line: u64,
    column: String,
    reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.reason)
    }
}

/// What a row is checked against beyond its own fields.
struct RowRules<'a> {
    first_day: Date,
    age_months: (u16, u16),
    iin_key: Option<&'a IinKey>,
}

/// Parses and checks a roster: the rows that passed, and every problem found (an unusable
/// header gives no rows).
fn parse_roster(bytes: &[u8], rules: &RowRules<'_>) -> (Vec<RosterRow>, Vec<Problem>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let mut records = reader.byte_records();
    let header: Vec<String> = match records.next() {
        None => {
            let empty = Problem {
                line: 1,
                column: "-".into(),
                reason: "the roster is empty: a header row is required".into(),
            };
            return (Vec::new(), vec![empty]);
        }
        Some(Err(e)) => return (Vec::new(), vec![csv_problem(1, &e)]),
        Some(Ok(h)) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_owned())
            .collect(),
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if !REQUIRED.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()) {
            problems.push(Problem {
                line: 1,
                column: name.clone(),
                reason: format!(
                    "unknown column (columns: {}; optional: {})",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ),
            });
        } else if index.insert(name.as_str(), i).is_some() {
            problems.push(Problem {
                line: 1,
                column: name.clone(),
                reason: "column given twice".into(),
            });
        }
    }
    for name in REQUIRED {
        if !index.contains_key(name) {
            problems.push(Problem {
                line: 1,
                column: name.into(),
                reason: "required column missing".into(),
            });
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), problems);
    }
    let breaks: Vec<u64> = line_breaks(bytes);
    let mut rows = Vec::new();
    let mut codes: HashMap<String, u64> = HashMap::new();
    let mut iins: HashMap<String, u64> = HashMap::new();
    let mut line = 1;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(csv_problem(line + 1, &e));
                break;
            }
        };
        // The csv reader's own line count skips blank lines: count line breaks instead.
        line = record
            .position()
            .map_or(line + 1, |p| line_at(&breaks, record_start(bytes, p.byte())));
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if rows.len() + problems.len() >= MAX_ROSTER_ROWS {
            problems.push(Problem {
                line,
                column: "-".into(),
                reason: format!("more than {MAX_ROSTER_ROWS} rows; split the roster by class"),
            });
            break;
        }
        if record.len() != header.len() {
            problems.push(Problem {
                line,
                column: "-".into(),
                reason: format!("{} fields; the header has {}", record.len(), header.len()),
            });
            continue;
        }
        let mut fields_ok = true;
        let mut text = |name: &str| -> String {
            match index.get(name) {
                None => String::new(),
                Some(&i) => match std::str::from_utf8(&record[i]) {
                    Ok(t) => t.to_owned(),
                    Err(_) => {
                        fields_ok = false;
                        String::new()
                    }
                },
            }
        };
        let values: HashMap<&str, String> = REQUIRED
            .iter()
            .chain(OPTIONAL.iter())
            .map(|&n| (n, text(n)))
            .collect();
        if !fields_ok {
            problems.push(Problem {
                line,
                column: "-".into(),
                reason: "not UTF-8 text (save the roster as CSV UTF-8)".into(),
            });
            continue;
        }
        let before = problems.len();
        if let Some(row) = check_row(line, &values, rules, &mut problems) {
            if let Some(first) = codes.insert(row.code.clone(), line) {
                problems.push(Problem {
                    line,
                    column: "code".into(),
                    reason: format!("the same code as line {first}"),
                });
            }
            if let Some(hash) = &row.iin_hash
                && let Some(first) = iins.insert(hash.clone(), line)
            {
                problems.push(Problem {
                    line,
                    column: "iin".into(),
                    reason: format!("the same IIN as line {first}"),
                });
            }
            if problems.len() == before {
                rows.push(row);
            }
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: line + 1,
            column: "-".into(),
            reason: "no rows: the roster has a header only".into(),
        });
    }
    (rows, problems)
}

/// The byte offsets of the line breaks of `bytes`.
fn line_breaks(bytes: &[u8]) -> Vec<u64> {
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i as u64)
        .collect()
}

/// The first byte of a record the reader places at `at` (past the blank lines before it).
fn record_start(bytes: &[u8], at: u64) -> u64 {
    let skipped = bytes
        .get(usize::try_from(at).unwrap_or(usize::MAX)..)
        .map_or(0, |rest| {
            rest.iter().take_while(|&&b| b == b'\n' || b == b'\r').count()
        });
    at + skipped as u64
}

/// The 1-based line of byte offset `at`, given the offsets of the line breaks.
fn line_at(breaks: &[u64], at: u64) -> u64 {
    breaks.partition_point(|&b| b < at) as u64 + 1
}

fn csv_problem(line: u64, e: &csv::Error) -> Problem {
    let line = e.position().map_or(line, csv::Position::line);
    // What went wrong, without the data the reader read.
    let what = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "unequal row lengths",
        csv::ErrorKind::Io(_) => "read error",
        _ => "malformed CSV",
    };
    Problem {
        line,
        column: "-".into(),
        reason: format!("not readable as CSV ({what})"),
    }
}

/// One row's own checks; `None` (and problems pushed) when any fails.
fn check_row(
    line: u64,
    v: &HashMap<&str, String>,
    rules: &RowRules<'_>,
    problems: &mut Vec<Problem>,
) -> Option<RosterRow> {
    let before = problems.len();
    let mut fail = |column: &str, e: AppError| {
        let reason = match e {
            AppError::Invalid { reason, .. } => reason,
            other => other.to_string(),
        };
        problems.push(Problem {
            line,
            column: column.into(),
            reason,
        });
    };
    let code = ChildCode::parse("code", &v["code"])
        .map_err(|e| fail("code", e))
        .ok();
    let given = fields::person_name("given_name", &v["given_name"])
        .map_err(|e| fail("given_name", e))
        .ok()
        .flatten();
    let family = fields::person_name("family_name", &v["family_name"])
        .map_err(|e| fail("family_name", e))
        .ok()
        .flatten();
    let birth = match age::parse_date(v["birth_date"].trim()) {
        Ok(d) => Some(d),
        Err(e) => {
            fail("birth_date", AppError::invalid("birth_date", e.to_string()));
            None
        }
    };
    if let Some(birth) = birth {
        let (lo, hi) = rules.age_months;
        let months = age::ChronologicalAge::between(birth, rules.first_day).map(|a| a.in_months().0);
        match months {
            Ok(m) if (lo..=hi).contains(&m) => {}
            Ok(m) => fail(
                "birth_date",
                AppError::invalid(
                    "birth_date",
                    format!(
                        "the child is {}:{} on the cohort's first day, outside the battery's ages {}:{}–{}:{}",
                        m / 12,
                        m % 12,
                        lo / 12,
                        lo % 12,
                        hi / 12,
                        hi % 12
                    ),
                ),
            ),
            Err(_) => fail(
                "birth_date",
                AppError::invalid("birth_date", "is after the cohort's first day"),
            ),
        }
    }
    let sex = Sex::parse("sex", &v["sex"])
        .map_err(|e| fail("sex", e))
        .ok()
        .flatten();
    let lang = v["language"]
        .trim()
        .parse::<Lang>()
        .map_err(|_| fail("language", AppError::invalid("language", "must be kk, ru or en")))
        .ok();
    let class = fields::label("class", &v["class"], MAX_CLASS_CHARS)
        .map_err(|e| fail("class", e))
        .ok();
    let iin_text = v["iin"].trim();
    let mut iin_hash = None;
    if !iin_text.is_empty() {
        match (Iin::parse(iin_text), rules.iin_key) {
            (Err(e), _) => fail("iin", AppError::invalid("iin", e.to_string())),
            (Ok(_), None) => fail(
                "iin",
                AppError::invalid(
                    "iin",
                    "this server has no IIN key (QABILET_IIN_KEY_FILE), so IINs cannot be accepted",
                ),
            ),
            (Ok(iin), Some(key)) => {
                let sex = sex.map(|s| match s {
                    Sex::Female => IinSex::Female,
                    Sex::Male => IinSex::Male,
                });
                match birth.map(|b| iin.check_against(b, sex)) {
                    Some(Err(e)) => fail("iin", AppError::invalid("iin", e.to_string())),
                    _ => iin_hash = Some(iin.keyed_hash(key).to_string()),
                }
            }
        }
    }
    if problems.len() != before {
        return None;
    }
    Some(RosterRow {
        line,
        code: code?.as_str().to_owned(),
        given_name: given.map(Personal::new),
        family_name: family.map(Personal::new),
        birth_date: birth?.to_string(),
        sex: sex.map(|s| s.as_str().to_owned()),
        test_language: lang?.code().to_owned(),
        class: class?,
        iin_hash,
    })
}

/// The reason list of a refused roster, at most [`MAX_LISTED_PROBLEMS`] of them.
fn rejected(mut problems: Vec<Problem>) -> AppError {
    problems.sort_by_key(|p| p.line);
    problems.dedup();
    let total = problems.len();
    let mut listed: Vec<String> = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(Problem::to_string)
        .collect();
    if total > MAX_LISTED_PROBLEMS {
        listed.push(format!("… and {} more", total - MAX_LISTED_PROBLEMS));
    }
    AppError::Rejected {
        what: "roster",
        problems: listed,
    }
}

impl App {
    /// Imports a roster (CSV bytes) into the cohort named `cohort` (see the module docs).
    /// Importing the same roster again changes nothing.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` listing every bad row ([`AppError::Rejected`]); `NOT_FOUND`;
    /// `PERMISSION_DENIED`.
    pub async fn import_roster(
        &self,
        caller: &Caller,
        cohort: &str,
        csv: &[u8],
    ) -> Result<RosterImported, AppError> {
        let mut audit = self.audit(caller, "import_roster", cohort);
        let result = self.import_roster_in(caller, cohort, csv, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn import_roster_in(
        &self,
        caller: &Caller,
        name: &str,
        csv: &[u8],
        audit: &mut Audit,
    ) -> Result<RosterImported, AppError> {
        let cohort = self
            .cohort_for(caller, name, "cohort", Action::ManageCohort, audit)
            .await?;
        if csv.len() > MAX_ROSTER_BYTES {
            return Err(AppError::invalid(
                "roster",
                format!("{} bytes; at most {MAX_ROSTER_BYTES}", csv.len()),
            ));
        }
        let rules = self.row_rules(&cohort)?;
        let (rows, mut problems) = parse_roster(csv, &rules);
        let read = rows.len() as u64;
        // The rows that passed are checked against the stored children even when others
        // failed (then only checked: nothing is written), so that every bad row is listed.
        let outcome = self
            .store
            .import_roster(RosterImport {
                cohort_id: cohort.id.clone(),
                centre: cohort.centre.clone(),
                owner: cohort.owner.clone(),
                rows,
                check_only: !problems.is_empty(),
                enrol_any_owner: policy::reads_whole_centre(&caller.principal, &cohort.centre),
            })
            .await?;
        match outcome {
            _ if !problems.is_empty() => {
                if let RosterOutcome::Rejected(conflicts) = outcome {
                    problems.extend(conflicts.into_iter().map(|c| Problem {
                        line: c.line,
                        column: c.column.into(),
                        reason: c.reason,
                    }));
                }
                Err(rejected(problems))
            }
            RosterOutcome::Imported(counts) => {
                audit.detail(format!(
                    "{read} row(s): {} child(ren) registered, {} completed, {} added, {} moved, {} unchanged",
                    counts.children_created,
                    counts.children_updated,
                    counts.members_added,
                    counts.members_moved,
                    counts.unchanged
                ));
                Ok(RosterImported { rows: read, counts })
            }
            RosterOutcome::Rejected(conflicts) => Err(rejected(
                conflicts
                    .into_iter()
                    .map(|c| Problem {
                        line: c.line,
                        column: c.column.into(),
                        reason: c.reason,
                    })
                    .collect(),
            )),
        }
    }

    fn row_rules(&self, cohort: &Cohort) -> Result<RowRules<'_>, AppError> {
        let battery = self.registry.get(&cohort.battery_id).ok_or_else(|| {
            AppError::FailedPrecondition(format!(
                "the cohort's battery '{}' is not served by this server",
                cohort.battery_id
            ))
        })?;
        let first_day = age::parse_date(&cohort.starts_on)
            .map_err(|e| AppError::Internal(format!("a stored cohort's first day: {e}")))?;
        Ok(RowRules {
            first_day,
            age_months: (battery.battery.age_min.0, battery.battery.age_max.0),
            iin_key: self.iin_key.as_deref(),
        })
    }

    /// The cohort's roster, as members.
    ///
    /// # Errors
    /// `NOT_FOUND`; `PERMISSION_DENIED`.
    pub async fn roster(
        &self,
        caller: &Caller,
        cohort: &str,
    ) -> Result<(Cohort, Vec<RosterMember>), AppError> {
        let mut audit = self.audit(caller, "export_roster", cohort);
        let result = async {
            let c = self
                .cohort_for(caller, cohort, "cohort", Action::ReadCohort, &mut audit)
                .await?;
            let members = self.store.roster(&c.id).await?;
            audit.detail(format!("{} member(s)", members.len()));
            Ok((c, members))
        }
        .await;
        self.finish(audit, result).await
    }
}

/// The roster as CSV, with [`EXPORT_HEADER`]: importing it again changes nothing.
pub fn roster_csv(members: &[RosterMember]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(EXPORT_HEADER);
    for m in members {
        let _ = w.write_record([
            m.code.as_str(),
            m.given_name.as_ref().map_or("", Personal::as_str),
            m.family_name.as_ref().map_or("", Personal::as_str),
            &m.birth_date,
            m.sex.as_deref().unwrap_or(""),
            &m.test_language,
            &m.class,
            if m.iin_linked { "yes" } else { "no" },
        ]);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use qabilet_core::iin::{Iin, IinKey, IinSex};

    use super::*;

    fn key() -> IinKey {
        IinKey::new(&[7u8; 32]).unwrap()
    }

    fn rules(key: Option<&IinKey>) -> RowRules<'_> {
        RowRules {
            first_day: age::parse_date("2027-03-01").unwrap(),
            age_months: (60, 143),
            iin_key: key,
        }
    }

    fn iin(date: &str, sex: IinSex, serial: u16) -> String {
        (serial..serial + 20)
            .find_map(|s| Iin::example(age::parse_date(date).unwrap(), sex, s))
            .unwrap()
    }

    fn problems(csv: &str, key: Option<&IinKey>) -> Vec<String> {
        let (_, found) = parse_roster(csv.as_bytes(), &rules(key));
        found.iter().map(Problem::to_string).collect()
    }

    #[test]
    fn a_good_roster_parses_in_any_column_order() {
        let k = key();
        let a = iin("2018-05-14", IinSex::Female, 1);
        let csv = format!(
            "\u{feff}class,code,birth_date,language,sex,iin,given_name\n2А,K1,2018-05-14,kk,F,{a},Айгерим\n\n2Б,K2,2019-01-31,ru,,,\n"
        );
        let (rows, found) = parse_roster(csv.as_bytes(), &rules(Some(&k)));
        assert!(found.is_empty(), "{:?}", found);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].class, "2А");
        assert_eq!(rows[0].given_name.as_ref().map(Personal::as_str), Some("Айгерим"));
        let expected = Iin::parse(&a).unwrap().keyed_hash(&k).to_string();
        assert_eq!(rows[0].iin_hash.as_deref(), Some(expected.as_str()));
        assert!(
            !format!("{rows:?}").contains(&a),
            "the IIN itself goes no further"
        );
        assert_eq!(rows[1].line, 4, "a blank line is skipped but counted");
        assert_eq!(
            (rows[1].sex.as_deref(), rows[1].iin_hash.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn every_bad_row_is_listed_with_its_line_and_column() {
        let csv = "code,birth_date,language,class,sex\n\
                   K1,2018-02-30,kk,2А,F\n\
                   K 2,2018-01-01,de,,Q\n\
                   K3,2024-01-01,kk,2А,M\n\
                   K4,2018-01-01,kk\n\
                   K5,2018-01-01,kk,2А,M\n\
                   K5,2018-01-02,kk,2Б,F\n";
        let found = problems(csv, None);
        let at = |prefix: &str| found.iter().filter(|p| p.starts_with(prefix)).count();
        assert_eq!(at("line 2, column birth_date: "), 1, "{found:#?}");
        assert_eq!(at("line 3, column code: "), 1, "{found:#?}");
        assert!(found.contains(&"line 3, column sex: must be F, M or empty".to_owned()));
        assert!(found.contains(&"line 3, column language: must be kk, ru or en".to_owned()));
        assert!(found.contains(&"line 3, column class: must not be empty".to_owned()));
        assert!(found.contains(
            &"line 4, column birth_date: the child is 3:2 on the cohort's first day, outside the battery's ages \
              5:0–11:11"
                .to_owned()
        ));
        assert!(found.contains(&"line 5, column -: 3 fields; the header has 5".to_owned()));
        assert!(found.contains(&"line 7, column code: the same code as line 6".to_owned()));
        assert_eq!(found.len(), 8, "nothing else: {found:#?}");
    }

    #[test]
    fn a_bad_header_is_reported_before_any_row() {
        assert_eq!(
            problems("code,birth_date,class,class,shoe\nK1,2018-01-01,2А,2А,42\n", None),
            [
                "line 1, column class: column given twice",
                "line 1, column shoe: unknown column (columns: code, birth_date, language, class; optional: \
                 given_name, family_name, sex, iin, iin_linked)",
                "line 1, column language: required column missing",
            ]
        );
        assert_eq!(
            problems("", None),
            ["line 1, column -: the roster is empty: a header row is required"]
        );
        assert_eq!(
            problems("code,birth_date,language,class\n", None),
            ["line 2, column -: no rows: the roster has a header only"]
        );
    }

    #[test]
    fn the_iin_is_checked_against_birth_date_and_sex_and_needs_a_key() {
        let k = key();
        let girl = iin("2018-05-14", IinSex::Female, 1);
        let header = "code,birth_date,language,class,sex,iin\n";
        // Right number, another child's birth date; right date, the other sex; a typo.
        let mut typo = girl.clone().into_bytes();
        typo[9] = if typo[9] == b'9' { b'0' } else { typo[9] + 1 };
        let typo = String::from_utf8(typo).unwrap();
        let csv = format!(
            "{header}K1,2018-05-15,kk,2А,F,{girl}\nK2,2018-05-14,kk,2А,M,{girl}\nK3,2018-05-14,kk,2А,F,{typo}\n"
        );
        let found = problems(&csv, Some(&k));
        assert_eq!(found.len(), 3, "{found:#?}");
        for (line, p) in (2..).zip(&found) {
            assert!(p.starts_with(&format!("line {line}, column iin: ")), "{p}");
            assert!(
                !p.contains(&girl) && !p.contains(&typo),
                "no IIN in a message: {p}"
            );
        }
        // The same IIN twice.
        let csv = format!("{header}K1,2018-05-14,kk,2А,F,{girl}\nK2,2018-05-14,kk,2А,F,{girl}\n");
        assert_eq!(
            problems(&csv, Some(&k)),
            ["line 3, column iin: the same IIN as line 2"]
        );
        // No key: an IIN cannot be accepted (a roster without IINs can).
        let csv = format!("{header}K1,2018-05-14,kk,2А,F,{girl}\n");
        let found = problems(&csv, None);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("no IIN key"), "{}", found[0]);
    }

    #[test]
    fn the_export_imports_back_unchanged() {
        let members = vec![RosterMember {
            child_id: "c".into(),
            code: "K1".into(),
            given_name: Some(Personal::new("Айгерим".into())),
            family_name: None,
            birth_date: "2018-05-14".into(),
            sex: Some("F".into()),
            test_language: "kk".into(),
            class: "2А".into(),
            iin_linked: true,
            line: 2,
        }];
        let csv = roster_csv(&members);
        let (rows, found) = parse_roster(&csv, &rules(None));
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].code.as_str(),
                rows[0].birth_date.as_str(),
                rows[0].class.as_str()
            ),
            ("K1", "2018-05-14", "2А")
        );
    }
}
