//! Payment card numbers, found without regular expressions.
//!
//! The value is cut into *groups* (maximal runs of ASCII digits). A group is
//! *glued*, and never part of a card, when it touches a letter, a digit of
//! another group through `.`, `,`, `/` or `:` (a decimal, a thousands
//! separator, a date, a time), or follows a `+` (a phone number); `_` counts
//! as a letter. Unglued groups joined by exactly one space or one dash, the
//! same separator throughout, form a *run*; a change of separator ends the
//! run and starts a new one. A run is a candidate when it holds 13 to 19
//! digits and is either a single group or written like a card: a first group
//! of 4 digits, the others of 3 to 6 (`4111 1111 1111 1111`,
//! `3782-822463-10005`). A candidate is a card number when its prefix is an
//! IIN of a major scheme with a length that scheme issues, and it passes the
//! Luhn check. A longer run is never searched for a card inside it.

/// Most digits a card number has.
pub(crate) const MAX_DIGITS: usize = 19;
const MIN_DIGITS: usize = 13;

/// Bit `n` set: length `n` is issued.
const fn lengths(min: u32, max: u32) -> u32 {
    let mut m = 0;
    let mut n = min;
    while n <= max {
        m |= 1 << n;
        n += 1;
    }
    m
}

const VISA_LENGTHS: u32 = (1 << 13) | (1 << 16) | (1 << 19);
const LEN_14_19: u32 = lengths(14, 19);
const LEN_16_19: u32 = lengths(16, 19);
const LEN_13_19: u32 = lengths(13, 19);

/// A range of issuer identification numbers: the first `digits` digits of
/// the number lie in `lo..=hi`.
struct Iin {
    digits: u32,
    lo: u32,
    hi: u32,
    scheme: &'static str,
    lengths: u32,
}

const fn iin(digits: u32, lo: u32, hi: u32, scheme: &'static str, lengths: u32) -> Iin {
    Iin {
        digits,
        lo,
        hi,
        scheme,
        lengths,
    }
}

/// The schemes recognised, first match wins.
const IINS: &[Iin] = &[
    iin(1, 4, 4, "Visa", VISA_LENGTHS),
    iin(2, 51, 55, "Mastercard", 1 << 16),
    iin(4, 2221, 2720, "Mastercard", 1 << 16),
    iin(2, 34, 34, "American Express", 1 << 15),
    iin(2, 37, 37, "American Express", 1 << 15),
    iin(4, 6011, 6011, "Discover", LEN_16_19),
    iin(3, 644, 649, "Discover", LEN_16_19),
    iin(2, 65, 65, "Discover", LEN_16_19),
    iin(4, 3528, 3589, "JCB", LEN_16_19),
    iin(3, 300, 305, "Diners Club", LEN_14_19),
    iin(4, 3095, 3095, "Diners Club", LEN_14_19),
    iin(2, 36, 36, "Diners Club", LEN_14_19),
    iin(2, 38, 39, "Diners Club", LEN_14_19),
    iin(2, 62, 62, "UnionPay", LEN_16_19),
    iin(4, 2200, 2204, "Mir", LEN_16_19),
    iin(4, 5018, 5018, "Maestro", LEN_13_19),
    iin(4, 5020, 5020, "Maestro", LEN_13_19),
    iin(4, 5038, 5038, "Maestro", LEN_13_19),
    iin(4, 5893, 5893, "Maestro", LEN_13_19),
    iin(4, 6304, 6304, "Maestro", LEN_13_19),
    iin(4, 6759, 6759, "Maestro", LEN_13_19),
    iin(4, 6761, 6763, "Maestro", LEN_13_19),
];

/// The scheme of a number given as ASCII digits, if a major scheme issues
/// numbers with this prefix and length.
pub(crate) fn scheme(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&len) {
        return None;
    }
    IINS.iter()
        .find(|r| {
            let prefix = digits
                .iter()
                .take(r.digits as usize)
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            (r.lo..=r.hi).contains(&prefix) && r.lengths & (1 << len) != 0
        })
        .map(|r| r.scheme)
}

