//! `qabilet report` end to end: a child of `examples/children.csv` scored by the real binary
//! (`qabilet score --format json`), then reported as HTML and PDF in Kazakh, Russian and
//! English. The PDF is opened with an independent reader (lopdf): it must have pages, and its
//! first page must carry the child's code and the profile chart (axis labels as text, bands and
//! dots as vector paths). Bad input must stop with exit code 2 and name the file.

use std::path::{Path, PathBuf};
use std::process::Output;

use qabilet_e2e::qabilet;

const CHILD: &str = "child-003";
const NOTICE: &str = "demonstration norms — not for clinical decisions";

fn run(args: &[&str]) -> Output {
    qabilet().args(args).output().expect("run qabilet")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The example children scored as JSON Lines in a fresh folder.
fn scored() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("scored.jsonl");
    let o = run(&[
        "score",
        "--battery",
        "norms/qabilet-primary-demo",
        "--input",
        "examples/children.csv",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, out)
}

fn report(input: &Path, lang: &str, format: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "report",
        "--input",
        input.to_str().unwrap(),
        "--lang",
        lang,
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The axis title of the chart in a language, read from its text file.
fn axis_title(lang: &str) -> String {
    let ftl = std::fs::read_to_string(qabilet_e2e::repo().join(format!("norms/guidance/texts/{lang}.ftl")))
        .unwrap();
    ftl.lines()
        .find_map(|l| l.strip_prefix("chart-axis = "))
        .expect("chart-axis")
        .to_owned()
}

/// The text of a page: every string shown by `Tj`/`TJ`, mapped to Unicode through its font's
/// `ToUnicode` CMap (lopdf's own extractor does not read the PostScript comments that open
/// the CMaps of krilla; this reads only the `bfchar`/`bfrange` tables, as PDF 32000 §9.10.3
/// defines them, and treats codes as two bytes, as Identity-H fonts use them).
fn page_text(doc: &lopdf::Document, page: lopdf::ObjectId) -> String {
    use std::collections::HashMap;
    fn hex(s: &str) -> Vec<u16> {
        let s = s.trim_matches(|c| c == '<' || c == '>');
        (0..s.len() / 4)
            .map(|i| u16::from_str_radix(&s[4 * i..4 * i + 4], 16).unwrap())
            .collect()
    }
    let mut maps: HashMap<Vec<u8>, HashMap<u16, String>> = HashMap::new();
    for (name, font) in doc.get_page_fonts(page).expect("fonts") {
        let mut map = HashMap::new();
        if let Ok(id) = font.get(b"ToUnicode").and_then(|o| o.as_reference()) {
            let stream = doc.get_object(id).unwrap().as_stream().unwrap();
            let data = stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone());
            let cmap = String::from_utf8_lossy(&data).into_owned();
            let mut mode = "";
            for line in cmap.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [_, "beginbfchar"] => mode = "char",
                    [_, "beginbfrange"] => mode = "range",
                    ["endbfchar"] | ["endbfrange"] => mode = "",
                    [src, dst] if mode == "char" => {
                        map.insert(hex(src)[0], String::from_utf16_lossy(&hex(dst)));
                    }
                    [lo, hi, dst] if mode == "range" => {
                        let (lo, hi, dst) = (hex(lo)[0], hex(hi)[0], hex(dst));
                        for (k, code) in (lo..=hi).enumerate() {
                            let mut units = dst.clone();
                            *units.last_mut().unwrap() += k as u16;
                            map.insert(code, String::from_utf16_lossy(&units));
                        }
                    }
                    _ => {}
                }
            }
        }
        maps.insert(name, map);
    }
    let content = doc.get_and_decode_page_content(page).expect("content");
    let empty = HashMap::new();
    let mut font = &empty;
    let mut text = String::new();
    let show = |bytes: &[u8], font: &HashMap<u16, String>, text: &mut String| {
        for pair in bytes.chunks(2) {
            let code = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            text.push_str(font.get(&code).map_or("\u{fffd}", String::as_str));
        }
    };
    for op in &content.operations {
        match op.operator.as_str() {
            "Tf" => font = maps.get(op.operands[0].as_name().unwrap()).unwrap_or(&empty),
            "Tj" => show(op.operands[0].as_str().unwrap(), font, &mut text),
            "TJ" => {
                for item in op.operands[0].as_array().unwrap() {
                    if let Ok(bytes) = item.as_str() {
                        show(bytes, font, &mut text);
                    }
                }
            }
            "ET" => text.push('\n'),
            _ => {}
        }
    }
    text
}

