//! Batch scoring of a CSV stream: rows are read in order, scored in batches on every core,
//! and written back in input order. A bad row becomes a row with an `error` cell; under
//! `strict` the first bad row (in input order) stops the run after the rows before it.

mod columns;
mod csv_rows;
pub mod json_rows;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

pub use columns::Columns;
use qabilet_core::profile::{Profile, Scorer};
use qabilet_core::{NormSet, ScoringOptions};

/// Rows per batch handed to a worker.
const BATCH_ROWS: usize = 4096;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// CSV: input columns, then scores.
    Csv,
    /// JSON Lines: one object per row.
    JsonLines,
}

/// How to run a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Interval level and method.
    pub scoring: ScoringOptions,
    /// Output format.
    pub format: OutputFormat,
    /// Stop at the first bad row.
    pub strict: bool,
    /// Worker threads (at least one).
    pub workers: usize,
}

/// What a finished batch run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data rows read.
    pub rows: u64,
    /// Rows that could not be scored.
    pub bad: u64,
    /// Under `strict`: the line and reason of the first bad row, where the run stopped.
    pub stopped_at: Option<(u64, String)>,
}

/// Why a batch run failed as a whole.
#[derive(Debug)]
pub enum BatchError {
    /// The header is unusable (line 1).
    Header(String),
    /// The CSV cannot be read at this line.
    Unreadable(u64, String),
    /// Writing the output failed.
    Write(std::io::Error),
}

struct Batch {
    seq: u64,
    records: Vec<csv::ByteRecord>,
}

struct Done {
    seq: u64,
    bytes: Vec<u8>,
    rows: u64,
    bad: u64,
    stopped_at: Option<(u64, String)>,
}

/// Scores the CSV on `input` into the writer that `open_output` returns (called only once
/// the header has been checked, so a bad input never truncates an output file); `progress`
/// is called with the rows written so far after each batch.
///
/// # Errors
/// [`BatchError`] for an unusable header, unreadable CSV or a failed write. Rows before an
/// unreadable line have been written.
pub fn score_csv<R: Read, W: Write + Send>(
    norms: &NormSet,
    input: R,
    open_output: impl FnOnce() -> std::io::Result<W>,
    options: BatchOptions,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Summary, BatchError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 18)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| BatchError::Header(format!("unreadable header: {e}")))?
        .clone();
    let cols = Columns::map(norms, &header).map_err(BatchError::Header)?;
    let mut output = open_output().map_err(BatchError::Write)?;
    if options.format == OutputFormat::Csv {
        output
            .write_all(&csv_rows::header(norms, &cols))
            .map_err(BatchError::Write)?;
    }
    let workers = options.workers.max(1);
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = sync_channel::<Batch>(workers * 2);
    // Shutdown is by channel closure: when the writer stops (strict stop or failed write) it
    // drops its receiver, each worker's next send fails and the worker exits, dropping its
    // handle on the work queue; once all are gone the reader's next send fails and it stops.
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(workers * 2);

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let work_rx = Arc::clone(&work_rx);
            let (cols, stop) = (&cols, &stop);
            scope.spawn(move || {
                let mut worker = Worker::new(norms, options);
                loop {
                    // The lock is held only while taking a batch.
                    let batch = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(batch) = batch else { break };
                    if stop.load(Ordering::Relaxed) || done_tx.send(worker.run(batch, cols)).is_err() {
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);

        let writer = scope.spawn(|| write_in_order(done_rx, output, &stop, progress));

        let mut seq = 0;
        let mut read_error = None;
        'read: while !stop.load(Ordering::Relaxed) {
            let mut records = Vec::with_capacity(BATCH_ROWS);
            while records.len() < BATCH_ROWS {
                let mut record = csv::ByteRecord::new();
                match reader.read_byte_record(&mut record) {
                    Ok(true) => records.push(record),
                    Ok(false) => {
                        if !records.is_empty() {
                            let _ = work_tx.send(Batch { seq, records });
                        }
                        break 'read;
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        read_error = Some(BatchError::Unreadable(line, e.to_string()));
                        if !records.is_empty() {
                            let _ = work_tx.send(Batch { seq, records });
                        }
                        break 'read;
                    }
                }
            }
            if work_tx.send(Batch { seq, records }).is_err() {
                break;
            }
            seq += 1;
        }
        drop(work_tx);
        let summary = writer
            .join()
            .unwrap_or_else(|_| Err(BatchError::Write(std::io::Error::other("writer thread panicked"))))?;
        match read_error {
            // A strict stop before the unreadable line wins: it came first.
            Some(e) if summary.stopped_at.is_none() => Err(e),
            _ => Ok(summary),
        }
    })
}

