//! The demonstration screener `norms/qabilet-screener-demo`: it loads; every item's key is the
//! option its rule gives, re-derived here from the pictures themselves (not from the
//! generator's bookkeeping); every difficulty is the stated linear logistic test model applied
//! to the item's features; and loading refuses broken content (norms/FORMATS.md, "Item content").

use std::collections::{BTreeMap, BTreeSet};

use qabilet_core::battery::Battery;
use qabilet_core::battery::content::{ContentFile, ItemContent, SubtestContent};
use qabilet_core::irt::ItemBank;
use qabilet_core::{NormFiles, NormSet};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../norms/qabilet-screener-demo");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The folder's files, read as the server's loader reads them.
fn files() -> NormFiles {
    let battery_toml = read("battery.toml");
    let battery = Battery::from_toml(&battery_toml).expect("battery.toml");
    let mut content = BTreeMap::new();
    for file in battery.content_files() {
        let text = read(file);
        for media in ContentFile::parse(file, &text).expect("content file").files() {
            content.insert(media.to_owned(), read(media).into_bytes());
        }
        content.insert(file.to_owned(), text.into_bytes());
    }
    NormFiles {
        item_banks: battery
            .item_bank_files()
            .into_iter()
            .map(|f| (f.to_owned(), read(f)))
            .collect(),
        battery_toml,
        subtests_csv: read("subtests.csv"),
        composites_csv: read("composites.csv"),
        reliability_csv: read("reliability.csv"),
        base_rates_csv: Some(read("base_rates.csv")),
        provenance_toml: read("provenance.toml"),
        content,
    }
}

fn norms() -> NormSet {
    NormSet::from_files(&files()).expect("the screener loads")
}

fn content<'a>(norms: &'a NormSet, subtest: &str) -> &'a SubtestContent {
    let s = norms.battery.subtest_index(subtest).expect("subtest");
    norms.content[s].as_deref().expect("content")
}

fn every_item(c: &SubtestContent) -> impl Iterator<Item = &ItemContent> {
    c.practice.iter().chain(&c.items)
}

/// The value of attribute `name` in `tag` (the text of one start tag or more).
fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = tag.find(&key).unwrap_or_else(|| panic!("no {name} in {tag}")) + key.len();
    &tag[start..start + tag[start..].find('"').expect("closed")]
}

/// The start tags of `svg` that contain `marker`, in order.
fn tags<'a>(svg: &'a str, marker: &str) -> Vec<&'a str> {
    svg.split('<')
        .filter(|t| t.contains(marker))
        .map(|t| t.split('>').next().expect("tag"))
        .collect()
}

#[test]
fn the_screener_loads_beside_its_norms() {
    let norms = norms();
    let ids: Vec<&str> = norms.battery.subtests.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["fm", "qs", "pf"]);
    assert_eq!(norms.battery.composites[0].id, "si");
    assert!(norms.adaptive[0].is_some(), "fm is adaptive");
    let minutes: u32 = ["fm", "qs", "pf"]
        .iter()
        .map(|s| content(&norms, s).time_limit_seconds)
        .sum::<u32>()
        / 60;
    assert!((30..=40).contains(&minutes), "{minutes} minutes in all");
    for s in ["fm", "qs", "pf"] {
        let c = content(&norms, s);
        assert_eq!(c.practice.len(), 2, "{s}: two practice items");
        assert!(
            c.svg[&c.example].contains("<animate"),
            "{s}: the worked example is animated"
        );
        for item in every_item(c) {
            assert!((4..=6).contains(&item.options.len()), "{}", item.id);
            for file in std::iter::once(&item.stimulus).chain(&item.options) {
                assert!(c.svg[file].len() < 8 * 1024, "{file} is small");
            }
        }
    }
    assert_eq!(
        norms.provenance.output_notice(),
        Some("demonstration norms — not for clinical decisions")
    );
}

