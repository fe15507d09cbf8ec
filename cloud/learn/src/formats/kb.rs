//! The knowledge base of formats and encodings: value generators for every
//! [`ParamFormat`], written from general knowledge of web applications, and
//! the lexicon they draw words from (`cloud/learn/kb/formats/lexicon.txt`).
//!
//! A generated *point* is what a node would see at one request point over a
//! window: a set of values in one style (a UUID point is all lower-case v4,
//! or all upper-case v1), drawn with repetition from a population whose size
//! depends on the format (an enumeration has a handful of members, request
//! ids are all distinct, user emails repeat), with occasional empty values
//! and outliers, named after a typical member name most of the time and a
//! generic or meaningless one otherwise.

use std::collections::HashMap;

use crate::ParamFormat;

/// The lexicon shipped in the repository.
const LEXICON: &str = include_str!("../../kb/formats/lexicon.txt");

/// A small deterministic generator (SplitMix64): the knowledge base must
/// give the same training set on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        lo + self.next_u64() % (span + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Log-uniform in `[lo, hi]`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// The word lists of the lexicon, by section.
#[derive(Debug, Clone)]
pub struct Lexicon {
    lists: HashMap<String, Vec<String>>,
    /// Enumeration sets, one per line of `[enum_lines]`.
    pub enums: Vec<Vec<String>>,
}

impl Lexicon {
    /// The lexicon shipped in the repository.
    pub fn shipped() -> Lexicon {
        Lexicon::parse(LEXICON)
    }

    /// Parses a lexicon: `[section]` lines, `#` comments, items separated by
    /// white space (`\s` stands for a space inside an item); sections whose
    /// name ends in `_lines` keep one list per line.
    pub fn parse(text: &str) -> Lexicon {
        let mut lists: HashMap<String, Vec<String>> = HashMap::new();
        let mut enums = Vec::new();
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
                continue;
            }
            let items: Vec<String> = line
                .split_whitespace()
                .map(|w| w.replace("\\s", " "))
                .collect();
            if section.ends_with("_lines") {
                enums.push(items);
            } else {
                lists.entry(section.clone()).or_default().extend(items);
            }
        }
        Lexicon { lists, enums }
    }

    /// The items of a section (a one-item placeholder when missing, so that
    /// generators never draw from an empty list).
    pub fn list(&self, name: &str) -> &[String] {
        match self.lists.get(name) {
            Some(l) if !l.is_empty() => l,
            _ => std::slice::from_ref(&self.enums_fallback()[0]),
        }
    }

    fn enums_fallback(&self) -> &[String] {
        static FALLBACK: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        FALLBACK.get_or_init(|| vec!["value".to_string()])
    }

    /// Typical member names of a format.
    pub fn names(&self, f: ParamFormat) -> &[String] {
        self.list(&format!("names_{}", f.name()))
    }
}

/// Generates one value of a point's style.
pub type ValueGen<'a> = Box<dyn Fn(&mut Rng) -> String + 'a>;

/// A style of values of one format.
pub struct Style<'a> {
    /// Draws one value.
    pub gen: ValueGen<'a>,
    /// Values are drawn from a small fixed set (enumerations, booleans):
    /// the population is not resampled.
    pub closed: bool,
    /// The members of a closed style, most frequent first.
    pub members: Vec<String>,
    /// How much the draws favour the first members (0: uniform).
    pub skew: f64,
    /// The values look like another format unless the point is named (a
    /// bare 10-digit phone number is an integer to anyone who does not see
    /// the name `phone`): such points always carry a typical name.
    pub needs_name: bool,
}

impl std::fmt::Debug for Style<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Style")
            .field("closed", &self.closed)
            .field("needs_name", &self.needs_name)
            .finish()
    }
}

fn open<'a>(gen: impl Fn(&mut Rng) -> String + 'a) -> Style<'a> {
    Style {
        gen: Box::new(gen),
        closed: false,
        members: Vec::new(),
        skew: 0.0,
        needs_name: false,
    }
}

fn named<'a>(gen: impl Fn(&mut Rng) -> String + 'a) -> Style<'a> {
    Style {
        gen: Box::new(gen),
        closed: false,
        members: Vec::new(),
        skew: 0.0,
        needs_name: true,
    }
}

/// A closed style: members drawn with a skew (the first ones most often).
fn closed<'a>(members: Vec<String>, skew: f64) -> Style<'a> {
    let pool = members.clone();
    Style {
        gen: Box::new(move |r: &mut Rng| {
            let i = skewed(r, pool.len(), skew);
            pool.get(i).cloned().unwrap_or_default()
        }),
        closed: true,
        members,
        skew,
        needs_name: false,
    }
}

/// An index in `0..n`, skewed towards 0 by `skew` (0: uniform).
pub fn skewed(r: &mut Rng, n: usize, skew: f64) -> usize {
    let u = r.unit().powf(1.0 + 2.0 * skew);
    ((n as f64 * u) as usize).min(n.saturating_sub(1))
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Base64 of `bytes` with `alphabet`, padded or not.
pub fn base64(bytes: &[u8], alphabet: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        let chars = c.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

fn random_bytes(r: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| r.next_u64() as u8).collect()
}

fn hex(r: &mut Rng, n: usize, upper: bool) -> String {
    let digits: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    (0..n).map(|_| digits[r.below(16)] as char).collect()
}

fn alnum(r: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| ALNUM[r.below(ALNUM.len())] as char)
        .collect()
}

