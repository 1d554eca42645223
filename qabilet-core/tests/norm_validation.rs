//! Norm-file validation (norms/FORMATS.md): every documented rule rejects bad input with the
//! file, the line and the reason of the problem, and the committed demonstration battery
//! loads, hashes stably and writes back byte for byte.
//!
//! Every test starts from the real files of `norms/qabilet-primary-demo/` and changes one
//! thing: a string in a TOML file, or one CSV line (altered, dropped or duplicated), or one
//! age band. Expected line numbers are those of the changed text, located in the file rather
//! than written as constants, so that regenerating the demonstration tables does not break
//! the tests while a wrong line still does.

use std::sync::OnceLock;

use qabilet_core::norms::{BaseRates, CompositeNorms, NormStatus, Provenance, Reliabilities, SubtestNorms};
use qabilet_core::{Battery, NormError, NormFiles, NormSet};
use sha2::{Digest, Sha256};

macro_rules! demo_file {
    ($name:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../norms/qabilet-primary-demo/",
            $name
        )
    };
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The committed demonstration files.
fn demo() -> NormFiles {
    static FILES: OnceLock<NormFiles> = OnceLock::new();
    FILES
        .get_or_init(|| NormFiles {
            battery_toml: read(demo_file!("battery.toml")),
            subtests_csv: read(demo_file!("subtests.csv")),
            composites_csv: read(demo_file!("composites.csv")),
            reliability_csv: read(demo_file!("reliability.csv")),
            base_rates_csv: Some(read(demo_file!("base_rates.csv"))),
            provenance_toml: read(demo_file!("provenance.toml")),
            item_banks: [("items/mr.json".to_owned(), read(demo_file!("items/mr.json")))].into(),
            content: Default::default(),
        })
        .clone()
}

/// The demonstration battery, parsed.
fn battery() -> Battery {
    Battery::from_toml(&demo().battery_toml).expect("the demo battery.toml is valid")
}

/// Loads the demonstration files after `change`.
fn load_with(change: impl FnOnce(&mut NormFiles)) -> Result<NormSet, NormError> {
    let mut files = demo();
    change(&mut files);
    NormSet::from_files(&files)
}

/// Asserts that `result` failed in `file` at `line` with a reason containing `reason`.
#[track_caller]
fn assert_rejects<T>(result: Result<T, NormError>, file: &str, line: Option<usize>, reason: &str) {
    let Err(e) = result else {
        panic!("expected {file}:{line:?} \"{reason}\", but the input was accepted");
    };
    assert_eq!(
        (e.file.as_str(), e.line),
        (file, line),
        "wrong place for \"{}\"",
        e.reason
    );
    assert!(
        e.reason.contains(reason),
        "reason \"{}\" does not contain \"{reason}\"",
        e.reason
    );
}

// ---------------------------------------------------------------------------------------
// Text surgery. Line numbers are 1-based, as in every NormError.

/// The line number of the only line containing `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "'{needle}' should be on exactly one line, found on {hits:?}"
    );
    hits[0]
}

/// The line number of the first line starting with `prefix`.
#[track_caller]
fn first_line_starting(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starts with '{prefix}'"))
}

/// The text of line `n`.
#[track_caller]
fn line(text: &str, n: usize) -> &str {
    text.lines().nth(n - 1).unwrap_or_else(|| panic!("no line {n}"))
}

/// `text` with its only occurrence of `from` replaced by `to`.
#[track_caller]
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "'{from}' should occur exactly once"
    );
    text.replacen(from, to, 1)
}

/// `text` with every occurrence of `from` replaced by `to` (there must be one).
#[track_caller]
fn replace_all(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "'{from}' does not occur");
    text.replace(from, to)
}

/// `text` with line `n` replaced by `new`.
fn set_line(text: &str, n: usize, new: &str) -> String {
    edit_lines(text, |lines| lines[n - 1] = new.to_owned())
}

/// `text` without line `n`.
fn drop_line(text: &str, n: usize) -> String {
    edit_lines(text, |lines| {
        lines.remove(n - 1);
    })
}

/// `text` with line `n` written twice.
fn duplicate_line(text: &str, n: usize) -> String {
    edit_lines(text, |lines| {
        let copy = lines[n - 1].clone();
        lines.insert(n, copy);
    })
}

/// `text` without the lines starting with `prefix` (there must be some).
#[track_caller]
fn drop_lines_starting(text: &str, prefix: &str) -> String {
    let kept = edit_lines(text, |lines| lines.retain(|l| !l.starts_with(prefix)));
    assert_ne!(kept.len(), text.len(), "no line starts with '{prefix}'");
    kept
}

/// A CSV line with field `index` replaced by `value`.
fn with_field(line: &str, index: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[index] = value;
    fields.join(",")
}

fn edit_lines(text: &str, edit: impl FnOnce(&mut Vec<String>)) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    edit(&mut lines);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------
// Valid input.

#[test]
fn demo_norm_set_loads() {
    let files = demo();
    let norms = NormSet::from_files(&files).expect("the committed demo norm set is valid");
    assert_eq!(norms.battery.id, "qabilet-primary-demo");
    assert_eq!(norms.battery.subtests.len(), 13);
    assert_eq!(norms.battery.composites.len(), 7);
    assert_eq!(norms.provenance.status, NormStatus::Demonstration);
    assert_eq!(
        norms.id.notice.as_deref(),
        Some("demonstration norms — not for clinical decisions")
    );
    assert_eq!(norms.id.hash, files.hash());

    // The per-file parsers accept the same files on their own.
    let battery = battery();
    SubtestNorms::parse(&battery, &files.subtests_csv).expect("subtests.csv");
    CompositeNorms::parse(&battery, &files.composites_csv).expect("composites.csv");
    Reliabilities::parse(&battery, &files.reliability_csv).expect("reliability.csv");
    BaseRates::parse(&battery, files.base_rates_csv.as_deref().unwrap()).expect("base_rates.csv");
    Provenance::parse(&files.provenance_toml).expect("provenance.toml");
}

#[test]
fn base_rates_are_optional() {
    let norms = load_with(|f| f.base_rates_csv = None).expect("loads without base_rates.csv");
    assert_eq!(norms.base_rates, BaseRates::default());
}

