//! `qabilet stats reliability` end to end: the real binary on the simulated standardisation
//! sample of qabilet-core/tests/reference/reliability/ (420 children, item columns for `sim`
//! and `inf`, the speed test `cd` without items, a sparse oldest band), checked number by
//! number against the independent numpy reference, plus band width, output to a file, and
//! a bad sample whose every problem is listed with its line and column.

use std::process::Output;

use qabilet_e2e::{qabilet, repo};

const SAMPLE: &str = "qabilet-core/tests/reference/reliability/sample.csv";
const BATTERY: &str = "norms/qabilet-primary-demo";

fn reliability(sample: &str, extra: &[&str]) -> Output {
    let mut args = vec!["stats", "reliability", "--sample", sample, "--battery", BATTERY];
    args.extend_from_slice(extra);
    qabilet().args(&args).output().expect("run qabilet")
}

fn table(text: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().expect("header").clone();
    (header, r.records().map(|x| x.expect("record")).collect())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn matches_the_numpy_reference() {
    let out = reliability(SAMPLE, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected =
        std::fs::read_to_string(repo().join("qabilet-core/tests/reference/reliability/expected.csv"))
            .expect("expected.csv");
    let ((oh, orows), (eh, erows)) = (table(&String::from_utf8_lossy(&out.stdout)), table(&expected));
    assert_eq!(oh, eh, "headers");
    assert_eq!(orows.len(), erows.len(), "rows");
    for (o, e) in orows.iter().zip(&erows) {
        for (i, name) in oh.iter().enumerate() {
            let (x, y) = (&o[i], &e[i]);
            if ["alpha", "split_half", "sem_alpha"].contains(&name) && !y.is_empty() {
                let (a, b): (f64, f64) = (x.parse().expect("number"), y.parse().expect("number"));
                assert!(
                    (a - b).abs() <= 1e-9,
                    "{} {}–{} {name}: {x} vs {y}",
                    &e[0],
                    &e[1],
                    &e[2]
                );
            } else {
                assert_eq!(x, y, "{} {}–{} {name}", &e[0], &e[1], &e[2]);
            }
        }
    }
    assert!(stderr(&out).contains("420 children"), "{}", stderr(&out));
}

#[test]
fn band_width_and_output_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rel.csv");
    let out = reliability(
        SAMPLE,
        &[
            "--band-months",
            "36",
            "--min-n",
            "200",
            "--output",
            path.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let (_, rows) = table(&std::fs::read_to_string(&path).expect("output"));
    let got: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| (r[0].into(), r[1].into(), r[2].into(), r[8].into()))
        .collect();
    let row = |s: &str, lo: &str, hi: &str, st: &str| (s.into(), lo.into(), hi.into(), st.into());
    // sim: 60–95 has 57 + 44 + 66 = 167 complete cases (< 200), 96–131 has 230.
    assert_eq!(got[0], row("sim", "60", "95", "too_few_children"));
    assert_eq!(got[1], row("sim", "96", "131", "ok"));
    assert_eq!(got[2], row("sim", "132", "143", "too_few_children"));
    assert_eq!(got.len(), 9);
    assert_eq!(&rows[1][3], "230");
    let bad = reliability(SAMPLE, &["--band-months", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_bad_sample_lists_every_problem_with_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "id,birth_date,test_date,sex,language,inf,inf.inf01,inf.inf02,weight\n\
         c1,2018-03-14,2025-04-01,f,kk,20,1,0,1\n\
         c1,2018-03-14,2025-04-01,f,kk,20,1,0,1\n\
         c3,2018-02-30,2025-04-01,f,kk,20,1,0,1\n\
         c4,2021-03-14,2025-04-01,f,kk,20,1,0,1\n\
         c5,2018-03-14,2025-04-01,f,kk,x,1,0,1\n\
         c6,2018-03-14,2025-04-01,f,kk,20,2,0,1\n\
         c7,2018-03-14,2025-04-01,f,kk,20,1,0,0\n",
    )
    .expect("write");
    let out = reliability(path.to_str().expect("utf-8"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("6 problems"), "{err}");
    for needle in [
        "bad.csv:3, column 1 (id): id 'c1' already appears on line 2",
        "bad.csv:4, column 2 (birth_date): '2018-02-30' is not a calendar date",
        "bad.csv:5, column 3 (test_date): age 4:0:18 is outside",
        "bad.csv:6, column 6 (inf): raw score 'x' is not a whole number",
        "bad.csv:7, column 7 (inf.inf01): item score 2 is outside 0–1",
        "bad.csv:8, column 9 (weight): weight '0' is not a positive number",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }

    std::fs::write(&path, "id,birth_date,test_date,sex,language,voc.nope\n").expect("write");
    let out = reliability(path.to_str().expect("utf-8"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("column 6 (voc.nope): subtest 'voc' has no item 'nope'"),
        "{}",
        stderr(&out)
    );
}

/// `--output` naming the sample is refused before anything is written: the sample survives.
#[test]
fn output_onto_the_sample_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sample.csv");
    std::fs::copy(repo().join(SAMPLE), &path).expect("copy");
    let before = std::fs::read(&path).expect("read");
    let p = path.to_str().expect("utf-8");
    let out = reliability(p, &["--output", p]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--output") && err.contains("--sample") && err.contains("same file"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
}