fn digits(r: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + r.below(10) as u8))
        .collect()
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Completes `prefix` with random digits to `len` digits passing Luhn.
pub fn luhn_number(r: &mut Rng, prefix: &str, len: usize) -> String {
    let mut d: Vec<u32> = prefix.bytes().map(|b| u32::from(b - b'0')).collect();
    while d.len() + 1 < len {
        d.push(r.below(10) as u32);
    }
    let mut sum = 0;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = x;
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    d.push((10 - sum % 10) % 10);
    d.iter()
        .map(|&x| char::from(b'0' + x as u8))
        .collect::<String>()
}

fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    for &n in sizes {
        if i >= s.len() {
            break;
        }
        let end = (i + n).min(s.len());
        out.push(&s[i..end]);
        i = end;
    }
    if i < s.len() {
        out.push(&s[i..]);
    }
    out.join(sep)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A random date and time: (year, month 1-12, day, hour, minute, second).
fn when(r: &mut Rng) -> (u64, u64, u64, u64, u64, u64) {
    (
        r.range(1950, 2035),
        r.range(1, 12),
        r.range(1, 28),
        r.range(0, 23),
        r.range(0, 59),
        r.range(0, 59),
    )
}

fn words(r: &mut Rng, lex: &Lexicon, n: usize) -> Vec<String> {
    let w = lex.list("words");
    (0..n).map(|_| r.pick(w).clone()).collect()
}

fn sentence(r: &mut Rng, lex: &Lexicon, foreign: bool) -> String {
    let n = r.range(4, 18) as usize;
    let mut ws = Vec::with_capacity(n);
    for i in 0..n {
        let w = if foreign && r.chance(0.7) {
            r.pick(lex.list("foreign_words")).clone()
        } else {
            r.pick(lex.list("words")).clone()
        };
        ws.push(if i == 0 { capitalise(&w) } else { w });
        if i + 1 < n && r.chance(0.08) {
            ws.push(",".to_string());
        }
    }
    let mut s = ws.join(" ").replace(" ,", ",");
    s.push(*r.pick(&['.', '.', '.', '!', '?']));
    s
}

fn host(r: &mut Rng, lex: &Lexicon) -> String {
    let hw = lex.list("host_words");
    let mut h = String::new();
    if r.chance(0.5) {
        h.push_str(r.pick::<String>(hw));
        h.push('.');
    }
    h.push_str(r.pick::<String>(hw));
    if r.chance(0.3) {
        h.push('-');
        h.push_str(r.pick::<String>(hw));
    }
    h.push('.');
    h.push_str(r.pick::<String>(lex.list("tlds")));
    h
}

fn url_path(r: &mut Rng, lex: &Lexicon) -> String {
    let pw = lex.list("path_words");
    let mut p = String::new();
    for _ in 0..r.range(0, 4) {
        p.push('/');
        if r.chance(0.2) {
            p.push_str(&r.range(1, 99_999).to_string());
        } else {
            p.push_str(r.pick::<String>(pw));
        }
    }
    if r.chance(0.2) {
        p.push('/');
        p.push_str(r.pick::<String>(lex.list("file_words")));
        p.push('.');
        let ext = *r.pick(&["html", "php", "jpg", "png", "pdf", "aspx", "js"]);
        p.push_str(ext);
    }
    if p.is_empty() || r.chance(0.1) {
        p.push('/');
    }
    if r.chance(0.4) {
        let keys = lex.list("json_keys");
        for i in 0..r.range(1, 3) {
            p.push(if i == 0 { '?' } else { '&' });
            p.push_str(r.pick::<String>(keys));
            p.push('=');
            if r.chance(0.5) {
                p.push_str(&r.range(0, 5000).to_string());
            } else {
                p.push_str(r.pick::<String>(lex.list("words")));
                if r.chance(0.2) {
                    p.push_str("%20");
                    p.push_str(r.pick::<String>(lex.list("words")));
                }
            }
        }
    }
    p
}

fn person_first(r: &mut Rng, lex: &Lexicon) -> String {
    let f = r.pick(lex.list("first_names")).clone();
    if r.chance(0.04) {
        format!("{f}-{}", r.pick(lex.list("first_names")))
    } else {
        f
    }
}

fn email_local(r: &mut Rng, lex: &Lexicon, style: u64) -> String {
    let f = ascii_fold(&person_first(r, lex)).to_lowercase();
    let l = ascii_fold(r.pick::<String>(lex.list("last_names"))).to_lowercase();
    let l = l.replace([' ', '\''], "");
    match style {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", f.chars().next().unwrap_or('x')),
        2 => format!("{f}_{l}{}", r.range(1, 99)),
        3 => format!("{f}{}", r.range(1, 2025)),
        4 => format!("{f}+{}", r.pick(lex.list("path_words"))),
        5 => {
            let n = r.range(6, 14) as usize;
            alnum(r, n).to_lowercase()
        }
        _ => format!("{}.{f}", l),
    }
}

