//! The business function of an endpoint (login, search, checkout, ...).
//!
//! A softmax classifier ([`crate::nn::Classifier`]) over a bag of features
//! of a [`Template`], hashed into a fixed-width vector:
//!
//! - the method (`m:POST`) and whether it reads or writes;
//! - the words of the literal path segments, split on `/ - _ . ~` and at
//!   camelCase and letter/digit boundaries, lower-cased, a final `s`
//!   dropped from words longer than three letters (`w:order`); the words
//!   of the last literal segment once more (`lw:login`), and the character
//!   trigrams of every word of four letters or more (`g:log`, `g:ogi`,
//!   ...), so that `signin`, `sign-in` and `SignIn`, or `register` and
//!   `registration`, share features; the last segment's words run
//!   together (`lj:signin` for `sign_in`), and whether its last word is a
//!   plural (`accounts`, a collection, is not `account`, the user's own);
//! - the section: the words of the first literal segment past the API
//!   plumbing (`api`, `rest`, versions), when more of the path follows
//!   (`sec:checkout` for `/api/v2/checkout/shipping`);
//! - whether a segment names a back office (`admin`, `wp-admin`,
//!   `manage`, `backoffice`, `staff`, `console`, `moderation`... see
//!   [`BACK_OFFICE`]), before the last literal segment (`bo:prefix`: an
//!   administration section, whatever resource follows) or as it
//!   (`bo:last`);
//! - the file extension of the last segment (`ext:css`) and its family
//!   (with twice the weight): the site's assets (styles, scripts, images,
//!   fonts) or documents, archives, installers and media that are
//!   downloaded;
//! - the kinds of the parameters (`pk:int`), the number of parameters and
//!   whether the template ends with one;
//! - the words of the request points' member names (`p:password`) and
//!   their sources (`src:body:json`); header and cookie points are left
//!   out, their names say more about the client than the endpoint;
//! - the request content types (`ct:application/json`) and their family
//!   (`ctf:json`, `ctf:form`, `ctf:multipart`, `ctf:xml`);
//! - for an operation endpoint, its kind (`op:mutation`) and the words of
//!   its name, counted as path words and as the last segment's, and
//!   whether its leading verb reads (`get`, `list`, `find`...) or writes
//!   (`create`, `update`, `delete`...).
//!
//! Response statuses are not features: the knowledge base describes
//! endpoints, not traffic.
//!
//! Each feature is hashed with FNV-1a (64 bits, seeded with
//! [`FEATURE_SEED`]) into one of [`WIDTH`] (1024) slots, set to 1 (0.5
//! for trigrams, 2 for an extension family), and the vector is scaled
//! to unit length. The knowledge base (`cloud/learn/kb/functions.tsv`)
//! holds labelled endpoints written from general knowledge of web
//! applications and APIs; [`FunctionModel::train`] trains on all of it
//! with a fixed seed, each example also twice more with a random quarter
//! of its features dropped, so that the model spreads its weight over
//! all the evidence (an unknown path word must not outweigh the method,
//! the parameters and the content type).

use std::collections::BTreeMap;

use burn::tensor::Device;

use super::point;
use super::templates::{Operation, Param, ParamKind, Protocol, Template};
use crate::labels::Function;
use crate::nn::{Classifier, TrainConfig};

/// Width of the feature vectors.
pub const WIDTH: usize = 1024;

/// Seed of the feature hash.
pub const FEATURE_SEED: u64 = 0x7261_6d70_6172_7431;

/// The built-in knowledge base.
const KB: &str = include_str!("../../kb/functions.tsv");