/// Figure matrices: per attribute, the missing bottom-right value follows from the eight
/// cells by the rule they show — the same in every cell, constant in each row (take the
/// row's), constant in each column (a progression: take the column's), or each row a
/// permutation of the same three values (take the row's missing one).
fn matrix_answer(cells: &BTreeMap<(usize, usize), BTreeMap<&str, String>>, attribute: &str) -> String {
    let v = |r: usize, c: usize| cells[&(r, c)][attribute].clone();
    let rows_constant = (0..2).all(|r| v(r, 0) == v(r, 1) && v(r, 1) == v(r, 2)) && v(2, 0) == v(2, 1);
    let columns_constant =
        (0..3).all(|c| c == 2 || (v(0, c) == v(1, c) && v(1, c) == v(2, c))) && v(0, 2) == v(1, 2);
    if rows_constant {
        return v(2, 0);
    }
    if columns_constant {
        return v(0, 2);
    }
    let set: BTreeSet<String> = (0..3).map(|c| v(0, c)).collect();
    assert_eq!(set.len(), 3, "{attribute}: no rule fits");
    assert_eq!(
        (0..3).map(|c| v(1, c)).collect::<BTreeSet<_>>(),
        set,
        "{attribute}: not a distribution of three"
    );
    let mut left = set;
    left.remove(&v(2, 0));
    left.remove(&v(2, 1));
    assert_eq!(left.len(), 1, "{attribute}: not a distribution of three");
    left.into_iter().next().expect("one")
}

const FIGURE: [&str; 4] = ["shape", "count", "size", "shade"];

