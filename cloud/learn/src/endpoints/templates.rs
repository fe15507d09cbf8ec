//! Endpoint templates from the path shapes nodes report.
//!
//! A node reports an endpoint as a method and a *path shape*: route words
//! as themselves (once `k` distinct clients sent them) and everything else
//! as a placeholder (`/users/{int}/orders/{hex}`, `spec/metrics-privacy.md`
//! §2.1). This module turns the shapes of an application into the
//! endpoint templates of the rule language (`spec/rule-language.md` §4):
//! `/users/{id}/orders/{order_id}`.
//!
//! # How
//!
//! 1. The shapes go into a trie per path position (all methods together:
//!    the structure of the paths is the application's, whatever the
//!    method). Every placeholder at a position goes into the position's
//!    one *parameter child*, with a vote for its kind weighted by traffic:
//!    a template segment `{name}` matches any segment, so two parameters
//!    at one position could not be told apart by a rule anyway.
//! 2. Top-down, each position decides which of its *literal* children are
//!    really data that k-anonymity let through, and merges those into the
//!    parameter child:
//!    - **locales**: two or more children that are language tags (an ISO
//!      639-1 code, optionally with a region or script: `en`, `de-de`,
//!      `pt_BR`, `zh-Hant`), at least one of them not also a common
//!      English route word (`my`, `id`, `it`, `to`...), or one tag with a
//!      region at the first position, become `{locale}`; a code that is
//!      also a route word joins them only when its profile (below) is
//!      exchangeable with the most requested clear tag's, so `/my/orders`
//!      stays beside `/{locale}/products`;
//!    - **versions**: children written like release numbers (`1.2.3`,
//!      `v2.0.1-beta`: two or more dotted numeric parts) become
//!      `{version}` when there are two of them or one has three parts or
//!      more; plain API versions (`v1`, `v2`) are routes and stay;
//!    - **slugs** (product names, user names, file names): see below.
//! 3. Each remaining path ending and method is a template; parameters are
//!    named (below), and GraphQL operations and SOAP actions found in the
//!    points become templates of their own.
//!
//! ## When sibling literals are data
//!
//! Genuine sibling routes (`/api/users`, `/api/orders`, `/api/cart`) are
//! few, each does its own thing (different methods, sub-routes and
//! parameters) and none is a variation of the others. Data admitted as
//! words (`/products/red-shoes`, `/products/blue-hat`, ...) are many
//! *exchangeable* siblings: the same methods, the same sub-routes, the same
//! parameters, with traffic spread over them and a long tail of values
//! that did not reach `k` clients and so arrive as `{word}`. The criterion
//! measures exactly that:
//!
//! - the *profile* of a child is the set of its methods, its own children
//!   (literal words, and `{}` for a parameter) and its point names; two
//!   children are *exchangeable* when the Jaccard similarity of their
//!   profiles is at least 0.5. Children are clustered greedily, most
//!   requested first, each joining the first cluster whose seed it is
//!   exchangeable with;
//! - a cluster is *flat* when no member has more than 60% of the cluster's
//!   requests (a route family has a dominant member far more often than a
//!   catalogue of values);
//! - the *tail* supports the cluster when the position also received
//!   `{word}` (unadmitted words) whose profile is exchangeable with the
//!   cluster's seed and whose responses are mostly successes (at least half
//!   below 400: scanners' guesses are mostly 404 and prove nothing);
//! - a member *looks like a slug* when it has three or more parts joined by
//!   `-`, `_` or `.`, or a digit and two parts, or 24 bytes or more;
//! - a flat cluster of `m` members collapses into the parameter when
//!   `m >= 3` with the tail and at least half slug-like; `m >= 6` with the
//!   tail, or slug-like without it; or `m >= 24` in any case. At the first
//!   position (site pages such as `/about`, `/contact`, `/imprint` are
//!   often served by one handler but are routes to a WAF) every threshold
//!   is doubled.
//!
//! The collapsed parameter is a `slug`, or a `file` when most members
//! carry a file extension (`main.3f9c.js`).
//!
//! ## Parameter names
//!
//! Each parameter has a base name from its kind (`id` for integers, UUIDs,
//! hashes, base64 and tokens; `slug`, `file`, `date`, `email`, `locale`,
//! `version`, ...). The first parameter with a base name takes it as it is;
//! a later one is prefixed with the singular of the literal segment before
//! it (`/users/{id}/orders/{order_id}`), or, without one, numbered
//! (`{id_2}`). Names are identifiers (`[a-z_][a-z0-9_]*`) and unique per
//! template, as the rule language requires.

use std::collections::{BTreeMap, BTreeSet};

use rampart_telemetry::{EndpointStats, PointStats};
use serde::{Deserialize, Serialize};

use super::point::{self, Step};