fn fnv(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ FEATURE_SEED;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Splits a name into lower-case words: on non-alphanumerics, at
/// camelCase humps and between letters and digits; numbers are dropped and
/// a final `s` is removed from words longer than three letters.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() && !cur.chars().all(|c| c.is_ascii_digit()) {
            let w = cur.to_lowercase();
            let w = if w.chars().count() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_string()
            } else {
                w
            };
            out.push(w);
        }
        cur.clear();
    };
    for c in s.chars() {
        if !c.is_alphanumeric() {
            flush(&mut cur, &mut out);
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let hump = p.is_lowercase() && c.is_uppercase();
            let digit_edge = p.is_ascii_digit() != c.is_ascii_digit();
            if hump || digit_edge {
                flush(&mut cur, &mut out);
            }
        }
        cur.push(c);
        prev = Some(c);
        if out.len() > 64 {
            break;
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn put(v: &mut [f32], feature: &str, weight: f32) {
    let i = (fnv(feature) % WIDTH as u64) as usize;
    if v[i] < weight {
        v[i] = weight;
    }
}

fn put_word(v: &mut [f32], prefix: &str, w: &str) {
    put(v, &format!("{prefix}:{w}"), 1.0);
    let chars: Vec<char> = format!("^{w}$").chars().collect();
    if chars.len() >= 6 {
        for g in chars.windows(3) {
            let g: String = g.iter().collect();
            put(v, &format!("g:{g}"), 0.5);
        }
    }
}

/// Copies of each knowledge-base example, with features dropped, added
/// to the training set.
const AUGMENT: usize = 1;

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// The feature vector of a template (see the module documentation),
/// scaled to unit length.
pub fn features(t: &Template) -> Vec<f32> {
    normalised(raw_features(t))
}

fn raw_features(t: &Template) -> Vec<f32> {
    let mut v = vec![0.0f32; WIDTH];
    let method = t.method.to_ascii_uppercase();
    put(&mut v, &format!("m:{method}"), 1.0);
    let reads = matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
    put(&mut v, if reads { "m:read" } else { "m:write" }, 1.0);

    let segs = t.segments();
    let last_literal = segs.iter().rposition(|s| !s.starts_with('{'));
    let mut section_seen = false;
    for (i, s) in segs.iter().enumerate() {
        if s.starts_with('{') {
            continue;
        }
        let mut s: &str = s;
        if i + 1 == segs.len() {
            if let Some((stem, ext)) = s.rsplit_once('.') {
                let ext_ok = (1..=5).contains(&ext.len())
                    && ext.bytes().all(|b| b.is_ascii_alphanumeric())
                    && !stem.is_empty();
                if ext_ok {
                    s = stem;
                }
            }
        }
        let is_last = Some(i) == last_literal;
        let ws = words(s);
        for w in &ws {
            put_word(&mut v, "w", w);
            if is_last {
                put(&mut v, &format!("lw:{w}"), 1.0);
            }
        }
        if is_last && ws.len() > 1 {
            // The words run together: `sign_in`, `sign-in`, `SignIn` and
            // `signin` are one.
            put_word(&mut v, "lj", &ws.concat());
        }
        if is_last && raw_last_word(s).is_some_and(|r| r.len() > 3 && r.ends_with('s')) {
            // A collection (`accounts`) is not the user's own (`account`).
            put(&mut v, "lw:plural", 1.0);
        }
        if back_office(s, &ws) {
            put(&mut v, if is_last { "bo:last" } else { "bo:prefix" }, 1.0);
        }
        // The section: the first literal segment past the API plumbing
        // (`api`, `rest`, versions), whatever follows it.
        if !section_seen && !is_plumbing(s) {
            section_seen = true;
            if is_last {
                continue;
            }
            for w in &ws {
                put(&mut v, &format!("sec:{w}"), 1.0);
            }
        }
    }
    let mut exts: Vec<String> = t.extensions.keys().cloned().collect();
    if let Some((stem, ext)) = segs.last().and_then(|s| s.rsplit_once('.')) {
        if !stem.is_empty() && !ext.starts_with('{') {
            exts.push(ext.to_ascii_lowercase());
        }
    }
    for ext in exts {
        put(&mut v, &format!("ext:{ext}"), 1.0);
        if let Some(family) = extension_family(&ext) {
            // A file's kind says more than the words of its path.
            put(&mut v, family, 2.0);
        }
    }
    for p in &t.params {
        put(&mut v, &format!("pk:{}", p.kind.name()), 1.0);
    }
    put(&mut v, &format!("np:{}", t.params.len().min(3)), 1.0);
    let ends_param = segs.last().is_some_and(|s| s.starts_with('{'));
    put(
        &mut v,
        if ends_param { "end:param" } else { "end:lit" },
        1.0,
    );
    if segs.is_empty() {
        put(&mut v, "root", 1.0);
    }

    let mut n_points = 0usize;
    for p in &t.points {
        let steps = point::parse(&p.point);
        let source: Vec<String> = steps
            .iter()
            .filter_map(|s| match s {
                point::Step::Source(x) => Some(x.clone()),
                point::Step::Layer(l) => Some(l.clone()),
                _ => None,
            })
            .collect();
        let src = source.first().map(String::as_str).unwrap_or("");
        if matches!(src, "header" | "cookie") {
            continue;
        }
        n_points += 1;
        put(&mut v, &format!("src:{}", source.join(":")), 1.0);
        for name in point::names(&p.point) {
            for w in words(&name) {
                put(&mut v, &format!("p:{w}"), 1.0);
            }
        }
    }
    put(&mut v, &format!("npt:{}", n_points.min(4)), 1.0);

    for ct in t.content_types.keys() {
        let ct = ct.to_ascii_lowercase();
        put(&mut v, &format!("ct:{ct}"), 1.0);
        let family = if ct.contains("json") {
            "json"
        } else if ct.contains("x-www-form-urlencoded") {
            "form"
        } else if ct.starts_with("multipart/") {
            "multipart"
        } else if ct.contains("xml") {
            "xml"
        } else if ct.contains("graphql") {
            "graphql"
        } else if ct.starts_with("image/") || ct.starts_with("video/") || ct.contains("octet") {
            "binary"
        } else {
            "other"
        };
        put(&mut v, &format!("ctf:{family}"), 1.0);
    }
    if t.content_types.is_empty() {
        put(&mut v, "ct:none", 1.0);
    }

    if let Some(op) = &t.operation {
        put(&mut v, &format!("op:{}", op.kind), 1.0);
        let ws = words(&op.name);
        for w in &ws {
            put_word(&mut v, "w", w);
            put(&mut v, &format!("lw:{w}"), 1.0);
        }
        if let Some(verb) = ws.first().and_then(|w| verb_kind(w)) {
            put(&mut v, verb, 1.0);
        }
    }
    v
}

/// Words of back offices: a segment like these makes the endpoint part of
/// an administration section, whatever resource follows.
pub const BACK_OFFICE: &[&str] = &[
    "admin",
    "administrator",
    "administration",
    "administracion",
    "administrador",
    "amministrazione",
    "verwaltung",
    "beheer",
    "gestion",
    "manage",
    "management",
    "backoffice",
    "backend",
    "backstage",
    "staff",
    "console",
    "moderation",
    "moderator",
    "mod",
    "superuser",
    "sysadmin",
    "internal",
    "ops",
    "cp",
    "cpanel",
    "controlpanel",
    "wpadmin",
];

/// Whether a literal segment names a back office (`admin`, `wp-admin`,
/// `back-office`, `manage`, `staff`...).
fn back_office(seg: &str, ws: &[String]) -> bool {
    let joined: String = seg
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    BACK_OFFICE.contains(&joined.as_str()) || ws.iter().any(|w| BACK_OFFICE.contains(&w.as_str()))
}

/// Segments that carry no business meaning: API roots and versions.
fn is_plumbing(seg: &str) -> bool {
    let s = seg.to_ascii_lowercase();
    let version = s
        .strip_prefix('v')
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let dated = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '-');
    version
        || dated
        || matches!(
            s.as_str(),
            "api" | "apis" | "rest" | "json" | "public" | "app" | "web" | "ajax" | "index.php"
        )
}

/// The last word of a segment, lower-cased but not singularised.
fn raw_last_word(seg: &str) -> Option<String> {
    let w = seg
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))?;
    Some(w.to_lowercase())
}