#[test]
fn csv_rows_may_come_in_any_order() {
    // Header first, data lines reversed: the same tables, written back in canonical order.
    let reversed = |text: &str| {
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].reverse();
        lines.join("\n") + "\n"
    };
    let files = demo();
    let norms = load_with(|f| {
        f.subtests_csv = reversed(&f.subtests_csv);
        f.composites_csv = reversed(&f.composites_csv);
        f.reliability_csv = reversed(&f.reliability_csv);
    })
    .expect("row order does not matter");
    let battery = &norms.battery;
    assert_same_text(
        "subtests.csv",
        &norms.subtests.to_csv(battery),
        &files.subtests_csv,
    );
    assert_same_text(
        "composites.csv",
        &norms.composites.to_csv(battery),
        &files.composites_csv,
    );
    assert_same_text(
        "reliability.csv",
        &norms.reliability.to_csv(battery),
        &files.reliability_csv,
    );
}

#[test]
fn loading_then_writing_is_lossless() {
    let files = demo();
    let norms = NormSet::from_files(&files).expect("demo norm set");
    let battery = &norms.battery;
    assert_same_text(
        "subtests.csv",
        &norms.subtests.to_csv(battery),
        &files.subtests_csv,
    );
    assert_same_text(
        "composites.csv",
        &norms.composites.to_csv(battery),
        &files.composites_csv,
    );
    assert_same_text(
        "reliability.csv",
        &norms.reliability.to_csv(battery),
        &files.reliability_csv,
    );
    assert_same_text(
        "base_rates.csv",
        &norms.base_rates.to_csv(),
        files.base_rates_csv.as_deref().unwrap(),
    );
}

/// Asserts byte equality, reporting the first differing line rather than two whole files.
#[track_caller]
fn assert_same_text(name: &str, written: &str, committed: &str) {
    if written == committed {
        return;
    }
    let first_difference = written
        .lines()
        .zip(committed.lines())
        .position(|(w, c)| w != c)
        .map(|i| {
            format!(
                "line {}: wrote '{}', committed '{}'",
                i + 1,
                line(written, i + 1),
                line(committed, i + 1)
            )
        })
        .unwrap_or_else(|| {
            format!(
                "lengths differ: wrote {} bytes in {} lines, committed {} bytes in {} lines",
                written.len(),
                written.lines().count(),
                committed.len(),
                committed.lines().count()
            )
        });
    panic!("{name} does not round-trip: {first_difference}");
}

// ---------------------------------------------------------------------------------------
// The norm-set hash.

/// The hash as norms/FORMATS.md defines it, computed independently of the library.
fn documented_hash(files: &NormFiles) -> String {
    let mut named = vec![
        ("battery.toml", files.battery_toml.as_str()),
        ("subtests.csv", files.subtests_csv.as_str()),
        ("composites.csv", files.composites_csv.as_str()),
        ("reliability.csv", files.reliability_csv.as_str()),
    ];
    if let Some(b) = &files.base_rates_csv {
        named.push(("base_rates.csv", b));
    }
    named.push(("provenance.toml", &files.provenance_toml));
    // Then the item banks, by path.
    let mut banks: Vec<_> = files.item_banks.iter().collect();
    banks.sort();
    named.extend(banks.into_iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let mut h = Sha256::new();
    for (name, text) in named {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(text.len().to_string().as_bytes());
        h.update(b"\0");
        h.update(text.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[test]
fn hash_follows_the_documented_recipe_and_is_stable() {
    let files = demo();
    let hash = files.hash();
    assert_eq!(hash, documented_hash(&files));
    assert_eq!(hash.len(), "sha256:".len() + 64);
    assert!(hash.starts_with("sha256:"));
    assert!(
        hash[7..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    // Same bytes, same hash: across calls, across clones, and in the loaded norm set.
    assert_eq!(files.clone().hash(), hash);
    assert_eq!(demo().hash(), hash);
    assert_eq!(NormSet::from_files(&files).unwrap().id.hash, hash);
    assert_eq!(NormSet::from_files(&files).unwrap().id.hash, hash);
}

#[test]
fn hash_changes_when_any_file_changes_by_one_byte() {
    let original = demo();
    let hash = original.hash();
    // Change one byte (the last) of each file in turn.
    type Field = fn(&mut NormFiles) -> &mut String;
    let fields: [(&str, Field); 6] = [
        ("battery.toml", |f| &mut f.battery_toml),
        ("subtests.csv", |f| &mut f.subtests_csv),
        ("composites.csv", |f| &mut f.composites_csv),
        ("reliability.csv", |f| &mut f.reliability_csv),
        ("base_rates.csv", |f| f.base_rates_csv.as_mut().unwrap()),
        ("provenance.toml", |f| &mut f.provenance_toml),
    ];
    for (name, field) in fields {
        let mut changed = original.clone();
        let text = field(&mut changed);
        assert_eq!(text.pop(), Some('\n'), "{name} ends with a newline");
        text.push(' ');
        assert_ne!(changed.hash(), hash, "{name}: one byte changed, same hash");
        assert_eq!(changed.hash(), documented_hash(&changed), "{name}");
    }
    // So does one byte of the item bank.
    let mut changed = original.clone();
    let bank = changed
        .item_banks
        .get_mut("items/mr.json")
        .expect("the demo bank");
    assert_eq!(bank.pop(), Some('\n'));
    bank.push(' ');
    assert_ne!(changed.hash(), hash, "items/mr.json: one byte changed, same hash");
    assert_eq!(changed.hash(), documented_hash(&changed));
    // Dropping the optional file changes the hash too.
    let mut without = original.clone();
    without.base_rates_csv = None;
    assert_ne!(without.hash(), hash);
    // The length prefix keeps file boundaries: moving a byte from one file to the next
    // changes the hash although the concatenated bytes are the same.
    let mut moved = original.clone();
    moved.battery_toml.pop();
    moved.subtests_csv.insert(0, '\n');
    assert_ne!(moved.hash(), hash);
}

#[test]
fn hash_changes_with_a_comment_in_battery_toml() {
    let original = NormSet::from_files(&demo()).unwrap();
    let edited = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, "# 5:0", "# 5:0.");
    })
    .expect("a comment changes nothing but the hash");
    assert_ne!(edited.id.hash, original.id.hash);
    assert_eq!(edited.battery, original.battery);
}

// ---------------------------------------------------------------------------------------
// battery.toml

const BATTERY: &str = "battery.toml";

#[test]
fn battery_toml_syntax_error_names_its_line() {
    let files = demo();
    let line = line_of(&files.battery_toml, "min_core_subtests = 3");
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            "min_core_subtests = 3",
            "min_core_subtests = = 3",
        );
    });
    assert_rejects(result, BATTERY, Some(line), "extra `=`");
    // An unterminated string.
    let line = line_of(&files.battery_toml, "version = \"0.1.0\"");
    let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "\"0.1.0\"", "\"0.1.0"));
    assert_rejects(result, BATTERY, Some(line), "invalid basic string");
    // A value of the wrong type.
    let line = line_of(&files.battery_toml, "min = 90");
    let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "min = 90", "min = \"90\""));
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "invalid type: string \"90\", expected i32",
    );
}