/// What a path parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Decimal integers (`{int}`).
    Int,
    /// Decimal fractions (`{decimal}`).
    Decimal,
    /// UUIDs.
    Uuid,
    /// Hex digests and hex ids (`{hex}`).
    Hash,
    /// Base64 tokens.
    Base64,
    /// JSON web tokens.
    Jwt,
    /// E-mail addresses.
    Email,
    /// URLs.
    Url,
    /// IP addresses.
    Ip,
    /// Dates (`2024-05-01`).
    Date,
    /// Date-times.
    DateTime,
    /// Phone numbers.
    Phone,
    /// Card numbers.
    Card,
    /// Booleans.
    Bool,
    /// Opaque tokens (`{token}`, anything else that is not a word).
    Token,
    /// Words that are data: slugs, user names (`{word}`, and route words
    /// found to be data).
    Slug,
    /// File names (slugs with an extension).
    File,
    /// Release numbers (`1.2.3`).
    Version,
    /// Language tags (`en`, `de-de`).
    Locale,
}

impl ParamKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ParamKind; 19] = [
        ParamKind::Int,
        ParamKind::Decimal,
        ParamKind::Uuid,
        ParamKind::Hash,
        ParamKind::Base64,
        ParamKind::Jwt,
        ParamKind::Email,
        ParamKind::Url,
        ParamKind::Ip,
        ParamKind::Date,
        ParamKind::DateTime,
        ParamKind::Phone,
        ParamKind::Card,
        ParamKind::Bool,
        ParamKind::Token,
        ParamKind::Slug,
        ParamKind::File,
        ParamKind::Version,
        ParamKind::Locale,
    ];

    /// The kind's name (`int`, `uuid`, `hash`, `slug`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Int => "int",
            ParamKind::Decimal => "decimal",
            ParamKind::Uuid => "uuid",
            ParamKind::Hash => "hash",
            ParamKind::Base64 => "base64",
            ParamKind::Jwt => "jwt",
            ParamKind::Email => "email",
            ParamKind::Url => "url",
            ParamKind::Ip => "ip",
            ParamKind::Date => "date",
            ParamKind::DateTime => "datetime",
            ParamKind::Phone => "phone",
            ParamKind::Card => "card",
            ParamKind::Bool => "bool",
            ParamKind::Token => "token",
            ParamKind::Slug => "slug",
            ParamKind::File => "file",
            ParamKind::Version => "version",
            ParamKind::Locale => "locale",
        }
    }

    /// The kind named [`name`](Self::name) (`hex` is read as `hash`).
    pub fn parse(s: &str) -> Option<ParamKind> {
        if s == "hex" {
            return Some(ParamKind::Hash);
        }
        ParamKind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// The kind of a node placeholder (`{int}` -> `Int`); `None` when `s`
    /// is not a placeholder.
    pub fn of_placeholder(s: &str) -> Option<ParamKind> {
        let inner = s.strip_prefix('{')?.strip_suffix('}')?;
        Some(match inner {
            "int" => ParamKind::Int,
            "decimal" => ParamKind::Decimal,
            "uuid" => ParamKind::Uuid,
            "hex" => ParamKind::Hash,
            "base64" => ParamKind::Base64,
            "jwt" => ParamKind::Jwt,
            "email" => ParamKind::Email,
            "url" => ParamKind::Url,
            "ip" => ParamKind::Ip,
            "date" => ParamKind::Date,
            "datetime" => ParamKind::DateTime,
            "phone" => ParamKind::Phone,
            "card" => ParamKind::Card,
            "bool" => ParamKind::Bool,
            "word" | "text" => ParamKind::Slug,
            "path" => ParamKind::File,
            _ => ParamKind::Token,
        })
    }

    /// Whether values of this kind identify an object (the ids an
    /// enumeration walks through).
    pub fn is_identifier(self) -> bool {
        matches!(
            self,
            ParamKind::Int
                | ParamKind::Uuid
                | ParamKind::Hash
                | ParamKind::Base64
                | ParamKind::Token
        )
    }

    /// The base of a parameter name of this kind.
    fn base_name(self) -> &'static str {
        match self {
            ParamKind::Int
            | ParamKind::Uuid
            | ParamKind::Hash
            | ParamKind::Base64
            | ParamKind::Token => "id",
            ParamKind::Decimal => "number",
            ParamKind::Jwt => "token",
            ParamKind::Email => "email",
            ParamKind::Url => "url",
            ParamKind::Ip => "ip",
            ParamKind::Date | ParamKind::DateTime => "date",
            ParamKind::Phone => "phone",
            ParamKind::Card => "card",
            ParamKind::Bool => "flag",
            ParamKind::Slug => "slug",
            ParamKind::File => "file",
            ParamKind::Version => "version",
            ParamKind::Locale => "locale",
        }
    }
}

impl std::fmt::Display for ParamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A path parameter of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// The name in the template (`order_id`), unique per template.
    pub name: String,
    /// The segment's position, from 0.
    pub position: usize,
    /// The most requested kind.
    pub kind: ParamKind,
    /// Requests per kind seen at this position.
    pub kinds: BTreeMap<ParamKind, u64>,
}