/// The family of a file extension: the site's own assets, or documents
/// and archives that are downloaded.
fn extension_family(ext: &str) -> Option<&'static str> {
    const ASSET: &[&str] = &[
        "css",
        "js",
        "mjs",
        "map",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "ico",
        "webp",
        "avif",
        "bmp",
        "woff",
        "woff2",
        "ttf",
        "otf",
        "eot",
        "txt",
        "xml",
        "webmanifest",
        "json",
        "html",
        "htm",
    ];
    const DOCUMENT: &[&str] = &[
        "pdf", "doc", "docx", "xls", "xlsx", "csv", "ppt", "pptx", "odt", "ods", "zip", "gz",
        "tgz", "tar", "7z", "rar", "bz2", "xz", "exe", "msi", "dmg", "pkg", "apk", "ipa", "deb",
        "rpm", "iso", "epub", "mp3", "mp4", "mov", "avi", "mkv", "wav", "flac", "ics", "vcf",
    ];
    if ASSET.contains(&ext) {
        Some("extf:asset")
    } else if DOCUMENT.contains(&ext) {
        Some("extf:document")
    } else {
        None
    }
}

/// Whether an operation's leading verb reads or writes (`getUser`,
/// `listOrders` read; `createPost`, `cancelOrder` write): RPC-style names
/// carry the method that REST puts in the request line.
fn verb_kind(w: &str) -> Option<&'static str> {
    const READ: &[&str] = &[
        "get", "list", "find", "fetch", "read", "load", "retrieve", "show", "view", "describe",
        "count", "check", "query", "lookup", "all", "browse",
    ];
    const WRITE: &[&str] = &[
        "create", "add", "update", "set", "delete", "remove", "cancel", "submit", "save", "insert",
        "modify", "patch", "put", "post", "send", "edit", "change", "rate", "like", "approve",
        "reject", "archive", "assign", "book", "schedule", "transfer", "new", "initiate",
        "execute", "make", "process", "register", "enable", "disable", "upsert", "import", "issue",
        "close", "open", "start", "stop", "reset", "lock", "unlock", "block", "unblock", "confirm",
    ];
    if READ.contains(&w) {
        Some("opv:read")
    } else if WRITE.contains(&w) {
        Some("opv:write")
    } else {
        None
    }
}

