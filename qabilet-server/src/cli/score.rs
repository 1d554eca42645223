//! `qabilet score`: a CSV of children's raw subtest scores in, normed scores out (CSV or
//! JSON Lines). A bad row is reported in its own `error` cell and every other row is still
//! scored; `--strict` stops at the first bad row instead.

use std::fmt::Write as _;
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::time::{Duration, Instant};

use qabilet_core::profile::{Profile, Scorer};
use qabilet_core::{NormSet, NormSetId, ScoreRequest, ScoringOptions};
use serde::Serialize;

use super::{Format, ScoreArgs};
use crate::error::CliError;
use crate::norm_dir;

pub(super) const LONG_ABOUT: &str = "\
Score a CSV of children's raw subtest scores against a battery's norms.

INPUT (CSV, UTF-8, header row):
  id,birth_date,test_date,<subtest-id>,…
  child-001,2019-03-14,2026-05-02,18,21,,14,…
Dates are ISO yyyy-mm-dd. Subtest columns are the battery's subtest ids, in any order, any
subset; an empty cell means the subtest was not administered. Raw scores are whole numbers
from 0 to the subtest's maximum (anything else is an error, never clamped).

OUTPUT (CSV): the input columns unchanged, then
  age                                   calendar-exact age Y:M:D
  <subtest>_scaled, <subtest>_percentile  per subtest, in battery order
  <composite>_sum, _index, _percentile, _ci_low, _ci_high, _class, _basis
                                        per composite; basis is complete, prorated or
                                        substituted; empty when it cannot be computed
  battery, battery_version, norm_set, notice, error
With --format json: JSON Lines, one object per input row, holding the full profile
(subtest intervals, strengths and weaknesses, pairwise discrepancies, base rates).

A bad row (invalid date, age outside the norms, raw score out of range, …) gets the reason
in its `error` cell and empty score cells; the other rows are still scored, and the count
of bad rows is printed on stderr. With --strict the run stops at the first bad row (exit 2).

Exit codes: 0 done (see stderr for bad rows), 1 I/O failure, 2 bad norms, bad input file
or a bad row under --strict.

Example:
  qabilet score --battery norms/qabilet-primary-demo --input examples/children.csv";

/// Where each input column goes.
struct Columns {
    id: usize,
    birth: usize,
    test: usize,
    /// (column, subtest position in the battery).
    subtests: Vec<(usize, usize)>,
    width: usize,
}

fn map_header(norms: &NormSet, header: &csv::ByteRecord, path: &str) -> Result<Columns, CliError> {
    let bad = |reason: String| CliError::Input {
        path: path.to_owned(),
        line: 1,
        reason,
    };
    let mut seen: Vec<&str> = Vec::new();
    let (mut id, mut birth, mut test) = (None, None, None);
    let mut subtests = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| bad(format!("column {} is not UTF-8", i + 1)))?;
        let name = name.trim_start_matches('\u{feff}').trim();
        if seen.contains(&name) {
            return Err(bad(format!("column '{name}' appears twice")));
        }
        seen.push(name);
        match name {
            "id" => id = Some(i),
            "birth_date" => birth = Some(i),
            "test_date" => test = Some(i),
            _ => match norms.battery.subtest_index(name) {
                Some(s) => subtests.push((i, s)),
                None => {
                    let known: Vec<&str> = norms.battery.subtests.iter().map(|s| s.id.as_str()).collect();
                    return Err(bad(format!(
                        "unknown column '{name}': expected id, birth_date, test_date and subtests of {} ({})",
                        norms.battery.id,
                        known.join(", ")
                    )));
                }
            },
        }
    }
    let need = |c: Option<usize>, name: &str| c.ok_or_else(|| bad(format!("missing column '{name}'")));
    Ok(Columns {
        id: need(id, "id")?,
        birth: need(birth, "birth_date")?,
        test: need(test, "test_date")?,
        subtests,
        width: header.len(),
    })
}

/// Checks one record; the error text is what the `error` cell says.
fn request(norms: &NormSet, cols: &Columns, record: &csv::ByteRecord) -> Result<ScoreRequest, String> {
    if record.len() != cols.width {
        return Err(format!(
            "row has {} fields, the header has {}",
            record.len(),
            cols.width
        ));
    }
    let text = |i: usize| {
        std::str::from_utf8(&record[i])
            .map(str::trim)
            .map_err(|_| format!("column {} is not UTF-8", i + 1))
    };
    if text(cols.id)?.is_empty() {
        return Err("id is empty".into());
    }
    let mut cells = [(0usize, ""); 64];
    let n = cols.subtests.len().min(cells.len());
    for (slot, &(col, s)) in cells.iter_mut().zip(&cols.subtests) {
        *slot = (s, text(col)?);
    }
    ScoreRequest::from_cells(
        norms,
        text(cols.birth)?,
        text(cols.test)?,
        cells[..n].iter().copied(),
    )
    .map_err(|e| e.to_string())
}