/// Strips accents from the Latin letters the lexicon uses (email local parts
/// and domains are ASCII in practice).
pub fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let m = match c {
                'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
                'Á' | 'À' | 'Â' | 'Ä' | 'Å' => 'A',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'É' | 'È' => 'E',
                'í' | 'ì' | 'î' | 'ï' => 'i',
                'Í' | 'Î' => 'I',
                'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
                'Ó' | 'Ö' | 'Ø' => 'O',
                'ú' | 'ù' | 'û' | 'ü' => 'u',
                'Ú' | 'Ü' => 'U',
                'ñ' | 'ń' => 'n',
                'ç' | 'č' | 'ć' => 'c',
                'Ç' | 'Č' => 'C',
                'ł' => 'l',
                'Ł' => 'L',
                'ś' | 'š' | 'ş' => 's',
                'Ş' | 'Š' => 'S',
                'ž' | 'ź' | 'ż' => 'z',
                'ř' => 'r',
                'ý' => 'y',
                'ğ' => 'g',
                'ð' => 'd',
                'þ' => 't',
                'Þ' => 'T',
                'ı' => 'i',
                'ě' => 'e',
                'İ' => 'I',
                c if c.is_ascii() => c,
                _ => return None,
            };
            Some(m)
        })
        .collect()
}

fn json_value(r: &mut Rng, lex: &Lexicon, depth: u32) -> String {
    match r.below(if depth > 1 { 5 } else { 7 }) {
        0 => r.range(0, 100_000).to_string(),
        1 => format!("\"{}\"", r.pick(lex.list("words"))),
        2 => r.pick(&["true", "false", "null"]).to_string(),
        3 => format!("{}.{}", r.range(0, 999), r.range(0, 99)),
        4 => format!("\"{}\"", person_first(r, lex)),
        5 => json_object(r, lex, depth + 1, false),
        _ => {
            let n = r.range(0, 4);
            let items: Vec<String> = (0..n).map(|_| json_value(r, lex, depth + 1)).collect();
            format!("[{}]", items.join(","))
        }
    }
}

fn json_object(r: &mut Rng, lex: &Lexicon, depth: u32, spaced: bool) -> String {
    let n = r.range(1, 6);
    let keys = lex.list("json_keys");
    let sep = if spaced { ", " } else { "," };
    let colon = if spaced { ": " } else { ":" };
    let members: Vec<String> = (0..n)
        .map(|_| format!("\"{}\"{colon}{}", r.pick(keys), json_value(r, lex, depth)))
        .collect();
    format!("{{{}}}", members.join(sep))
}

fn xml_element(r: &mut Rng, lex: &Lexicon, depth: u32, ns: &str) -> String {
    let names = lex.list("xml_elements");
    let name = format!("{ns}{}", r.pick(names));
    let attr = if r.chance(0.25) {
        format!(
            " {}=\"{}\"",
            r.pick(&["id", "type", "lang", "currency"]),
            r.range(1, 999)
        )
    } else {
        String::new()
    };
    if depth >= 3 || r.chance(0.4) {
        let text = if r.chance(0.5) {
            r.range(0, 10_000).to_string()
        } else {
            r.pick(lex.list("words")).clone()
        };
        return format!("<{name}{attr}>{text}</{name}>");
    }
    let kids: String = (0..r.range(1, 4))
        .map(|_| xml_element(r, lex, depth + 1, ns))
        .collect();
    format!("<{name}{attr}>{kids}</{name}>")
}

fn html_fragment(r: &mut Rng, lex: &Lexicon, style: u64) -> String {
    let tags = lex.list("html_tags");
    let text = |r: &mut Rng| {
        let n = r.range(1, 8) as usize;
        words(r, lex, n).join(" ")
    };
    match style {
        0 => format!("<p>{}</p>", sentence(r, lex, false)),
        1 => {
            let t = r.pick(&["div", "span", "section", "p"]);
            format!(
                "<{t} class=\"{}\">{}</{t}>",
                r.pick(lex.list("host_words")),
                text(r)
            )
        }
        2 => {
            let mut s = String::new();
            for _ in 0..r.range(1, 3) {
                let t = r.pick(&["b", "i", "strong", "em", "u"]);
                s.push_str(&format!(
                    "<p>{} <{t}>{}</{t}> {}</p>",
                    text(r),
                    text(r),
                    text(r)
                ));
            }
            s
        }
        3 => format!(
            "<a href=\"https://{}{}\">{}</a>",
            host(r, lex),
            url_path(r, lex),
            text(r)
        ),
        4 => {
            let items: String = (0..r.range(1, 5))
                .map(|_| format!("<li>{}</li>", text(r)))
                .collect();
            format!("<ul>{items}</ul>")
        }
        5 => format!("{}<br>{}<br/>", sentence(r, lex, false), text(r)),
        _ => {
            let t = r.pick(tags);
            format!("<{t}>{}</{t}>", text(r))
        }
    }
}

fn file_name(r: &mut Rng, lex: &Lexicon) -> String {
    let w = r.pick(lex.list("file_words"));
    let ext = r.pick(lex.list("file_ext"));
    match r.below(5) {
        0 => format!("{w}.{ext}"),
        1 => format!("{w}_{}.{ext}", r.range(1, 2025)),
        2 => format!("{}-{w}.{ext}", r.pick(lex.list("file_words"))),
        3 => format!(
            "IMG_{}.{}",
            r.range(1000, 9999),
            r.pick(&["JPG", "jpg", "HEIC", "png"])
        ),
        _ => format!("{}.{ext}", capitalise(w)),
    }
}

fn unix_dir(r: &mut Rng, lex: &Lexicon) -> String {
    let d = lex.list("unix_dirs");
    (0..r.range(1, 4))
        .map(|_| r.pick(d).clone())
        .collect::<Vec<_>>()
        .join("/")
}