/// A labelled endpoint of the knowledge base.
#[derive(Debug, Clone)]
pub struct Example {
    /// The endpoint, as a template.
    pub template: Template,
    /// Its business function.
    pub function: Function,
}

/// The kind a knowledge-base parameter name suggests, when the row does
/// not say (`{id}` -> int, `{slug}` -> slug).
fn kind_of_name(name: &str) -> ParamKind {
    let n = name.to_ascii_lowercase();
    let has = |s: &str| n.contains(s);
    if has("uuid") || has("guid") {
        ParamKind::Uuid
    } else if has("slug") || has("name") || has("handle") || has("user") {
        ParamKind::Slug
    } else if has("file") || has("path") || has("asset") {
        ParamKind::File
    } else if has("token") || has("hash") || has("key") || has("code") || has("sig") {
        ParamKind::Token
    } else if has("date") || has("day") {
        ParamKind::Date
    } else if has("locale") || has("lang") {
        ParamKind::Locale
    } else if has("version") {
        ParamKind::Version
    } else if has("email") {
        ParamKind::Email
    } else if has("id") || has("num") || has("no") {
        ParamKind::Int
    } else {
        ParamKind::Slug
    }
}

/// A template described by hand: `spec` is a path template whose
/// parameters may carry a kind (`/users/{id:uuid}/files/{name}`; without
/// one, the kind follows the name), optionally followed by
/// `#KIND.NAME` for a GraphQL operation (`/graphql#mutation.login`) or
/// `#action.NAME` for a SOAP action; `points` are shaped point paths;
/// `content_type` the request media type. Used for the knowledge base
/// and for tests.
pub fn example(method: &str, spec: &str, points: &[&str], content_type: Option<&str>) -> Template {
    let (path, op) = match spec.split_once('#') {
        Some((p, o)) => (p, Some(o)),
        None => (spec, None),
    };
    let mut params = Vec::new();
    let mut template = String::new();
    let trimmed = path.trim_matches('/');
    for (i, seg) in trimmed.split('/').filter(|s| !s.is_empty()).enumerate() {
        template.push('/');
        if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let (name, kind) = match inner.split_once(':') {
                Some((n, k)) => (n, ParamKind::parse(k).unwrap_or_else(|| kind_of_name(n))),
                None => (inner, kind_of_name(inner)),
            };
            template.push('{');
            template.push_str(name);
            template.push('}');
            params.push(Param {
                name: name.to_string(),
                position: i,
                kind,
                kinds: BTreeMap::from([(kind, 1)]),
            });
        } else {
            template.push_str(seg);
        }
    }
    if template.is_empty() {
        template.push('/');
    }
    let method = method.to_ascii_uppercase();
    let mut extensions = BTreeMap::new();
    if let Some(ext) = template
        .rsplit('/')
        .next()
        .and_then(|l| l.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| (1..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        extensions.insert(ext, 1);
    }
    let content_types: BTreeMap<String, u64> = content_type
        .filter(|c| !c.is_empty() && *c != "-")
        .map(|c| BTreeMap::from([(c.to_string(), 1)]))
        .unwrap_or_default();
    let points = points
        .iter()
        .filter(|p| !p.is_empty() && **p != "-")
        .map(|p| rampart_telemetry::PointStats {
            point: p.to_string(),
            count: 1,
            ..Default::default()
        })
        .collect();
    let operation = op.and_then(|o| o.split_once('.')).map(|(kind, name)| {
        let soap = kind == "action";
        Operation {
            protocol: if soap {
                Protocol::Soap
            } else {
                Protocol::Graphql
            },
            kind: kind.to_string(),
            name: name.to_string(),
            point: if soap {
                format!("body:xml[\"soap:Envelope\"][\"soap:Body\"].{name}")
            } else {
                format!("body:graphql.{kind}.{name}")
            },
        }
    });
    Template {
        name: format!("{method} {spec}"),
        method,
        template,
        params,
        operation,
        shapes: Vec::new(),
        requests: 1,
        statuses: BTreeMap::new(),
        content_types,
        points,
        extensions,
    }
}

