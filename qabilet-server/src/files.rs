//! Files named on the command line: `-` is standard input or output, anything else a path.
//! Opening, reading and writing them in one place, with failures turned into the
//! [`CliError`] variant (and exit code) they belong to: a file we cannot read is the user's
//! to fix (2), results we cannot write are not (1).
//!
//! Every file a command writes goes through [`AtomicFile`] (a partial file created
//! exclusively beside the target, renamed over it when complete) and is first checked with
//! [`refuse_same_file`] against the files the command reads.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

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
        Box::new(File::open(name).map_err(|e| CliError::read(name, e))?)
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

/// A file as the command line names it: the flag and the path (`-`: standard input or
/// output). Shown as `--flag path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The flag, e.g. `--input`.
    pub flag: &'static str,
    /// The path.
    pub path: PathBuf,
}

impl Named {
    /// The file `path` given with `flag`.
    pub fn new(flag: &'static str, path: impl Into<PathBuf>) -> Self {
        Named {
            flag,
            path: path.into(),
        }
    }

    fn is_standard_stream(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.flag, self.path.display())
    }
}

/// Whether `a` and `b` name the same existing file or folder, symbolic links followed: the
/// same device and inode on Unix (so hard links and every spelling of a path are caught),
/// the same canonical path elsewhere. A path that does not exist, or cannot be inspected,
/// is the same as nothing.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// Refuses to write `output` when it is the same file ([`same_file`]) as one of `inputs`:
/// called before anything is written, so the input survives. Only a regular input counts:
/// `-` (a standard stream), a terminal or a pipe is not destroyed by writing to it; and an
/// output that does not exist yet is no input.
///
/// # Errors
/// [`CliError::SameFile`] naming the output and the input with their flags (exit code 2).
pub fn refuse_same_file(output: &Named, inputs: &[Named]) -> Result<(), CliError> {
    if output.is_standard_stream() {
        return Ok(());
    }
    match inputs.iter().find(|input| {
        !input.is_standard_stream()
            && fs::metadata(&input.path).is_ok_and(|m| m.is_file())
            && same_file(&output.path, &input.path)
    }) {
        Some(input) => Err(CliError::SameFile {
            output: output.clone(),
            input: input.clone(),
        }),
        None => Ok(()),
    }
}

/// How many random partial names [`AtomicFile::create`] tries before giving up.
const PARTIAL_ATTEMPTS: usize = 16;

/// An output file written whole or not at all.
///
/// The bytes go to a partial file in the target's folder, `.<name>.<16 hex digits>.partial`
/// with a random part, created exclusively (`create_new`): an existing file or symbolic link
/// of that name is never opened or followed; another random name is tried instead. The
/// partial file takes the permissions of the file it replaces; a read-only target is refused,
/// as writing into it would be. [`commit`](Self::commit)
/// flushes it to disk (`sync_all`) and renames it over the target, so a reader sees the old
/// file or the whole new one; dropped without a commit (a failure on the way), the partial
/// file is removed and the target is untouched.
///
/// A target that exists but is not a regular file — a symbolic link, a device such as
/// `/dev/null`, a named pipe — is written through in place, as a shell redirection would: a
/// rename would replace the link or the device node rather than write to it.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    file: File,
    /// The partial file; `None` when the target is written in place.
    partial: Option<PathBuf>,
}

impl AtomicFile {
    /// Starts writing `target`: creates its partial file (or opens a non-regular target).
    ///
    /// # Errors
    /// The I/O error: the folder is missing or not writable, the target is a folder, or
    /// every random partial name was taken.
    pub fn create(target: impl Into<PathBuf>) -> io::Result<AtomicFile> {
        AtomicFile::create_with(target.into(), rand::random::<u64>)
    }

