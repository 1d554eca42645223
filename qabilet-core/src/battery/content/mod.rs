//! Item content of a self-administered subtest: what the child sees and how a choice is
//! scored, read from `content/<subtest>.toml` and the SVG (and optional audio) files it names
//! (norms/FORMATS.md, "Item content").
//!
//! Every item is multiple choice: a stimulus picture, two to eight option pictures, and the
//! key, the 0-based index of the one correct option; choosing it scores 1, any other option 0
//! ([`ItemContent::score`]). Practice items (`practice = true`) are given with feedback before
//! the scored items and never scored; an animated worked example shows the task being solved,
//! so the instructions need no reading. Recorded instructions per language are optional.
//!
//! [`ContentFile::parse`] reads one file's text (syntax, paths, keys in range, ids unique);
//! [`SubtestContent::new`] checks it against the subtest of `battery.toml` and the files it
//! names: every item of the subtest has content and every scored content item is an item of
//! the subtest, every named file is present, and every SVG passes [`check_svg`].

mod svg;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use toml::Spanned;

pub use svg::{ALLOWED_ELEMENTS, MAX_SVG_BYTES, SvgError, check_svg};

use super::Subtest;
use crate::text::Lang;

/// Extensions accepted for recorded audio (Ogg Vorbis/Opus, MP3, AAC in MP4).
pub const AUDIO_EXTENSIONS: &[&str] = &["ogg", "opus", "mp3", "m4a"];

/// Fewest and most options of an item.
pub const OPTIONS: Range<usize> = 2..9;

/// A problem in an item content file or a file it names, with the line when known.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ContentError {
    /// Path within the battery folder, e.g. `content/fm.toml` or `content/fm/fm01.svg`.
    pub file: String,
    /// 1-based line, when the problem can be pinned to one.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl ContentError {
    fn at(file: &str, text: &str, span: Range<usize>, reason: impl Into<String>) -> Self {
        ContentError {
            file: file.to_owned(),
            line: Some(crate::source::line_at(text, span.start)),
            reason: reason.into(),
        }
    }

    fn in_file(file: &str, reason: impl Into<String>) -> Self {
        ContentError {
            file: file.to_owned(),
            line: None,
            reason: reason.into(),
        }
    }
}

/// A choice that is not one of the item's options.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("item '{item}' has options 0 … {}, not {choice}", options - 1)]
pub struct ChoiceError {
    /// The item.
    pub item: String,
    /// The option chosen.
    pub choice: usize,
    /// How many options the item has.
    pub options: usize,
}

/// Recorded audio per language; each language optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audio {
    /// Kazakh recording.
    pub kk: Option<String>,
    /// Russian recording.
    pub ru: Option<String>,
    /// English recording.
    pub en: Option<String>,
}

impl Audio {
    /// The recording in `lang`, if there is one.
    pub fn get(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Kk => self.kk.as_deref(),
            Lang::Ru => self.ru.as_deref(),
            Lang::En => self.en.as_deref(),
        }
    }

    fn files(&self) -> impl Iterator<Item = &str> {
        Lang::ALL.into_iter().filter_map(|l| self.get(l))
    }
}

/// One multiple-choice item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemContent {
    /// Item id: for a scored item, its id in `battery.toml`.
    pub id: String,
    /// A practice item: given with feedback, never scored, not an item of `battery.toml`.
    pub practice: bool,
    /// The stimulus picture (an SVG path within the battery folder).
    pub stimulus: String,
    /// The option pictures, in display order.
    pub options: Vec<String>,
    /// 0-based index of the correct option.
    pub key: usize,
    /// Recorded prompt per language (optional).
    pub audio: Audio,
    /// Counts of the item's difficulty features, as the item generator states them (the
    /// rows of a Q-matrix for a linear logistic test model); empty when not stated.
    pub features: BTreeMap<String, f64>,
}