/// The protocol of an operation endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// A top-level field of a GraphQL operation.
    Graphql,
    /// A SOAP action: the first element in the SOAP body.
    Soap,
}

/// An operation carried in the body of an endpoint: a GraphQL field or a
/// SOAP action, which is an endpoint of its own for the business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// GraphQL or SOAP.
    pub protocol: Protocol,
    /// `query`, `mutation` or `subscription` for GraphQL, `action` for SOAP.
    pub kind: String,
    /// The field or action name (`login`, `GetUser`).
    pub name: String,
    /// The point whose presence marks the operation, in the rule
    /// language's syntax (`body:graphql.mutation.login`).
    pub point: String,
}

/// An endpoint template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The template's identity, kept across releases
    /// (`GET /users/{id}/orders/{order_id}`, with `#mutation.login` for an
    /// operation).
    pub name: String,
    /// Upper-case method.
    pub method: String,
    /// The template in the rule language's syntax (`/users/{id}`).
    pub template: String,
    /// The path parameters, in order.
    pub params: Vec<Param>,
    /// The GraphQL operation or SOAP action, for an operation endpoint.
    pub operation: Option<Operation>,
    /// The path shapes the template covers.
    pub shapes: Vec<String>,
    /// Requests (for an operation, an estimate: the most values one of its
    /// points saw).
    pub requests: u64,
    /// Status -> responses.
    pub statuses: BTreeMap<u16, u64>,
    /// Request content type -> requests.
    pub content_types: BTreeMap<String, u64>,
    /// The request points, merged over the shapes.
    pub points: Vec<PointStats>,
    /// File extensions of the last segment (`css`, `php`) -> requests.
    pub extensions: BTreeMap<String, u64>,
}

impl Template {
    /// The template's literal segments, in order.
    pub fn literals(&self) -> Vec<&str> {
        self.segments()
            .into_iter()
            .filter(|s| !s.starts_with('{'))
            .collect()
    }

    /// The template's segments (`users`, `{id}`).
    pub fn segments(&self) -> Vec<&str> {
        split_segments(&self.template)
    }

    /// The structure without parameter names: `GET /users/{}/orders/{}`,
    /// plus `#graphql:mutation.login` for an operation. Two templates with
    /// the same skeleton are the same endpoint.
    pub fn skeleton(&self) -> String {
        let mut s = format!("{} ", self.method);
        let segs = self.segments();
        if segs.is_empty() {
            s.push('/');
        }
        for seg in segs {
            s.push('/');
            s.push_str(if seg.starts_with('{') { "{}" } else { seg });
        }
        if let Some(op) = &self.operation {
            let proto = match op.protocol {
                Protocol::Graphql => "graphql",
                Protocol::Soap => "soap",
            };
            s.push_str(&format!("#{proto}:{}.{}", op.kind, op.name));
        }
        s
    }

    /// The condition that scopes a rule to this operation
    /// (`exists(body:graphql.mutation.login)`); `None` for a plain
    /// endpoint.
    pub fn condition(&self) -> Option<String> {
        self.operation
            .as_ref()
            .map(|op| format!("exists({})", op.point))
    }

    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether the set of point names differs from `other`'s.
    fn points_differ(&self, other: &Template) -> bool {
        let a: BTreeSet<&str> = self.points.iter().map(|p| p.point.as_str()).collect();
        let b: BTreeSet<&str> = other.points.iter().map(|p| p.point.as_str()).collect();
        a != b
    }
}

fn split_segments(path: &str) -> Vec<&str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() {
        Vec::new()
    } else {
        p.split('/').collect()
    }
}

// ---------------------------------------------------------------- merging

fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, v) in from {
        let e = into.entry(k.clone()).or_default();
        *e = e.saturating_add(*v);
    }
}

fn merge_point(into: &mut PointStats, from: &PointStats) {
    into.count = into.count.saturating_add(from.count);
    // Saturating, and bounded: the counts come from untrusted nodes.
    let n = from.length.buckets.len().min(64);
    if into.length.buckets.len() < n {
        into.length.buckets.resize(n, 0);
    }
    for (a, b) in into.length.buckets.iter_mut().zip(&from.length.buckets) {
        *a = a.saturating_add(*b);
    }
    if into.chars.len() < from.chars.len() {
        into.chars.resize(from.chars.len().min(64), 0);
    }
    for (a, b) in into.chars.iter_mut().zip(&from.chars) {
        *a = a.saturating_add(*b);
    }
    add_map(&mut into.formats, &from.formats);
    into.distinct.merge(&from.distinct);
}

/// What one method at one path ending aggregates.
#[derive(Debug, Clone, Default)]
struct End {
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    content_types: BTreeMap<String, u64>,
    points: BTreeMap<String, PointStats>,
    shapes: BTreeSet<String>,
    extensions: BTreeMap<String, u64>,
}

