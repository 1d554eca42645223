//! `qabilet stats dif` end to end: the real binary on the simulated DIF sample of
//! qabilet-core/tests/reference/dif/ (2,000 ru + 1,500 kk examinees, 20 items, uniform DIF
//! planted in i04, i11 and i17), checked number by number against the independent Python
//! reference, plus the degenerate-item statuses and the input errors.

use std::process::Output;

use qabilet_e2e::{qabilet, repo};

const REF: &str = "qabilet-core/tests/reference/dif";

fn run(args: &[&str]) -> Output {
    qabilet().args(args).output().expect("run qabilet")
}

fn dif(sample: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "stats",
        "dif",
        "--sample",
        sample,
        "--group",
        "language",
        "--focal",
        "kk",
        "--reference",
        "ru",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn table(text: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().expect("header").clone();
    (header, r.records().map(|x| x.expect("record")).collect())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Compares the CLI's CSV with the reference CSV: numbers to 1e-9 relative, text exactly.
fn assert_matches_reference(out: &str, expected_file: &str) {
    let expected = std::fs::read_to_string(repo().join(REF).join(expected_file)).expect("expected file");
    let ((oh, orows), (eh, erows)) = (table(out), table(&expected));
    assert_eq!(oh, eh, "headers");
    assert_eq!(orows.len(), erows.len(), "rows");
    let text_columns = ["item", "class", "favours", "status"];
    for (o, e) in orows.iter().zip(&erows) {
        for (i, name) in oh.iter().enumerate() {
            let (x, y) = (&o[i], &e[i]);
            if text_columns.contains(&name) || y.is_empty() {
                assert_eq!(x, y, "{} {name}", &e[0]);
            } else {
                let (a, b): (f64, f64) = (x.parse().expect("number"), y.parse().expect("number"));
                assert!(
                    a == b || (a - b).abs() <= 1e-9 * b.abs(),
                    "{} {name}: {x} vs reference {y}",
                    &e[0]
                );
            }
        }
    }
}

#[test]
fn planted_dif_items_are_flagged_and_numbers_agree_with_reference() {
    let out = dif(&format!("{REF}/sample.csv"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    assert_matches_reference(&text, "expected.csv");
    let (header, rows) = table(&text);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (class, favours) = (col("class"), col("favours"));
    let flagged: Vec<String> = rows
        .iter()
        .filter(|r| &r[class] != "A")
        .map(|r| format!("{} {} {}", &r[0], &r[class], &r[favours]))
        .collect();
    assert_eq!(flagged, ["i04 B focal", "i11 B reference", "i17 C reference"]);
    let summary = stderr(&out);
    assert!(summary.contains("20 items: A 17, B 2, C 1;"), "{summary}");
    assert!(
        summary.contains(
            "examinees used 3363 (ru 1923, kk 1440), left out 137 with missing responses, 60 in other groups"
        ),
        "{summary}"
    );
}

#[test]
fn output_file_holds_the_same_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dif.csv");
    let out = dif(
        &format!("{REF}/sample.csv"),
        &["--output", path.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_matches_reference(&std::fs::read_to_string(&path).unwrap(), "expected.csv");
}

#[test]
fn degenerate_items_get_a_status_and_empty_cells() {
    let out = dif(&format!("{REF}/edge_sample.csv"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    assert_matches_reference(&text, "edge_expected.csv");
    for row in table(&text).1 {
        for cell in &row {
            assert!(cell.parse::<f64>().map_or(true, f64::is_finite), "{row:?}");
        }
    }
    assert!(
        stderr(&out).contains("not classified 4 (see status)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_cell_other_than_0_1_or_empty_names_its_line_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "id,language,q1,q2\na1,ru,1,0\na2,kk,1,2\n").unwrap();
    let out = dif(path.to_str().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.csv:3:") && err.contains("column 'q2': '2' is not 0, 1 or empty"),
        "{err}"
    );
}

#[test]
fn an_absent_group_value_is_an_error_listing_the_values_seen() {
    let out = run(&[
        "stats",
        "dif",
        "--sample",
        &format!("{REF}/sample.csv"),
        "--group",
        "language",
        "--focal",
        "KK",
        "--reference",
        "ru",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no focal-group examinee (language = 'KK')"), "{err}");
    assert!(err.contains("'kk'") && err.contains("'ru'"), "{err}");
}

#[test]
fn a_missing_group_column_is_an_error() {
    let out = run(&[
        "stats",
        "dif",
        "--sample",
        &format!("{REF}/sample.csv"),
        "--group",
        "lang",
        "--focal",
        "kk",
        "--reference",
        "ru",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no group column 'lang'"),
        "{}",
        stderr(&out)
    );
}

/// `--output` naming the sample is refused before anything is written: the sample survives.
#[test]
fn output_onto_the_sample_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sample.csv");
    std::fs::copy(repo().join(REF).join("sample.csv"), &path).expect("copy");
    let before = std::fs::read(&path).expect("read");
    let p = path.to_str().expect("utf-8");
    let out = dif(p, &["--output", p]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--output") && err.contains("--sample") && err.contains("same file"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
}