impl ItemContent {
    /// The item score of choosing option `choice`: 1 for the key, else 0.
    ///
    /// # Errors
    /// [`ChoiceError`] when the item has no option `choice`.
    pub fn score(&self, choice: usize) -> Result<u16, ChoiceError> {
        if choice >= self.options.len() {
            return Err(ChoiceError {
                item: self.id.clone(),
                choice,
                options: self.options.len(),
            });
        }
        Ok(u16::from(choice == self.key))
    }

    fn files(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.stimulus.as_str())
            .chain(self.options.iter().map(String::as_str))
            .chain(self.audio.files())
    }
}

/// An item content file as read, checked on its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentFile {
    /// The subtest the file belongs to.
    pub subtest: String,
    /// Time limit of the whole subtest when self-administered, in seconds (practice items
    /// and the worked example not counted).
    pub time_limit_seconds: u32,
    /// The animated worked example (SVG).
    pub example: String,
    /// Recorded instructions per language (optional).
    pub instructions_audio: Audio,
    /// Items in file order, practice items included.
    pub items: Vec<ItemContent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    subtest: Spanned<String>,
    time_limit_seconds: Spanned<u32>,
    example: Spanned<String>,
    instructions_audio: Option<Spanned<Audio>>,
    item: Vec<Spanned<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    #[serde(default)]
    practice: bool,
    stimulus: String,
    options: Vec<String>,
    key: usize,
    #[serde(default)]
    audio: Audio,
    #[serde(default)]
    features: BTreeMap<String, f64>,
}

impl ContentFile {
    /// Parses the text of content file `file` (its path, for messages).
    ///
    /// # Errors
    /// [`ContentError`] with the line: TOML syntax, unknown or missing fields, a blank or
    /// repeated item id, fewer than 2 or more than 8 options, a key that is not an option's
    /// index, a path that is not a plain relative path under `content/` with the right
    /// extension (`.svg` for pictures, [`AUDIO_EXTENSIONS`] for audio), a negative or
    /// non-finite feature count, no scored item, a zero time limit.
    pub fn parse(file: &str, text: &str) -> Result<Self, ContentError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ContentError {
            file: file.to_owned(),
            line: e.span().map(|s| crate::source::line_at(text, s.start)),
            reason: e.message().to_owned(),
        })?;
        let err = |span: Range<usize>, reason: String| ContentError::at(file, text, span, reason);
        if *raw.time_limit_seconds.get_ref() == 0 {
            return Err(err(
                raw.time_limit_seconds.span(),
                "time_limit_seconds must be positive".into(),
            ));
        }
        check_path(raw.example.get_ref(), &["svg"])
            .map_err(|r| err(raw.example.span(), format!("example: {r}")))?;
        if let Some(audio) = &raw.instructions_audio {
            for path in audio.get_ref().files() {
                check_path(path, AUDIO_EXTENSIONS)
                    .map_err(|r| err(audio.span(), format!("instructions_audio: {r}")))?;
            }
        }
        let mut ids = BTreeSet::new();
        let mut items = Vec::with_capacity(raw.item.len());
        for spanned in raw.item {
            let span = spanned.span();
            let item = spanned.into_inner();
            let at = |reason: String| err(span.clone(), format!("item '{}': {reason}", item.id));
            if item.id.trim().is_empty() {
                return Err(err(span, "an item id is blank".into()));
            }
            if !ids.insert(item.id.clone()) {
                return Err(at("the id appears twice".into()));
            }
            if !OPTIONS.contains(&item.options.len()) {
                return Err(at(format!(
                    "{} options; an item has {} to {}",
                    item.options.len(),
                    OPTIONS.start,
                    OPTIONS.end - 1
                )));
            }
            if item.key >= item.options.len() {
                return Err(at(format!(
                    "key {} is not an option: the options are 0 … {}",
                    item.key,
                    item.options.len() - 1
                )));
            }
            check_path(&item.stimulus, &["svg"]).map_err(|r| at(format!("stimulus: {r}")))?;
            let mut seen = BTreeSet::new();
            for option in &item.options {
                check_path(option, &["svg"]).map_err(|r| at(format!("option: {r}")))?;
                if !seen.insert(option) {
                    return Err(at(format!("option '{option}' is listed twice")));
                }
            }
            for path in item.audio.files() {
                check_path(path, AUDIO_EXTENSIONS).map_err(|r| at(format!("audio: {r}")))?;
            }
            if let Some((name, q)) = item.features.iter().find(|(_, q)| !(q.is_finite() && **q >= 0.0)) {
                return Err(at(format!("feature '{name}' = {q} is not a count ≥ 0")));
            }
            items.push(ItemContent {
                id: item.id,
                practice: item.practice,
                stimulus: item.stimulus,
                options: item.options,
                key: item.key,
                audio: item.audio,
                features: item.features,
            });
        }
        if items.iter().all(|i| i.practice) {
            return Err(ContentError::in_file(file, "no scored item"));
        }
        Ok(ContentFile {
            subtest: raw.subtest.into_inner(),
            time_limit_seconds: raw.time_limit_seconds.into_inner(),
            example: raw.example.into_inner(),
            instructions_audio: raw
                .instructions_audio
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            items,
        })
    }

    /// Every file the content names (example, then per item its stimulus, options and audio,
    /// then the instructions' audio), each once, in that order: what a reader must supply.
    pub fn files(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        std::iter::once(self.example.as_str())
            .chain(self.items.iter().flat_map(ItemContent::files))
            .chain(self.instructions_audio.files())
            .filter(|f| seen.insert(*f))
            .collect()
    }
}