impl End {
    fn merge(&mut self, o: &End) {
        self.requests = self.requests.saturating_add(o.requests);
        add_map(&mut self.statuses, &o.statuses);
        add_map(&mut self.content_types, &o.content_types);
        for (k, p) in &o.points {
            match self.points.get_mut(k) {
                Some(q) => merge_point(q, p),
                None => {
                    self.points.insert(k.clone(), p.clone());
                }
            }
        }
        self.shapes.extend(o.shapes.iter().cloned());
        add_map(&mut self.extensions, &o.extensions);
    }
}

/// A position of the path trie.
#[derive(Debug, Clone, Default)]
struct Node {
    literals: BTreeMap<String, Node>,
    param: Option<Box<Node>>,
    /// Kind votes of the parameter child.
    kinds: BTreeMap<ParamKind, u64>,
    ends: BTreeMap<String, End>,
    /// Requests ending at or below this node.
    traffic: u64,
}

impl Node {
    fn merge(&mut self, o: Node) {
        self.traffic = self.traffic.saturating_add(o.traffic);
        for (m, e) in &o.ends {
            self.ends.entry(m.clone()).or_default().merge(e);
        }
        add_map(&mut self.kinds, &o.kinds);
        for (w, n) in o.literals {
            match self.literals.get_mut(&w) {
                Some(mine) => mine.merge(n),
                None => {
                    self.literals.insert(w, n);
                }
            }
        }
        if let Some(p) = o.param {
            match &mut self.param {
                Some(mine) => mine.merge(*p),
                None => self.param = Some(p),
            }
        }
    }

    /// Merges `child` into the parameter child, voting `kind` with its
    /// traffic.
    fn absorb(&mut self, child: Node, kind: ParamKind) {
        let e = self.kinds.entry(kind).or_default();
        *e = e.saturating_add(child.traffic.max(1));
        match &mut self.param {
            Some(p) => p.merge(child),
            None => self.param = Some(Box::new(child)),
        }
    }

    fn profile(&self) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        for (m, e) in &self.ends {
            s.insert(format!("m:{m}"));
            for p in e.points.keys() {
                s.insert(format!("p:{p}"));
            }
        }
        for w in self.literals.keys() {
            s.insert(format!("c:{w}"));
        }
        if self.param.is_some() {
            s.insert("c:{}".to_string());
        }
        s
    }

    /// Share of responses below 400 over the whole subtree.
    fn success(&self) -> (u64, u64) {
        let mut ok = 0u64;
        let mut all = 0u64;
        for e in self.ends.values() {
            for (s, n) in &e.statuses {
                all = all.saturating_add(*n);
                if *s < 400 {
                    ok = ok.saturating_add(*n);
                }
            }
        }
        for n in self.literals.values().chain(self.param.as_deref()) {
            let (o, a) = n.success();
            ok = ok.saturating_add(o);
            all = all.saturating_add(a);
        }
        (ok, all)
    }
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

// ----------------------------------------------------- lexical criteria

/// ISO 639-1 language codes.
const LANGUAGES: &[&str] = &[
    "aa", "ab", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi", "bm",
    "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv",
    "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga",
    "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id",
    "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl",
    "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo", "lt",
    "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne",
    "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps",
    "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm",
    "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl",
    "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo",
    "xh", "yi", "yo", "za", "zh", "zu",
];

/// Language codes that are also common route words.
const AMBIGUOUS: &[&str] = &[
    "am", "as", "be", "id", "is", "it", "my", "no", "or", "so", "to", "ad", "go", "me", "hi", "ok",
];

/// Whether `w` is a language tag: a code, optionally `-` or `_` and a
/// region (two letters or three digits) or a script (four letters). The
/// second result says whether it has a region or script.
fn locale_tag(w: &str) -> Option<bool> {
    let lower = w.to_ascii_lowercase();
    let mut parts = lower.split(['-', '_']);
    let lang = parts.next()?;
    if !LANGUAGES.contains(&lang) {
        return None;
    }
    match (parts.next(), parts.next()) {
        (None, _) => Some(false),
        (Some(r), None) => {
            let region = (r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()))
                || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
                || (r.len() == 4 && r.bytes().all(|b| b.is_ascii_alphabetic()));
            region.then_some(true)
        }
        _ => None,
    }
}

/// The numeric parts of a release number (`v1.2.3-rc1` -> 3), or 0.
fn version_parts(w: &str) -> usize {
    let s = w
        .strip_prefix('v')
        .or_else(|| w.strip_prefix('V'))
        .unwrap_or(w);
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        parts.len()
    } else {
        0
    }
}

/// A file extension of a segment (`main.css` -> `css`): one to five
/// alphanumerics after the last dot, at least one a letter.
fn extension(w: &str) -> Option<String> {
    let (stem, ext) = w.rsplit_once('.')?;
    (!stem.is_empty()
        && (1..=5).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext.bytes().any(|b| b.is_ascii_alphabetic()))
    .then(|| ext.to_ascii_lowercase())
}