/// A value style of `f`, chosen at random among the knowledge base's
/// variants of that format.
pub fn style<'a>(f: ParamFormat, r: &mut Rng, lex: &'a Lexicon) -> Style<'a> {
    match f {
        ParamFormat::Integer => integer(r),
        ParamFormat::Decimal => decimal(r),
        ParamFormat::Boolean => boolean(r),
        ParamFormat::Enumeration => enumeration(r, lex),
        ParamFormat::Uuid => {
            let (upper, v1) = (r.chance(0.2), r.chance(0.25));
            open(move |r: &mut Rng| {
                let variant = *r.pick(&['8', '9', 'a', 'b']);
                let s = format!(
                    "{}-{}-{}{}-{}{}-{}",
                    hex(r, 8, false),
                    hex(r, 4, false),
                    if v1 { '1' } else { '4' },
                    hex(r, 3, false),
                    variant,
                    hex(r, 3, false),
                    hex(r, 12, false)
                );
                if upper {
                    s.to_uppercase()
                } else {
                    s
                }
            })
        }
        ParamFormat::Hex => {
            let len = *r.pick(&[32usize, 32, 40, 64, 24, 16, 12, 8, 20, 128]);
            let upper = r.chance(0.2);
            let prefixed = r.chance(0.05);
            open(move |r: &mut Rng| {
                let h = hex(r, len, upper);
                if prefixed {
                    format!("0x{h}")
                } else {
                    h
                }
            })
        }
        ParamFormat::Base64 => base64_style(r, lex),
        ParamFormat::Jwt => {
            let alg = *r.pick(&["HS256", "RS256", "ES256", "HS512", "RS512"]);
            let sig = match alg {
                "RS256" | "RS512" => 256,
                "ES256" => 64,
                "HS512" => 64,
                _ => 32,
            };
            let kid = r.chance(0.4);
            open(move |r: &mut Rng| {
                let header = if kid {
                    format!(
                        "{{\"alg\":\"{alg}\",\"typ\":\"JWT\",\"kid\":\"{}\"}}",
                        hex(r, 8, false)
                    )
                } else {
                    format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}")
                };
                let iat = r.range(1_600_000_000, 1_800_000_000);
                let sub = if r.chance(0.5) {
                    r.range(1, 1_000_000).to_string()
                } else {
                    hex(r, 24, false)
                };
                let mut payload =
                    format!("{{\"sub\":\"{sub}\",\"iat\":{iat},\"exp\":{}", iat + 3600);
                if r.chance(0.5) {
                    payload.push_str(&format!(
                        ",\"scope\":\"{}\"",
                        r.pick(&["read", "read write", "openid profile email", "admin"])
                    ));
                }
                if r.chance(0.3) {
                    payload.push_str(&format!(
                        ",\"iss\":\"https://{}\"",
                        r.pick(lex.list("host_words"))
                    ));
                }
                payload.push('}');
                format!(
                    "{}.{}.{}",
                    base64(header.as_bytes(), B64URL, false),
                    base64(payload.as_bytes(), B64URL, false),
                    base64(&random_bytes(r, sig), B64URL, false)
                )
            })
        }
        ParamFormat::Email => {
            let style = r.range(0, 7);
            let company = r.chance(0.4);
            let upper = r.chance(0.1);
            let own = host(r, lex);
            open(move |r: &mut Rng| {
                let s = if r.chance(0.7) { style } else { r.range(0, 7) };
                let local = email_local(r, lex, s);
                let domain = if company && r.chance(0.8) {
                    own.clone()
                } else if r.chance(0.7) {
                    r.pick(lex.list("domains")).clone()
                } else {
                    host(r, lex)
                };
                let e = format!("{local}@{domain}");
                if upper && r.chance(0.5) {
                    capitalise(&e)
                } else {
                    e
                }
            })
        }
        ParamFormat::Url => url_style(r, lex),
        ParamFormat::Ip => {
            let kind = r.below(5);
            open(move |r: &mut Rng| {
                let v6 = match kind {
                    0 | 1 => false,
                    2 => r.chance(0.3),
                    _ => true,
                };
                if !v6 {
                    if kind == 1 {
                        format!(
                            "{}.{}.{}.{}",
                            r.pick(&[10, 192, 172]),
                            r.range(0, 255),
                            r.range(0, 255),
                            r.range(1, 254)
                        )
                    } else {
                        format!(
                            "{}.{}.{}.{}",
                            r.range(1, 223),
                            r.range(0, 255),
                            r.range(0, 255),
                            r.range(1, 254)
                        )
                    }
                } else if kind == 4 {
                    (0..8)
                        .map(|_| format!("{:x}", r.range(0, 0xffff)))
                        .collect::<Vec<_>>()
                        .join(":")
                } else {
                    let head = *r.pick(&[
                        "2001:db8",
                        "2a00:1450",
                        "fe80:",
                        "2606:4700",
                        "2001:0db8:85a3",
                    ]);
                    format!("{head}:{:x}::{:x}", r.range(0, 0xffff), r.range(1, 0xffff))
                }
            })
        }
        ParamFormat::DateTime => datetime(r),
        ParamFormat::Phone => phone(r),
        ParamFormat::Card => {
            let grouping = r.below(4);
            open(move |r: &mut Rng| {
                let (prefix, len) = *r.pick(&[
                    ("4", 16),
                    ("4", 16),
                    ("4", 13),
                    ("51", 16),
                    ("53", 16),
                    ("55", 16),
                    ("2221", 16),
                    ("34", 15),
                    ("37", 15),
                    ("6011", 16),
                    ("35", 16),
                    ("36", 14),
                    ("6759", 19),
                ]);
                let n = luhn_number(r, prefix, len);
                let sizes: &[usize] = if len == 15 { &[4, 6, 5] } else { &[4, 4, 4, 4] };
                match grouping {
                    0 | 1 => n,
                    2 => group(&n, sizes, " "),
                    _ => group(&n, sizes, "-"),
                }
            })
        }
        ParamFormat::Name => {
            let kind = r.below(6);
            open(move |r: &mut Rng| {
                let first = person_first(r, lex);
                let last = r.pick(lex.list("last_names")).clone();
                let s = match kind {
                    0 => first,
                    1 => last,
                    2 | 3 => format!("{first} {last}"),
                    4 => {
                        let m = person_first(r, lex);
                        if r.chance(0.5) {
                            format!(
                                "{first} {} {last}",
                                m.chars()
                                    .next()
                                    .map(|c| format!("{c}."))
                                    .unwrap_or_default()
                            )
                        } else {
                            format!("{first} {m} {last}")
                        }
                    }
                    _ => {
                        if r.chance(0.5) {
                            format!("{first} {last}")
                        } else {
                            first
                        }
                    }
                };
                if r.chance(0.04) {
                    s.to_lowercase()
                } else if r.chance(0.02) {
                    s.to_uppercase()
                } else {
                    s
                }
            })
        }
        ParamFormat::FreeText => free_text(r, lex),
        ParamFormat::Json => {
            let kind = r.below(4);
            let spaced = r.chance(0.3);
            open(move |r: &mut Rng| match kind {
                0 | 1 => json_object(r, lex, 0, spaced),
                2 => {
                    let n = r.range(0, 8);
                    let items: Vec<String> =
                        (0..n).map(|_| r.range(0, 10_000).to_string()).collect();
                    format!("[{}]", items.join(if spaced { ", " } else { "," }))
                }
                _ => {
                    let n = r.range(1, 3);
                    let items: Vec<String> =
                        (0..n).map(|_| json_object(r, lex, 1, spaced)).collect();
                    format!("[{}]", items.join(","))
                }
            })
        }
        ParamFormat::Xml => {
            let kind = r.below(4);
            open(move |r: &mut Rng| match kind {
                0 => format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
                    xml_element(r, lex, 0, "")
                ),
                1 => {
                    let ns = r.pick(lex.list("xml_namespaces")).clone();
                    format!(
                        "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>{}</soap:Body></soap:Envelope>",
                        xml_element(r, lex, 1, &format!("{ns}:"))
                    )
                }
                2 => xml_element(r, lex, 0, ""),
                _ => format!("<?xml version=\"1.0\"?>\n{}", xml_element(r, lex, 0, "")),
            })
        }
        ParamFormat::Html => {
            let kind = r.range(0, 7);
            open(move |r: &mut Rng| {
                let k = if r.chance(0.7) { kind } else { r.range(0, 7) };
                html_fragment(r, lex, k)
            })
        }
        ParamFormat::FilePath => {
            let kind = r.below(6);
            open(move |r: &mut Rng| match kind {
                0 => format!("/{}/{}", unix_dir(r, lex), file_name(r, lex)),
                1 => format!(
                    "{}:\\{}\\{}",
                    r.pick(&["C", "C", "D"]),
                    (0..r.range(1, 3))
                        .map(|_| r.pick(lex.list("windows_dirs")).clone())
                        .collect::<Vec<_>>()
                        .join("\\"),
                    file_name(r, lex)
                ),
                2 => format!("{}/{}", unix_dir(r, lex), file_name(r, lex)),
                3 => format!(
                    "{}{}/{}",
                    r.pick(&["./", "../", "../../"]),
                    unix_dir(r, lex),
                    file_name(r, lex)
                ),
                4 => file_name(r, lex),
                _ => format!("/{}/", unix_dir(r, lex)),
            })
        }
    }
}