/// A path in a content file: relative, under `content/`, made of plain segments
/// (`a`–`z`, `0`–`9`, `-`, `_`, `.`; no `..`), with one of `extensions`.
fn check_path(path: &str, extensions: &[&str]) -> Result<(), String> {
    let plain = path.starts_with("content/")
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        });
    if !plain {
        return Err(format!(
            "'{path}' is not a plain relative path under content/ (a–z, 0–9, '-', '_', '.')"
        ));
    }
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    if !extensions.contains(&ext) {
        return Err(format!("'{path}' must end in .{}", extensions.join(" or .")));
    }
    Ok(())
}

/// The content of one subtest, checked against the subtest and the files it names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubtestContent {
    /// The content file, `content/<subtest>.toml`.
    pub file: String,
    /// Time limit of the whole subtest when self-administered, in seconds.
    pub time_limit_seconds: u32,
    /// The animated worked example (SVG path).
    pub example: String,
    /// Recorded instructions per language (optional).
    pub instructions_audio: Audio,
    /// Practice items, in file order.
    pub practice: Vec<ItemContent>,
    /// Scored items, in the subtest's item order.
    pub items: Vec<ItemContent>,
    /// Every SVG the content names, by path, checked by [`check_svg`].
    pub svg: BTreeMap<String, String>,
}