    /// [`create`](Self::create) with the random parts of partial names drawn from `random`.
    fn create_with(target: PathBuf, mut random: impl FnMut() -> u64) -> io::Result<AtomicFile> {
        let permissions = match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                return Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a folder"));
            }
            Ok(meta) if !meta.is_file() => {
                let file = OpenOptions::new().write(true).truncate(true).open(&target)?;
                return Ok(AtomicFile {
                    target,
                    file,
                    partial: None,
                });
            }
            Ok(meta) if meta.permissions().readonly() => {
                return Err(io::Error::new(io::ErrorKind::PermissionDenied, "it is read-only"));
            }
            Ok(meta) => Some(meta.permissions()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "it names no file"))?;
        let folder = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        for _ in 0..PARTIAL_ATTEMPTS {
            let mut partial_name = OsString::from(".");
            partial_name.push(name);
            partial_name.push(format!(".{:016x}.partial", random()));
            let partial = folder.join(partial_name);
            match OpenOptions::new().write(true).create_new(true).open(&partial) {
                Ok(file) => {
                    let atomic = AtomicFile {
                        target,
                        file,
                        partial: Some(partial),
                    };
                    if let Some(permissions) = permissions {
                        atomic.file.set_permissions(permissions)?;
                    }
                    return Ok(atomic);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{PARTIAL_ATTEMPTS} partial file names beside it were all taken"),
        ))
    }

    /// The file this writes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the partial file to disk and renames it over the target (a target written in
    /// place is only flushed).
    ///
    /// # Errors
    /// The I/O error; the partial file is then removed and the target is untouched.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        let Some(partial) = &self.partial else {
            return Ok(());
        };
        self.file.sync_all()?;
        fs::rename(partial, &self.target)?;
        self.partial = None;
        // The rename itself is durable once the folder is synced; not every file system
        // can sync a folder, and the data is already on disk, so a failure here is not one.
        #[cfg(unix)]
        if let Some(folder) = self.target.parent() {
            let folder = if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            };
            let _ = File::open(folder).and_then(|f| f.sync_all());
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(partial) = &self.partial {
            let _ = fs::remove_file(partial);
        }
    }
}

/// Writes `bytes` to the file `path` with an [`AtomicFile`].
///
/// # Errors
/// [`CliError::Write`] naming `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    AtomicFile::create(path)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.commit()
        })
        .map_err(|e| CliError::write(path, e))
}

/// An output named on the command line, buffered: standard output for `-`, else an
/// [`AtomicFile`], which [`commit`](Output::commit) completes.
pub struct Output {
    name: String,
    sink: BufWriter<Sink>,
}

enum Sink {
    Stdout(io::Stdout),
    File(AtomicFile),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

impl Output {
    /// Starts writing output `name` (`-`: standard output). A file is not touched until
    /// [`commit`](Output::commit).
    ///
    /// # Errors
    /// The I/O error of [`AtomicFile::create`].
    pub fn create(name: &str) -> io::Result<Output> {
        let sink = if name == "-" {
            Sink::Stdout(io::stdout())
        } else {
            Sink::File(AtomicFile::create(name)?)
        };
        Ok(Output {
            name: name.to_owned(),
            sink: BufWriter::with_capacity(1 << 20, sink),
        })
    }

    /// How the output is named in messages ([`output_name`]).
    pub fn name(&self) -> &str {
        output_name(&self.name)
    }

    /// Flushes the output and, for a file, puts it in place ([`AtomicFile::commit`]).
    ///
    /// # Errors
    /// [`CliError::Write`].
    pub fn commit(self) -> Result<(), CliError> {
        let name = output_name(&self.name).to_owned();
        let sink = self
            .sink
            .into_inner()
            .map_err(|e| CliError::write(&name, e.into_error()))?;
        match sink {
            Sink::Stdout(mut s) => s.flush(),
            Sink::File(f) => f.commit(),
        }
        .map_err(|e| CliError::write(&name, e))
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.sink.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// A CSV writer on output `name` ([`Output`]); [`commit_csv`] completes it.
///
/// # Errors
/// [`CliError::Write`] when the file cannot be created.
pub fn csv_output(name: &str) -> Result<csv::Writer<Output>, CliError> {
    let output = Output::create(name).map_err(|e| CliError::write(output_name(name), e))?;
    Ok(csv::Writer::from_writer(output))
}

/// Flushes a CSV writer of [`csv_output`] and commits its output.
///
/// # Errors
/// [`CliError::Write`].
pub fn commit_csv(mut writer: csv::Writer<Output>) -> Result<(), CliError> {
    let name = writer.get_ref().name().to_owned();
    writer.flush().map_err(|e| CliError::write(&name, e))?;
    writer
        .into_inner()
        .map_err(|e| CliError::write(&name, io::Error::other(e.error().to_string())))?
        .commit()
}

/// Turns a CSV write error on output `name` into a [`CliError::Write`].
pub fn csv_write_error(name: &str) -> impl Fn(csv::Error) -> CliError + Copy + '_ {
    move |e| CliError::write(output_name(name), io::Error::other(e))
}

/// Writes `bytes` to output `name` (`-`: standard output) and commits it.
///
/// # Errors
/// [`CliError::Write`].
pub fn write_output(name: &str, bytes: &[u8]) -> Result<(), CliError> {
    let mut out = Output::create(name).map_err(|e| CliError::write(output_name(name), e))?;
    out.write_all(bytes)
        .map_err(|e| CliError::write(output_name(name), e))?;
    out.commit()
}

/// Reads and validates an item bank; returns its text too (for writing it back).
///
/// # Errors
/// [`CliError::Read`], or [`CliError::Usage`] naming the file and the item.
pub fn read_bank(path: &Path) -> Result<(String, ItemBank), CliError> {
    let text = fs::read_to_string(path).map_err(|e| CliError::read(path, e))?;
    let bank = ItemBank::from_json(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    Ok((text, bank))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_commit_replaces_the_target_whole_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        fs::write(&target, "old\n").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"new\n").unwrap();
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            "old\n",
            "untouched until the commit"
        );
        assert_eq!(names(dir.path()).len(), 2, "the partial file beside it");
        file.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn a_file_dropped_uncommitted_is_removed_and_the_target_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        fs::write(&target, "old\n").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(names(dir.path()), ["out.csv"]);