fn slug_like(w: &str) -> bool {
    let parts = w.split(['-', '_', '.']).filter(|p| !p.is_empty()).count();
    let digit = w.bytes().any(|b| b.is_ascii_digit());
    parts >= 3 || (digit && parts >= 2) || w.len() >= 24
}

// ---------------------------------------------------------- the trie pass

const MIN_SIMILAR: f64 = 0.5;
const MAX_SHARE: f64 = 0.6;

fn generalize(node: &mut Node, depth: usize) {
    collapse_locales(node, depth);
    collapse_versions(node);
    collapse_slugs(node, depth);
    for child in node.literals.values_mut() {
        generalize(child, depth + 1);
    }
    if let Some(p) = &mut node.param {
        generalize(p, depth + 1);
    }
}

fn collapse_locales(node: &mut Node, depth: usize) {
    let tags: Vec<(String, bool)> = node
        .literals
        .keys()
        .filter_map(|w| locale_tag(w).map(|r| (w.clone(), r)))
        .collect();
    let clear = tags
        .iter()
        .any(|(w, region)| *region || !AMBIGUOUS.contains(&w.to_ascii_lowercase().as_str()));

    let collapse = (tags.len() >= 2 && clear) || (depth == 0 && tags.iter().any(|(_, r)| *r));
    if !collapse {
        return;
    }
    // A code that is also a route word (`my`, `id`) joins only when it
    // looks like the clear locales (the same methods, children, points).
    let is_clear =
        |w: &str, region: bool| region || !AMBIGUOUS.contains(&w.to_ascii_lowercase().as_str());
    let seed = tags
        .iter()
        .filter(|(w, r)| is_clear(w, *r))
        .max_by_key(|(w, _)| node.literals.get(w).map_or(0, |n| n.traffic))
        .and_then(|(w, _)| node.literals.get(w))
        .map(Node::profile)
        .unwrap_or_default();
    let join: Vec<String> = tags
        .iter()
        .filter(|(w, r)| {
            is_clear(w, *r)
                || node
                    .literals
                    .get(w)
                    .is_some_and(|n| jaccard(&n.profile(), &seed) >= MIN_SIMILAR)
        })
        .map(|(w, _)| w.clone())
        .collect();
    for w in join {
        if let Some(n) = node.literals.remove(&w) {
            node.absorb(n, ParamKind::Locale);
        }
    }
}

fn collapse_versions(node: &mut Node) {
    let versions: Vec<(String, usize)> = node
        .literals
        .keys()
        .map(|w| (w.clone(), version_parts(w)))
        .filter(|(_, n)| *n >= 2)
        .collect();
    if versions.len() >= 2 || versions.iter().any(|(_, n)| *n >= 3) {
        for (w, _) in versions {
            if let Some(n) = node.literals.remove(&w) {
                node.absorb(n, ParamKind::Version);
            }
        }
    }
}

fn collapse_slugs(node: &mut Node, depth: usize) {
    if node.literals.len() < 3 {
        return;
    }
    let mut order: Vec<(&String, &Node)> = node.literals.iter().collect();
    order.sort_by(|a, b| b.1.traffic.cmp(&a.1.traffic).then(a.0.cmp(b.0)));
    let profiles: Vec<BTreeSet<String>> = order.iter().map(|(_, n)| n.profile()).collect();
    // Greedy clusters, seeded by the most requested member.
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for i in 0..order.len() {
        match clusters
            .iter_mut()
            .find(|c| jaccard(&profiles[c[0]], &profiles[i]) >= MIN_SIMILAR)
        {
            Some(c) => c.push(i),
            None => clusters.push(vec![i]),
        }
    }
    // The tail: unadmitted words at this position, mostly answered.
    let tail = node.param.as_deref().filter(|p| {
        let words = node.kinds.get(&ParamKind::Slug).copied().unwrap_or(0);
        let (ok, all) = p.success();
        words > 0 && (all == 0 || ok.saturating_mul(2) >= all)
    });
    let tail_profile = tail.map(Node::profile);
    let scale = if depth == 0 { 2 } else { 1 };
    let mut collapse: Vec<(String, bool)> = Vec::new();
    for c in &clusters {
        let m = c.len();
        if m < 3 {
            continue;
        }
        let total: u64 = c.iter().map(|&i| order[i].1.traffic).sum();
        let top = c.iter().map(|&i| order[i].1.traffic).max().unwrap_or(0);
        let flat = total == 0 || (top as f64) <= MAX_SHARE * total as f64;
        if !flat {
            continue;
        }
        let with_tail = tail_profile
            .as_ref()
            .is_some_and(|t| jaccard(t, &profiles[c[0]]) >= MIN_SIMILAR);
        let slugs = c.iter().filter(|&&i| slug_like(order[i].0)).count();
        let sluggy = slugs * 2 >= m;
        let ok = (with_tail && sluggy && m >= 3 * scale)
            || (with_tail && m >= 6 * scale)
            || (sluggy && m >= 6 * scale)
            || m >= 24 * scale;
        if ok {
            let files = c
                .iter()
                .filter(|&&i| extension(order[i].0).is_some())
                .count();
            let file = files * 2 > m;
            for &i in c {
                collapse.push((order[i].0.clone(), file));
            }
        }
    }
    for (w, file) in collapse {
        if let Some(n) = node.literals.remove(&w) {
            node.absorb(
                n,
                if file {
                    ParamKind::File
                } else {
                    ParamKind::Slug
                },
            );
        }
    }
}

