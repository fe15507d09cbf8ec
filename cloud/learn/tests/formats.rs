//! The parameter-format learner measured on points it never saw: values
//! from an independent generator (its own word lists, value distributions,
//! member names and lengths, its own seed), folded by this test's own copy
//! of a node's aggregation, classified by the shipped model.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rampart_learn::formats::{FormatModel, Inference};
use rampart_learn::nn::cpu;
use rampart_learn::ParamFormat;
use rampart_telemetry::shape::{char_class, format_of, CHAR_CLASSES};
use rampart_telemetry::sketch::keyed_hash;
use rampart_telemetry::PointStats;

fn model() -> &'static FormatModel {
    static MODEL: OnceLock<FormatModel> = OnceLock::new();
    MODEL.get_or_init(|| FormatModel::train(&cpu()))
}

/// A node's aggregation of one point, written here independently.
fn aggregate(values: &[String], point: &str) -> PointStats {
    let mut p = PointStats {
        point: point.to_string(),
        chars: vec![0; CHAR_CLASSES.len()],
        ..PointStats::default()
    };
    for v in values {
        let v = v.as_bytes();
        p.count += 1;
        p.length.add(v.len() as u64);
        for &b in v {
            p.chars[char_class(b)] += 1;
        }
        *p.formats.entry(format_of(v)).or_default() += 1;
        p.distinct
            .add_hash(keyed_hash(b"held-out node", point.as_bytes(), v));
    }
    p
}

/// xorshift64*, unrelated to the knowledge base's generator.
struct R(u64);

impl R {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn n(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn of<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next() as usize % xs.len()]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.n(0, 15) as u32, 16).expect("a hex digit"))
            .collect()
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.n(0, 9) as u32, 10).expect("a digit"))
            .collect()
    }
}

const FIRST: &[&str] = &[
    "Oliver",
    "Amelia",
    "Hugo",
    "Mila",
    "Théo",
    "Zoé",
    "Aleksander",
    "Freya",
    "Kai",
    "Leilani",
    "Mateus",
    "Élodie",
    "Nils",
    "Ottilie",
    "Rafael",
    "Saoirse",
    "Tobias",
    "Ursula",
    "Viktor",
    "Wilhelmina",
    "Ximena",
    "Yara",
    "Zeynep",
    "Bartosz",
    "Cosima",
    "Dário",
    "Emre",
    "Fiona",
    "Gaspard",
    "Henrike",
    "Ilse",
    "Joaquín",
    "Kalani",
    "Linnea",
    "Magnus",
    "Nadia",
    "Orla",
];
const LAST: &[&str] = &[
    "Abernathy",
    "Bergström",
    "Castellanos",
    "Duchamp",
    "Eriksen",
    "Fitzgerald",
    "Grünewald",
    "Halvorsen",
    "Iglesias",
    "Jovanović",
    "Kowalczyk",
    "Lindqvist",
    "Moreau-Petit",
    "Nakamura",
    "Oyelaran",
    "Papadopoulos",
    "Quintero",
    "Rasmussen",
    "Szymańska",
    "Thorvaldsen",
    "Uribe",
    "Vasquez",
    "Whitfield",
    "Xenakis",
    "Yamazaki",
    "Zimmermann",
];
const WORDS: &[&str] = &[
    "blanket",
    "wool",
    "soft",
    "arrived",
    "quickly",
    "seller",
    "describes",
    "item",
    "honestly",
    "the",
    "a",
    "is",
    "was",
    "and",
    "but",
    "very",
    "not",
    "my",
    "our",
    "for",
    "with",
    "this",
    "daughter",
    "loves",
    "it",
    "colour",
    "faded",
    "after",
    "washing",
    "sturdy",
    "zipper",
    "broke",
    "week",
    "customer",
    "support",
    "replied",
    "within",
    "hours",
    "hiking",
    "boots",
    "size",
    "runs",
    "small",
    "ordered",
    "another",
    "pair",
    "waterproof",
    "lantern",
    "battery",
    "lasts",
    "forever",
    "ceramic",
    "mug",
    "dishwasher",
    "safe",
    "gorgeous",
    "glaze",
    "would",
    "buy",
];
const DOMAINS: &[&str] = &[
    "mailbox.org",
    "fastmail.com",
    "posteo.de",
    "example.net",
    "uni-bonn.de",
];
const HOSTS: &[&str] = &[
    "shop.example.org",
    "files.contoso.net",
    "www.fabrikam.io",
    "cdn.tailspin.dev",
];