fn write_in_order<W: Write>(
    done: std::sync::mpsc::Receiver<Done>,
    mut output: W,
    stop: &AtomicBool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Summary, BatchError> {
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0;
    let mut summary = Summary::default();
    for d in done {
        pending.insert(d.seq, d);
        while let Some(d) = pending.remove(&next) {
            next += 1;
            if summary.stopped_at.is_some() {
                continue;
            }
            if let Err(e) = output.write_all(&d.bytes) {
                stop.store(true, Ordering::Relaxed);
                return Err(BatchError::Write(e));
            }
            summary.rows += d.rows;
            summary.bad += d.bad;
            if d.stopped_at.is_some() {
                summary.stopped_at = d.stopped_at;
                stop.store(true, Ordering::Relaxed);
            }
            progress(summary.rows);
        }
    }
    output.flush().map_err(BatchError::Write)?;
    if !pending.is_empty() && summary.stopped_at.is_none() {
        // A batch never came back (a worker died): say so rather than end short in silence.
        return Err(BatchError::Write(std::io::Error::other(format!(
            "internal error: rows after data row {} were not scored; the output is incomplete",
            summary.rows
        ))));
    }
    Ok(summary)
}

/// One thread's scorer and reusable buffers.
struct Worker<'n> {
    norms: &'n NormSet,
    scorer: Scorer<'n>,
    options: BatchOptions,
    csv: csv_rows::CsvRows<'n>,
    profile: Option<Profile<'n>>,
}

impl<'n> Worker<'n> {
    fn new(norms: &'n NormSet, options: BatchOptions) -> Self {
        Worker {
            norms,
            scorer: Scorer::new(norms, options.scoring),
            options,
            csv: csv_rows::CsvRows::new(norms),
            profile: None,
        }
    }

    fn run(&mut self, batch: Batch, cols: &Columns) -> Done {
        let mut bytes = Vec::with_capacity(batch.records.len() * 640);
        let (mut rows, mut bad) = (0, 0);
        let mut stopped_at = None;
        for record in &batch.records {
            let line = record.position().map_or(0, |p| p.line());
            rows += 1;
            match cols.request(self.norms, record) {
                Ok(request) => {
                    let profile = match self.profile.as_mut() {
                        Some(p) => {
                            self.scorer.score_into(&request, p);
                            p
                        }
                        None => self.profile.insert(self.scorer.score(&request)),
                    };
                    match self.options.format {
                        OutputFormat::Csv => self.csv.scored(&mut bytes, record, cols, profile),
                        OutputFormat::JsonLines => {
                            json_rows::scored(&mut bytes, self.norms, record, cols, &request, profile)
                        }
                    }
                }
                Err(reason) => {
                    bad += 1;
                    if self.options.strict {
                        rows -= 1;
                        bad -= 1;
                        stopped_at = Some((line, reason));
                        break;
                    }
                    let reason = format!("line {line}: {reason}");
                    match self.options.format {
                        OutputFormat::Csv => self.csv.bad(&mut bytes, record, cols, &reason),
                        OutputFormat::JsonLines => {
                            json_rows::bad(&mut bytes, self.norms, record, cols, &reason)
                        }
                    }
                }
            }
        }
        Done {
            seq: batch.seq,
            bytes,
            rows,
            bad,
            stopped_at,
        }
    }
}