/// The knowledge base: one example per valid row of
/// `cloud/learn/kb/functions.tsv` (`label<TAB>method<TAB>template<TAB>
/// points<TAB>content type`, points separated by spaces, `-` for none,
/// `#` starting a comment line).
pub fn knowledge_base() -> Vec<Example> {
    parse_kb(KB).0
}

/// Parses knowledge-base text; also returns the numbers of the lines that
/// are not valid rows.
pub fn parse_kb(text: &str) -> (Vec<Example>, Vec<usize>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(label), Some(method), Some(spec)) = (cols.first(), cols.get(1), cols.get(2))
        else {
            bad.push(n + 1);
            continue;
        };
        let Some(function) = Function::parse(label.trim()) else {
            bad.push(n + 1);
            continue;
        };
        if !spec.starts_with('/') {
            bad.push(n + 1);
            continue;
        }
        let points: Vec<&str> = cols
            .get(3)
            .map(|p| p.split_whitespace().collect())
            .unwrap_or_default();
        let ct = cols.get(4).map(|c| c.trim());
        out.push(Example {
            template: example(method.trim(), spec.trim(), &points, ct),
            function,
        });
    }
    (out, bad)
}

/// How [`FunctionModel::train`] trains.
pub fn train_config() -> TrainConfig {
    TrainConfig {
        hidden: vec![32],
        epochs: 20,
        batch: 128,
        learning_rate: 1e-2,
        seed: 11,
    }
}

/// Below this probability a specific function does not fit and the
/// method decides between `api_read` and `api_write`.
pub const UNSURE: f32 = 0.5;

/// Whether an endpoint with no specific function reads or writes: a
/// GraphQL query reads and a mutation writes, a SOAP action as its verb
/// says (`GetBalance`, `CreateOrder`; `None` for other verbs), a plain
/// endpoint as its method says (`GET`, `HEAD`, `OPTIONS` read).
fn generic_function(t: &Template) -> Option<Function> {
    let read = |r: bool| {
        if r {
            Function::ApiRead
        } else {
            Function::ApiWrite
        }
    };
    match &t.operation {
        Some(op) if op.kind.eq_ignore_ascii_case("query") => Some(Function::ApiRead),
        Some(op) if op.kind.eq_ignore_ascii_case("mutation") => Some(Function::ApiWrite),
        Some(op) => match words(&op.name).first().and_then(|w| verb_kind(w)) {
            Some("opv:read") => Some(Function::ApiRead),
            Some(_) => Some(Function::ApiWrite),
            None => None,
        },
        None => Some(read(matches!(
            t.method.to_ascii_uppercase().as_str(),
            "GET" | "HEAD" | "OPTIONS"
        ))),
    }
}