#[test]
fn battery_unknown_field() {
    let files = demo();
    let line = line_of(&files.battery_toml, "id = \"voc\"");
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, "id = \"voc\"", "id = \"voc\"\ncolour = \"red\"");
    });
    assert_rejects(result, BATTERY, Some(line + 1), "unknown field `colour`");
    // At the top level too.
    let line = line_of(&files.battery_toml, "version = \"0.1.0\"");
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, "version = \"0.1.0\"", "versoin = \"0.1.0\"");
    });
    assert_rejects(result, BATTERY, Some(line), "versoin");
}

#[test]
fn battery_missing_field() {
    // A field missing from a [[subtest]] is reported at the table's header.
    let files = demo();
    let header = line_of(&files.battery_toml, "id = \"voc\"") - 1;
    assert_eq!(line(&files.battery_toml, header), "[[subtest]]");
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            "id = \"voc\"\ndomain = \"Gc\"\n",
            "id = \"voc\"\n",
        );
    });
    assert_rejects(result, BATTERY, Some(header), "missing field `domain`");
    // One missing at the top level concerns the whole file, and is reported at its start.
    let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "version = \"0.1.0\"\n", ""));
    assert_rejects(result, BATTERY, Some(1), "missing field `version`");
}

#[test]
fn battery_duplicate_subtest_id() {
    let files = demo();
    let line = line_of(&files.battery_toml, "id = \"voc\"");
    let result =
        load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "id = \"voc\"", "id = \"sim\""));
    assert_rejects(result, BATTERY, Some(line), "duplicate subtest id 'sim'");
}

#[test]
fn battery_start_point_names_unknown_item() {
    let files = demo();
    let entry = "{ age_min_months = 84, item = \"voc05\" }";
    let line = line_of(&files.battery_toml, entry);
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            entry,
            "{ age_min_months = 84, item = \"voc99\" }",
        );
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "subtest 'voc': start point item 'voc99' is not an item of this subtest",
    );
    // An item of another subtest is no better.
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            entry,
            "{ age_min_months = 84, item = \"sim05\" }",
        );
    });
    assert_rejects(result, BATTERY, Some(line), "start point item 'sim05'");
}

#[test]
fn battery_first_start_point_not_at_age_min() {
    let files = demo();
    let entry = "{ age_min_months = 60, item = \"voc01\" }";
    let line = line_of(&files.battery_toml, entry);
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            entry,
            "{ age_min_months = 61, item = \"voc01\" }",
        );
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "the first start point must apply from age_min_months 60, not 61",
    );
}

#[test]
fn battery_start_points_out_of_order() {
    let files = demo();
    let entry = "{ age_min_months = 108, item = \"voc09\" }";
    let line = line_of(&files.battery_toml, entry);
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            entry,
            "{ age_min_months = 84, item = \"voc09\" }",
        );
    });
    assert_rejects(result, BATTERY, Some(line), "ascending order of age");
}

#[test]
fn battery_composite_names_unknown_subtest() {
    let files = demo();
    let line = line_of(&files.battery_toml, "subtests = [\"mr\", \"fw\"]");
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, "[\"mr\", \"fw\"]", "[\"mr\", \"fx\"]");
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "composite 'fri': unknown subtest 'fx'",
    );
}

#[test]
fn battery_composite_lists_a_subtest_twice() {
    let files = demo();
    let line = line_of(&files.battery_toml, "subtests = [\"mr\", \"fw\"]");
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, "[\"mr\", \"fw\"]", "[\"mr\", \"mr\"]");
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "composite 'fri': subtest 'mr' listed twice",
    );
}

#[test]
fn battery_substitute_already_a_member() {
    let files = demo();
    let entry = "{ replace = \"sim\", with = \"inf\" }";
    let line = line_of(&files.battery_toml, entry);
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, entry, "{ replace = \"sim\", with = \"voc\" }");
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "composite 'gac': substitute 'voc' is already a member",
    );
}

#[test]
fn battery_substitution_replaces_a_non_member() {
    let files = demo();
    let entry = "{ replace = \"mr\", with = \"fw\" }";
    let line = line_of(&files.battery_toml, entry);
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, entry, "{ replace = \"vp\", with = \"fw\" }");
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "'vp' is not a member, so it cannot be replaced",
    );
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, entry, "{ replace = \"mr\", with = \"xx\" }");
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "composite 'gac': unknown subtest 'xx'",
    );
}

#[test]
fn battery_classification_band_gap() {
    let files = demo();
    let line = line_of(&files.battery_toml, "id = \"average\"");
    let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "min = 90", "min = 91"));
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "band 'average' must start at 90 (one above the previous band's max)",
    );
    // An overlap is the same fault.
    let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "min = 90", "min = 89"));
    assert_rejects(result, BATTERY, Some(line), "band 'average' must start at 90");
}

#[test]
fn battery_classification_open_ends() {
    let files = demo();
    // Only the last band may lack a max.
    let line = line_of(&files.battery_toml, "id = \"very_high\"");
    let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "max = 129\n", ""));
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "only the last classification band has no max",
    );
    // The first band has no min.
    let line = line_of(&files.battery_toml, "id = \"extremely_low\"");
    let result = load_with(|f| {
        f.battery_toml = replace_once(
            &f.battery_toml,
            "id = \"extremely_low\"\n",
            "id = \"extremely_low\"\nmin = 40\n",
        );
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "the first classification band must have no min",
    );
}