fn integer<'a>(r: &mut Rng) -> Style<'a> {
    let kind = r.below(10);
    let (lo, hi): (u64, u64) = match kind {
        0 => (0, r.range(5, 100)),
        1 => (1, 10u64.pow(r.range(2, 9) as u32)),
        2 => (
            10u64.pow(r.range(5, 9) as u32),
            10u64.pow(r.range(9, 12) as u32),
        ),
        3 => (1950, 2030),
        4 => (1_500_000_000, 1_800_000_000),
        5 => (1_500_000_000_000, 1_800_000_000_000),
        6 => (100_000_000_000_000_000, 1_999_999_999_999_999_999),
        7 => (1000, 99_999),
        _ => (0, 10u64.pow(r.range(1, 6) as u32)),
    };
    let signed = kind == 8 || (kind == 9 && r.chance(0.5));
    let padded = kind == 7 && r.chance(0.5);
    open(move |r: &mut Rng| {
        let v = r.range(lo, hi);
        if signed && r.chance(0.4) {
            format!("-{v}")
        } else if padded {
            format!("{v:05}")
        } else {
            v.to_string()
        }
    })
}

fn decimal<'a>(r: &mut Rng) -> Style<'a> {
    let kind = r.below(6);
    open(move |r: &mut Rng| match kind {
        0 => {
            if r.chance(0.1) {
                r.range(1, 500).to_string()
            } else {
                format!("{}.{:02}", r.range(0, 999), r.range(0, 99))
            }
        }
        1 | 2 => {
            let (max, places) = if kind == 1 {
                (89, r.range(4, 7))
            } else {
                (179, r.range(4, 7))
            };
            let sign = if r.chance(0.4) { "-" } else { "" };
            format!("{sign}{}.{}", r.range(0, max), digits(r, places as usize))
        }
        3 => {
            let n = r.range(1, 4) as usize;
            format!("0.{}", digits(r, n))
        }
        4 => format!("{}.{:02}", r.range(1000, 250_000), r.range(0, 99)),
        _ => format!("{}.{}", r.range(0, 100), r.range(0, 9)),
    })
}

