//! AWS access key ids: `AKIA` (a long-term key of an IAM user) or `ASIA`
//! (a temporary key from STS) followed by 16 upper-case letters or digits,
//! a token on its own: the bytes before and after it are not letters,
//! digits or `_`.

use crate::card::is_word;

/// Length of an access key id.
pub(crate) const KEY_LEN: usize = 20;

/// An access key id found in a value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyMatch {
    pub start: usize,
    pub end: usize,
    /// `ASIA`: a temporary (STS) key.
    pub temporary: bool,
}

/// Calls `found` for each access key id of `value`, left to right, until
/// it returns false. At most 20 bytes are looked at per position.
pub(crate) fn scan(value: &[u8], mut found: impl FnMut(&KeyMatch) -> bool) {
    let mut i = 0;
    while i + KEY_LEN <= value.len() {
        let at_boundary = i == 0 || !is_word(value[i - 1]);
        if at_boundary && value[i] == b'A' {
            let key = &value[i..i + KEY_LEN];
            let prefix = &key[..4];
            let ends = value.get(i + KEY_LEN).is_none_or(|&b| !is_word(b));
            if (prefix == b"AKIA" || prefix == b"ASIA")
                && ends
                && key[4..]
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                let m = KeyMatch {
                    start: i,
                    end: i + KEY_LEN,
                    temporary: prefix == b"ASIA",
                };
                if !found(&m) {
                    return;
                }
                i += KEY_LEN;
                continue;
            }
        }
        i += 1;
    }
}