#[test]
fn battery_blank_kk_name() {
    let files = demo();
    // A subtest's name.
    let line = line_of(&files.battery_toml, "kk = \"Сөздік қор\"");
    let result =
        load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "kk = \"Сөздік қор\"", "kk = \" \""));
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "subtest 'voc': name in 'kk' is blank",
    );
    // A composite's name.
    let line = line_of(&files.battery_toml, "kk = \"Флюидті ойлау индексі\"");
    let result = load_with(|f| {
        f.battery_toml = replace_once(&f.battery_toml, "kk = \"Флюидті ойлау индексі\"", "kk = \"\"");
    });
    assert_rejects(
        result,
        BATTERY,
        Some(line),
        "composite 'fri': name in 'kk' is blank",
    );
    // A classification label.
    let line = line_of(&files.battery_toml, "kk = \"Орташа\"");
    let result =
        load_with(|f| f.battery_toml = replace_once(&f.battery_toml, "kk = \"Орташа\"", "kk = \"\""));
    assert_rejects(result, BATTERY, Some(line), "label in 'kk' is blank");
    // The battery's own name.
    let kk = "kk = \"Qabilet 5–11 жастағы";
    let line = line_of(&files.battery_toml, kk);
    let result = load_with(|f| {
        let start = f.battery_toml.find(kk).unwrap() + "kk = \"".len();
        let end = start + f.battery_toml[start..].find('"').unwrap();
        f.battery_toml.replace_range(start..end, "");
    });
    assert_rejects(result, BATTERY, Some(line), "battery name in 'kk' is blank");
}

#[test]
fn battery_error_converts_to_norm_error() {
    let files = demo();
    let text = replace_once(&files.battery_toml, "id = \"voc\"", "id = \"sim\"");
    let e = Battery::from_toml(&text).expect_err("duplicate id");
    let line = line_of(&files.battery_toml, "id = \"voc\"");
    assert_eq!(e.line, Some(line));
    assert_eq!(
        e.to_string(),
        format!("battery.toml:{line}: duplicate subtest id 'sim'")
    );
    let n = NormError::from(e);
    assert_eq!(n.file, BATTERY);
    assert_eq!(
        n.to_string(),
        format!("battery.toml:{line}: duplicate subtest id 'sim'")
    );
}

// ---------------------------------------------------------------------------------------
// subtests.csv

const SUBTESTS: &str = "subtests.csv";

/// `subtests.csv` with line `n` changed by `edit`, checked against the demo battery.
fn subtests_with(n: usize, edit: impl FnOnce(&str) -> String) -> Result<SubtestNorms, NormError> {
    let text = demo().subtests_csv;
    let new = edit(line(&text, n));
    SubtestNorms::parse(&battery(), &set_line(&text, n, &new))
}

/// The line of `subtests.csv` that maps raw score `raw` of `subtest` at ages `lo`–`hi`.
fn subtest_row(subtest: &str, lo: u16, hi: u16, raw: u16) -> usize {
    let text = demo().subtests_csv;
    let prefix = format!("{subtest},{lo},{hi},");
    text.lines()
        .position(|l| {
            let f: Vec<&str> = l.split(',').collect();
            l.starts_with(&prefix)
                && f[3].parse::<u16>().unwrap() <= raw
                && raw <= f[4].parse::<u16>().unwrap()
        })
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no row for {subtest} {lo}–{hi} raw {raw}"))
}

#[test]
fn subtests_wrong_header() {
    let result = subtests_with(1, |_| "subtest,age_min,age_max,raw_min,raw_max,scaled".into());
    assert_rejects(result, SUBTESTS, Some(1), "header is 'subtest,age_min,age_max");
    // Reordered columns are as wrong as renamed ones.
    let result = subtests_with(1, |_| {
        "subtest,age_min_months,age_max_months,raw_max,raw_min,scaled".into()
    });
    assert_rejects(
        result,
        SUBTESTS,
        Some(1),
        "expected 'subtest,age_min_months,age_max_months,raw_min",
    );
}

