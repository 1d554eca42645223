//! Positions in the text of a norm file: byte offsets (as TOML and CSV parsers report them)
//! turned into the 1-based line numbers that error messages name.

/// The 1-based line holding byte `offset` of `text` (the last line for offsets past the end).
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].matches('\n').count() + 1
}
