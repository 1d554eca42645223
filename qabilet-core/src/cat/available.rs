//! The set of items an examinee may still be given, as a bitset over bank positions: an
//! item leaves it when it is selected (administered or pending) or set aside by exposure
//! control, and nothing puts it back. Selection only ever iterates this set, so an
//! administered or set-aside item cannot be chosen again (the guarantee is structural).

/// Bank positions still open to selection for one examinee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    words: Vec<u64>,
    len: usize,
    open: usize,
}

impl Availability {
    /// Every one of `len` items open.
    pub fn all(len: usize) -> Self {
        let mut words = vec![u64::MAX; len.div_ceil(64)];
        if !len.is_multiple_of(64)
            && let Some(last) = words.last_mut()
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        Availability {
            words,
            len,
            open: len,
        }
    }

    /// Number of bank positions covered (open or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the bank is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of items still open.
    pub fn open(&self) -> usize {
        self.open
    }

    /// Whether `item` is still open.
    pub fn contains(&self, item: usize) -> bool {
        item < self.len && self.words[item / 64] & (1u64 << (item % 64)) != 0
    }

    /// Closes `item`; returns whether it was open.
    pub fn take(&mut self, item: usize) -> bool {
        if !self.contains(item) {
            return false;
        }
        self.words[item / 64] &= !(1u64 << (item % 64));
        self.open -= 1;
        true
    }

    /// Open items in bank order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.iter_masked(None)
    }

    /// Open items that are also in `mask` (a bitset of the same length), in bank order.
    pub fn iter_masked<'a>(&'a self, mask: Option<&'a ItemSet>) -> impl Iterator<Item = usize> + 'a {
        self.words.iter().enumerate().flat_map(move |(w, &word)| {
            let mut bits = match mask {
                Some(m) => word & m.words[w],
                None => word,
            };
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
        })
    }

    /// Whether any open item is in `mask`.
    pub fn any_in(&self, mask: &ItemSet) -> bool {
        self.words.iter().zip(&mask.words).any(|(a, m)| a & m != 0)
    }
}

/// A fixed set of bank positions (e.g. the items of one content area).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSet {
    words: Vec<u64>,
}

impl ItemSet {
    /// The positions `items` out of a bank of `len` items.
    pub fn from_items(len: usize, items: impl IntoIterator<Item = usize>) -> Self {
        let mut words = vec![0u64; len.div_ceil(64)];
        for i in items {
            words[i / 64] |= 1u64 << (i % 64);
        }
        ItemSet { words }
    }

    /// Whether `item` is in the set.
    pub fn contains(&self, item: usize) -> bool {
        self.words
            .get(item / 64)
            .is_some_and(|w| w & (1u64 << (item % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_and_iterate() {
        let mut a = Availability::all(130);
        assert_eq!(a.open(), 130);
        assert!(a.take(0) && a.take(64) && a.take(129));
        assert!(!a.take(64));
        assert_eq!(a.open(), 127);
        let open: Vec<usize> = a.iter().collect();
        assert_eq!(open.len(), 127);
        assert!(!open.contains(&0) && !open.contains(&64) && !open.contains(&129));
        let mask = ItemSet::from_items(130, [0, 1, 64, 65]);
        assert_eq!(a.iter_masked(Some(&mask)).collect::<Vec<_>>(), vec![1, 65]);
        assert!(a.any_in(&mask));
        assert!(!a.contains(130));
    }
}
