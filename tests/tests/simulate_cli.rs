//! `qabilet norms simulate` end to end: the real binary draws a simulated standardisation
//! sample of the demonstration battery; the file is reproducible from its seed, has the
//! input columns of `norms build`, and every row scores with `qabilet score`.

use std::process::Output;

use qabilet_e2e::qabilet;

const BATTERY: &str = "norms/qabilet-primary-demo";
const SUBTESTS: [&str; 13] = [
    "sim", "voc", "inf", "mr", "fw", "bd", "vp", "qr", "ar", "ds", "ps", "cd", "ss",
];

fn run(args: &[&str]) -> Output {
    qabilet().args(args).output().expect("run qabilet")
}

fn simulate(n: &str, seed: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "norms",
        "simulate",
        "--battery",
        BATTERY,
        "--n",
        n,
        "--seed",
        seed,
        "--out",
        "-",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn table(text: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().expect("header").clone();
    (header, r.records().map(|x| x.expect("record")).collect())
}

#[test]
fn same_seed_same_file_other_seed_other_file() {
    let a = stdout(&simulate("200", "11", &["--items"]));
    assert_eq!(a, stdout(&simulate("200", "11", &["--items"])));
    assert_ne!(a, stdout(&simulate("200", "12", &["--items"])));
    // Writing to a file gives the same bytes as standard output.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sample.csv");
    let path = path.to_str().expect("path");
    let o = run(&[
        "norms",
        "simulate",
        "--battery",
        BATTERY,
        "--n",
        "200",
        "--seed",
        "11",
        "--items",
        "--out",
        path,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(path).expect("read"), a);
}

#[test]
fn columns_are_the_norm_building_input() {
    let (header, rows) = table(&stdout(&simulate("300", "1", &[])));
    let expected: Vec<&str> = ["id", "birth_date", "test_date", "sex", "language"]
        .into_iter()
        .chain(SUBTESTS)
        .collect();
    assert_eq!(header.iter().collect::<Vec<_>>(), expected);
    assert_eq!(rows.len(), 300);
    for r in &rows {
        assert!(["M", "F"].contains(&&r[3]), "sex {}", &r[3]);
        assert!(["kk", "ru"].contains(&&r[4]), "language {}", &r[4]);
    }
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(ids.len(), rows.len(), "ids are unique");

    // With items: every subtest with items adds <subtest>.<item> columns that sum to its raw
    // score (cd and ss are speed tests scored by count and have none).
    let (header, rows) = table(&stdout(&simulate("300", "1", &["--items"])));
    let names: Vec<&str> = header.iter().collect();
    assert_eq!(&names[..expected.len()], &expected[..]);
    assert!(names.iter().any(|n| n.starts_with("voc.")));
    assert!(!names.iter().any(|n| n.starts_with("cd.") || n.starts_with("ss.")));
    for r in &rows {
        for (t, s) in SUBTESTS.iter().enumerate() {
            let prefix = format!("{s}.");
            let items: Vec<u32> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.starts_with(&prefix))
                .map(|(i, _)| r[i].parse().expect("item score"))
                .collect();
            if !items.is_empty() {
                let raw: u32 = r[5 + t].parse().expect("raw");
                assert_eq!(items.iter().sum::<u32>(), raw, "{} {s}", &r[0]);
            }
        }
    }
}

#[test]
fn every_simulated_child_scores() {
    let sample = stdout(&simulate("2000", "2026", &[]));
    // The sample goes to `score` as it is: sex and language are echoed, not rejected.
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("scores_in.csv");
    std::fs::write(&input, &sample).expect("write input");
    let scored = stdout(&run(&[
        "score",
        "--battery",
        BATTERY,
        "--input",
        input.to_str().expect("path"),
        "--strict",
    ]));
    let (header, out) = table(&scored);
    assert_eq!(out.len(), 2000);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (error, gac) = (col("error"), col("gac_index"));
    for r in &out {
        assert!(r[error].is_empty(), "{}: {}", &r[0], &r[error]);
        let index: i32 = r[gac].parse().expect("general index");
        assert!((40..=160).contains(&index));
    }
    // The demonstration norms are the model's: simulated children average near 100.
    let mean = out
        .iter()
        .map(|r| r[gac].parse::<f64>().expect("index"))
        .sum::<f64>()
        / 2000.0;
    assert!((mean - 100.0).abs() < 2.0, "mean general index {mean}");
}

#[test]
fn bad_arguments_stop_with_exit_2() {
    let o = run(&[
        "norms",
        "simulate",
        "--battery",
        "norms/nonexistent",
        "--n",
        "5",
        "--out",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "norms",
        "simulate",
        "--battery",
        BATTERY,
        "--n",
        "0",
        "--out",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// `--out` naming a file of the battery folder (here its model) is refused before anything is
/// written: the model survives.
#[test]
fn out_onto_the_model_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let repo = qabilet_e2e::repo().join(BATTERY);
    std::fs::create_dir(dir.path().join("items")).expect("mkdir");
    for file in ["battery.toml", "model.toml", "items/mr.json"] {
        std::fs::copy(repo.join(file), dir.path().join(file)).expect("copy");
    }
    let model = dir.path().join("model.toml");
    let before = std::fs::read(&model).expect("read");
    let o = run(&[
        "norms",
        "simulate",
        "--battery",
        dir.path().to_str().expect("utf-8"),
        "--n",
        "5",
        "--out",
        model.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--out") && stderr.contains("--battery") && stderr.contains("same file"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&model).expect("read"), before);
}
