//! Per-request facts that compiled code reads inline, so that the common
//! answers cost no helper call:
//! - whether a point path is absent from the request (a quantifier over
//!   it is then decided: `any` false, `all` true; `exists` false);
//! - the byte set of a path's values (in one of three forms: as is,
//!   lower-case, upper-case), which rejects a fused `contains`, glob,
//!   `starts_with` or `ends_with` test whose constant bytes no value has;
//! - the last answer of each detector-finding test.
//!
//! The facts are a table of 64-bit words, one per thread
//! ([`super::runtime::Buffers`]), reused from request to request. Each
//! entry carries the request's *tag* (`epoch << 32`, never 0), so that one
//! request never reads another's facts and nothing is cleared between
//! requests. Helpers write an entry when they learn the fact (the first
//! rule that needs it); compiled code only reads, at offsets fixed at
//! compile time from the [`Layout`].
//!
//! Layout, in words:
//! - `0`: the request's tag;
//! - `path(p)`: `tag | count` once path `p` was looked up in the request;
//! - `set(p, form)`: `tag`, then the 4 words of the union of the byte sets
//!   of the path's values in that form, once computed (only for a path
//!   with at least one node);
//! - `find(site)`: `tag | node`, then the answer (0 or 1), of the last test
//!   of finding site `site` at `node` (`u32::MAX`: anywhere).

use std::cell::Cell;

use super::kernel::ByteSet;

/// Forms of a value whose byte sets are kept: as is, lower-case,
/// upper-case.
pub(crate) const FORMS: usize = 3;
/// Words of a byte-set entry: the tag and the set.
const SET_WORDS: usize = 5;

/// Where each fact of a program lies in the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    sets: usize,
    finds: usize,
    len: usize,
}

impl Layout {
    /// The layout for `paths` point paths; finding sites are added with
    /// [`Layout::with_sites`] once known.
    pub fn new(paths: usize) -> Layout {
        let sets = 1 + paths;
        let finds = sets + paths * FORMS * SET_WORDS;
        Layout {
            sets,
            finds,
            len: finds,
        }
    }

    pub fn with_sites(self, sites: usize) -> Layout {
        Layout {
            len: self.finds + sites * 2,
            ..self
        }
    }

    /// Words in the table.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn path(&self, p: u32) -> usize {
        1 + p as usize
    }

    pub fn set(&self, p: u32, form: usize) -> usize {
        self.sets + (p as usize * FORMS + form) * SET_WORDS
    }

    pub fn find(&self, site: u32) -> usize {
        self.finds + site as usize * 2
    }
}

/// The table (one per thread).
#[derive(Debug, Default)]
pub(crate) struct Facts {
    words: Vec<Cell<u64>>,
}

impl Facts {
    /// Makes room for `layout` and sets the tag of a new request; `clear`
    /// (the epoch wrapped) forgets every entry.
    pub fn start(&mut self, layout: &Layout, tag: u64, clear: bool) {
        if clear {
            self.words.iter().for_each(|w| w.set(0));
        }
        if self.words.len() < layout.len() {
            self.words.resize_with(layout.len(), Cell::default);
        }
        if let Some(w) = self.words.first() {
            w.set(tag);
        }
    }

    pub fn get(&self, i: usize) -> u64 {
        self.words.get(i).map_or(0, Cell::get)
    }

    pub fn set(&self, i: usize, v: u64) {
        if let Some(w) = self.words.get(i) {
            w.set(v);
        }
    }

    /// The byte set at `i` when its entry has `tag`.
    pub fn byte_set(&self, i: usize, tag: u64) -> Option<ByteSet> {
        if self.get(i) != tag {
            return None;
        }
        Some([
            self.get(i + 1),
            self.get(i + 2),
            self.get(i + 3),
            self.get(i + 4),
        ])
    }

    pub fn set_byte_set(&self, i: usize, tag: u64, s: &ByteSet) {
        self.set(i, tag);
        for (k, w) in s.iter().enumerate() {
            self.set(i + 1 + k, *w);
        }
    }

    /// The table's first word and its length in words, for compiled code.
    pub fn raw(&self) -> (*const u64, usize) {
        // `Cell<u64>` has the layout of `u64`.
        (self.words.as_ptr().cast::<u64>(), self.words.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_do_not_overlap() {
        let l = Layout::new(3).with_sites(2);
        assert_eq!(l.path(2), 3);
        assert_eq!(l.set(0, 0), 4);
        assert_eq!(l.set(2, FORMS - 1) + SET_WORDS, l.find(0));
        assert_eq!(l.find(1) + 2, l.len());
        let mut f = Facts::default();
        f.start(&l, 1 << 32, false);
        assert_eq!(f.get(0), 1 << 32);
        f.set_byte_set(l.set(1, 1), 1 << 32, &[1, 2, 3, 4]);
        assert_eq!(f.byte_set(l.set(1, 1), 1 << 32), Some([1, 2, 3, 4]));
        assert_eq!(f.byte_set(l.set(1, 1), 2 << 32), None);
        f.start(&l, 2 << 32, true);
        assert_eq!(f.get(l.set(1, 1)), 0);
    }
}