// ------------------------------------------------------------- emission

/// A segment of a template under construction.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Param(BTreeMap<ParamKind, u64>),
}

fn singular(w: &str) -> String {
    let lower = w.to_ascii_lowercase();
    let s = if let Some(stem) = lower.strip_suffix("ies") {
        format!("{stem}y")
    } else if lower.ends_with("sses")
        || lower.ends_with("xes")
        || lower.ends_with("ches")
        || lower.ends_with("shes")
    {
        lower[..lower.len() - 2].to_string()
    } else if lower.len() > 3
        && lower.ends_with('s')
        && !lower.ends_with("ss")
        && !lower.ends_with("us")
        && !lower.ends_with("is")
    {
        lower[..lower.len() - 1].to_string()
    } else {
        lower
    };
    ident(&s)
}

/// `w` as an identifier: lower case, `[a-z0-9_]`, not starting with a
/// digit; empty when nothing is left.
fn ident(w: &str) -> String {
    let mut out = String::new();
    for c in w.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    out.truncate(40);
    out
}

fn dominant(kinds: &BTreeMap<ParamKind, u64>) -> ParamKind {
    kinds
        .iter()
        .fold(None, |best: Option<(ParamKind, u64)>, (k, n)| match best {
            Some((_, bn)) if bn >= *n => best,
            _ => Some((*k, *n)),
        })
        .map_or(ParamKind::Token, |(k, _)| k)
}

/// Names the parameters of `segs` (see the module documentation).
fn name_params(segs: &[Seg]) -> Vec<Param> {
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut params = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let Seg::Param(kinds) = s else { continue };
        let kind = dominant(kinds);
        let base = kind.base_name();
        let prev = match i.checked_sub(1).map(|j| &segs[j]) {
            Some(Seg::Lit(w)) => Some(singular(w)),
            _ => None,
        };
        let mut name = base.to_string();
        if used.contains(&name) {
            name = match prev.filter(|p| !p.is_empty()) {
                Some(p) if p == base => format!("{p}_2"),
                Some(p) => format!("{p}_{base}"),
                None => format!("{base}_2"),
            };
        }
        let mut n = 2;
        let stem = name.clone();
        while used.contains(&name) {
            n += 1;
            name = format!("{stem}_{n}");
        }
        used.insert(name.clone());
        params.push(Param {
            name,
            position: i,
            kind,
            kinds: kinds.clone(),
        });
    }
    params
}

