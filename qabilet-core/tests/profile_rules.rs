//! Rules of forming composites and checking records, on the demonstration battery with
//! small edits: substitution before proration (never both), substitutes assigned so that
//! every missing member gets one where that is possible, limits validated at load, and
//! records that can never be scored rejected rather than clamped.

use qabilet_core::age::parse_date;
use qabilet_core::profile::Basis;
use qabilet_core::scale::percentile_one_decimal;
use qabilet_core::{NormFiles, NormSet, RowError, ScoreRequest, ScoringOptions};

fn demo_files() -> NormFiles {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-primary-demo");
    let read = |n: &str| std::fs::read_to_string(format!("{dir}/{n}")).expect("demo file");
    NormFiles {
        battery_toml: read("battery.toml"),
        subtests_csv: read("subtests.csv"),
        composites_csv: read("composites.csv"),
        reliability_csv: read("reliability.csv"),
        base_rates_csv: Some(read("base_rates.csv")),
        provenance_toml: read("provenance.toml"),
        item_banks: [("items/mr.json".to_owned(), read("items/mr.json"))].into(),
        content: Default::default(),
    }
}

/// The demo battery with its `gac` substitution list and limit replaced.
fn with_gac_substitutions(list: &str, max: usize) -> NormFiles {
    let mut files = demo_files();
    let toml = &files.battery_toml;
    let start = toml
        .find("substitutions = [\n  { replace = \"sim\"")
        .expect("gac substitutions");
    let end =
        start + toml[start..].find("max_substitutions = 1").expect("limit") + "max_substitutions = 1".len();
    files.battery_toml = format!(
        "{}substitutions = [{list}]\nmax_substitutions = {max}{}",
        &toml[..start],
        &toml[end..]
    );
    files
}

/// Raw scores (ids given; others not administered) of a 9-year-old.
fn score<'n>(norms: &'n NormSet, raw: &[(&str, &str)]) -> qabilet_core::Profile<'n> {
    let request = ScoreRequest::parse(norms, "2017-01-10", "2026-03-02", raw.iter().copied()).expect("valid");
    norms.score(&request, &ScoringOptions::default())
}

const ALL_BUT_SIM_VOC: [(&str, &str); 10] = [
    ("inf", "15"),
    ("mr", "15"),
    ("fw", "15"),
    ("bd", "20"),
    ("vp", "12"),
    ("qr", "14"),
    ("ar", "15"),
    ("ds", "13"),
    ("cd", "35"),
    ("ss", "20"),
];

#[test]
fn substitutes_are_assigned_so_every_missing_member_gets_one() {
    // sim prefers inf, but then voc (which only inf can replace) would have none: the rule
    // must give sim fw and voc inf.
    let files = with_gac_substitutions(
        r#"{ replace = "sim", with = "inf" }, { replace = "sim", with = "fw" }, { replace = "voc", with = "inf" }"#,
        2,
    );
    let norms = NormSet::from_files(&files).expect("loads");
    let profile = score(&norms, &ALL_BUT_SIM_VOC);
    let gac = profile.composites.iter().find(|c| c.id == "gac").unwrap();
    let value = gac.value.as_ref().expect("gac computed by substitution");
    assert_eq!(value.basis, Basis::Substituted);
    let pairs: Vec<(&str, &str)> = gac.substituted.iter().map(|s| (s.replaced, s.with)).collect();
    assert_eq!(pairs, [("sim", "fw"), ("voc", "inf")]);
    // The sum counts the substitutes' scaled scores.
    let scaled = |id: &str| profile.subtests.iter().find(|s| s.id == id).unwrap().scaled;
    let members = ["mr", "bd", "qr", "ds", "cd"].map(scaled).iter().sum::<i32>();
    assert_eq!(value.sum, members + scaled("fw") + scaled("inf"));
}

#[test]
fn two_missing_with_one_substitution_allowed_is_not_computed() {
    let norms = NormSet::from_files(&demo_files()).unwrap();
    let profile = score(&norms, &ALL_BUT_SIM_VOC);
    let gac = profile.composites.iter().find(|c| c.id == "gac").unwrap();
    // One substitution allowed, one member prorated allowed, never both: not computed.
    assert!(gac.value.is_none());
    assert_eq!(gac.missing, ["sim", "voc"]);
    assert!(gac.substituted.is_empty());
    let vci = profile.composites.iter().find(|c| c.id == "vci").unwrap();
    assert!(vci.value.is_none());
}