#[test]
fn subtests_non_numeric_field() {
    let n = subtest_row("voc", 63, 65, 10);
    let result = subtests_with(n, |l| with_field(l, 4, "ten"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "column 'raw_max': 'ten' is not a whole raw score",
    );
    let result = subtests_with(n, |l| with_field(l, 5, "9.5"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "column 'scaled': '9.5' is not a whole scaled score",
    );
    let result = subtests_with(n, |l| with_field(l, 1, "-3"));
    assert_rejects(result, SUBTESTS, Some(n), "column 'age_min_months': '-3'");
}

#[test]
fn subtests_short_row() {
    let n = subtest_row("voc", 63, 65, 10);
    let result = subtests_with(n, |l| l.rsplit_once(',').unwrap().0.to_owned());
    assert_rejects(result, SUBTESTS, Some(n), "malformed CSV");
}

#[test]
fn subtests_unknown_subtest() {
    let n = subtest_row("voc", 63, 65, 10);
    let result = subtests_with(n, |l| with_field(l, 0, "vocab"));
    assert_rejects(result, SUBTESTS, Some(n), "unknown subtest 'vocab'");
}

#[test]
fn subtests_raw_range_gap() {
    // sim at 60–62 maps raw 2–4 on one line; make it 2–2 and raw 3–4 is covered by nothing.
    let n = subtest_row("sim", 60, 62, 2);
    assert_eq!(line(&demo().subtests_csv, n), "sim,60,62,2,4,7");
    let result = subtests_with(n, |l| with_field(l, 4, "2"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n + 1),
        "raw ranges of 'sim' at ages 60–62: gap — nothing covers 3–4",
    );
}

#[test]
fn subtests_raw_range_overlap() {
    let n = subtest_row("sim", 60, 62, 2);
    let result = subtests_with(n, |l| with_field(l, 4, "5"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n + 1),
        &format!("raw ranges of 'sim' at ages 60–62: range 5–6 overlaps 2–5 on line {n}"),
    );
    // A duplicated line overlaps itself; the copy is reported, pointing at the original.
    let text = duplicate_line(&demo().subtests_csv, n);
    let result = SubtestNorms::parse(&battery(), &text);
    assert_rejects(
        result,
        SUBTESTS,
        Some(n + 1),
        &format!("range 2–4 overlaps 2–4 on line {n}"),
    );
}

#[test]
fn subtests_raw_range_past_raw_max() {
    // sim has raw max 44 (sum of its item maxima).
    let n = subtest_row("sim", 60, 62, 44);
    let result = subtests_with(n, |l| with_field(l, 4, "45"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "raw ranges of 'sim' at ages 60–62: ranges run past 44",
    );
    // Stopping short of it is a gap.
    let result = subtests_with(n, |l| with_field(l, 4, "43"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "raw ranges of 'sim' at ages 60–62: gap — nothing covers 44–44",
    );
}

#[test]
fn subtests_raw_range_runs_backwards() {
    let n = subtest_row("sim", 60, 62, 3);
    let result = subtests_with(n, |l| with_field(&with_field(l, 3, "4"), 4, "3"));
    assert_rejects(result, SUBTESTS, Some(n), "range 4–3 runs backwards");
}

#[test]
fn subtests_age_band_gap() {
    // The whole band 63–65 of sim becomes 64–65: age 63 is covered by nothing. The gap is
    // reported at the first line of the band after it.
    let text = demo().subtests_csv;
    let n = first_line_starting(&text, "sim,63,65,");
    let result = SubtestNorms::parse(&battery(), &replace_all(&text, "\nsim,63,65,", "\nsim,64,65,"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "age bands of 'sim': gap — nothing covers 63–63",
    );
    // The last band stopping short of age_max_months.
    let n = first_line_starting(&text, "ss,141,143,");
    let result = SubtestNorms::parse(&battery(), &replace_all(&text, "\nss,141,143,", "\nss,141,142,"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "age bands of 'ss': gap — nothing covers 143–143",
    );
    // A whole band missing: the rows of the next band move up to where voc began.
    let first_voc = first_line_starting(&text, "voc,");
    let result = SubtestNorms::parse(&battery(), &drop_lines_starting(&text, "voc,60,62,"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(first_voc),
        "age bands of 'voc': gap — nothing covers 60–62",
    );
}

#[test]
fn subtests_age_band_overlap() {
    // One line of band 63–65 claims 63–66: a band of its own, overlapping the rest of 63–65.
    let n = subtest_row("sim", 63, 65, 3);
    let result = subtests_with(n, |l| with_field(l, 2, "66"));
    let first = first_line_starting(&demo().subtests_csv, "sim,63,65,");
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        &format!("age bands of 'sim': range 63–66 overlaps 63–65 on line {first}"),
    );
}

#[test]
fn subtests_scaled_falls_as_raw_rises() {
    // Raw 2–4 of sim at 60–62 scores 7, raw 1 scores 6: make raw 2–4 score 5.
    let n = subtest_row("sim", 60, 62, 2);
    let result = subtests_with(n, |l| with_field(l, 5, "5"));
    assert_rejects(
        result,
        SUBTESTS,
        Some(n),
        "raw ranges of 'sim' at ages 60–62: scaled score falls to 5 at raw 2",
    );
}

#[test]
fn subtests_scaled_outside_scale() {
    let n = subtest_row("sim", 60, 62, 44);
    let result = subtests_with(n, |l| with_field(l, 5, "20"));
    assert_rejects(result, SUBTESTS, Some(n), "scaled score 20 is outside 1–19");
    let n = subtest_row("sim", 60, 62, 0);
    let result = subtests_with(n, |l| with_field(l, 5, "0"));
    assert_rejects(result, SUBTESTS, Some(n), "scaled score 0 is outside 1–19");
}

#[test]
fn subtests_subtest_without_rows() {
    let result = load_with(|f| f.subtests_csv = drop_lines_starting(&f.subtests_csv, "ss,"));
    assert_rejects(result, SUBTESTS, None, "no rows for subtest 'ss'");
}

// ---------------------------------------------------------------------------------------
// composites.csv

const COMPOSITES: &str = "composites.csv";

fn composites_with(n: usize, edit: impl FnOnce(&str) -> String) -> Result<CompositeNorms, NormError> {
    let text = demo().composites_csv;
    let new = edit(line(&text, n));
    CompositeNorms::parse(&battery(), &set_line(&text, n, &new))
}

/// The line of `composites.csv` holding `sum` of `composite`.
fn composite_row(composite: &str, sum: i32) -> usize {
    let text = demo().composites_csv;
    text.lines()
        .position(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[0] == composite && f[1].parse::<i32>().unwrap() <= sum && sum <= f[2].parse::<i32>().unwrap()
        })
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no row for {composite} sum {sum}"))
}

#[test]
fn composites_wrong_header() {
    let result = composites_with(1, |_| "composite,sum_min,sum_max,index,percentile_rank".into());
    assert_rejects(
        result,
        COMPOSITES,
        Some(1),
        "expected 'composite,sum_min,sum_max,index,percentile'",
    );
}

#[test]
fn composites_non_numeric_field() {
    let n = composite_row("fri", 20);
    let result = composites_with(n, |l| with_field(l, 4, "50%"));
    assert_rejects(
        result,
        COMPOSITES,
        Some(n),
        "column 'percentile': '50%' is not a number",
    );
}

#[test]
fn composites_unknown_composite() {
    let n = composite_row("fri", 20);
    let result = composites_with(n, |l| with_field(l, 0, "pri"));
    assert_rejects(result, COMPOSITES, Some(n), "unknown composite 'pri'");
}

#[test]
fn composites_sum_gap() {
    // Dropping the line of sum 3 of vci leaves 3 uncovered; the next line moves up into
    // its place and is where the gap shows.
    let n = composite_row("vci", 3);
    let text = drop_line(&demo().composites_csv, n);
    let result = CompositeNorms::parse(&battery(), &text);
    assert_rejects(
        result,
        COMPOSITES,
        Some(n),
        "sum ranges of 'vci': gap — nothing covers 3–3",
    );
    // The top sum of a two-subtest composite is 2·19 = 38: without its line, the gap shows
    // at the last line of vci.
    let n = composite_row("vci", 38);
    let result = CompositeNorms::parse(&battery(), &drop_line(&demo().composites_csv, n));
    assert_rejects(
        result,
        COMPOSITES,
        Some(n - 1),
        "sum ranges of 'vci': gap — nothing covers 38–38",
    );
    // And its lowest is 2·1 = 2.
    let n = composite_row("vci", 2);
    let result = composites_with(n, |l| with_field(l, 1, "1"));
    assert_rejects(
        result,
        COMPOSITES,
        Some(n),
        "sum ranges of 'vci': range 1–2 starts below 2",
    );
}

#[test]
fn composites_sum_overlap() {
    let n = composite_row("gac", 50);
    let text = duplicate_line(&demo().composites_csv, n);
    let result = CompositeNorms::parse(&battery(), &text);
    assert_rejects(
        result,
        COMPOSITES,
        Some(n + 1),
        &format!("overlaps 50–50 on line {n}"),
    );
}

#[test]
fn composites_index_falls() {
    let n = composite_row("vci", 10);
    let previous: i32 = line(&demo().composites_csv, n - 1)
        .split(',')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    let result = composites_with(n, |l| with_field(l, 3, &(previous - 1).to_string()));
    assert_rejects(
        result,
        COMPOSITES,
        Some(n),
        &format!("sum ranges of 'vci': index falls to {} at sum 10", previous - 1),
    );
}

#[test]
fn composites_percentile_falls() {
    let n = composite_row("vci", 10);
    let result = composites_with(n, |l| with_field(l, 4, "1.0"));
    assert_rejects(
        result,
        COMPOSITES,
        Some(n),
        "sum ranges of 'vci': percentile falls to 1 at sum 10",
    );
}

#[test]
fn composites_index_outside_scale() {
    let n = composite_row("gac", 133);
    let result = composites_with(n, |l| with_field(l, 3, "161"));
    assert_rejects(result, COMPOSITES, Some(n), "index score 161 is outside 40–160");
    let n = composite_row("gac", 7);
    let result = composites_with(n, |l| with_field(l, 3, "39"));
    assert_rejects(result, COMPOSITES, Some(n), "index score 39 is outside 40–160");
}

#[test]
fn composites_percentile_0_or_100() {
    let low = composite_row("vci", 2);
    let result = composites_with(low, |l| with_field(l, 4, "0"));
    assert_rejects(
        result,
        COMPOSITES,
        Some(low),
        "percentile 0 must lie strictly between 0 and 100",
    );
    let high = composite_row("vci", 38);
    let result = composites_with(high, |l| with_field(l, 4, "100.0"));
    assert_rejects(
        result,
        COMPOSITES,
        Some(high),
        "percentile 100 must lie strictly between 0 and 100",
    );
    let result = composites_with(high, |l| with_field(l, 4, "NaN"));
    assert_rejects(
        result,
        COMPOSITES,
        Some(high),
        "percentile NaN must lie strictly between 0 and 100",
    );
}

#[test]
fn composites_composite_without_rows() {
    let result = load_with(|f| f.composites_csv = drop_lines_starting(&f.composites_csv, "psi,"));
    assert_rejects(result, COMPOSITES, None, "no rows for composite 'psi'");
}

// ---------------------------------------------------------------------------------------
// reliability.csv

const RELIABILITY: &str = "reliability.csv";

fn reliability_with(n: usize, edit: impl FnOnce(&str) -> String) -> Result<Reliabilities, NormError> {
    let text = demo().reliability_csv;
    let new = edit(line(&text, n));
    Reliabilities::parse(&battery(), &set_line(&text, n, &new))
}

#[test]
fn reliability_wrong_header() {
    let result = reliability_with(1, |_| "subtest,age_min_months,age_max_months,reliability".into());
    assert_rejects(result, RELIABILITY, Some(1), "expected 'scale,age_min_months");
}

#[test]
fn reliability_of_one_or_zero() {
    let n = first_line_starting(&demo().reliability_csv, "vci,72,83,");
    let result = reliability_with(n, |l| with_field(l, 3, "1.0"));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n),
        "reliability 1 must lie strictly between 0 and 1",
    );
    let result = reliability_with(n, |l| with_field(l, 3, "0"));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n),
        "reliability 0 must lie strictly between 0 and 1",
    );
    let result = reliability_with(n, |l| with_field(l, 3, "high"));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n),
        "column 'reliability': 'high' is not a number",
    );
}