fn boolean<'a>(r: &mut Rng) -> Style<'a> {
    let pair = *r.pick(&[
        ("true", "false"),
        ("true", "false"),
        ("true", "false"),
        ("1", "0"),
        ("1", "0"),
        ("yes", "no"),
        ("on", "off"),
        ("True", "False"),
        ("TRUE", "FALSE"),
    ]);
    let members = if r.chance(0.1) {
        vec![pair.0.to_string()]
    } else {
        vec![pair.0.to_string(), pair.1.to_string()]
    };
    let skew = r.unit();
    closed(members, skew)
}

fn enumeration<'a>(r: &mut Rng, lex: &'a Lexicon) -> Style<'a> {
    let kind = r.below(8);
    let ws = lex.list("words");
    let mut members: Vec<String> = match kind {
        0..=3 if !lex.enums.is_empty() => r.pick(&lex.enums).clone(),
        4 => {
            let n = r.range(2, 8) as usize;
            let len = r.range(2, 4) as usize;
            (0..n)
                .map(|_| {
                    (0..len)
                        .map(|_| char::from(b'A' + r.below(26) as u8))
                        .collect()
                })
                .collect()
        }
        5 => {
            let sep = *r.pick(&["_", "-"]);
            (0..r.range(2, 10))
                .map(|_| format!("{}{sep}{}", r.pick(ws), r.pick(ws)))
                .collect()
        }
        6 => (0..r.range(2, 12)).map(|_| r.pick(ws).clone()).collect(),
        _ => {
            let base = r.pick(ws).to_uppercase();
            (0..r.range(2, 8))
                .map(|_| format!("{base}_{}", r.pick(ws).to_uppercase()))
                .collect()
        }
    };
    members.sort();
    members.dedup();
    if members.len() > 3 && r.chance(0.3) {
        let keep = r.range(2, members.len() as u64) as usize;
        for i in (1..members.len()).rev() {
            members.swap(i, r.below(i + 1));
        }
        members.truncate(keep);
    } else {
        for i in (1..members.len()).rev() {
            members.swap(i, r.below(i + 1));
        }
    }
    let skew = r.unit() * 1.5;
    closed(members, skew)
}

fn base64_style<'a>(r: &mut Rng, lex: &'a Lexicon) -> Style<'a> {
    let kind = r.below(6);
    let fixed = r.chance(0.6);
    let n = r.range(12, 96) as usize;
    let prefix = *r.pick(&["sk_live_", "pk_test_", "ghp_", "xoxb-", "AKIA", "tok_"]);
    open(move |r: &mut Rng| {
        let len = if fixed { n } else { r.range(12, 200) as usize };
        match kind {
            0 | 1 => base64(&random_bytes(r, len), B64, true),
            2 => base64(&random_bytes(r, len), B64URL, false),
            3 => alnum(r, len.clamp(16, 64)),
            4 => format!("{prefix}{}", alnum(r, 24)),
            _ => {
                let text = if r.chance(0.5) {
                    json_object(r, lex, 1, false)
                } else {
                    format!("{}:{}", r.pick(lex.list("words")), alnum(r, 10))
                };
                base64(text.as_bytes(), B64, true)
            }
        }
    })
}

fn url_style<'a>(r: &mut Rng, lex: &'a Lexicon) -> Style<'a> {
    let kind = r.below(8);
    let own = host(r, lex);
    let mk = move |r: &mut Rng| {
        let h = if r.chance(0.5) {
            own.clone()
        } else {
            host(r, lex)
        };
        match kind {
            0..=2 => format!("https://{h}{}", url_path(r, lex)),
            3 => format!("http://{h}{}", url_path(r, lex)),
            4 => format!(
                "https://{h}:{}{}",
                r.pick(&[8080, 8443, 3000, 443]),
                url_path(r, lex)
            ),
            5 => format!(
                "https://{h}/{}/{}.{}",
                r.pick(lex.list("path_words")),
                hex(r, 16, false),
                r.pick(&["jpg", "png", "webp", "gif"])
            ),
            6 => format!(
                "{}?{}={}",
                url_path(r, lex),
                r.pick(lex.list("json_keys")),
                r.range(1, 999)
            ),
            _ => format!("//{h}{}", url_path(r, lex)),
        }
    };
    if kind >= 6 {
        named(mk)
    } else {
        open(mk)
    }
}