/// One held-out point of format `f`: its values and shaped path.
fn held_out(r: &mut R, f: ParamFormat, count: usize) -> (Vec<String>, String) {
    let name: &str;
    let pop = (count as f64 * (0.15 + 0.85 * r.f())).ceil() as usize;
    let mut gen: Box<dyn FnMut(&mut R) -> String> = match f {
        ParamFormat::Integer => {
            name = r.of(&[
                "productId",
                "qty",
                "pageNumber",
                "offsetDays",
                "createdEpoch",
            ]);
            let k = r.n(0, 3);
            Box::new(move |r: &mut R| match k {
                0 => r.n(1, 50).to_string(),
                1 => r.n(1000, 9_999_999).to_string(),
                2 => (r.n(0, 1000) as i64 - 500).to_string(),
                _ => r.n(1_600_000_000, 1_750_000_000).to_string(),
            })
        }
        ParamFormat::Decimal => {
            name = r.of(&["amount", "geoLat", "weightKg", "unitPrice"]);
            let k = r.n(0, 2);
            Box::new(move |r: &mut R| match k {
                0 => format!("{}.{}", r.n(1, 9999), r.n(0, 9)),
                1 => format!("{}.{}", r.n(10, 60), r.digits(5)),
                _ => format!("0.{}", r.n(5, 95)),
            })
        }
        ParamFormat::Boolean => {
            name = r.of(&["isGift", "acceptTerms", "darkMode"]);
            let pair = [("true", "false"), ("1", "0"), ("yes", "no")][r.n(0, 2) as usize];
            Box::new(move |r: &mut R| if r.f() < 0.6 { pair.0 } else { pair.1 }.to_string())
        }
        ParamFormat::Enumeration => {
            name = r.of(&["condition", "shirtSize", "payWith", "orderBy", "uiLang"]);
            let sets: &[&[&str]] = &[
                &["small", "medium", "large"],
                &["NEW", "USED", "REFURBISHED"],
                &["card", "paypal", "invoice", "giftcard"],
                &["created_asc", "created_desc", "name_asc", "name_desc"],
                &["de", "en", "fr", "it", "nl"],
                &["EUR", "USD", "GBP"],
            ];
            let set = sets[r.n(0, sets.len() as u64 - 1) as usize];
            Box::new(move |r: &mut R| r.of(set).to_string())
        }
        ParamFormat::Uuid => {
            name = r.of(&["requestUuid", "deviceGuid", "cartId"]);
            let upper = r.f() < 0.3;
            Box::new(move |r: &mut R| {
                let s = format!(
                    "{}-{}-4{}-a{}-{}",
                    r.hex(8),
                    r.hex(4),
                    r.hex(3),
                    r.hex(3),
                    r.hex(12)
                );
                if upper {
                    s.to_uppercase()
                } else {
                    s
                }
            })
        }
        ParamFormat::Hex => {
            name = r.of(&["fileSha1", "contentMd5", "mongoId"]);
            let (len, upper) = [(40, false), (32, true), (24, false)][r.n(0, 2) as usize];
            Box::new(move |r: &mut R| {
                let h = r.hex(len);
                if upper {
                    h.to_uppercase()
                } else {
                    h
                }
            })
        }
        ParamFormat::Base64 => {
            name = r.of(&["blob", "resumeToken", "sig"]);
            let url_safe = r.f() < 0.5;
            Box::new(move |r: &mut R| {
                let n = r.n(16, 48) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                b64(&bytes, url_safe)
            })
        }
        ParamFormat::Jwt => {
            name = r.of(&["bearerToken", "idToken"]);
            Box::new(move |r: &mut R| {
                let payload = format!(
                    "{{\"uid\":{},\"role\":\"member\",\"exp\":{}}}",
                    r.n(1, 99_999),
                    r.n(1_700_000_000, 1_800_000_000)
                );
                let sig: Vec<u8> = (0..32).map(|_| r.next() as u8).collect();
                format!(
                    "{}.{}.{}",
                    b64(b"{\"typ\":\"JWT\",\"alg\":\"HS256\"}", true),
                    b64(payload.as_bytes(), true),
                    b64(&sig, true)
                )
            })
        }
        ParamFormat::Email => {
            name = r.of(&["contactEmail", "notifyAddress", "login"]);
            Box::new(move |r: &mut R| {
                let f = fold_ascii(r.of(FIRST)).to_lowercase();
                let l = fold_ascii(r.of(LAST)).to_lowercase();
                if r.f() < 0.5 {
                    format!("{f}.{l}@{}", r.of(DOMAINS))
                } else {
                    format!("{}{}{}@{}", &f[..1], l, r.n(1, 99), r.of(DOMAINS))
                }
            })
        }
        ParamFormat::Url => {
            name = r.of(&["backlink", "imageSrc", "webhookTarget"]);
            Box::new(move |r: &mut R| {
                format!(
                    "https://{}/{}/{}?ref={}",
                    r.of(HOSTS),
                    r.of(&["catalog", "media", "p", "docs"]),
                    r.n(1, 99_999),
                    r.of(WORDS)
                )
            })
        }
        ParamFormat::Ip => {
            name = r.of(&["clientAddr", "peerIp"]);
            let v6 = r.f() < 0.3;
            Box::new(move |r: &mut R| {
                if v6 {
                    format!("2001:db8:{:x}::{:x}", r.n(0, 0xffff), r.n(1, 0xffff))
                } else {
                    format!(
                        "{}.{}.{}.{}",
                        r.n(11, 220),
                        r.n(0, 255),
                        r.n(0, 255),
                        r.n(1, 254)
                    )
                }
            })
        }
        ParamFormat::DateTime => {
            name = r.of(&["shippedOn", "validFrom", "eventTime"]);
            let k = r.n(0, 3);
            Box::new(move |r: &mut R| {
                let (y, m, d) = (r.n(2015, 2026), r.n(1, 12), r.n(1, 28));
                match k {
                    0 => format!(
                        "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{}Z",
                        r.n(0, 23),
                        r.n(0, 59),
                        r.n(0, 59),
                        r.digits(3)
                    ),
                    1 => format!("{y}-{m:02}-{d:02}"),
                    2 => format!("{d:02}/{m:02}/{y}"),
                    _ => format!(
                        "{d} {} {y} {:02}:{:02}",
                        ["Jan", "Mar", "Jun", "Oct"][r.n(0, 3) as usize],
                        r.n(0, 23),
                        r.n(0, 59)
                    ),
                }
            })
        }
        ParamFormat::Phone => {
            name = r.of(&["mobileNumber", "contactTel"]);
            let k = r.n(0, 2);
            Box::new(move |r: &mut R| match k {
                0 => format!("+49 {} {}", r.n(30, 89), r.digits(7)),
                1 => format!("+1-{}-555-{}", r.n(201, 989), r.digits(4)),
                _ => format!("({}) {}-{}", r.n(201, 989), r.digits(3), r.digits(4)),
            })
        }
        ParamFormat::Card => {
            name = r.of(&["pan", "ccNumber"]);
            let spaced = r.f() < 0.5;
            Box::new(move |r: &mut R| {
                let prefix = if r.f() < 0.5 { "4" } else { "52" };
                let n = luhn(r, prefix, 16);
                if spaced {
                    format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..])
                } else {
                    n
                }
            })
        }
        ParamFormat::Name => {
            name = r.of(&["holderName", "givenName", "recipient"]);
            let full = r.f() < 0.6;
            Box::new(move |r: &mut R| {
                if full {
                    format!("{} {}", r.of(FIRST), r.of(LAST))
                } else {
                    r.of(FIRST).to_string()
                }
            })
        }
        ParamFormat::FreeText => {
            name = r.of(&["reviewBody", "searchTerms", "remarks"]);
            let query = r.f() < 0.4;
            Box::new(move |r: &mut R| {
                let n = if query { r.n(2, 4) } else { r.n(6, 20) };
                let mut s: Vec<&str> = (0..n).map(|_| r.of(WORDS)).collect();
                if !query {
                    s.push(".");
                }
                let mut t = s.join(" ").replace(" .", ".");
                if !query {
                    t = format!("{}{}", t[..1].to_uppercase(), &t[1..]);
                }
                t
            })
        }
        ParamFormat::Json => {
            name = r.of(&["attrs", "prefs"]);
            Box::new(move |r: &mut R| {
                format!(
                    "{{\"sku\":\"{}\",\"qty\":{},\"gift\":{}}}",
                    r.hex(6),
                    r.n(1, 9),
                    r.f() < 0.5
                )
            })
        }
        ParamFormat::Xml => {
            name = r.of(&["doc", "soapBody"]);
            Box::new(move |r: &mut R| {
                format!(
                    "<?xml version=\"1.0\"?><shipment><parcel weight=\"{}\">{}</parcel><carrier>{}</carrier></shipment>",
                    r.n(1, 30),
                    r.n(1000, 9999),
                    r.of(&["dhl", "ups", "fedex"])
                )
            })
        }
        ParamFormat::Html => {
            name = r.of(&["bodyHtml", "aboutMe"]);
            Box::new(move |r: &mut R| {
                let a = r.of(WORDS);
                let b = r.of(WORDS);
                let c = r.of(WORDS);
                match r.n(0, 2) {
                    0 => format!("<p>{a} <strong>{b}</strong> {c}</p>"),
                    1 => format!("<div>{a} {b}<br>{c}</div>"),
                    _ => format!("<p><em>{a}</em> {b} {c} {a}</p>"),
                }
            })
        }
        ParamFormat::FilePath => {
            name = r.of(&["attachmentPath", "logFile", "tpl"]);
            let k = r.n(0, 2);
            Box::new(move |r: &mut R| match k {
                0 => format!(
                    "/srv/{}/{}.{}",
                    r.of(&["data", "exports", "media"]),
                    r.of(WORDS),
                    r.of(&["csv", "log", "png"])
                ),
                1 => format!(
                    "C:\\Temp\\{}\\{}.txt",
                    r.of(&["reports", "scans"]),
                    r.of(WORDS)
                ),
                _ => format!(
                    "{}/{}_{}.{}",
                    r.of(&["images", "docs"]),
                    r.of(WORDS),
                    r.n(1, 99),
                    r.of(&["jpg", "pdf"])
                ),
            })
        }
    };
    let population: Vec<String> = (0..pop.max(1)).map(|_| gen(r)).collect();
    let mut values: Vec<String> = (0..count)
        .map(|_| population[r.n(0, population.len() as u64 - 1) as usize].clone())
        .collect();
    // A few empty values now and then.
    if r.f() < 0.25 {
        for v in values.iter_mut() {
            if r.f() < 0.04 {
                v.clear();
            }
        }
    }
    // A third of the points without a usable name.
    let point = if r.f() < 0.33 {
        "body:json.payload.{word}".to_string()
    } else {
        format!("body:json.payload.{name}")
    };
    (values, point)
}