impl SubtestContent {
    /// Checks `content`, read from `file`, against `subtest` and the files of the battery
    /// folder (`files`: path → bytes; it must hold every file [`ContentFile::files`] names).
    ///
    /// # Errors
    /// [`ContentError`] naming the file: the content is for another subtest; an item of the
    /// subtest has no content, or a scored content item is no item of the subtest (practice
    /// items must not be); an item whose maximum score is not 1; a named file missing; an SVG
    /// that is not UTF-8 or fails [`check_svg`] (with its line).
    pub fn new(
        subtest: &Subtest,
        file: &str,
        content: ContentFile,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Self, ContentError> {
        if content.subtest != subtest.id {
            return Err(ContentError::in_file(
                file,
                format!("subtest '{}' is not '{}'", content.subtest, subtest.id),
            ));
        }
        let mut svg = BTreeMap::new();
        for path in content.files() {
            let bytes = files
                .get(path)
                .ok_or_else(|| ContentError::in_file(file, format!("'{path}' is missing")))?;
            if path.ends_with(".svg") {
                let text =
                    std::str::from_utf8(bytes).map_err(|_| ContentError::in_file(path, "not UTF-8 text"))?;
                check_svg(text).map_err(|e| ContentError {
                    file: path.to_owned(),
                    line: Some(e.line),
                    reason: e.reason,
                })?;
                svg.insert(path.to_owned(), text.to_owned());
            }
        }
        let (practice, scored): (Vec<_>, Vec<_>) = content.items.into_iter().partition(|i| i.practice);
        let mut by_id: BTreeMap<String, ItemContent> =
            scored.into_iter().map(|i| (i.id.clone(), i)).collect();
        if let Some(p) = practice
            .iter()
            .find(|p| subtest.items.iter().any(|i| i.id == p.id))
        {
            return Err(ContentError::in_file(
                file,
                format!("practice item '{}' is an item of subtest '{}'", p.id, subtest.id),
            ));
        }
        let mut items = Vec::with_capacity(subtest.items.len());
        for item in &subtest.items {
            let content = by_id.remove(&item.id).ok_or_else(|| {
                ContentError::in_file(
                    file,
                    format!("item '{}' of subtest '{}' has no content", item.id, subtest.id),
                )
            })?;
            if item.max != 1 {
                return Err(ContentError::in_file(
                    file,
                    format!(
                        "item '{}' has max {} in battery.toml; a multiple-choice item scores 0 or 1",
                        item.id, item.max
                    ),
                ));
            }
            items.push(content);
        }
        if let Some(extra) = by_id.keys().next() {
            return Err(ContentError::in_file(
                file,
                format!(
                    "item '{extra}' is not an item of subtest '{}' (mark practice items practice = true)",
                    subtest.id
                ),
            ));
        }
        Ok(SubtestContent {
            file: file.to_owned(),
            time_limit_seconds: content.time_limit_seconds,
            example: content.example,
            instructions_audio: content.instructions_audio,
            practice,
            items,
            svg,
        })
    }

    /// The content of scored or practice item `id`.
    pub fn item(&self, id: &str) -> Option<&ItemContent> {
        self.items.iter().chain(&self.practice).find(|i| i.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "content/t.toml";

    fn text(key: usize) -> String {
        format!(
            "subtest = \"t\"\ntime_limit_seconds = 60\nexample = \"content/t/ex.svg\"\n\n\
             [[item]]\nid = \"tp1\"\npractice = true\nstimulus = \"content/t/p.svg\"\n\
             options = [\"content/t/a.svg\", \"content/t/b.svg\"]\nkey = 1\n\n\
             [[item]]\nid = \"t01\"\nstimulus = \"content/t/s.svg\"\n\
             options = [\"content/t/a.svg\", \"content/t/b.svg\", \"content/t/c.svg\"]\nkey = {key}\n\
             features = {{ rules = 2 }}\n"
        )
    }

    #[test]
    fn parses_and_scores() {
        let c = ContentFile::parse(FILE, &text(2)).unwrap();
        assert_eq!(c.items.len(), 2);
        let item = &c.items[1];
        assert_eq!((item.score(2), item.score(0)), (Ok(1), Ok(0)));
        assert_eq!(item.score(3).unwrap_err().options, 3);
        assert_eq!(item.features["rules"], 2.0);
        assert_eq!(
            c.files(),
            [
                "content/t/ex.svg",
                "content/t/p.svg",
                "content/t/a.svg",
                "content/t/b.svg",
                "content/t/s.svg",
                "content/t/c.svg"
            ]
        );
    }

    #[test]
    fn refuses_a_key_out_of_range_at_its_item() {
        let e = ContentFile::parse(FILE, &text(3)).unwrap_err();
        assert_eq!(e.line, Some(12), "{e}"); // the item's [[item]] line
        assert!(e.reason.contains("key 3"), "{e}");
    }

    #[test]
    fn refuses_paths_outside_content() {
        for bad in [
            "../x.svg",
            "/etc/x.svg",
            "content/../x.svg",
            "content/X.svg",
            "content/t/a.png",
        ] {
            let t = text(0).replace("content/t/s.svg", bad);
            let e = ContentFile::parse(FILE, &t).unwrap_err();
            assert!(e.reason.contains("stimulus"), "{bad}: {e}");
        }
    }
}