#[test]
fn reliability_unknown_scale() {
    let n = first_line_starting(&demo().reliability_csv, "vci,72,83,");
    let result = reliability_with(n, |l| with_field(l, 0, "vic"));
    assert_rejects(result, RELIABILITY, Some(n), "unknown subtest or composite 'vic'");
}

/// Stated reliabilities (`--reliability` of a norm build): the reliability.csv format and its
/// row checks, for some subtests and ages only.
#[test]
fn stated_reliabilities_are_read_with_the_row_checks_of_reliability_csv() {
    let b = battery();
    let header = "scale,age_min_months,age_max_months,reliability\n";
    let read = |rows: &str| qabilet_core::norms::stated_rows(&b, "stated.csv", &format!("{header}{rows}"));
    let rows = read("cd,60,143,0.82\nss,60,95,0.80\nss,96,143,0.81\n").expect("stated rows");
    assert_eq!(rows.len(), 3, "some subtests and ages only");
    assert_eq!(
        (
            rows[2].scale.as_str(),
            rows[2].age_min_months,
            rows[2].age_max_months,
            rows[2].reliability
        ),
        ("ss", 96, 143, 0.81)
    );
    let file = "stated.csv";
    assert_rejects(
        read("cd,60,143,1.0\n"),
        file,
        Some(2),
        "reliability 1 must lie strictly between 0 and 1",
    );
    assert_rejects(
        read("cd,60,143,high\n"),
        file,
        Some(2),
        "column 'reliability': 'high' is not a number",
    );
    assert_rejects(
        read("cd,60,143,0.8\nxx,60,143,0.8\n"),
        file,
        Some(3),
        "unknown subtest or composite 'xx'",
    );
    assert_rejects(
        read("gac,60,143,0.9\n"),
        file,
        Some(2),
        "'gac' is not a subtest of battery",
    );
    assert_rejects(
        read("cd,72,60,0.8\n"),
        file,
        Some(2),
        "ages 72–60 must be an ascending range",
    );
    assert_rejects(
        read("cd,60,150,0.8\n"),
        file,
        Some(2),
        "within the battery's 60–143 months",
    );
    assert_rejects(
        qabilet_core::norms::stated_rows(&b, file, "subtest,age_min_months,age_max_months,reliability\n"),
        file,
        Some(1),
        "expected 'scale,age_min_months",
    );
}