fn datetime<'a>(r: &mut Rng) -> Style<'a> {
    let kind = r.below(14);
    let frac = r.chance(0.3);
    let zone = *r.pick(&["Z", "+00:00", "+02:00", "-05:00", ""]);
    let mk = move |r: &mut Rng| {
        let (y, mo, d, h, mi, s) = when(r);
        match kind {
            0 | 1 => format!("{y:04}-{mo:02}-{d:02}"),
            2 | 3 => {
                let f = if frac {
                    format!(".{:03}", r.range(0, 999))
                } else {
                    String::new()
                };
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{f}{zone}")
            }
            4 => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
            5 => format!(
                "{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} {}",
                r.pick(&DAYS),
                MONTHS[(mo - 1) as usize],
                r.pick(&["GMT", "+0000", "+0200", "-0700"])
            ),
            6 => format!("{mo:02}/{d:02}/{y:04}"),
            7 => format!("{d:02}/{mo:02}/{y:04}"),
            8 => format!("{d:02}.{mo:02}.{y:04}"),
            9 => format!("{d:02}-{mo:02}-{y:04}"),
            10 => format!("{y:04}-{mo:02}"),
            11 => {
                if r.chance(0.5) {
                    format!("{h:02}:{mi:02}")
                } else {
                    format!("{h:02}:{mi:02}:{s:02}")
                }
            }
            12 => format!("{} {d}, {y}", MONTHS[(mo - 1) as usize]),
            _ => format!("{mo}/{d}/{y} {h}:{mi:02} {}", r.pick(&["AM", "PM"])),
        }
    };
    if kind == 11 {
        named(mk)
    } else {
        open(mk)
    }
}

fn phone<'a>(r: &mut Rng) -> Style<'a> {
    let kind = r.below(9);
    let mk = move |r: &mut Rng| match kind {
        0 => format!(
            "+{}{}",
            r.pick(&["1", "44", "33", "49", "34", "39", "31", "61", "81", "91", "55"]),
            {
                let n = r.range(9, 10) as usize;
                digits(r, n)
            }
        ),
        1 => format!(
            "+{} {} {} {} {} {}",
            r.pick(&["33", "32", "41"]),
            r.range(1, 9),
            digits(r, 2),
            digits(r, 2),
            digits(r, 2),
            digits(r, 2)
        ),
        2 => format!("({}) {}-{}", r.range(201, 989), digits(r, 3), digits(r, 4)),
        3 => format!("{}-{}-{}", r.range(201, 989), digits(r, 3), digits(r, 4)),
        4 => format!("{}.{}.{}", r.range(201, 989), digits(r, 3), digits(r, 4)),
        5 => format!("0{} {} {}", r.range(20, 79), digits(r, 4), digits(r, 4)),
        6 => format!(
            "0{} {} {} {} {}",
            r.range(1, 9),
            digits(r, 2),
            digits(r, 2),
            digits(r, 2),
            digits(r, 2)
        ),
        7 => format!(
            "+1 ({}) {}-{}",
            r.range(201, 989),
            digits(r, 3),
            digits(r, 4)
        ),
        _ => format!("0{}{}", r.range(1, 9), digits(r, 8)),
    };
    if kind >= 8 || kind == 4 {
        named(mk)
    } else {
        open(mk)
    }
}

fn free_text<'a>(r: &mut Rng, lex: &'a Lexicon) -> Style<'a> {
    let kind = r.below(7);
    open(move |r: &mut Rng| match kind {
        0 | 1 => {
            let n = r.range(1, 4) as usize;
            let mut q = words(r, lex, n).join(" ");
            if r.chance(0.1) {
                q.push_str(&format!(" {}", r.range(1, 20)));
            }
            if r.chance(0.05) {
                q = capitalise(&q);
            }
            q
        }
        2 => sentence(r, lex, false),
        3 => (0..r.range(1, 4))
            .map(|_| sentence(r, lex, false))
            .collect::<Vec<_>>()
            .join(if r.chance(0.2) { "\n" } else { " " }),
        4 => {
            let n = r.range(2, 8) as usize;
            words(r, lex, n)
        }
        .iter()
        .map(|w| capitalise(w))
        .collect::<Vec<_>>()
        .join(" "),
        5 => sentence(r, lex, true),
        _ => {
            let n = r.range(1, 4) as usize;
            (0..n)
                .map(|_| r.pick(lex.list("foreign_words")).clone())
                .collect::<Vec<_>>()
                .join(if r.chance(0.5) { " " } else { "" })
        }
    })
}

/// A point generated from the knowledge base.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The values the node saw, each with how many times it was seen.
    pub values: Vec<(String, u64)>,
    /// The point's shaped path.
    pub point: String,
    /// The format it was generated as.
    pub format: ParamFormat,
}