/// Reports progress on stderr when it is a terminal.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Progress {
            enabled: io::stderr().is_terminal(),
            started: now,
            last: now,
        }
    }

    fn tick(&mut self, rows: u64) {
        if self.enabled && rows.is_multiple_of(4096) && self.last.elapsed() >= Duration::from_millis(500) {
            self.last = Instant::now();
            let rate = rows as f64 / self.started.elapsed().as_secs_f64();
            eprint!("\rscored {rows} rows ({rate:.0} rows/s)…");
        }
    }

    fn finish(&self) {
        if self.enabled && self.last != self.started {
            eprint!("\r\x1b[K");
        }
    }
}

pub(super) fn run(args: &ScoreArgs) -> Result<(), CliError> {
    let norms = norm_dir::load(&args.battery)?;
    let input: Box<dyn Read> = if args.input == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.input).map_err(|e| CliError::io(&args.input, e))?)
    };
    let output: Box<dyn Write> = if args.output == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&args.output).map_err(|e| CliError::io(&args.output, e))?)
    };
    let out_name = if args.output == "-" {
        "standard output"
    } else {
        args.output.as_str()
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 18)
        .from_reader(BufReader::with_capacity(1 << 18, input));
    let in_name = if args.input == "-" {
        "-"
    } else {
        args.input.as_str()
    };
    let header = reader
        .byte_headers()
        .map_err(|e| CliError::Input {
            path: in_name.to_owned(),
            line: 1,
            reason: format!("unreadable header: {e}"),
        })?
        .clone();
    let cols = map_header(&norms, &header, in_name)?;
    let options = ScoringOptions {
        ci_level: args.ci,
        ci_method: args.ci_method,
    };
    let scorer = Scorer::new(&norms, options);
    let sink = BufWriter::with_capacity(1 << 18, output);
    let mut writer: Box<dyn RowWriter> = match args.format {
        Format::Csv => Box::new(CsvOut::new(sink, &norms, &header)),
        Format::Json => Box::new(JsonOut {
            out: sink,
            norms: &norms,
        }),
    };
    let write_err = |e: io::Error| CliError::io(out_name, e);
    writer.start().map_err(write_err)?;

    let (mut rows, mut bad) = (0u64, 0u64);
    let mut record = csv::ByteRecord::new();
    let mut progress = Progress::new();
    let mut profile: Option<Profile<'_>> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(CliError::Input {
                    path: in_name.to_owned(),
                    line,
                    reason: format!("unreadable CSV: {e}"),
                });
            }
        }
        rows += 1;
        let line = record.position().map_or(rows + 1, |p| p.line());
        match request(&norms, &cols, &record) {
            Ok(req) => {
                // Reuse one profile's buffers across rows: no allocation per scored row.
                let profile = match profile.as_mut() {
                    Some(p) => {
                        scorer.score_into(&req, p);
                        p
                    }
                    None => profile.insert(scorer.score(&req)),
                };
                writer.row(&record, &cols, Ok(profile)).map_err(write_err)?;
            }
            Err(reason) => {
                if args.strict {
                    writer.finish().map_err(write_err)?;
                    return Err(CliError::StrictRow {
                        path: in_name.to_owned(),
                        line,
                        reason,
                    });
                }
                bad += 1;
                writer
                    .row(&record, &cols, Err(&format!("line {line}: {reason}")))
                    .map_err(write_err)?;
            }
        }
        progress.tick(rows);
    }
    writer.finish().map_err(write_err)?;
    progress.finish();
    eprintln!(
        "qabilet: scored {} of {rows} rows with {}{}",
        rows - bad,
        norms.id,
        if bad > 0 {
            format!("; {bad} rows had errors (see their `error` cells)")
        } else {
            String::new()
        }
    );
    if let Some(notice) = &norms.id.notice {
        eprintln!("qabilet: {notice}");
    }
    Ok(())
}

/// Writes one output row per input row.
trait RowWriter {
    fn start(&mut self) -> io::Result<()>;
    fn row(
        &mut self,
        record: &csv::ByteRecord,
        cols: &Columns,
        result: Result<&Profile<'_>, &str>,
    ) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()>;
}

struct CsvOut<'n, W: Write> {
    out: csv::Writer<W>,
    norms: &'n NormSet,
    header: csv::ByteRecord,
    /// Percentile text of each scaled score.
    scaled_percentile: Vec<String>,
    /// Scratch text, reused across rows.
    text: String,
    number: itoa::Buffer,
}

impl<'n, W: Write> CsvOut<'n, W> {
    fn new(out: W, norms: &'n NormSet, header: &csv::ByteRecord) -> Self {
        let scale = norms.battery.scaled_scale;
        let scaled_percentile = (scale.min..=scale.max)
            .map(|s| {
                format!(
                    "{:.1}",
                    100.0 * qabilet_core::normal::cdf(scale.z_of(f64::from(s)))
                )
            })
            .collect();
        CsvOut {
            out: csv::WriterBuilder::new()
                .buffer_capacity(1 << 16)
                .from_writer(out),
            norms,
            header: header.clone(),
            scaled_percentile,
            text: String::new(),
            number: itoa::Buffer::new(),
        }
    }

