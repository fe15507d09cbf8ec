//! XML external entities (XXE) and their relatives: parameter entities,
//! entity expansion (billion laughs), external DTDs, XInclude and schema
//! locations.
//!
//! Where the value comes from:
//!
//! - the XML decoder surfaces the DOCTYPE as the `!doctype` point (its raw
//!   text) and each entity as `!entity.NAME` (`!entity["%NAME"]` for a
//!   parameter entity) holding its literal value or system identifier. The
//!   raw DOCTYPE is read like any text (below); an entity point is scored
//!   from the tree (its key, its value) only when no `!doctype` point sits
//!   beside it (a stray declaration), so that one declaration is not
//!   counted twice;
//! - any other value is scanned for `<!DOCTYPE` and `<!ENTITY` (an XML
//!   document in a parameter that was not decoded, a truncated one), and
//!   for a UTF-7 encoded one (`+ADwAIQ-DOCTYPE`);
//! - attributes decoded from XML (`@xsi:schemaLocation`, `@href` of
//!   `xi:include`, `@schemaLocation` of `xs:include`) and the same tags in
//!   undecoded text.
//!
//! Rules and scores: `xxe.external-entity` (80; 90 for `file:`, `expect:`,
//! `php:`, `jar:`, `netdoc:`, `gopher:` and the like), `xxe.parameter-entity`
//! (70: `<!ENTITY % x ...>` or a `%x;` reference), `xxe.entity-expansion`
//! (70: entities that reference entities, several times each),
//! `xxe.external-dtd` (60: `<!DOCTYPE x SYSTEM "..."`; the W3C's own DTDs
//! of HTML, SVG and MathML are exempt), `xxe.entity` (30: an internal
//! entity alone), `xxe.xinclude` (70), `xxe.schema-include` (60),
//! `xxe.schema-location` (50: a schema location that is a URL; 30 when it
//! names an `.xsd` file, as standard schemas do; 60 for a local scheme),
//! `xxe.utf7` (40: a UTF-7 encoded declaration, decoded and scored as well).

use rampart_plugin_api::types::Seg;
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::util::{
    find_byte, find_ci, head, key_of, own_key_node, skip_ws, starts_ci, Reporter, MAX_SCAN,
};

const NAME: &str = "xxe";

/// Declarations read per value.
const MAX_DECLS: usize = 64;
/// Tags read per value when looking for XInclude and schema locations.
const MAX_TAGS: usize = 256;

/// The XXE detector (plugin `xxe`, class [`Class::Xxe`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct XxeDetector;

impl Detector for XxeDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "XML external entities, parameter entities, entity expansion, \
                          external DTDs, XInclude and schema locations",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Xxe]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut rep = Reporter::new(out, ctx, Class::Xxe, NAME, value.len());
        let s = head(value);
        tree_context(s, ctx, &mut rep);
        let (mut lt, mut amp, mut plus) = (false, false, false);
        for &b in s {
            lt |= b == b'<';
            amp |= b == b'&';
            plus |= b == b'+';
        }
        if lt {
            declarations(s, &mut rep);
            tags(s, &mut rep);
        }
        if amp {
            expansion_refs(s, ctx, &mut rep);
        }
        if plus && s.windows(4).any(|w| w == b"+ADw") {
            let mut buf = Vec::new();
            utf7_decode(s, &mut buf);
            let before = rep.best();
            declarations(&buf, &mut rep);
            if rep.best() > before || found_decl(&buf) {
                rep.report(
                    "xxe.utf7",
                    40,
                    || "a UTF-7 encoded XML declaration",
                    0,
                    s.len(),
                );
            }
        }
    }
}

fn found_decl(s: &[u8]) -> bool {
    find_ci(s, 0, b"<!doctype").is_some() || find_ci(s, 0, b"<!entity").is_some()
}

/// Schemes of system identifiers that read local resources or run
/// commands.
const LOCAL_SCHEMES: &[&[u8]] = &[
    b"data:", b"dict:", b"expect:", b"file:", b"gopher:", b"jar:", b"netdoc:", b"phar:", b"php:",
];

fn local_scheme(uri: &[u8]) -> bool {
    let u = uri.trim_ascii_start();
    LOCAL_SCHEMES.iter().any(|p| starts_ci(u, 0, p)) || u.starts_with(b"/etc/")
}