#[test]
fn html_and_pdf_in_three_languages_carry_the_child_the_chart_and_the_notice() {
    let (dir, input) = scored();
    for lang in ["kk", "ru", "en"] {
        let html_path = dir.path().join(format!("{CHILD}.{lang}.html"));
        let o = report(&input, lang, "html", &html_path, &["--id", CHILD]);
        assert!(o.status.success(), "{lang}: {}", stderr(&o));
        let html = std::fs::read_to_string(&html_path).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        assert!(html.contains(CHILD));
        assert!(html.contains("<svg") && html.contains("</svg>"));
        assert!(html.contains("class=\"notice\""));
        assert!(html.contains(NOTICE));
        assert!(html.contains(&axis_title(lang)));
        assert!(html.contains("<details class=\"trace\">"));

        let pdf_path = dir.path().join(format!("{CHILD}.{lang}.pdf"));
        let o = report(&input, lang, "pdf", &pdf_path, &["--id", CHILD]);
        assert!(o.status.success(), "{lang}: {}", stderr(&o));
        let bytes = std::fs::read(&pdf_path).unwrap();
        let doc = lopdf::Document::load_mem(&bytes).expect("the PDF opens");
        let pages = doc.get_pages();
        assert!(!pages.is_empty());
        let text = page_text(&doc, pages[&1]);
        assert!(text.contains(CHILD), "{lang}: no child code on page 1:\n{text}");
        for label in ["40", "100", "160"] {
            assert!(text.contains(label), "{lang}: axis label {label}");
        }
        assert!(
            text.contains(&axis_title(lang)),
            "{lang}: chart axis title on page 1"
        );
        // The chart as vector drawing: per index a filled band and a dot of four Bézier curves
        // (7 indexes, plus the legend and the average range), and the stroked grid lines.
        let content = doc
            .get_and_decode_page_content(pages[&1])
            .expect("page 1 content");
        let count = |op: &str| content.operations.iter().filter(|o| o.operator == op).count();
        assert!(count("f") >= 2 * 7 + 2, "{lang}: filled paths {}", count("f"));
        assert!(count("c") >= 4 * 7, "{lang}: curves {}", count("c"));
        assert!(count("S") >= 9, "{lang}: grid lines {}", count("S"));
        assert!(
            !dir.path().join(format!("{CHILD}.{lang}.pdf.partial")).exists(),
            "no partial file left"
        );
    }
}

#[test]
fn json_lists_item_ids_and_edits_show_in_the_page() {
    let (dir, input) = scored();
    let json_path = dir.path().join("report.json");
    let o = report(&input, "en", "json", &json_path, &["--id", CHILD]);
    assert!(o.status.success(), "{}", stderr(&o));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(value["report"]["record_id"], CHILD);
    let ids: Vec<&str> = value["item_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ids.contains(&"referral") && ids.contains(&"caveats/caveat-demonstration"));

    let edits = dir.path().join("edits.json");
    std::fs::write(
        &edits,
        r#"{"referral":{"text":"We will talk about the second stage at the next meeting.","author":"A. Psychologist","time":"2026-05-15T10:30:00Z"}}"#,
    )
    .unwrap();
    let html_path = dir.path().join("edited.html");
    let o = report(
        &input,
        "en",
        "html",
        &html_path,
        &["--id", CHILD, "--edits", edits.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&html_path).unwrap();
    let edited = html
        .find("We will talk about the second stage")
        .expect("edit shown");
    let generated = html[edited..]
        .find("Generated text")
        .expect("generated text kept");
    assert!(generated > 0);

    std::fs::write(
        &edits,
        r#"{"strengths/nowhere":{"text":"x","author":"a","time":"t"}}"#,
    )
    .unwrap();
    let o = report(
        &input,
        "en",
        "html",
        &html_path,
        &["--id", CHILD, "--edits", edits.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("edits.json") && stderr(&o).contains("strengths/nowhere"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_input_stops_with_exit_code_2_naming_the_file() {
    let (dir, input) = scored();
    let out = dir.path().join("out.html");

    let o = report(&input, "de", "html", &out, &["--id", CHILD]);
    assert_eq!(o.status.code(), Some(2), "unknown language");
    assert!(stderr(&o).contains("--lang"), "{}", stderr(&o));

    let o = report(&input, "en", "html", &out, &[]);
    assert_eq!(o.status.code(), Some(2), "several records without --id");
    assert!(
        stderr(&o).contains("scored.jsonl") && stderr(&o).contains("--id"),
        "{}",
        stderr(&o)
    );

    let o = report(&input, "en", "html", &out, &["--id", "child-999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("child-999"), "{}", stderr(&o));

    let text = std::fs::read_to_string(&input).unwrap();
    let line = text.lines().find(|l| l.contains(CHILD)).unwrap();
    let hash = line
        .split("\"hash\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let other = dir.path().join("other-norms.json");
    std::fs::write(&other, line.replace(hash, "sha256:0000")).unwrap();
    let o = report(&other, "en", "html", &out, &[]);
    assert_eq!(o.status.code(), Some(2), "norm-set hash mismatch");
    assert!(
        stderr(&o).contains("other-norms.json") && stderr(&o).contains("sha256:0000"),
        "{}",
        stderr(&o)
    );

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"id\": \"child-001\", \"norm_set\": \n").unwrap();
    let o = report(&broken, "en", "pdf", &out, &[]);
    assert_eq!(o.status.code(), Some(2), "malformed JSON");
    assert!(stderr(&o).contains("broken.json"), "{}", stderr(&o));

    assert!(!out.exists(), "nothing written on failure");
}

/// `--out` naming the scored input is refused before anything is written: the records survive.
#[test]
fn out_onto_its_input_is_refused() {
    let (_dir, input) = scored();
    let before = std::fs::read(&input).unwrap();
    let o = report(&input, "en", "html", &input, &["--id", CHILD]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--out") && stderr(&o).contains("--input") && stderr(&o).contains("same file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// A symbolic link planted where a partial file could be written (`<out>.partial`) is never
/// followed: the file it points to is unchanged, the report lands at `--out` as a regular
/// file, and no partial file is left behind.
#[cfg(unix)]
#[test]
fn a_planted_partial_link_is_not_followed() {
    let (dir, input) = scored();
    let out = dir.path().join("report.html");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let planted = dir.path().join("report.html.partial");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let o = report(&input, "en", "html", &out, &["--id", CHILD]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(&out).unwrap();
    assert!(meta.file_type().is_file(), "--out is a regular file");
    assert!(std::fs::read_to_string(&out).unwrap().contains(CHILD));
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["report.html", "report.html.partial", "scored.jsonl", "victim.txt"],
        "only the planted link besides the outputs"
    );
}
