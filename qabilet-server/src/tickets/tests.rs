//! The ticket sheets as a reader sees them: the PDF opened with an independent reader
//! (lopdf), its text extracted, and the QR codes as drawn decoded with an independent decoder
//! (rqrr).

use std::collections::BTreeSet;

use qabilet_core::report::Arg;

use super::layout::{self, Mark};
use super::*;

fn class(cohort: &str, class: &str, n: usize) -> TicketSheet {
    TicketSheet {
        cohort: cohort.into(),
        class: class.into(),
        cards: (0..n)
            .map(|i| {
                let ticket = format!("{}{i:03}Q-M9TRD", &class[..1]);
                TicketCard {
                    code: format!("KZ-{class}-{i:03}"),
                    name: if i % 2 == 0 {
                        format!("Бала {i}")
                    } else {
                        String::new()
                    },
                    url: format!("https://qabilet.example.kz/take?ticket={ticket}"),
                    ticket,
                }
            })
            .collect(),
    }
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
fn each_class_starts_a_page_and_every_code_and_ticket_is_in_the_text() {
    let sheets = [class("Школа 54", "2Ә", 23), class("Школа 54", "3Б", 3)];
    for lang in Lang::ALL {
        let pdf = ticket_sheets_pdf(&sheets, lang).unwrap();
        assert!(pdf.len() < 300_000, "fonts are subset: {} bytes", pdf.len());
        let doc = lopdf::Document::load_mem(&pdf).expect("the PDF opens");
        let pages = doc.get_pages();
        assert_eq!(pages.len(), 3 + 1, "{lang:?}: 23 cards on 3 pages, 3 on one");
        let texts = texts(lang).unwrap();
        let number = |page: i64, pages: i64| {
            texts
                .format(
                    "ticket-page",
                    &[("page", &Arg::Int(page)), ("pages", &Arg::Int(pages))],
                )
                .unwrap()
        };
        let text: Vec<String> = (1..=4).map(|n| page_text(&doc, pages[&n])).collect();
        for (n, expected) in [(0, number(1, 3)), (2, number(3, 3)), (3, number(1, 1))] {
            assert!(text[n].contains(&expected), "{lang:?} page {}: {expected}", n + 1);
        }
        assert!(text[0].contains("Школа 54") && text[0].contains("2Ә"));
        assert!(
            text[3].contains("3Б") && !text[3].contains("2Ә"),
            "3Б starts its own page"
        );
        let label = texts.text("ticket-ticket").unwrap();
        assert_eq!(
            text[0].matches(label.as_str()).count(),
            10,
            "ten cards on a full page"
        );
        assert_eq!(text[2].matches(label.as_str()).count(), 3);
        let all = text.concat();
        for sheet in &sheets {
            for card in &sheet.cards {
                assert!(all.contains(&card.ticket), "{lang:?}: {}", card.ticket);
                assert!(all.contains(&card.code), "{lang:?}: {}", card.code);
            }
        }
        assert!(all.contains("Бала 22"));
    }
}

#[test]
fn card_labels_are_in_the_language() {
    let sheets = [class("C", "1A", 1)];
    for (lang, words) in [
        (Lang::Kk, ["Код", "Билет", "Сынып"]),
        (Lang::Ru, ["Код", "Билет", "Класс"]),
        (Lang::En, ["Code", "Ticket", "Class"]),
    ] {
        let doc = lopdf::Document::load_mem(&ticket_sheets_pdf(&sheets, lang).unwrap()).unwrap();
        let text = page_text(&doc, doc.get_pages()[&1]);
        for word in words {
            assert!(text.contains(word), "{lang:?}: {word} in\n{text}");
        }
    }
}

/// The QR marks of a laid-out page, filled into a white bitmap of `scale` pixels per point
/// and cut to the rectangle `clip` (points), as a camera held over one card sees it.
fn rasterise(marks: &[Mark], scale: f32, clip: (f32, f32, f32, f32)) -> (usize, usize, Vec<bool>) {
    let px = |v: f32| (v * scale).round() as usize;
    let (w, h) = (px(clip.2), px(clip.3));
    let mut bitmap = vec![false; w * h];
    for mark in marks {
        if let Mark::Qr { rects, .. } = mark {
            for &(x, y, rw, rh) in rects {
                let (x, y) = (x - clip.0, y - clip.1);
                if x < 0.0 || y < 0.0 || x + rw > clip.2 || y + rh > clip.3 {
                    continue;
                }
                for row in px(y)..px(y + rh) {
                    bitmap[row * w + px(x)..row * w + px(x + rw)].fill(true);
                }
            }
        }
    }
    (w, h, bitmap)
}

#[test]
fn the_qr_code_on_each_card_decodes_to_its_url() {
    let sheet = class("C", "4В", 10);
    let pages = layout::layout(std::slice::from_ref(&sheet), &texts(Lang::Kk).unwrap()).unwrap();
    for (slot, card) in sheet.cards.iter().enumerate() {
        // About 4 pixels per module (1.5 px/pt), as a tablet camera sees a printed card.
        let (w, h, bitmap) = rasterise(&pages[0], 1.5, layout::card_rect(slot));
        let mut image = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bitmap[y * w + x]);
        let decoded: Vec<String> = image
            .detect_grids()
            .iter()
            .map(|grid| grid.decode().expect("the code decodes").1)
            .collect();
        assert_eq!(decoded, vec![card.url.clone()], "slot {slot}");
    }
}

#[test]
fn no_classes_is_an_error_and_a_class_without_children_gets_one_page() {
    assert!(matches!(
        ticket_sheets_pdf(&[], Lang::Kk),
        Err(TicketPdfError::NoSheets)
    ));
    let sheets = [class("C", "1A", 0), class("C", "1B", 2)];
    let doc = lopdf::Document::load_mem(&ticket_sheets_pdf(&sheets, Lang::Ru).unwrap()).unwrap();
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 2);
    let first = page_text(&doc, pages[&1]);
    assert!(
        first.contains("1A") && first.contains("В этом классе нет детей."),
        "{first}"
    );
    assert!(page_text(&doc, pages[&2]).contains("KZ-1B-001"));
}

#[test]
fn the_three_files_have_exactly_the_keys_used() {
    for (lang, file, source) in SOURCES {
        let keys: BTreeSet<&str> = source
            .lines()
            .filter_map(|l| l.split_once(" ="))
            .map(|(k, _)| k.trim())
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
            .collect();
        assert_eq!(keys, KEYS.iter().copied().collect(), "{file}");
        let texts = texts(lang).unwrap();
        for key in KEYS.iter().filter(|k| **k != "ticket-page") {
            assert!(!texts.text(key).unwrap().is_empty(), "{file}: {key}");
        }
    }
}