/// A URL or a network path: `scheme://`, `//host`, `file:`, `/etc/...`.
fn url_like(v: &[u8]) -> bool {
    let v = v.trim_ascii_start();
    if v.starts_with(b"//") || local_scheme(v) {
        return true;
    }
    let mut k = 0;
    while v
        .get(k)
        .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
        && k < 16
    {
        k += 1;
    }
    k > 1 && v[k..].starts_with(b"://")
}

/// A quoted literal at `s[i]`: its content and where it ends (the end of
/// the input when unterminated).
fn literal(s: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let q = *s.get(i).filter(|&&q| q == b'"' || q == b'\'')?;
    Some(match find_byte(s, i + 1, q) {
        Some(e) => (&s[i + 1..e], e + 1),
        None => (&s[i + 1..], s.len()),
    })
}

fn name_end(s: &[u8], mut i: usize) -> usize {
    while s
        .get(i)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b) || b >= 0x80)
    {
        i += 1;
    }
    i
}

/// An external identifier at `s[i]`: `SYSTEM "uri"` or `PUBLIC "id" "uri"`.
/// Returns the URI (or the public id when the URI is missing) and the
/// public id.
fn external_id(s: &[u8], i: usize) -> Option<(&[u8], &[u8], usize)> {
    if starts_ci(s, i, b"system") {
        let (uri, e) = literal(s, skip_ws(s, i + 6))?;
        return Some((uri, b"", e));
    }
    if starts_ci(s, i, b"public") {
        let (id, e) = literal(s, skip_ws(s, i + 6))?;
        return Some(match literal(s, skip_ws(s, e)) {
            Some((uri, e2)) => (uri, id, e2),
            None => (id, id, e),
        });
    }
    None
}

/// The DOCTYPE of an HTML, SVG or MathML page naming a W3C DTD.
fn w3c_dtd(root: &[u8], uri: &[u8], public: &[u8]) -> bool {
    let known_root = [&b"html"[..], b"svg", b"math"]
        .iter()
        .any(|r| root.eq_ignore_ascii_case(r));
    let w3c = find_ci(uri, 0, b"www.w3.org/").is_some() || starts_ci(public, 0, b"-//w3c//");
    known_root && w3c && !local_scheme(uri)
}

/// `&name;` references to entities that are not predefined.
fn count_refs(v: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(p) = find_byte(v, i, b'&') {
        i = p + 1;
        let e = name_end(v, p + 1);
        if e > p + 1 && v.get(e) == Some(&b';') {
            let name = &v[p + 1..e];
            if !matches!(name, b"lt" | b"gt" | b"amp" | b"quot" | b"apos") {
                n += 1;
            }
        }
    }
    n
}

/// What the declarations of a value hold.
#[derive(Debug, Default)]
struct Decls {
    entities: usize,
    internal: usize,
    /// Entity values that reference entities, and the most references
    /// one holds, and their total.
    referencing: usize,
    max_refs: usize,
    total_refs: usize,
}

/// `<!DOCTYPE ...>` and `<!ENTITY ...>` anywhere in `s`.
fn declarations(s: &[u8], rep: &mut Reporter<'_>) {
    let mut d = Decls::default();
    let mut i = 0;
    let mut n = 0;
    let mut first = None;
    while let Some(p) = find_byte(s, i, b'<') {
        i = p + 1;
        if s.get(p + 1) != Some(&b'!') {
            continue;
        }
        if starts_ci(s, p, b"<!doctype") {
            first.get_or_insert(p);
            n += 1;
            i = doctype(s, p, rep).max(i);
        } else if starts_ci(s, p, b"<!entity") {
            first.get_or_insert(p);
            n += 1;
            i = entity(s, p, &mut d, rep).max(i);
        }
        if n >= MAX_DECLS {
            break;
        }
    }
    let Some(first) = first else {
        return;
    };
    param_refs(s, first, rep);
    let expansion = d.referencing >= 2 && d.max_refs >= 3 || d.total_refs >= 16;
    if expansion {
        rep.report(
            "xxe.entity-expansion",
            70,
            || "entities that expand other entities many times (billion laughs)",
            first,
            s.len(),
        );
    }
    if d.internal > 0 && d.entities == d.internal && !expansion {
        rep.report(
            "xxe.entity",
            30,
            || "an internal entity declaration",
            first,
            s.len(),
        );
    }
}