        let new = dir.path().join("new.csv");
        drop(AtomicFile::create(&new).unwrap());
        assert!(!new.exists(), "a new target is not created");
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_partial_name_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious\n").unwrap();
        let planted = dir.path().join(".out.0000000000000001.partial");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let target = dir.path().join("out");
        let mut draws = [1_u64, 2].into_iter();
        let mut file = AtomicFile::create_with(target.clone(), || draws.next().unwrap()).unwrap();
        assert_eq!(
            file.partial.as_deref(),
            Some(dir.path().join(".out.0000000000000002.partial").as_path())
        );
        file.write_all(b"report\n").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(fs::read_to_string(&target).unwrap(), "report\n");
        assert!(fs::symlink_metadata(&target).unwrap().is_file());

        // Every name taken: refused, nothing written.
        let err = AtomicFile::create_with(dir.path().join("out"), || 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    }

    #[cfg(unix)]
    #[test]
    fn the_replacement_keeps_the_permissions_and_a_read_only_target_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("private.json");
        fs::write(&target, "old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);

        fs::set_permissions(&target, fs::Permissions::from_mode(0o444)).unwrap();
        let err = AtomicFile::create(&target).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_or_a_device_is_written_through_and_a_folder_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"through").unwrap();
        assert_eq!(fs::read_to_string(&real).unwrap(), "through");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());

        write_atomically(Path::new("/dev/null"), b"nothing").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());

        let err = AtomicFile::create(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
    }

    #[cfg(unix)]
    #[test]
    fn the_same_file_is_the_same_device_and_inode() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        fs::write(&a, "x").unwrap();
        let copy = dir.path().join("copy.csv");
        fs::write(&copy, "x").unwrap();
        let hard = dir.path().join("hard.csv");
        fs::hard_link(&a, &hard).unwrap();
        let soft = dir.path().join("soft.csv");
        std::os::unix::fs::symlink(&a, &soft).unwrap();
        let spelt = dir.path().join(".").join("sub").join("..").join("a.csv");
        fs::create_dir(dir.path().join("sub")).unwrap();
        for same in [&a, &hard, &soft, &spelt] {
            assert!(same_file(same, &a), "{}", same.display());
        }
        assert!(!same_file(&copy, &a), "equal content is not the same file");
        assert!(!same_file(&dir.path().join("missing"), &a));
        assert!(same_file(dir.path(), &dir.path().join("sub/..")), "folders too");
    }

    #[test]
    fn an_output_that_is_an_input_is_refused_naming_both_flags() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        fs::write(&input, "x").unwrap();
        let inputs = [Named::new("--bank", "-"), Named::new("--input", &input)];
        let err = refuse_same_file(&Named::new("--output", &input), &inputs).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            format!(
                "--output {0} and --input {0} are the same file: write the output to another file",
                input.display()
            )
        );
        let fresh = dir.path().join("out.csv");
        refuse_same_file(&Named::new("--output", &fresh), &inputs).unwrap();
        refuse_same_file(&Named::new("--output", "-"), &[Named::new("--input", "-")]).unwrap();
        #[cfg(unix)]
        refuse_same_file(
            &Named::new("--output", "/dev/null"),
            &[Named::new("--input", "/dev/null")],
        )
        .unwrap();
    }
}
