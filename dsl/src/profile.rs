//! Character-distribution statistics: a value's share of each character
//! class, and its distance from a learned profile of the same point.

/// The character classes a profile counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharClass {
    Lower,
    Upper,
    Digit,
    Space,
    /// `. , - _ : ; ! ?` and `'` - punctuation common in prose and ids.
    Punct,
    /// Everything else printable in ASCII: `< > " / \ ( ) { } [ ] = & | $ % ...`.
    Special,
    Control,
    /// Bytes >= 0x80.
    NonAscii,
}

impl CharClass {
    pub const ALL: [CharClass; 8] = [
        CharClass::Lower,
        CharClass::Upper,
        CharClass::Digit,
        CharClass::Space,
        CharClass::Punct,
        CharClass::Special,
        CharClass::Control,
        CharClass::NonAscii,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CharClass::Lower => "lower",
            CharClass::Upper => "upper",
            CharClass::Digit => "digit",
            CharClass::Space => "space",
            CharClass::Punct => "punct",
            CharClass::Special => "special",
            CharClass::Control => "control",
            CharClass::NonAscii => "non_ascii",
        }
    }

    pub fn parse(s: &str) -> Option<CharClass> {
        CharClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn of(b: u8) -> CharClass {
        match b {
            b'a'..=b'z' => CharClass::Lower,
            b'A'..=b'Z' => CharClass::Upper,
            b'0'..=b'9' => CharClass::Digit,
            b' ' => CharClass::Space,
            b'.' | b',' | b'-' | b'_' | b':' | b';' | b'!' | b'?' | b'\'' => CharClass::Punct,
            0x21..=0x7e => CharClass::Special,
            0x80..=0xff => CharClass::NonAscii,
            _ => CharClass::Control,
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Share of each class in a value (sums to 1 for a non-empty value).
pub fn distribution(v: &[u8]) -> [f64; 8] {
    let mut counts = [0u32; 8];
    for &b in v {
        counts[CharClass::of(b).idx()] += 1;
    }
    let n = v.len().max(1) as f64;
    counts.map(|c| f64::from(c) / n)
}

/// Share of one class.
pub fn ratio(v: &[u8], class: CharClass) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().filter(|&&b| CharClass::of(b) == class).count() as f64 / v.len() as f64
}

/// Shannon entropy in bits per byte.
pub fn entropy(v: &[u8]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in v {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// What a learner knows about the values of one point of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct CharProfile {
    /// Mean share of each class, indexed like [`CharClass::ALL`].
    pub classes: [f64; 8],
    pub len_mean: f64,
    pub len_std: f64,
}

impl CharProfile {
    /// Total variation distance (0..=1) between the value's class shares
    /// and the profile's.
    pub fn deviation(&self, v: &[u8]) -> f64 {
        let d = distribution(v);
        d.iter()
            .zip(self.classes.iter())
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 2.0
    }

    /// How many standard deviations the value's length is from the mean
    /// (the standard deviation is floored at 1 byte).
    pub fn length_z(&self, v: &[u8]) -> f64 {
        (v.len() as f64 - self.len_mean) / self.len_std.max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        assert_eq!(ratio(b"ab12", CharClass::Digit), 0.5);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"ab") - 1.0).abs() < 1e-9);
        let p = CharProfile {
            classes: distribution(b"abc"),
            len_mean: 3.0,
            len_std: 1.0,
        };
        assert_eq!(p.deviation(b"xyz"), 0.0);
        assert!((p.deviation(b"<>") - 1.0).abs() < 1e-9);
        assert_eq!(p.length_z(b"abcde"), 2.0);
    }
}
