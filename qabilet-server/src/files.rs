//! Files named on the command line: `-` is standard input or output, anything else a path.
//! Opening, reading and writing them in one place, with failures turned into the
//! [`CliError`] variant (and exit code) they belong to: a file we cannot read is the user's
//! to fix (2), results we cannot write are not (1).

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use qabilet_core::irt::ItemBank;

use crate::error::CliError;

/// How an output is named in messages: `standard output` for `-`, else the path.
pub fn output_name(name: &str) -> &str {
    if name == "-" { "standard output" } else { name }
}

/// The input `name` (`-`: standard input), buffered.
///
/// # Errors
/// [`CliError::Read`] when the file cannot be opened.
pub fn open_input(name: &str) -> Result<Box<dyn Read>, CliError> {
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(name).map_err(|e| CliError::read(name, e))?)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 18, raw)))
}

/// A CSV reader on input `name` (rows may differ in length: callers report that per row)
/// with its header row already read.
///
/// # Errors
/// [`CliError::Read`] when the file cannot be opened, [`CliError::Input`] at line 1 when
/// the header cannot be read.
pub fn csv_input(name: &str) -> Result<(csv::Reader<Box<dyn Read>>, csv::StringRecord), CliError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open_input(name)?);
    let header = reader
        .headers()
        .map_err(|e| CliError::Input {
            path: name.to_owned(),
            line: 1,
            reason: format!("unreadable header: {e}"),
        })?
        .clone();
    Ok((reader, header))
}

/// The whole text of input `name` (`-`: standard input).
///
/// # Errors
/// [`CliError::Read`] when it cannot be read (or is not UTF-8).
pub fn read_input(name: &str) -> Result<String, CliError> {
    let mut text = String::new();
    open_input(name)?
        .read_to_string(&mut text)
        .map_err(|e| CliError::read(name, e))?;
    Ok(text)
}

/// The output `name` (`-`: standard output), buffered; the file is created (truncated) now.
pub fn create_output(name: &str) -> io::Result<BufWriter<Box<dyn Write + Send>>> {
    let raw: Box<dyn Write + Send> = if name == "-" {
        Box::new(io::stdout())
    } else {
        Box::new(std::fs::File::create(name)?)
    };
    Ok(BufWriter::with_capacity(1 << 20, raw))
}

/// A CSV writer on output `name`.
///
/// # Errors
/// [`CliError::Write`] when the file cannot be created.
pub fn csv_output(name: &str) -> Result<csv::Writer<BufWriter<Box<dyn Write + Send>>>, CliError> {
    let sink = create_output(name).map_err(|e| CliError::write(output_name(name), e))?;
    Ok(csv::Writer::from_writer(sink))
}

/// Turns a CSV write error on output `name` into a [`CliError::Write`].
pub fn csv_write_error(name: &str) -> impl Fn(csv::Error) -> CliError + Copy + '_ {
    move |e| CliError::write(output_name(name), io::Error::other(e))
}

/// Writes `bytes` to output `name` (`-`: standard output) and flushes.
///
/// # Errors
/// [`CliError::Write`].
pub fn write_output(name: &str, bytes: &[u8]) -> Result<(), CliError> {
    let mut out = create_output(name).map_err(|e| CliError::write(output_name(name), e))?;
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::write(output_name(name), e))
}

/// Reads and validates an item bank; returns its text too (for writing it back).
///
/// # Errors
/// [`CliError::Read`], or [`CliError::Usage`] naming the file and the item.
pub fn read_bank(path: &Path) -> Result<(String, ItemBank), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))?;
    let bank = ItemBank::from_json(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    Ok((text, bank))
}