fn render(segs: &[Seg], params: &[Param]) -> String {
    if segs.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        out.push('/');
        match s {
            Seg::Lit(w) => out.push_str(w),
            Seg::Param(_) => {
                let name = params
                    .iter()
                    .find(|p| p.position == i)
                    .map_or("param", |p| p.name.as_str());
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
    }
    out
}

fn emit(node: &Node, segs: &mut Vec<Seg>, out: &mut Vec<Template>) {
    if !node.ends.is_empty() {
        let params = name_params(segs);
        let template = render(segs, &params);
        for (method, e) in &node.ends {
            out.push(Template {
                name: format!("{method} {template}"),
                method: method.clone(),
                template: template.clone(),
                params: params.clone(),
                operation: None,
                shapes: e.shapes.iter().cloned().collect(),
                requests: e.requests,
                statuses: e.statuses.clone(),
                content_types: e.content_types.clone(),
                points: e.points.values().cloned().collect(),
                extensions: e.extensions.clone(),
            });
        }
    }
    for (w, n) in &node.literals {
        segs.push(Seg::Lit(w.clone()));
        emit(n, segs, out);
        segs.pop();
    }
    if let Some(p) = &node.param {
        segs.push(Seg::Param(node.kinds.clone()));
        emit(p, segs, out);
        segs.pop();
    }
}

// ------------------------------------------------------------ operations

/// The operation a point belongs to, and the steps that mark it.
fn operation_of(steps: &[Step], soap_evidence: bool) -> Option<(Operation, usize)> {
    for (i, s) in steps.iter().enumerate() {
        let Step::Layer(layer) = s else { continue };
        let m = |k: usize| steps.get(i + k).and_then(Step::member);
        match layer.as_str() {
            "graphql" => {
                let kind = m(1)?;
                if !matches!(kind, "query" | "mutation" | "subscription") {
                    return None;
                }
                let field = m(2)?;
                if point::is_placeholder(field) || point::is_meta(field) {
                    return None;
                }
                let op = Operation {
                    protocol: Protocol::Graphql,
                    kind: kind.to_string(),
                    name: field.to_string(),
                    point: point::write(&steps[..i + 3]),
                };
                return Some((op, i + 3));
            }
            "xml" => {
                let local = |n: &str| n.rsplit(':').next().unwrap_or(n).to_ascii_lowercase();
                let is = |n: &str, want: &str| {
                    local(n) == want || (soap_evidence && point::is_placeholder(n))
                };
                let (env, body, action) = (m(1)?, m(2)?, m(3)?);
                if !is(env, "envelope") || !is(body, "body") {
                    return None;
                }
                if point::is_placeholder(action) || point::is_meta(action) {
                    return None;
                }
                let name = action.rsplit(':').next().unwrap_or(action);
                if name.is_empty() {
                    return None;
                }
                let op = Operation {
                    protocol: Protocol::Soap,
                    kind: "action".to_string(),
                    name: name.to_string(),
                    point: point::write(&steps[..i + 4]),
                };
                return Some((op, i + 4));
            }
            _ => {}
        }
    }
    None
}

/// The operation endpoints inside a template's points.
fn operations(t: &Template) -> Vec<Template> {
    let soap_evidence = t.content_types.keys().any(|c| c.contains("soap"))
        || t.points.iter().any(|p| p.point == "header.soapaction");
    let mut ops: BTreeMap<(Protocol, String, String), (Operation, Vec<PointStats>)> =
        BTreeMap::new();
    for p in &t.points {
        let steps = point::parse(&p.point);
        if let Some((op, _)) = operation_of(&steps, soap_evidence) {
            let key = (op.protocol, op.kind.clone(), op.name.clone());
            ops.entry(key)
                .or_insert_with(|| (op, Vec::new()))
                .1
                .push(p.clone());
        }
    }
    ops.into_values()
        .map(|(op, points)| {
            let requests = points
                .iter()
                .map(|p| p.count)
                .max()
                .unwrap_or(0)
                .min(t.requests);
            let mut o = Template {
                name: String::new(),
                method: t.method.clone(),
                template: t.template.clone(),
                params: t.params.clone(),
                operation: Some(op),
                shapes: t.shapes.clone(),
                requests,
                statuses: BTreeMap::new(),
                content_types: t.content_types.clone(),
                points,
                extensions: t.extensions.clone(),
            };
            if let Some(op) = &o.operation {
                o.name = format!("{} {}#{}.{}", t.method, t.template, op.kind, op.name);
            }
            o
        })
        .collect()
}

// ------------------------------------------------------------- the API

/// Learns the endpoint templates of an application from the endpoints its
/// nodes reported (several batches and nodes may report the same shape:
/// they are merged). Plain endpoints come first, in path order, then the
/// GraphQL and SOAP operations found in their points.
pub fn learn(endpoints: &[EndpointStats]) -> Vec<Template> {
    let mut root = Node::default();
    for ep in endpoints {
        let method = if ep.method.is_empty() {
            "{other}".to_string()
        } else {
            ep.method.to_ascii_uppercase()
        };
        let segs = split_segments(&ep.path);
        if segs.len() > 64 {
            continue;
        }
        let mut end = End {
            requests: ep.requests,
            statuses: ep.statuses.clone(),
            content_types: ep.content_types.clone(),
            ..End::default()
        };
        end.shapes.insert(ep.path.clone());
        for p in &ep.points {
            match end.points.get_mut(&p.point) {
                Some(q) => merge_point(q, p),
                None => {
                    end.points.insert(p.point.clone(), p.clone());
                }
            }
        }
        if let Some(ext) = segs.last().and_then(|s| extension(s)) {
            end.extensions.insert(ext, ep.requests);
        }
        let mut node = &mut root;
        node.traffic = node.traffic.saturating_add(ep.requests);
        for s in segs {
            node = match ParamKind::of_placeholder(s) {
                Some(kind) => {
                    let e = node.kinds.entry(kind).or_default();
                    *e = e.saturating_add(ep.requests.max(1));
                    node.param.get_or_insert_with(Box::default)
                }
                None => node.literals.entry(s.to_string()).or_default(),
            };
            node.traffic = node.traffic.saturating_add(ep.requests);
        }
        node.ends.entry(method).or_default().merge(&end);
    }
    generalize(&mut root, 0);
    let mut out = Vec::new();
    emit(&root, &mut Vec::new(), &mut out);
    let ops: Vec<Template> = out.iter().flat_map(operations).collect();
    out.extend(ops);
    out
}

/// How a template changed from one release (learning run) to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Not there before.
    New,
    /// The same endpoint with other parameter kinds or other points.
    Changed,
    /// Unchanged.
    Same,
    /// There before, not any more.
    Gone,
}

