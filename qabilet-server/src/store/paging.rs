//! Cursor pagination: lists are ordered by id, and a page's `next` is the id after which
//! the next page starts.

use super::StoreError;

/// Page size used when a [`PageRequest`] asks for 0 items.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page a list call returns; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Which page of a list to return. Lists are ordered by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Maximum number of items; 0 means [`DEFAULT_PAGE_SIZE`], more than [`MAX_PAGE_SIZE`]
    /// is clamped.
    pub size: u32,
    /// Cursor: return items whose id sorts after this one (the `next` of the previous page).
    pub after: Option<String>,
}

impl PageRequest {
    /// The first page of `size` items.
    pub fn first(size: u32) -> Self {
        PageRequest { size, after: None }
    }

    /// The page size actually used.
    pub fn effective_size(&self) -> u32 {
        match self.size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, ordered by id.
    pub items: Vec<T>,
    /// Cursor for the next page (the last id here) when more items remain.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` fetched rows: the extra row only signals that more
    /// remain.
    pub(crate) fn from_overfetch(mut items: Vec<T>, size: u32, id: impl Fn(&T) -> &str) -> Self {
        let size = size as usize;
        let next = if items.len() > size {
            items.truncate(size);
            items.last().map(|t| id(t).to_owned())
        } else {
            None
        };
        Page { items, next }
    }

    /// As [`Page::from_overfetch`], for records with a database-assigned integer id (the
    /// cursor is that id in decimal).
    pub(crate) fn from_overfetch_seq(items: Vec<T>, size: u32, id: impl Fn(&T) -> i64) -> Self {
        let size = size as usize;
        let mut items = items;
        let next = if items.len() > size {
            items.truncate(size);
            items.last().map(|t| id(t).to_string())
        } else {
            None
        };
        Page { items, next }
    }
}

/// The integer id after which a page of records with integer ids starts (the `next` of the
/// previous page): `Ok(None)` for the first page; a cursor that is not such an id is
/// [`StoreError::Conflict`] (the service checks page tokens before they reach the store).
pub(crate) fn seq_cursor(page: &PageRequest) -> Result<Option<i64>, StoreError> {
    page.after
        .as_deref()
        .map(|a| {
            a.parse::<i64>().map_err(|_| StoreError::Conflict {
                detail: format!("page token {a:?} is not a cursor of this list"),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_defaulted_and_clamped() {
        assert_eq!(PageRequest::first(0).effective_size(), DEFAULT_PAGE_SIZE);
        assert_eq!(PageRequest::first(7).effective_size(), 7);
        assert_eq!(PageRequest::first(u32::MAX).effective_size(), MAX_PAGE_SIZE);
    }
}