fn b64(bytes: &[u8], url_safe: bool) -> String {
    let table: &[u8] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let v = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(table[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if !url_safe {
            for _ in c.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

fn luhn(r: &mut R, prefix: &str, len: usize) -> String {
    let mut d: Vec<u32> = prefix.chars().filter_map(|c| c.to_digit(10)).collect();
    while d.len() < len - 1 {
        d.push(r.n(0, 9) as u32);
    }
    let s: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 0 {
                if x * 2 > 9 {
                    x * 2 - 9
                } else {
                    x * 2
                }
            } else {
                x
            }
        })
        .sum();
    d.push((10 - s % 10) % 10);
    d.iter()
        .map(|x| char::from_digit(*x, 10).expect("a digit"))
        .collect()
}

fn fold_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' => 'e',
            'ö' | 'ó' => 'o',
            'ü' | 'ú' => 'u',
            'á' => 'a',
            'í' => 'i',
            'ć' => 'c',
            'ń' => 'n',
            c => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn classify(values: &[String], point: &str) -> Inference {
    model().classify(&aggregate(values, point), point)
}

#[test]
fn accuracy_per_point_on_held_out_generators() {
    let mut r = R(0x00C0_FFEE_1234_5678);
    let mut right = 0;
    let mut total = 0;
    let mut confusion: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for round in 0..12 {
        for &f in ParamFormat::ALL {
            let count = if round % 4 == 0 {
                r.n(8, 30) as usize
            } else {
                (8.0 * (200f64).powf(r.f())) as usize
            };
            let (values, point) = held_out(&mut r, f, count);
            let inf = classify(&values, &point);
            total += 1;
            if inf.format == f {
                right += 1;
            } else {
                *confusion.entry((f.name(), inf.format.name())).or_default() += 1;
            }
        }
    }
    let acc = right as f64 / total as f64;
    println!("held-out accuracy per point: {acc:.4} ({right}/{total})");
    for ((want, got), n) in &confusion {
        println!("  {want} -> {got}: {n}");
    }
    assert!(acc >= 0.97, "accuracy {acc:.4}, confusions {confusion:?}");
}

#[test]
fn personal_data_is_flagged() {
    let mut r = R(0xBADC_0FFE_E0DD_F00D);
    for f in [
        ParamFormat::Email,
        ParamFormat::Phone,
        ParamFormat::Card,
        ParamFormat::Name,
    ] {
        for _ in 0..3 {
            let (values, point) = held_out(&mut r, f, 120);
            let inf = classify(&values, &point);
            assert!(inf.personal_data, "{f}: {inf:?}");
        }
    }
    for f in [
        ParamFormat::Uuid,
        ParamFormat::Integer,
        ParamFormat::Enumeration,
        ParamFormat::Url,
    ] {
        for _ in 0..3 {
            let (values, point) = held_out(&mut r, f, 120);
            let inf = classify(&values, &point);
            assert!(!inf.personal_data, "{f}: {inf:?}");
        }
    }
}

#[test]
fn points_with_few_values() {
    let mut r = R(0x5EED_0000_0000_0042);
    let mut wrong = Vec::new();
    for f in [
        ParamFormat::Uuid,
        ParamFormat::Email,
        ParamFormat::Integer,
        ParamFormat::Url,
        ParamFormat::Ip,
        ParamFormat::Jwt,
        ParamFormat::Card,
        ParamFormat::Json,
        ParamFormat::Hex,
    ] {
        for count in [5, 6, 8] {
            let (values, point) = held_out(&mut r, f, count);
            let inf = classify(&values, &point);
            if inf.format != f {
                wrong.push((f, count, inf));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[test]
fn an_enumeration_is_not_free_text() {
    let mut r = R(77);
    let members = ["queued", "running", "finished", "failed"];
    let statuses: Vec<String> = (0..600).map(|_| r.of(&members).to_string()).collect();
    let texts: Vec<String> = (0..600)
        .map(|_| {
            let n = r.n(5, 14);
            (0..n).map(|_| r.of(WORDS)).collect::<Vec<_>>().join(" ")
        })
        .collect();
    for point in ["query.jobState", "query.{word}"] {
        let e = classify(&statuses, point);
        assert_eq!(e.format, ParamFormat::Enumeration, "{point}: {e:?}");
        let t = classify(&texts, point);
        assert_eq!(t.format, ParamFormat::FreeText, "{point}: {t:?}");
    }
}

#[test]
fn confidence_is_lower_on_an_ambiguous_mixed_point() {
    let mut r = R(4242);
    let uuids: Vec<String> = (0..300)
        .map(|_| {
            format!(
                "{}-{}-4{}-b{}-{}",
                r.hex(8),
                r.hex(4),
                r.hex(3),
                r.hex(3),
                r.hex(12)
            )
        })
        .collect();
    let clean = classify(&uuids, "query.{word}");
    assert_eq!(clean.format, ParamFormat::Uuid);
    assert!(clean.confidence > 0.9, "{clean:?}");

    let ints: Vec<String> = (0..400).map(|_| r.n(1, 100_000).to_string()).collect();
    let pure = classify(&ints, "query.{word}");
    assert_eq!(pure.format, ParamFormat::Integer);
    let mixed: Vec<String> = (0..400)
        .map(|i| {
            if i % 2 == 0 {
                r.n(1, 100_000).to_string()
            } else {
                r.of(WORDS).to_string()
            }
        })
        .collect();
    let m = classify(&mixed, "query.{word}");
    println!("pure integer {pure:?}, half integers half words {m:?}");
    assert!(
        m.confidence < 0.9 && m.confidence < pure.confidence - 0.15,
        "{pure:?} {m:?}"
    );
}

#[test]
fn odd_aggregates_do_not_panic() {
    let m = model();
    let empty = PointStats::default();
    let inf = m.classify(&empty, "");
    assert_eq!(inf.confidence, 0.0);
    let blanks = aggregate(&vec![String::new(); 20], "query.q");
    assert_eq!(m.classify(&blanks, "query.q").confidence, 0.0);
    // Counts that do not add up, a short character vector, a huge count.
    let mut odd = aggregate(&["abc".to_string(), "42".to_string()], "query.x");
    odd.chars.truncate(3);
    odd.count = u64::MAX;
    odd.length.buckets = vec![u64::MAX; 30];
    let inf = m.classify(&odd, "header[\"x-\\\"odd\"]");
    assert!(inf.confidence.is_finite() && (0.0..=1.0).contains(&inf.confidence));
}