#[test]
fn one_missing_member_is_substituted_else_prorated() {
    let norms = NormSet::from_files(&demo_files()).unwrap();
    let mut raw = ALL_BUT_SIM_VOC.to_vec();
    raw.push(("sim", "20"));
    let profile = score(&norms, &raw);
    let gac = profile.composites.iter().find(|c| c.id == "gac").unwrap();
    assert_eq!(gac.value.as_ref().unwrap().basis, Basis::Substituted);

    raw.retain(|(id, _)| *id != "inf");
    let profile = score(&norms, &raw);
    let gac = profile.composites.iter().find(|c| c.id == "gac").unwrap();
    let value = gac.value.as_ref().unwrap();
    assert_eq!(value.basis, Basis::Prorated);
    assert_eq!(gac.missing, ["voc"]);
    let scaled = |id: &str| profile.subtests.iter().find(|s| s.id == id).unwrap().scaled;
    let six = ["sim", "mr", "bd", "qr", "ds", "cd"]
        .map(scaled)
        .iter()
        .sum::<i32>();
    assert_eq!(value.sum, qabilet_core::profile::prorate(six, 7, 1));
}

#[test]
fn substitution_limits_are_checked_at_load() {
    let err =
        NormSet::from_files(&with_gac_substitutions(r#"{ replace = "sim", with = "inf" }"#, 3)).unwrap_err();
    assert_eq!(err.file, "battery.toml");
    assert!(
        err.reason.contains("max_substitutions 3 must not exceed"),
        "{err}"
    );
}

#[test]
fn scales_must_be_finite_with_the_mean_inside() {
    let original = "index  = { mean = 100, sd = 15, min = 40, max = 160 }";
    for bad in [
        "index  = { mean = 100, sd = inf, min = 40, max = 160 }",
        "index  = { mean = 100, sd = 0, min = 40, max = 160 }",
        "index  = { mean = 200, sd = 15, min = 40, max = 160 }",
        "index  = { mean = 100, sd = 15, min = 40, max = 40000 }",
    ] {
        let mut files = demo_files();
        assert!(files.battery_toml.contains(original), "demo layout changed");
        files.battery_toml = files.battery_toml.replace(original, bad);
        let err = NormSet::from_files(&files).unwrap_err();
        assert!(err.reason.contains("scales.index"), "{bad}: {err}");
    }
}

#[test]
fn ids_that_would_collide_with_output_columns_are_rejected() {
    let mut files = demo_files();
    files.battery_toml = files.battery_toml.replace("id = \"inf\"", "id = \"notice\"");
    let err = NormSet::from_files(&files).unwrap_err();
    assert!(
        err.reason.contains("clashes with an input or output column"),
        "{err}"
    );
}

#[test]
fn absurd_ages_and_raw_scores_are_errors_not_wraparounds() {
    let norms = NormSet::from_files(&demo_files()).unwrap();
    let err = ScoreRequest::parse(&norms, "2000-01-01", "7469-09-01", [("sim", "20")]).unwrap_err();
    assert!(
        matches!(err, RowError::Age(qabilet_core::AgeError::OutsideNorms { .. })),
        "{err}"
    );
    let err = ScoreRequest::parse(
        &norms,
        "2017-01-10",
        "2026-03-02",
        [("sim", "12345678901234567890123")],
    )
    .unwrap_err();
    assert!(matches!(err, RowError::RawOutOfRange { .. }), "{err}");
    let err = ScoreRequest::parse(&norms, "2017-01-10", "2026-03-02", [("sim", "+3")]).unwrap_err();
    assert!(matches!(err, RowError::RawNotWhole { .. }), "{err}");
    assert!(parse_date("2026-02-29").is_err());
}

#[test]
fn percentiles_are_written_to_one_decimal_half_away_within_the_open_range() {
    assert_eq!(percentile_one_decimal(3.25), 3.3);
    assert_eq!(percentile_one_decimal(0.04), 0.1);
    assert_eq!(percentile_one_decimal(99.95), 99.9);
    assert_eq!(percentile_one_decimal(50.0), 50.0);
}