/// The DOCTYPE head at `s[p]`; returns where to go on scanning (inside
/// the internal subset, where entity declarations are).
fn doctype(s: &[u8], p: usize, rep: &mut Reporter<'_>) -> usize {
    let r0 = skip_ws(s, p + 9);
    let r1 = name_end(s, r0);
    let root = &s[r0..r1];
    let k = skip_ws(s, r1);
    if let Some((uri, public, e)) = external_id(s, k) {
        if !w3c_dtd(root, uri, public) {
            let local = local_scheme(uri);
            rep.report(
                "xxe.external-dtd",
                if local { 80 } else { 60 },
                || {
                    format!(
                        "the DOCTYPE names an external DTD ({})",
                        String::from_utf8_lossy(&uri[..uri.len().min(80)])
                    )
                },
                p,
                e,
            );
        }
        return e;
    }
    k
}

/// One entity declaration at `s[p]`; returns where it ends.
fn entity(s: &[u8], p: usize, d: &mut Decls, rep: &mut Reporter<'_>) -> usize {
    let mut k = skip_ws(s, p + 8);
    let param = s.get(k) == Some(&b'%');
    if param {
        k = skip_ws(s, k + 1);
    }
    let n1 = name_end(s, k);
    let name = &s[k..n1];
    let k = skip_ws(s, n1);
    d.entities += 1;
    let end;
    if let Some((uri, _, e)) = external_id(s, k) {
        end = e;
        let local = local_scheme(uri);
        rep.report(
            "xxe.external-entity",
            if local { 90 } else { 80 },
            || {
                format!(
                    "external entity {} ({})",
                    String::from_utf8_lossy(&name[..name.len().min(40)]),
                    String::from_utf8_lossy(&uri[..uri.len().min(80)])
                )
            },
            p,
            e,
        );
    } else if let Some((v, e)) = literal(s, k) {
        end = e;
        d.internal += 1;
        let refs = count_refs(v);
        if refs > 0 {
            d.referencing += 1;
            d.max_refs = d.max_refs.max(refs);
            d.total_refs += refs;
        }
        if find_ci(v, 0, b"<!entity").is_some() {
            // A declaration inside a parameter entity: out-of-band XXE.
            rep.report(
                "xxe.external-entity",
                80,
                || "an entity whose value declares another entity",
                p,
                e,
            );
        }
    } else {
        end = k;
    }
    if param {
        rep.report(
            "xxe.parameter-entity",
            70,
            || "a parameter entity declaration",
            p,
            end,
        );
    }
    end
}

/// `%name;` after the first declaration: a parameter-entity reference.
fn param_refs(s: &[u8], from: usize, rep: &mut Reporter<'_>) {
    let mut i = from;
    while let Some(p) = find_byte(s, i, b'%') {
        i = p + 1;
        let e = name_end(s, p + 1);
        if e > p + 1 && s.get(e) == Some(&b';') && s[p + 1].is_ascii_alphabetic() {
            rep.report(
                "xxe.parameter-entity",
                70,
                || "a parameter entity reference",
                p,
                e + 1,
            );
            return;
        }
    }
}

/// Text of an XML document that declares entities and references them
/// many times (quadratic blowup, or the document side of a billion-laughs
/// attack). Only inside a decoded document whose DOCTYPE declares an
/// entity: HTML text is full of `&nbsp;` that expands to nothing.
fn expansion_refs(s: &[u8], ctx: &DetectCtx<'_>, rep: &mut Reporter<'_>) {
    if s.len() < 32 * 3 || !declares_entities(ctx) {
        return;
    }
    let n = count_refs(s);
    if n >= 32 {
        rep.report(
            "xxe.entity-expansion",
            50,
            || "many references to declared entities",
            0,
            s.len(),
        );
    }
}

/// The XML document the point belongs to has a DOCTYPE declaring entities.
fn declares_entities(ctx: &DetectCtx<'_>) -> bool {
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..64 {
        if id.index() >= tree.len() {
            return false;
        }
        let node = tree.node(id);
        if node.seg == Seg::Layer("xml") {
            return tree
                .child_by_key(id, b"!doctype")
                .is_some_and(|d| find_ci(head(tree.value(d)), 0, b"<!entity").is_some());
        }
        match node.parent() {
            Some(p) => id = p,
            None => return false,
        }
    }
    false
}

/// The local part of a qualified name.
fn local(q: &[u8]) -> &[u8] {
    match q.iter().rposition(|&b| b == b':') {
        Some(k) => &q[k + 1..],
        None => q,
    }
}