    fn int(&mut self, n: i32) -> io::Result<()> {
        let text = self.number.format(n);
        self.out.write_field(text).map_err(io::Error::other)
    }

    fn field(&mut self, text: &str) -> io::Result<()> {
        self.out.write_field(text).map_err(io::Error::other)
    }
}

impl<W: Write> RowWriter for CsvOut<'_, W> {
    fn start(&mut self) -> io::Result<()> {
        let b = &self.norms.battery;
        let mut names: Vec<String> = self
            .header
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect();
        names.push("age".into());
        for s in &b.subtests {
            names.push(format!("{}_scaled", s.id));
            names.push(format!("{}_percentile", s.id));
        }
        for c in &b.composites {
            for suffix in [
                "sum",
                "index",
                "percentile",
                "ci_low",
                "ci_high",
                "class",
                "basis",
            ] {
                names.push(format!("{}_{suffix}", c.id));
            }
        }
        names.extend(["battery", "battery_version", "norm_set", "notice", "error"].map(String::from));
        self.out.write_record(&names).map_err(io::Error::other)
    }

    fn row(
        &mut self,
        record: &csv::ByteRecord,
        cols: &Columns,
        result: Result<&Profile<'_>, &str>,
    ) -> io::Result<()> {
        for i in 0..cols.width {
            let cell = record.get(i).unwrap_or(b"");
            self.out.write_field(cell).map_err(io::Error::other)?;
        }
        let norms = self.norms;
        let battery = &norms.battery;
        match result {
            Ok(profile) => {
                let mut text = std::mem::take(&mut self.text);
                text.clear();
                let _ = write!(text, "{}", profile.age);
                self.field(&text)?;
                let mut next = profile.subtests.iter().peekable();
                for subtest in &battery.subtests {
                    match next.peek() {
                        Some(s) if s.id == subtest.id => {
                            let s = next.next().expect("peeked");
                            self.int(s.scaled)?;
                            let p = (s.scaled - battery.scaled_scale.min) as usize;
                            let pct = std::mem::take(&mut self.scaled_percentile[p]);
                            self.field(&pct)?;
                            self.scaled_percentile[p] = pct;
                        }
                        _ => {
                            self.field("")?;
                            self.field("")?;
                        }
                    }
                }
                for c in &profile.composites {
                    match &c.value {
                        Some(v) => {
                            self.int(v.sum)?;
                            self.int(v.index)?;
                            text.clear();
                            let _ = write!(text, "{:.1}", v.percentile);
                            self.field(&text)?;
                            self.int(v.ci.low)?;
                            self.int(v.ci.high)?;
                            self.field(v.classification)?;
                            self.field(v.basis.as_str())?;
                        }
                        None => {
                            for _ in 0..7 {
                                self.field("")?;
                            }
                        }
                    }
                }
                self.text = text;
                self.identity(&norms.id, "")
            }
            Err(reason) => {
                let blanks = 1 + 2 * battery.subtests.len() + 7 * battery.composites.len();
                for _ in 0..blanks {
                    self.field("")?;
                }
                self.identity(&norms.id, reason)
            }
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> CsvOut<'_, W> {
    fn identity(&mut self, id: &NormSetId, error: &str) -> io::Result<()> {
        self.field(&id.battery)?;
        self.field(&id.version)?;
        self.field(&id.hash)?;
        self.field(id.notice.as_deref().unwrap_or(""))?;
        self.field(error)?;
        self.out.write_record(None::<&[u8]>).map_err(io::Error::other)
    }
}

/// One JSON Lines record: the child's input echoed, the norm set, and the profile or error.
#[derive(Serialize)]
struct JsonRecord<'a, 'n> {
    id: &'a str,
    birth_date: &'a str,
    test_date: &'a str,
    raw: serde_json::Map<String, serde_json::Value>,
    norm_set: &'n NormSetId,
    notice: Option<&'n str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a Profile<'n>>,
    error: Option<&'a str>,
}

struct JsonOut<'n, W: Write> {
    out: W,
    norms: &'n NormSet,
}

impl<W: Write> RowWriter for JsonOut<'_, W> {
    fn start(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn row(
        &mut self,
        record: &csv::ByteRecord,
        cols: &Columns,
        result: Result<&Profile<'_>, &str>,
    ) -> io::Result<()> {
        let text = |i: usize| {
            record
                .get(i)
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or("")
                .trim()
        };
        let raw = cols
            .subtests
            .iter()
            .map(|&(col, s)| {
                (
                    self.norms.battery.subtests[s].id.clone(),
                    serde_json::Value::from(text(col)),
                )
            })
            .collect();
        let (profile, error) = match result {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        let rec = JsonRecord {
            id: text(cols.id),
            birth_date: text(cols.birth),
            test_date: text(cols.test),
            raw,
            norm_set: &self.norms.id,
            notice: self.norms.id.notice.as_deref(),
            profile,
            error,
        };
        serde_json::to_writer(&mut self.out, &rec).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