/// A member name for a point of format `f`.
fn member_name(r: &mut Rng, lex: &Lexicon, f: ParamFormat, needs_name: bool) -> String {
    let roll = r.unit();
    let raw = if needs_name || roll < 0.6 {
        r.pick(lex.names(f)).clone()
    } else if roll < 0.8 {
        r.pick(lex.list("generic_names")).clone()
    } else if roll < 0.95 {
        return String::new();
    } else {
        let other = *r.pick(ParamFormat::ALL);
        r.pick(lex.names(other)).clone()
    };
    // Naming conventions vary: camelCase, kebab-case, prefixes.
    let mut name = match r.below(6) {
        0 => {
            let mut out = String::new();
            let mut up = false;
            for c in raw.chars() {
                if c == '_' {
                    up = true;
                } else if up {
                    out.extend(c.to_uppercase());
                    up = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
        1 => raw.replace('_', "-"),
        _ => raw,
    };
    if r.chance(0.1) {
        name = format!(
            "{}_{name}",
            r.pick(&["user", "new", "billing", "customer", "default", "my"])
        );
    }
    name
}

/// The shaped path of a point whose last member is `name` (`{word}` when
/// empty: the node had not admitted the name).
pub fn point_path(r: &mut Rng, name: &str) -> String {
    let prefix = *r.pick(&[
        "query",
        "query",
        "body:json",
        "body:json.data",
        "body:json.items[*]",
        "body:form",
        "cookie",
        "body:multipart",
    ]);
    let member = if name.is_empty() {
        ".{word}".to_string()
    } else if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(".{name}")
    } else {
        format!("[\"{name}\"]")
    };
    format!("{prefix}{member}")
}

/// Values of one point with their multiplicities: `count` draws from the
/// members of a closed style, or from a population of an open one whose
/// size is a share of `count` (most of `count` when `unique`).
pub fn draw(r: &mut Rng, style: &Style<'_>, count: usize, unique: bool) -> Vec<(String, u64)> {
    if style.closed {
        if style.members.is_empty() {
            return Vec::new();
        }
        let mut times = vec![0u64; style.members.len()];
        for _ in 0..count {
            times[skewed(r, style.members.len(), style.skew)] += 1;
        }
        return style
            .members
            .iter()
            .cloned()
            .zip(times)
            .filter(|(_, n)| *n > 0)
            .collect();
    }
    let ratio = if unique {
        r.log_uniform(0.3, 1.0)
    } else {
        r.log_uniform(0.03, 1.0)
    };
    // Fewer than four distinct values out of a handful is a degenerate
    // point no one can learn a format from: not generated.
    let pop_n = ((count as f64 * ratio).round() as usize).clamp(count.min(4), count.max(1));
    let skew = r.unit();
    let mut times = vec![0u64; pop_n];
    for _ in 0..count {
        times[skewed(r, pop_n, skew)] += 1;
    }
    times
        .into_iter()
        .filter(|&n| n > 0)
        .map(|n| ((style.gen)(r), n))
        .collect()
}

/// Takes `n` draws away from `values` (at random entries), keeping the
/// total otherwise.
fn take_draws(r: &mut Rng, values: &mut Vec<(String, u64)>, n: u64) {
    for _ in 0..n {
        if values.is_empty() {
            return;
        }
        let i = r.below(values.len());
        values[i].1 -= 1;
        if values[i].1 == 0 {
            values.swap_remove(i);
        }
    }
}

/// Whether values of `f` are mostly distinct (identifiers, tokens).
fn mostly_unique(f: ParamFormat) -> bool {
    matches!(
        f,
        ParamFormat::Uuid | ParamFormat::Jwt | ParamFormat::Hex | ParamFormat::Base64
    )
}

/// How many values a generated point has: log-uniform in `5..=max`.
pub fn value_count(r: &mut Rng, max: usize) -> usize {
    r.log_uniform(5.0, max.max(5) as f64).round() as usize
}

/// One point of format `f` with `count` values, with the noise of real
/// traffic: sometimes a few empty values, sometimes a few outliers of
/// another format.
pub fn sample(r: &mut Rng, lex: &Lexicon, f: ParamFormat, count: usize) -> Sample {
    let st = style(f, r, lex);
    let mut values = draw(r, &st, count, mostly_unique(f));
    if r.chance(0.3) {
        let empties = (count as f64 * r.log_uniform(0.01, 0.12)).round() as u64;
        if empties > 0 && (empties as usize) < count {
            take_draws(r, &mut values, empties);
            values.push((String::new(), empties));
        }
    }
    if count >= 20 && r.chance(0.2) {
        let other = style(*r.pick(ParamFormat::ALL), r, lex);
        let outliers = ((count as f64 * r.log_uniform(0.004, 0.03)).round() as u64).max(1);
        take_draws(r, &mut values, outliers);
        for _ in 0..outliers {
            values.push(((other.gen)(r), 1));
        }
    }
    let name = member_name(r, lex, f, st.needs_name);
    Sample {
        values,
        point: point_path(r, &name),
        format: f,
    }
}

/// An ambiguous point: values of two formats in comparable shares. It is
/// returned once per format, so that a classifier trained on both copies
/// learns to split its confidence on such points.
pub fn mixture(r: &mut Rng, lex: &Lexicon, count: usize) -> [Sample; 2] {
    let a = *r.pick(ParamFormat::ALL);
    let mut b = *r.pick(ParamFormat::ALL);
    if b == a {
        b = ParamFormat::ALL[(a.index() + 1) % ParamFormat::ALL.len()];
    }
    let (sa, sb) = (style(a, r, lex), style(b, r, lex));
    let share = 0.3 + 0.4 * r.unit();
    let count_a = ((count as f64 * share).round() as usize).clamp(1, count.max(2) - 1);
    let mut values = draw(r, &sa, count_a, mostly_unique(a));
    values.extend(draw(r, &sb, count - count_a, mostly_unique(b)));
    let name = if r.chance(0.5) {
        String::new()
    } else {
        r.pick(lex.list("generic_names")).clone()
    };
    let point = point_path(r, &name);
    [
        Sample {
            values: values.clone(),
            point: point.clone(),
            format: a,
        },
        Sample {
            values,
            point,
            format: b,
        },
    ]
}