#[test]
fn reliability_missing_composite_rows() {
    let result = load_with(|f| f.reliability_csv = drop_lines_starting(&f.reliability_csv, "gac,"));
    assert_rejects(result, RELIABILITY, None, "no rows for 'gac'");
    let result = load_with(|f| f.reliability_csv = drop_lines_starting(&f.reliability_csv, "cd,"));
    assert_rejects(result, RELIABILITY, None, "no rows for 'cd'");
}

#[test]
fn reliability_age_gap() {
    // 72–83 becomes 72–82; age 83 is covered by nothing, and shows at the next band.
    let n = first_line_starting(&demo().reliability_csv, "voc,72,83,");
    let result = reliability_with(n, |l| with_field(l, 2, "82"));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n + 1),
        "age bands of 'voc': gap — nothing covers 83–83",
    );
    // A dropped band.
    let result = Reliabilities::parse(&battery(), &drop_line(&demo().reliability_csv, n));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n),
        "age bands of 'voc': gap — nothing covers 72–83",
    );
    // The last band ending early.
    let n = first_line_starting(&demo().reliability_csv, "gac,132,143,");
    let result = reliability_with(n, |l| with_field(l, 2, "142"));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n),
        "age bands of 'gac': gap — nothing covers 143–143",
    );
}

#[test]
fn reliability_age_overlap() {
    let n = first_line_starting(&demo().reliability_csv, "voc,72,83,");
    let result = reliability_with(n, |l| with_field(l, 2, "84"));
    assert_rejects(
        result,
        RELIABILITY,
        Some(n + 1),
        &format!("age bands of 'voc': range 84–95 overlaps 72–84 on line {n}"),
    );
}

// ---------------------------------------------------------------------------------------
// base_rates.csv

const BASE_RATES: &str = "base_rates.csv";

fn base_rates_text() -> String {
    demo().base_rates_csv.expect("the demo has base rates")
}

fn base_rates_with(n: usize, edit: impl FnOnce(&str) -> String) -> Result<BaseRates, NormError> {
    let text = base_rates_text();
    let new = edit(line(&text, n));
    BaseRates::parse(&battery(), &set_line(&text, n, &new))
}

#[test]
fn base_rates_wrong_header() {
    let result = base_rates_with(1, |_| "comparison,difference,percent".into());
    assert_rejects(
        result,
        BASE_RATES,
        Some(1),
        "expected 'comparison,abs_difference,percent'",
    );
}

#[test]
fn base_rates_skipped_difference() {
    let n = line_of(&base_rates_text(), "vci:wmi,5,");
    let result = BaseRates::parse(&battery(), &drop_line(&base_rates_text(), n));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n),
        "'vci:wmi': expected abs_difference 5 next",
    );
    // A table must start at 0.
    let n = line_of(&base_rates_text(), "ds:core_mean,0,");
    let result = BaseRates::parse(&battery(), &drop_line(&base_rates_text(), n));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n),
        "'ds:core_mean': expected abs_difference 0 next",
    );
    // A repeated difference.
    let n = line_of(&base_rates_text(), "vci:wmi,5,");
    let result = BaseRates::parse(&battery(), &duplicate_line(&base_rates_text(), n));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n + 1),
        "'vci:wmi': expected abs_difference 6 next",
    );
}

#[test]
fn base_rates_rising_percent() {
    let n = line_of(&base_rates_text(), "vci:wmi,5,");
    let previous = line(&base_rates_text(), n - 1)
        .split(',')
        .nth(2)
        .unwrap()
        .to_owned();
    let higher = format!("{:.1}", previous.parse::<f64>().unwrap() + 0.1);
    let result = base_rates_with(n, |l| with_field(l, 2, &higher));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n),
        "'vci:wmi': percent rises at difference 5",
    );
}

#[test]
fn base_rates_percent_outside_0_100() {
    let n = line_of(&base_rates_text(), "vci:wmi,0,");
    let result = base_rates_with(n, |l| with_field(l, 2, "100.1"));
    assert_rejects(result, BASE_RATES, Some(n), "percent 100.1 is outside 0–100");
}

#[test]
fn base_rates_comparison_of_non_index_composite() {
    let n = line_of(&base_rates_text(), "vci:psi,0,");
    let result = base_rates_with(n, |l| with_field(l, 0, "vci:gac"));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n),
        "comparison 'vci:gac': 'gac' is not an index composite",
    );
    // Unknown composites, reversed order and non-core subtests are refused as well.
    let result = base_rates_with(n, |l| with_field(l, 0, "vci:xyz"));
    assert_rejects(result, BASE_RATES, Some(n), "'xyz' is not an index composite");
    let result = base_rates_with(n, |l| with_field(l, 0, "psi:vci"));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n),
        "name the composites in battery order",
    );
    let n = line_of(&base_rates_text(), "sim:core_mean,0,");
    let result = base_rates_with(n, |l| with_field(l, 0, "inf:core_mean"));
    assert_rejects(
        result,
        BASE_RATES,
        Some(n),
        "comparison 'inf:core_mean': 'inf' is not a core subtest",
    );
    let result = base_rates_with(n, |l| with_field(l, 0, "sim"));
    assert_rejects(result, BASE_RATES, Some(n), "comparison 'sim' must be '<a>:<b>'");
}

#[test]
fn base_rates_error_reaches_the_norm_set() {
    let result = load_with(|f| {
        let text = f.base_rates_csv.take().unwrap();
        let n = line_of(&text, "vci:psi,0,");
        f.base_rates_csv = Some(set_line(&text, n, &with_field(line(&text, n), 0, "vci:gac")));
    });
    assert_rejects(
        result,
        BASE_RATES,
        Some(line_of(&base_rates_text(), "vci:psi,0,")),
        "not an index composite",
    );
}