#[test]
fn figure_matrix_keys_follow_the_rules_in_the_pictures() {
    let norms = norms();
    let c = content(&norms, "fm");
    for item in every_item(c) {
        let stim = &c.svg[&item.stimulus];
        let cells: BTreeMap<(usize, usize), BTreeMap<&str, String>> = stim
            .split("<g class=\"cell\"")
            .skip(1)
            .map(|cell| {
                let pos = (
                    attr(cell, "data-row").parse().unwrap(),
                    attr(cell, "data-col").parse().unwrap(),
                );
                let fig = tags(cell, "class=\"figure\"")[0];
                (
                    pos,
                    FIGURE
                        .iter()
                        .map(|a| (*a, attr(fig, &format!("data-{a}")).to_owned()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(cells.len(), 8, "{}", item.id);
        let answer: Vec<String> = FIGURE.iter().map(|a| matrix_answer(&cells, a)).collect();
        let matching: Vec<usize> = item
            .options
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                let fig = tags(&c.svg[*o], "class=\"figure\"")[0];
                FIGURE
                    .iter()
                    .zip(&answer)
                    .all(|(a, v)| attr(fig, &format!("data-{a}")) == v)
            })
            .map(|(j, _)| j)
            .collect();
        assert_eq!(
            matching,
            [item.key],
            "{}: the options matching the rules",
            item.id
        );
    }
}

/// The options alone do not give the key away: neither the option holding the most common
/// value of every attribute nor the one closest to all others (in attributes changed) is the
/// key, so response elimination cannot replace the rules.
#[test]
fn figure_matrix_options_resist_response_elimination() {
    let norms = norms();
    let c = content(&norms, "fm");
    for item in every_item(c) {
        let figures: Vec<Vec<&str>> = item
            .options
            .iter()
            .map(|o| {
                let fig = tags(&c.svg[o], "class=\"figure\"")[0];
                FIGURE.iter().map(|a| attr(fig, &format!("data-{a}"))).collect()
            })
            .collect();
        let modal: Vec<&str> = (0..FIGURE.len())
            .map(|a| {
                let mut counts = BTreeMap::new();
                for f in &figures {
                    *counts.entry(f[a]).or_insert(0) += 1;
                }
                let top = counts.values().copied().max().expect("options");
                let tied: Vec<&str> = counts
                    .iter()
                    .filter(|(_, n)| **n == top)
                    .map(|(v, _)| *v)
                    .collect();
                if tied.len() == 1 { tied[0] } else { "" }
            })
            .collect();
        assert_ne!(
            figures[item.key], modal,
            "{}: the modal option is the key",
            item.id
        );
        let distance = |f: &Vec<&str>| -> usize {
            figures
                .iter()
                .map(|g| f.iter().zip(g).filter(|(x, y)| x != y).count())
                .sum()
        };
        let key_distance = distance(&figures[item.key]);
        assert!(
            figures.iter().any(|f| distance(f) < key_distance),
            "{}: the key is the option closest to all others",
            item.id
        );
    }
}

/// Quantity series: the next term of the dots counted in the stimulus, by every rule that fits
/// the four terms (constant difference, constant ratio, constant second difference, period-2
/// differences); all fitting rules must agree.
fn next_term(t: &[i64]) -> i64 {
    let d: Vec<i64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    let mut predictions = BTreeSet::new();
    if d.windows(2).all(|w| w[0] == w[1]) {
        predictions.insert(t[t.len() - 1] + d[0]);
    }
    if t.windows(2).all(|w| w[1] == 2 * w[0]) {
        predictions.insert(2 * t[t.len() - 1]);
    }
    if t.windows(2).all(|w| w[0] == 2 * w[1]) {
        predictions.insert(t[t.len() - 1] / 2);
    }
    let dd: Vec<i64> = d.windows(2).map(|w| w[1] - w[0]).collect();
    if dd.len() >= 2 && dd.windows(2).all(|w| w[0] == w[1]) {
        predictions.insert(t[t.len() - 1] + d[d.len() - 1] + dd[0]);
    }
    if d.len() >= 3 && d[0] == d[2] && d[0] != d[1] {
        predictions.insert(t[t.len() - 1] + d[1]);
    }
    assert_eq!(predictions.len(), 1, "{t:?}: predictions {predictions:?}");
    predictions.into_iter().next().expect("one")
}

#[test]
fn quantity_series_keys_continue_the_counted_dots() {
    let norms = norms();
    let c = content(&norms, "qs");
    let dots = |svg: &str| svg.matches("<circle class=\"dot\"").count() as i64;
    for item in every_item(c) {
        let terms: Vec<i64> = c.svg[&item.stimulus]
            .split("<g class=\"term\">")
            .skip(1)
            .map(dots)
            .collect();
        assert!(terms.len() >= 3, "{}", item.id);
        let next = next_term(&terms);
        let matching: Vec<usize> = (0..item.options.len())
            .filter(|&j| dots(&c.svg[&item.options[j]]) == next)
            .collect();
        assert_eq!(matching, [item.key], "{}: {terms:?} → {next}", item.id);
    }
}

/// The key's rank among the options' dot counts varies: "the middle one", "the biggest" or any
/// other rank finds at most 40 % of the keys.
#[test]
fn quantity_series_keys_sit_at_every_rank_of_the_options() {
    let norms = norms();
    let c = content(&norms, "qs");
    let dots = |svg: &str| svg.matches("<circle class=\"dot\"").count();
    let mut ranks = BTreeMap::new();
    let mut items = 0;
    for item in every_item(c) {
        let counts: Vec<usize> = item.options.iter().map(|o| dots(&c.svg[o])).collect();
        let rank = counts.iter().filter(|&&n| n < counts[item.key]).count();
        *ranks.entry(rank).or_insert(0) += 1;
        items += 1;
    }
    let most = ranks.values().copied().max().expect("items");
    assert!(5 * most <= 2 * items, "ranks of the key: {ranks:?}");
}

/// Paper folding: the holes punched in the folded sheet, mirrored across each fold line in
/// reverse order (the sheet on a 4×4 grid; a fold keeps the named half of the current region).
fn unfold(folds: &[&str], punched: &BTreeSet<(i64, i64)>) -> BTreeSet<(i64, i64)> {
    let mut regions = vec![(0, 4, 0, 4)];
    for f in folds {
        let (x0, x1, y0, y1) = *regions.last().expect("region");
        let (mx, my) = ((x0 + x1) / 2, (y0 + y1) / 2);
        regions.push(match *f {
            "L" => (x0, mx, y0, y1),
            "R" => (mx, x1, y0, y1),
            "U" => (x0, x1, y0, my),
            "D" => (x0, x1, my, y1),
            other => panic!("fold {other}"),
        });
    }
    let mut holes = punched.clone();
    for (f, (x0, x1, y0, y1)) in folds.iter().zip(&regions).rev() {
        let mirrored: Vec<(i64, i64)> = holes
            .iter()
            .map(|&(x, y)| {
                if matches!(*f, "L" | "R") {
                    (x0 + x1 - 1 - x, y)
                } else {
                    (x, y0 + y1 - 1 - y)
                }
            })
            .collect();
        holes.extend(mirrored);
    }
    holes
}

#[test]
fn paper_folding_keys_are_the_unfolded_punches() {
    let norms = norms();
    let c = content(&norms, "pf");
    let grid = |svg: &str, class: &str| -> BTreeSet<(i64, i64)> {
        tags(svg, &format!("class=\"{class}\""))
            .iter()
            .map(|t| {
                let cell = |a: &str| ((attr(t, a).parse::<f64>().unwrap() - 12.5) / 25.0).round() as i64;
                (cell("cx"), cell("cy"))
            })
            .collect()
    };
    for item in every_item(c) {
        let stim = &c.svg[&item.stimulus];
        let folds: Vec<&str> = tags(stim, "data-fold=")
            .iter()
            .map(|t| attr(t, "data-fold"))
            .collect();
        let punched = grid(stim, "punch");
        assert!(!folds.is_empty() && !punched.is_empty(), "{}", item.id);
        let expected = unfold(&folds, &punched);
        assert_eq!(
            expected.len(),
            punched.len() << folds.len(),
            "{}: every fold doubles the holes",
            item.id
        );
        let matching: Vec<usize> = (0..item.options.len())
            .filter(|&j| grid(&c.svg[&item.options[j]], "hole") == expected)
            .collect();
        assert_eq!(matching, [item.key], "{}: folds {folds:?}", item.id);
    }
}

/// b = c + Σ_k q_k η_k with the η of generator.toml [lltm.<subtest>] and the item's features.
fn lltm(generator: &toml::Table, subtest: &str, features: &BTreeMap<String, f64>) -> f64 {
    let model = generator["lltm"][subtest].as_table().expect("model");
    let eta = model["eta"].as_table().expect("eta");
    let float = |v: &toml::Value| v.as_float().expect("number");
    assert_eq!(
        features.keys().collect::<BTreeSet<_>>(),
        eta.keys().collect::<BTreeSet<_>>(),
        "{subtest}: the item states every feature of the model"
    );
    float(&model["c"]) + features.iter().map(|(k, q)| q * float(&eta[k])).sum::<f64>()
}

#[test]
fn difficulties_are_the_stated_lltm_of_the_item_features() {
    let norms = norms();
    let generator: toml::Table = read("generator.toml").parse().expect("generator.toml");
    // The adaptive bank.
    let bank = ItemBank::from_json(&read("items/fm.json")).expect("bank");
    let fm = content(&norms, "fm");
    assert_eq!(bank.items.len(), 40);
    for item in &bank.items {
        let features = &fm.item(&item.id).expect("content").features;
        let b = match item.model {
            qabilet_core::irt::ItemModel::Rasch { b } => b,
            ref other => panic!("{}: {other:?}", item.id),
        };
        let expected = lltm(&generator, "fm", features);
        assert!((b - expected).abs() < 1e-6, "{}: b {b} ≠ {expected}", item.id);
    }
    // Every scored item (fixed subtests too), as the sample was simulated.
    let params = read("standardisation/item_parameters.csv");
    let mut rows = 0;
    for line in params.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let item = content(&norms, f[0]).item(f[1]).expect("item");
        let expected = lltm(&generator, f[0], &item.features);
        assert!((f[2].parse::<f64>().unwrap() - expected).abs() < 1e-6, "{line}");
        rows += 1;
    }
    assert_eq!(rows, 40 + 15 + 15);
}

fn refused(change: impl FnOnce(&mut NormFiles)) -> String {
    let mut f = files();
    change(&mut f);
    NormSet::from_files(&f).expect_err("refused").to_string()
}

fn set_text(f: &mut NormFiles, path: &str, edit: impl FnOnce(String) -> String) {
    let text = String::from_utf8(f.content.remove(path).expect(path)).unwrap();
    f.content.insert(path.to_owned(), edit(text).into_bytes());
}

#[test]
fn loading_refuses_broken_content() {
    let e = refused(|f| set_text(f, "content/qs.toml", |t| t.replacen("key = ", "key = 9", 1)));
    assert!(e.starts_with("content/qs.toml:") && e.contains("key 9"), "{e}");
    let e = refused(|f| {
        f.content.remove("content/pf/pf03-2.svg");
    });
    assert!(
        e.contains("content/pf.toml") && e.contains("'content/pf/pf03-2.svg' is missing"),
        "{e}"
    );
    let e = refused(|f| {
        f.content.remove("content/fm.toml");
    });
    assert!(e.contains("item content of subtest 'fm' is missing"), "{e}");
    // An item of battery.toml without content, and content for no item of battery.toml.
    let e = refused(|f| f.battery_toml = f.battery_toml.replace("\"qs15\"", "\"qs16\""));
    assert!(e.contains("item 'qs16' of subtest 'qs' has no content"), "{e}");
    let e = refused(|f| {
        set_text(f, "content/qs.toml", |t| {
            let first = &t[t.find("[[item]]\nid = \"qs01\"").unwrap()..];
            let first = &first[..first.find("\n\n").unwrap()];
            format!("{t}\n{}\n", first.replace("qs01\"", "qs99\""))
        })
    });
    assert!(e.contains("item 'qs99' is not an item of subtest 'qs'"), "{e}");
    let e = refused(|f| {
        f.content
            .insert("content/extra.svg".into(), b"<svg viewBox=\"0 0 1 1\"/>".to_vec());
    });
    assert!(
        e.starts_with("content/extra.svg") && e.contains("names this file"),
        "{e}"
    );
}

#[test]
fn loading_refuses_an_unsafe_picture_with_its_file_and_line() {
    let svg = "content/fm/fm01.svg";
    for (attack, reason) in [
        ("<script>alert(1)</script>", "<script>"),
        ("<g onload=\"alert(1)\"/>", "onload"),
        ("<use href=\"https://example.org/x.svg#a\"/>", "same-document"),
        ("<foreignObject><p/></foreignObject>", "<foreignObject>"),
    ] {
        let e = refused(|f| set_text(f, svg, |t| t.replacen("</svg>", &format!("\n{attack}</svg>"), 1)));
        assert!(
            e.starts_with(&format!("{svg}:2: ")) && e.contains(reason),
            "{attack}: {e}"
        );
    }
    let e = refused(|f| {
        set_text(f, svg, |t| {
            t.replacen("</svg>", &format!("<g>{}</g></svg>", " ".repeat(70_000)), 1)
        })
    });
    assert!(e.starts_with(svg) && e.contains("limit"), "{e}");
}

#[test]
fn the_norm_set_hash_covers_the_content() {
    let base = files();
    let mut changed = base.clone();
    set_text(&mut changed, "content/pf/pf01-1.svg", |t| {
        t.replacen("<rect", "<rect ", 1)
    });
    assert_ne!(base.hash(), changed.hash());
    assert_ne!(
        NormSet::from_files(&base).unwrap().id.hash,
        NormSet::from_files(&changed).unwrap().id.hash
    );
}

#[test]
fn a_choice_scores_one_only_for_the_key() {
    let norms = norms();
    for s in ["fm", "qs", "pf"] {
        for item in &content(&norms, s).items {
            let scores: Vec<u16> = (0..item.options.len()).map(|j| item.score(j).unwrap()).collect();
            assert_eq!(scores.iter().sum::<u16>(), 1);
            assert_eq!(scores[item.key], 1);
            assert!(item.score(item.options.len()).is_err());
        }
    }
}
