//! Character-distribution statistics: a value's share of each character
//! class, and its distance from a learned profile of the same point.

/// The character classes `char_ratio` takes (spec/rule-language.md,
/// section 6.5). The first eight ([`CharClass::PROFILE`]) partition the
/// bytes and are what a [`CharProfile`] counts; the last five
/// (`safe_punct` to `other_punct`) are the punctuation classes of the
/// nodes' telemetry (`rampart_telemetry::shape::char_class`), so that a
/// learner can turn "no value of this point ever held a quote" into
/// `char_ratio(query.id, quote) > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharClass {
    /// `a-z`.
    Lower,
    /// `A-Z`.
    Upper,
    /// `0-9`.
    Digit,
    /// The space character (not tab: tab is [`CharClass::Control`]).
    Space,
    /// `. , - _ : ; ! ?` and `'` - punctuation common in prose and ids.
    Punct,
    /// Everything else printable in ASCII: `< > " / \ ( ) { } [ ] = & | $ % ...`.
    Special,
    /// Bytes below 0x20 (tab included) and 0x7f.
    Control,
    /// Bytes >= 0x80.
    NonAscii,
    /// Telemetry's `safe_punct`: `. - _ , : @`.
    SafePunct,
    /// Telemetry's `quote`: `'`, `"` and the backtick.
    Quote,
    /// Telemetry's `bracket`: `< > ( ) { } [ ]`.
    Bracket,
    /// Telemetry's `operator`: `= + * / % & | ^ ! ~`.
    Operator,
    /// Telemetry's `other_punct`: the printable ASCII punctuation in none
    /// of the four classes above: `# $ ; ? \`.
    OtherPunct,
}

impl CharClass {
    /// Every class `char_ratio` takes, in the order of the spec.
    pub const ALL: [CharClass; 13] = [
        CharClass::Lower,
        CharClass::Upper,
        CharClass::Digit,
        CharClass::Space,
        CharClass::Punct,
        CharClass::Special,
        CharClass::Control,
        CharClass::NonAscii,
        CharClass::SafePunct,
        CharClass::Quote,
        CharClass::Bracket,
        CharClass::Operator,
        CharClass::OtherPunct,
    ];

    /// The classes a [`CharProfile`] counts: every byte is in exactly one
    /// ([`CharClass::of`]); [`CharProfile::classes`] and [`distribution`]
    /// are indexed in this order.
    pub const PROFILE: [CharClass; 8] = [
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
            CharClass::SafePunct => "safe_punct",
            CharClass::Quote => "quote",
            CharClass::Bracket => "bracket",
            CharClass::Operator => "operator",
            CharClass::OtherPunct => "other_punct",
        }
    }

    pub fn parse(s: &str) -> Option<CharClass> {
        CharClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The profile class of a byte (one of [`CharClass::PROFILE`]).
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

    /// True when the byte is in the class. The profile classes partition
    /// the bytes, and so do the telemetry punctuation classes together
    /// with letters, digits, space, control and non-ASCII; the two
    /// families overlap (`.` is both `punct` and `safe_punct`).
    pub fn contains(self, b: u8) -> bool {
        match self {
            CharClass::SafePunct => matches!(b, b'.' | b'-' | b'_' | b',' | b':' | b'@'),
            CharClass::Quote => matches!(b, b'\'' | b'"' | b'`'),
            CharClass::Bracket => {
                matches!(b, b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'[' | b']')
            }
            CharClass::Operator => matches!(
                b,
                b'=' | b'+' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'!' | b'~'
            ),
            CharClass::OtherPunct => matches!(b, b'#' | b'$' | b';' | b'?' | b'\\'),
            profile => CharClass::of(b) == profile,
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Share of each profile class in a value (sums to 1 for a non-empty
/// value), indexed like [`CharClass::PROFILE`].
pub fn distribution(v: &[u8]) -> [f64; 8] {
    let mut counts = [0u32; 8];
    for &b in v {
        counts[CharClass::of(b).idx()] += 1;
    }
    let n = v.len().max(1) as f64;
    counts.map(|c| f64::from(c) / n)
}

/// Share of the bytes of `v` in one class (0 for an empty value).
pub fn ratio(v: &[u8], class: CharClass) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().filter(|&&b| class.contains(b)).count() as f64 / v.len() as f64
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
    /// Mean share of each class, indexed like [`CharClass::PROFILE`].
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

    /// A copy of `rampart_telemetry::shape::char_class` (which this crate
    /// does not depend on): the classes the nodes report per point.
    fn telemetry_class(b: u8) -> usize {
        match b {
            b'a'..=b'z' => 0,
            b'A'..=b'Z' => 1,
            b'0'..=b'9' => 2,
            b' ' | b'\t' => 3,
            b'.' | b'-' | b'_' | b',' | b':' | b'@' => 4,
            b'\'' | b'"' | b'`' => 5,
            b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'[' | b']' => 6,
            b'=' | b'+' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'!' | b'~' => 7,
            0..=31 | 127 => 9,
            128..=255 => 10,
            _ => 8,
        }
    }

    #[test]
    fn telemetry_classes_match_the_nodes_exactly() {
        let pairs = [
            (CharClass::Lower, 0),
            (CharClass::Upper, 1),
            (CharClass::Digit, 2),
            (CharClass::SafePunct, 4),
            (CharClass::Quote, 5),
            (CharClass::Bracket, 6),
            (CharClass::Operator, 7),
            (CharClass::OtherPunct, 8),
            (CharClass::NonAscii, 10),
        ];
        for b in 0..=255u8 {
            for (c, t) in pairs {
                assert_eq!(c.contains(b), telemetry_class(b) == t, "{c:?} {b:#04x}");
            }
            // The documented difference: telemetry's `space` holds tab,
            // which the language counts as `control`.
            let tab = b == b'\t';
            assert_eq!(
                CharClass::Space.contains(b),
                telemetry_class(b) == 3 && !tab
            );
            assert_eq!(
                CharClass::Control.contains(b),
                telemetry_class(b) == 9 || tab
            );
        }
    }

    #[test]
    fn profile_classes_partition_the_bytes() {
        for b in 0..=255u8 {
            let n = CharClass::PROFILE.iter().filter(|c| c.contains(b)).count();
            assert_eq!(n, 1, "{b:#04x}");
            assert_eq!(CharClass::PROFILE[CharClass::of(b).idx()], CharClass::of(b));
        }
        for c in CharClass::ALL {
            assert_eq!(CharClass::parse(c.as_str()), Some(c));
        }
        assert_eq!(ratio(b"a'b\"c", CharClass::Quote), 0.4);
        assert_eq!(ratio(b"#$;?\\", CharClass::OtherPunct), 1.0);
        assert_eq!(ratio(b"", CharClass::Quote), 0.0);
    }
}