// ---------------------------------------------------------------------------------------
// provenance.toml

const PROVENANCE: &str = "provenance.toml";

#[test]
fn provenance_demonstration_without_notice() {
    let files = demo();
    let status = line_of(&files.provenance_toml, "status = \"demonstration\"");
    let notice = "notice = \"demonstration norms — not for clinical decisions\"\n";
    let result = load_with(|f| f.provenance_toml = replace_once(&f.provenance_toml, notice, ""));
    assert_rejects(
        result,
        PROVENANCE,
        Some(status),
        "demonstration norms need a notice",
    );
    // A blank notice is no notice.
    let result = Provenance::parse(&replace_once(&files.provenance_toml, notice, "notice = \"  \"\n"));
    assert_rejects(
        result,
        PROVENANCE,
        Some(status),
        "demonstration norms need a notice",
    );
    // Clinical norms need none, and carry none into outputs.
    let text = replace_once(
        &replace_once(&files.provenance_toml, notice, ""),
        "status = \"demonstration\"",
        "status = \"clinical\"",
    );
    let clinical = Provenance::parse(&text).expect("clinical norms without a notice");
    assert_eq!(clinical.output_notice(), None);
}

#[test]
fn provenance_battery_id_mismatch() {
    let files = demo();
    let line = line_of(&files.provenance_toml, "battery = \"qabilet-primary-demo\"");
    let result = load_with(|f| {
        f.provenance_toml = replace_once(
            &f.provenance_toml,
            "battery = \"qabilet-primary-demo\"",
            "battery = \"qabilet-other\"",
        );
    });
    assert_rejects(
        result,
        PROVENANCE,
        Some(line),
        "battery 'qabilet-other' does not match battery.toml's 'qabilet-primary-demo'",
    );
}

#[test]
fn provenance_syntax_and_fields() {
    let files = demo();
    let line = line_of(&files.provenance_toml, "status = \"demonstration\"");
    let result = Provenance::parse(&replace_once(
        &files.provenance_toml,
        "status = \"demonstration\"",
        "status = \"draft\"",
    ));
    assert_rejects(result, PROVENANCE, Some(line), "unknown variant `draft`");
    let line = line_of(&files.provenance_toml, "sample_size = 3000");
    let result = Provenance::parse(&replace_once(
        &files.provenance_toml,
        "sample_size = 3000",
        "sample_size = \"none\"",
    ));
    assert_rejects(
        result,
        PROVENANCE,
        Some(line),
        "invalid type: string \"none\", expected u64",
    );
    let result = Provenance::parse(&replace_once(&files.provenance_toml, "sample_size = 3000\n", ""));
    assert_rejects(result, PROVENANCE, Some(1), "missing field `sample_size`");
}

// ---------------------------------------------------------------------------------------
// Item banks of adaptive subtests (items/<subtest>.json)

const BANK: &str = "items/mr.json";

fn edit_bank(f: &mut NormFiles, from: &str, to: &str) {
    let text = f.item_banks.get_mut(BANK).expect("the demo bank");
    *text = replace_once(text, from, to);
}

#[test]
fn an_adaptive_subtest_needs_its_bank() {
    assert_rejects(
        load_with(|f| f.item_banks.clear()),
        BANK,
        None,
        "item bank of adaptive subtest 'mr' is missing",
    );
    assert_rejects(
        load_with(|f| {
            f.item_banks.insert("items/fw.json".into(), "{}".into());
        }),
        "items/fw.json",
        None,
        "no adaptive subtest of battery.toml names this item bank",
    );
}

#[test]
fn a_bank_must_hold_exactly_the_subtests_items() {
    assert_rejects(
        load_with(|f| edit_bank(f, "\"mr30\"", "\"mr31\"")),
        BANK,
        None,
        "bank item 'mr31' is not an item of subtest 'mr'",
    );
    assert_rejects(
        load_with(|f| {
            edit_bank(
                f,
                ",\n    {\"id\": \"mr30\", \"model\": \"rasch\", \"b\": 2.9000000000000004}",
                "",
            )
        }),
        BANK,
        None,
        "item 'mr30' of subtest 'mr' is missing from the bank",
    );
    assert_rejects(
        load_with(|f| {
            edit_bank(
                f,
                "{\"id\": \"mr01\", \"model\": \"rasch\", \"b\": -2.9}",
                "{\"id\": \"mr01\", \"model\": \"gpcm\", \"a\": 1.0, \"b\": [-3.2, -2.6]}",
            )
        }),
        BANK,
        None,
        "item 'mr01': the bank's highest category 2 differs from its max 1 in battery.toml",
    );
    assert_rejects(
        load_with(|f| edit_bank(f, "\"b\": -2.9}", "\"b\": \"x\"}")),
        BANK,
        None,
        "item 1 ('mr01')",
    );
}

#[test]
fn the_adaptive_rule_is_checked_with_the_battery() {
    let line = line_of(&demo().battery_toml, "id = \"mr\"");
    for (from, to, reason) in [
        (
            "bank = \"items/mr.json\"",
            "bank = \"../mr.json\"",
            "adaptive.bank must be \"items/mr.json\"",
        ),
        (
            "max_items = 20",
            "max_items = 31",
            "need 1 ≤ min_items ≤ max_items ≤ 30 items",
        ),
        (
            "min_items = 5",
            "min_items = 21",
            "need 1 ≤ min_items ≤ max_items",
        ),
        (
            "se_target = 0.5",
            "se_target = -0.5",
            "se_target must be a positive number",
        ),
        (
            "final_estimator = \"wle\"",
            "final_estimator = \"ml\"",
            "'ml' is not an estimator",
        ),
        (
            "final_estimator = \"wle\" }",
            "final_estimator = \"wle\", start = 0 }",
            "unknown field `start`",
        ),
    ] {
        let result = load_with(|f| f.battery_toml = replace_once(&f.battery_toml, from, to));
        let line = if reason.starts_with("unknown") {
            None
        } else {
            Some(line)
        };
        match line {
            Some(l) => assert_rejects(result, BATTERY, Some(l), reason),
            None => {
                let e = result.expect_err(reason);
                assert!(e.reason.contains(reason), "{e}");
            }
        }
    }
}