fn prefix(q: &[u8]) -> &[u8] {
    match q.iter().position(|&b| b == b':') {
        Some(k) => &q[..k],
        None => b"",
    }
}

/// An element that pulls in another document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pull {
    XInclude,
    Schema,
}

fn pull_element(q: &[u8]) -> Option<Pull> {
    let l = local(q);
    let p = prefix(q);
    if l.eq_ignore_ascii_case(b"include") && (p.eq_ignore_ascii_case(b"xi") || p.is_empty()) {
        return Some(Pull::XInclude);
    }
    let schema_prefix = p.eq_ignore_ascii_case(b"xs") || p.eq_ignore_ascii_case(b"xsd");
    let schema_local = [&b"include"[..], b"import", b"redefine", b"override"]
        .iter()
        .any(|n| l.eq_ignore_ascii_case(n));
    (schema_local && (schema_prefix || !p.is_empty())).then_some(Pull::Schema)
}

fn pull_attr(a: &[u8]) -> bool {
    [&b"href"[..], b"schemalocation", b"namespace", b"xpointer"]
        .iter()
        .any(|n| local(a).eq_ignore_ascii_case(n))
}

/// The score of a schema-location attribute: its locations (every second
/// token of `schemaLocation`, which pairs namespaces with locations; all
/// of `noNamespaceSchemaLocation`) that are URLs: 60 for a local scheme,
/// 30 for a URL naming an `.xsd` file (a standard schema), else 50.
fn schema_location_score(attr: &[u8], v: &[u8]) -> u8 {
    let l = local(attr);
    let pairs = l.eq_ignore_ascii_case(b"schemalocation");
    if !pairs && !l.eq_ignore_ascii_case(b"nonamespaceschemalocation") {
        return 0;
    }
    let tokens = || v.split(u8::is_ascii_whitespace).filter(|t| !t.is_empty());
    let n = tokens().take(64).count();
    let mut best = 0;
    for (k, t) in tokens().take(64).enumerate() {
        let location = !pairs || n < 2 || k % 2 == 1;
        if !location || !url_like(t) {
            continue;
        }
        let lower_end =
            |ext: &[u8]| t.len() >= ext.len() && t[t.len() - ext.len()..].eq_ignore_ascii_case(ext);
        let score = if local_scheme(t) {
            60
        } else if lower_end(b".xsd") || lower_end(b".dtd") {
            30
        } else {
            50
        };
        best = best.max(score);
    }
    best
}

fn report_location(score: u8, start: usize, end: usize, rep: &mut Reporter<'_>) {
    rep.report(
        "xxe.schema-location",
        score,
        || "a schema location that is a URL",
        start,
        end,
    );
}

fn report_pull(pull: Pull, v: &[u8], start: usize, end: usize, rep: &mut Reporter<'_>) {
    if !url_like(v) && !v.trim_ascii_start().starts_with(b"/") {
        return;
    }
    match pull {
        Pull::XInclude => rep.report(
            "xxe.xinclude",
            70,
            || "an XInclude of another resource",
            start,
            end,
        ),
        Pull::Schema => rep.report(
            "xxe.schema-include",
            60,
            || "a schema include or import of a remote resource",
            start,
            end,
        ),
    }
}

/// Points decoded from XML: attributes of pulling elements, schema
/// locations, and entity points.
fn tree_context(s: &[u8], ctx: &DetectCtx<'_>, rep: &mut Reporter<'_>) {
    let Some((node, parent)) = own_key_node(ctx) else {
        return;
    };
    let key = key_of(ctx, node).unwrap_or_default();
    let parent_key = key_of(ctx, parent);
    if parent_key == Some(b"!entity".as_slice()) {
        stray_entity(s, key, ctx, parent, rep);
        return;
    }
    let Some(attr) = key.strip_prefix(b"@") else {
        return;
    };
    report_location(schema_location_score(attr, s), 0, s.len(), rep);
    if let Some(pull) = parent_key.and_then(pull_element) {
        if pull_attr(attr) {
            report_pull(pull, s, 0, s.len(), rep);
        }
    }
}