/// Compares the templates of a new learning run with the previous ones.
/// A template whose skeleton (method, literal segments, parameter
/// positions, operation) was there before is the same endpoint: it keeps
/// the previous name and parameter names (rules refer to them) and is
/// [`Change::Changed`] when its parameter kinds or its set of points
/// differ, else [`Change::Same`]. Previous templates without a successor
/// come last, as [`Change::Gone`].
pub fn reconcile(previous: &[Template], current: Vec<Template>) -> Vec<(Template, Change)> {
    let mut by_skeleton: BTreeMap<String, &Template> = BTreeMap::new();
    for p in previous {
        by_skeleton.entry(p.skeleton()).or_insert(p);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for mut t in current {
        let sk = t.skeleton();
        if !seen.insert(sk.clone()) {
            continue;
        }
        match by_skeleton.get(&sk) {
            None => out.push((t, Change::New)),
            Some(p) => {
                let kinds_changed = t.params.len() != p.params.len()
                    || t.params
                        .iter()
                        .zip(&p.params)
                        .any(|(a, b)| a.kind != b.kind);
                let changed = kinds_changed || t.points_differ(p);
                // Identity: the previous names.
                for (a, b) in t.params.iter_mut().zip(&p.params) {
                    a.name = b.name.clone();
                }
                t.template = p.template.clone();
                t.name = p.name.clone();
                out.push((
                    t,
                    if changed {
                        Change::Changed
                    } else {
                        Change::Same
                    },
                ));
            }
        }
    }
    for p in previous {
        let sk = p.skeleton();
        if seen.insert(sk) {
            out.push((p.clone(), Change::Gone));
        }
    }
    out
}

/// Templates, searchable by the requests they match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateSet {
    /// The templates.
    pub templates: Vec<Template>,
}

/// How a template segment matched: literal segments rank above
/// parameters, position by position from the left.
fn specificity(t: &Template) -> Vec<bool> {
    t.segments().iter().map(|s| !s.starts_with('{')).collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TemplateSet {
    /// Learns the templates of `endpoints` (see [`learn`]).
    pub fn learn(endpoints: &[EndpointStats]) -> TemplateSet {
        TemplateSet {
            templates: learn(endpoints),
        }
    }

    /// A set of given templates.
    pub fn new(templates: Vec<Template>) -> TemplateSet {
        TemplateSet { templates }
    }

    /// The plain endpoint template (not an operation) that matches a raw
    /// request path (`/users/4711/orders/9f1c2a?x=1`, query ignored,
    /// percent-decoded), the most specific one when several do: a literal
    /// segment beats a parameter, from the left. `HEAD` falls back to
    /// `GET`.
    pub fn find(&self, method: &str, raw_path: &str) -> Option<&Template> {
        let path = raw_path.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<String> = split_segments(path)
            .into_iter()
            .map(percent_decode)
            .collect();
        self.best(method, |t| {
            let ts = t.segments();
            ts.len() == segs.len()
                && ts
                    .iter()
                    .zip(&segs)
                    .all(|(a, b)| a.starts_with('{') || *a == b.as_str())
        })
    }

    /// The plain endpoint template that covers a path shape
    /// (`/users/{int}/orders/{hex}`): the template that learned the shape,
    /// else the most specific one whose literals match the shape's
    /// literals and whose parameters stand where the shape has
    /// placeholders or words.
    pub fn find_shape(&self, method: &str, shape: &str) -> Option<&Template> {
        let m = method.to_ascii_uppercase();
        if let Some(t) = self
            .templates
            .iter()
            .find(|t| t.operation.is_none() && t.method == m && t.shapes.iter().any(|s| s == shape))
        {
            return Some(t);
        }
        let segs = split_segments(shape);
        self.best(method, |t| {
            let ts = t.segments();
            ts.len() == segs.len()
                && ts
                    .iter()
                    .zip(&segs)
                    .all(|(a, b)| a.starts_with('{') || (!point::is_placeholder(b) && a == b))
        })
    }

    /// The operation templates of the plain template `t`.
    pub fn operations<'a>(&'a self, t: &'a Template) -> impl Iterator<Item = &'a Template> + 'a {
        self.templates.iter().filter(move |o| {
            o.operation.is_some() && o.method == t.method && o.template == t.template
        })
    }

    fn best(&self, method: &str, matches: impl Fn(&Template) -> bool) -> Option<&Template> {
        let m = method.to_ascii_uppercase();
        let pick = |m: &str| {
            self.templates
                .iter()
                .filter(|t| t.operation.is_none() && t.method == m && matches(t))
                .max_by(|a, b| specificity(a).cmp(&specificity(b)))
        };
        pick(&m).or_else(|| if m == "HEAD" { pick("GET") } else { None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singulars_and_idents() {
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("orders"), "order");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("user-groups"), "user_group");
        assert_eq!(ident("2fa"), "n2fa");
        assert_eq!(version_parts("1.2.3"), 3);
        assert_eq!(version_parts("v2.0.1-beta"), 3);
        assert_eq!(version_parts("v2"), 0);
        assert_eq!(locale_tag("de-DE"), Some(true));
        assert_eq!(locale_tag("fr"), Some(false));
        assert_eq!(locale_tag("users"), None);
        assert_eq!(extension("main.3f9c.js").as_deref(), Some("js"));
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
    }
}