/// The Luhn (mod 10) check of a number given as ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// A card number found in a value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CardMatch {
    /// Byte range of the number in the value, separators included.
    pub start: usize,
    pub end: usize,
    pub scheme: &'static str,
    digits: [u8; MAX_DIGITS],
    len: usize,
}

impl CardMatch {
    /// The digits of the number, without separators.
    pub(crate) fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }
}

/// A run being collected.
struct Run {
    start: usize,
    end: usize,
    sep: Option<u8>,
    groups: usize,
    /// First group of 4 digits, the others of 3 to 6.
    card_layout: bool,
    digits: [u8; MAX_DIGITS],
    len: usize,
}

impl Run {
    fn new(start: usize, end: usize, group: &[u8]) -> Run {
        let mut r = Run {
            start,
            end,
            sep: None,
            groups: 0,
            card_layout: true,
            digits: [0; MAX_DIGITS],
            len: 0,
        };
        r.push(end, group);
        r
    }

    fn push(&mut self, end: usize, group: &[u8]) {
        self.card_layout &= if self.groups == 0 {
            group.len() == 4
        } else {
            (3..=6).contains(&group.len())
        };
        self.groups += 1;
        self.end = end;
        for &d in group {
            if let Some(slot) = self.digits.get_mut(self.len) {
                *slot = d;
            }
            self.len = self.len.saturating_add(1);
        }
    }

    /// The card this run is, if it is one.
    fn card(&self) -> Option<CardMatch> {
        if self.len > MAX_DIGITS || (self.groups > 1 && !self.card_layout) {
            return None;
        }
        let digits = &self.digits[..self.len];
        let scheme = scheme(digits)?;
        luhn(digits).then_some(CardMatch {
            start: self.start,
            end: self.end,
            scheme,
            digits: self.digits,
            len: self.len,
        })
    }
}

pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The group at `start..end` touches something that makes it part of a
/// word, a decimal, a date, a time or a phone number.
fn glued(value: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).and_then(|i| value.get(i)).copied();
    let before2 = start.checked_sub(2).and_then(|i| value.get(i)).copied();
    let after = value.get(end).copied();
    let after2 = value.get(end + 1).copied();
    let joins = |b: Option<u8>| matches!(b, Some(b'.' | b',' | b'/' | b':'));
    let digit = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_digit());
    before.is_some_and(is_word)
        || after.is_some_and(is_word)
        || before == Some(b'+')
        || (joins(before) && digit(before2))
        || (joins(after) && digit(after2))
}

/// Calls `found` for each card number of `value`, left to right, until it
/// returns false. Linear in the value; allocates nothing.
pub(crate) fn scan(value: &[u8], mut found: impl FnMut(&CardMatch) -> bool) {
    let mut run: Option<Run> = None;
    let mut i = 0;
    while i < value.len() {
        if !value[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < value.len() && value[i].is_ascii_digit() {
            i += 1;
        }
        let group = &value[start..i];
        if glued(value, start, i) {
            if let Some(r) = run.take() {
                if let Some(m) = r.card() {
                    if !found(&m) {
                        return;
                    }
                }
            }
            continue;
        }
        // Joined to the current run by exactly one separator of its kind?
        let sep = start.checked_sub(1).map(|p| value[p]);
        if let Some(r) = run.as_mut() {
            let one_sep = r.end + 1 == start && matches!(sep, Some(b' ' | b'-'));
            if one_sep && (r.sep.is_none() || r.sep == sep) {
                r.sep = sep;
                r.push(i, group);
                continue;
            }
        }
        if let Some(r) = run.replace(Run::new(start, i, group)) {
            if let Some(m) = r.card() {
                if !found(&m) {
                    return;
                }
            }
        }
    }
    if let Some(m) = run.and_then(|r| r.card()) {
        found(&m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_schemes() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b""));
        assert_eq!(scheme(b"4111111111111111"), Some("Visa"));
        assert_eq!(scheme(b"411111111111111"), None, "15-digit Visa");
        assert_eq!(scheme(b"2720990000000007"), Some("Mastercard"));
        assert_eq!(scheme(b"2721000000000000"), None);
        assert_eq!(scheme(b"9780306406157"), None, "an ISBN");
    }
}