/// An entity point (`!entity.NAME`) with no `!doctype` beside it.
fn stray_entity(
    s: &[u8],
    key: &[u8],
    ctx: &DetectCtx<'_>,
    entities: rampart_plugin_api::NodeId,
    rep: &mut Reporter<'_>,
) {
    let doc = ctx.tree.node(entities).parent();
    if doc.is_some_and(|d| ctx.tree.child_by_key(d, b"!doctype").is_some()) {
        return;
    }
    if key.starts_with(b"%") {
        rep.report(
            "xxe.parameter-entity",
            70,
            || "a parameter entity declaration",
            0,
            s.len(),
        );
    }
    if url_like(s) {
        let local = local_scheme(s);
        rep.report(
            "xxe.external-entity",
            if local { 90 } else { 60 },
            || "an entity whose value is a URL",
            0,
            s.len(),
        );
    } else if count_refs(s) >= 3 {
        rep.report(
            "xxe.entity-expansion",
            50,
            || "an entity that expands other entities",
            0,
            s.len(),
        );
    } else {
        rep.report(
            "xxe.entity",
            30,
            || "an internal entity declaration",
            0,
            s.len(),
        );
    }
}

/// XInclude and schema tags in undecoded text.
fn tags(s: &[u8], rep: &mut Reporter<'_>) {
    let pulls = find_ci(s, 0, b"include").is_some() || find_ci(s, 0, b"import").is_some();
    let locs = find_ci(s, 0, b"schemalocation").is_some();
    if !pulls && !locs {
        return;
    }
    let mut i = 0;
    let mut n = 0;
    while let Some(p) = find_byte(s, i, b'<') {
        i = p + 1;
        n += 1;
        if n > MAX_TAGS {
            return;
        }
        let q1 = name_end(s, p + 1);
        if q1 == p + 1 {
            continue;
        }
        let pull = pull_element(&s[p + 1..q1]);
        // Attributes up to `>` (at most 2 KiB).
        let lim = s.len().min(q1 + 2048);
        let mut k = q1;
        loop {
            k = skip_ws(s, k);
            if k >= lim || matches!(s[k], b'>' | b'/' | b'<') {
                break;
            }
            let a1 = name_end(s, k);
            if a1 == k {
                break;
            }
            let attr = &s[k..a1];
            let e = skip_ws(s, a1);
            if s.get(e) != Some(&b'=') {
                k = a1;
                continue;
            }
            let Some((v, ve)) = literal(s, skip_ws(s, e + 1)) else {
                break;
            };
            if let Some(pl) = pull {
                if pull_attr(attr) {
                    report_pull(pl, v, p, ve, rep);
                }
            }
            report_location(schema_location_score(attr, v), k, ve, rep);
            k = ve;
        }
        i = k.max(i);
    }
}

fn b64(b: u8) -> Option<u32> {
    Some(u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes UTF-7 (RFC 2152) into UTF-8, at most [`MAX_SCAN`] bytes out.
/// Code units that do not form a character become U+FFFD.
fn utf7_decode(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() && out.len() < MAX_SCAN {
        let b = s[i];
        if b != b'+' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        if s.get(i) == Some(&b'-') {
            out.push(b'+');
            i += 1;
            continue;
        }
        let (mut bits, mut nbits, mut high) = (0u32, 0u32, 0u32);
        while let Some(v) = s.get(i).copied().and_then(b64) {
            bits = (bits << 6 | v) & 0x3F_FFFF;
            nbits += 6;
            i += 1;
            if nbits >= 16 {
                nbits -= 16;
                let unit = (bits >> nbits) & 0xFFFF;
                let ch = match unit {
                    0xD800..=0xDBFF => {
                        high = unit;
                        continue;
                    }
                    0xDC00..=0xDFFF if high != 0 => {
                        let cp = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00);
                        high = 0;
                        char::from_u32(cp)
                    }
                    _ => char::from_u32(unit),
                };
                let ch = ch.unwrap_or('\u{fffd}');
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            }
        }
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf7() {
        let mut out = Vec::new();
        utf7_decode(b"+ADwAIQ-DOCTYPE foo+AFs +ADw-a+AD4 1+-1", &mut out);
        assert_eq!(out, b"<!DOCTYPE foo[ <a> 1+1");
    }

    #[test]
    fn urls() {
        assert!(url_like(b"http://x"));
        assert!(url_like(b"//x/x"));
        assert!(url_like(b"file:///etc/passwd"));
        assert!(url_like(b"netdoc:/etc/passwd"));
        assert!(!url_like(b"hello world"));
        assert!(!url_like(b"urn:iso:std"));
    }
}