/// The business-function classifier.
#[derive(Debug, Clone)]
pub struct FunctionModel {
    classifier: Classifier,
}

impl FunctionModel {
    /// Trains on the built-in knowledge base (deterministic).
    pub fn train(device: &Device) -> FunctionModel {
        FunctionModel::train_on(&knowledge_base(), &train_config(), device)
    }

    /// Trains on given examples.
    pub fn train_on(examples: &[Example], cfg: &TrainConfig, device: &Device) -> FunctionModel {
        let mut x: Vec<Vec<f32>> = Vec::new();
        let mut y: Vec<usize> = Vec::new();
        let mut rng = cfg.seed ^ 0x9E37_79B9_7F4A_7C15 | 1;
        for e in examples {
            let raw = raw_features(&e.template);
            x.push(normalised(raw.clone()));
            y.push(e.function.index());
            // Copies with a quarter of the features dropped: no single
            // feature may carry an example alone.
            for _ in 0..AUGMENT {
                let mut v = raw.clone();
                for f in v.iter_mut().filter(|f| **f > 0.0) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    if rng.is_multiple_of(4) {
                        *f = 0.0;
                    }
                }
                x.push(normalised(v));
                y.push(e.function.index());
            }
        }
        let classes = Function::ALL.iter().map(|f| f.name().to_string()).collect();
        FunctionModel {
            classifier: Classifier::train(&x, &y, classes, cfg, device),
        }
    }

    /// The function of a template and the model's probability for it.
    pub fn classify(&self, t: &Template) -> (Function, f32) {
        self.classify_all(std::slice::from_ref(t))
            .into_iter()
            .next()
            .unwrap_or((Function::ApiRead, 0.0))
    }

    /// The functions of many templates at once.
    ///
    /// When the most likely function is a specific one (not `api_read` or
    /// `api_write`) but the model gives it less than [`UNSURE`], nothing
    /// specific fits: the template is a generic API read or write, with
    /// the confidence `1 - p`, the probability that the specific guess is
    /// wrong. Which of the two generic functions applies, the request
    /// says rather than the model: the method of a plain endpoint (`GET`,
    /// `HEAD`, `OPTIONS` read), the kind of a GraphQL operation, the verb
    /// of a SOAP action.
    pub fn classify_all(&self, ts: &[Template]) -> Vec<(Function, f32)> {
        let x: Vec<Vec<f32>> = ts.iter().map(features).collect();
        self.classifier
            .predict(&x)
            .into_iter()
            .zip(ts)
            .map(|((i, p), t)| {
                let f = Function::ALL.get(i).copied().unwrap_or(Function::ApiRead);
                let generic = matches!(f, Function::ApiRead | Function::ApiWrite);
                if generic {
                    // Whether a generic endpoint reads or writes, its
                    // request line (or operation) says.
                    let g = generic_function(t).unwrap_or(f);
                    return (g, p);
                }
                if p >= UNSURE {
                    return (f, p);
                }
                let g = generic_function(t).unwrap_or(Function::ApiWrite);
                (g, 1.0 - p)
            })
            .collect()
    }

    /// The model's probability of every function (in [`Function::ALL`]
    /// order), before the fallback of [`classify_all`](Self::classify_all).
    pub fn probabilities(&self, t: &Template) -> Vec<f32> {
        self.classifier
            .probabilities(&[features(t)])
            .into_iter()
            .next()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split() {
        assert_eq!(words("resetPassword"), vec!["reset", "password"]);
        assert_eq!(words("sign-in"), vec!["sign", "in"]);
        assert_eq!(words("oauth2_tokens"), vec!["oauth", "token"]);
        assert_eq!(words("Users"), vec!["user"]);
    }

    #[test]
    fn the_knowledge_base_parses() {
        let (ex, bad) = parse_kb(KB);
        assert!(bad.is_empty(), "bad lines {bad:?}");
        assert!(ex.len() >= 300, "{}", ex.len());
        for f in Function::ALL {
            let n = ex.iter().filter(|e| e.function == *f).count();
            assert!(n >= 12, "{f}: {n}");
        }
    }
}
