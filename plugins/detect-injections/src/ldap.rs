//! LDAP filter injection.
//!
//! The value is read as if an application had pasted it into an equality
//! assertion, `(attr=VALUE)`:
//!
//! - `ldap.breakout` (60-80): a `)` that closes the enclosing assertion (the
//!   parenthesis depth, starting at one, falls to zero; `\XX` escapes are
//!   skipped), followed, whitespace allowed, by a new filter component: an
//!   operator `(&`, `(|`, `(!` then a filter, `)` or the end of the value,
//!   or `&(`, `|(`, `!(` (80); or an assertion `(attr=`, `(attr>=`,
//!   `(attr~=`, `(attr:dn:=`... (75 with a wildcard value, else 65).
//!   `*)(uid=*))(|(uid=*`, `admin)(|`, `x)!(sn=*`, `bar)(&)`.
//! - `ldap.filter-glued` (70): a filter operator right after value
//!   characters, `*(|(objectclass=*))`, that parses as a filter (or runs
//!   to the end of the value): a value never holds an unescaped
//!   parenthesis, and `f(|(k, v)| ...)` in code is no filter.
//! - `ldap.filter`: a whole filter in the value, `(&(uid=a)(...))`, parsed
//!   by a small RFC 4515 parser. Applications that take a filter from a
//!   parameter exist (directory admin tools), so a well-formed filter alone
//!   is only suspicious (20); the score rises with what attackers put in
//!   one (70): absolute true/false `(&)` `(|)`, numeric tautologies `(1=1)`
//!   `(1=0)`, password attributes, `(objectClass=*)` inside an OR.
//! - `ldap.extensible-match` (70 on a password attribute, else 30):
//!   `userPassword:2.5.13.18:=x`, an extensible match outside a filter,
//!   the ordering-rule oracle used to guess passwords.
//! - `ldap.wildcard` (30): `*` or `admin*` in a field named like a user
//!   name; `ldap.nul` (30): a NUL byte next to filter syntax.
//!
//! The point's own key is read the same way (a JSON body whose key holds
//! the injection).

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::util::{head, in_table, own_key, skip_ws, Reporter};

const NAME: &str = "ldap";

/// Nesting the filter parser follows.
const MAX_DEPTH: usize = 32;
/// Filter components the parser reads.
const MAX_ITEMS: usize = 256;

/// The LDAP-injection detector (plugin `ldap`, class [`Class::Ldap`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct LdapDetector;

impl Detector for LdapDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "LDAP filter injection: breakouts of (attr=value), injected filters, \
                          extensible-match oracles",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Ldap]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut rep = Reporter::new(out, ctx, Class::Ldap, NAME, value.len());
        let s = head(value);
        if s.iter().any(|&b| matches!(b, b'(' | b')' | b':' | 0)) {
            scan(s, false, &mut rep);
        }
        let key = own_key(ctx);
        if let Some(k) = key {
            if k.contains(&b')') {
                scan(head(k), true, &mut rep);
            }
        }
        if wildcard(s) && key.is_some_and(user_key) {
            rep.report(
                "ldap.wildcard",
                30,
                || "a wildcard in a user-name field",
                0,
                s.len(),
            );
        }
    }
}

fn scan(s: &[u8], key: bool, rep: &mut Reporter<'_>) {
    breakouts(s, key, rep);
    if key {
        return;
    }
    let first = skip_ws(s, 0);
    if s.get(first) == Some(&b'(') {
        whole_filter(s, first, rep);
    } else {
        extensible(s, rep);
    }
    if s.contains(&0) && s.iter().any(|&b| matches!(b, b'*' | b'(' | b')')) {
        let at = s.iter().position(|&b| b == 0).unwrap_or(0);
        rep.report(
            "ldap.nul",
            30,
            || "a NUL byte next to LDAP filter syntax",
            at,
            at + 1,
        );
    }
}

fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b';' || b == b'.'
}

/// An attribute description and a filter type at `s[i]`: `uid=`,
/// `cn>=`, `sn~=`, `uid:dn:=`, `userPassword:2.5.13.18:=`, `:dn:2.4.6:=`.
/// Returns where the value starts.
fn assertion(s: &[u8], i: usize) -> Option<usize> {
    let mut k = i;
    while s.get(k).is_some_and(|&b| is_attr_char(b)) && k - i <= 64 {
        k += 1;
    }
    let named = k > i;
    if k - i > 64 || (named && !s[i].is_ascii_alphanumeric()) {
        return None;
    }
    // Extensible parts: `:dn`, `:oid-or-name`, then `:=`.
    let mut ext = false;
    while s.get(k) == Some(&b':') && s.get(k + 1) != Some(&b'=') {
        let p = k + 1;
        let mut e = p;
        while s.get(e).is_some_and(|&b| is_attr_char(b)) && e - p <= 64 {
            e += 1;
        }
        if e == p {
            return None;
        }
        k = e;
        ext = true;
    }
    match (s.get(k), s.get(k + 1)) {
        (Some(b':'), Some(b'=')) if named || ext => Some(k + 2),
        (Some(b'='), _) if named => Some(k + 1),
        (Some(b'>' | b'<' | b'~'), Some(b'=')) if named => Some(k + 2),
        _ => None,
    }
}

/// A `)` that closes the enclosing assertion, then a new component.
/// Findings about the key have an empty span (the key is not in the value).
fn breakouts(s: &[u8], key: bool, rep: &mut Reporter<'_>) {
    let span = |a: usize, e: usize| if key { (0, 0) } else { (a, e) };
    let mut depth: i64 = 1;
    let mut prev = 0u8;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match b {
            b'\\' => {
                i += 3;
                prev = b'a';
                continue;
            }
            b'(' => {
                // A filter operator glued to value characters: `*(|(`.
                if depth == 1 && !matches!(prev, 0 | b'(' | b'&' | b'|' | b'!' | b')') {
                    let k = skip_ws(s, i + 1);
                    if matches!(s.get(k), Some(b'&' | b'|' | b'!')) && parses(s, i) {
                        let (a, e) = span(i, k + 1);
                        rep.report(
                            "ldap.filter-glued",
                            70,
                            || "an LDAP filter operator right after value characters",
                            a,
                            e,
                        );
                    }
                }
                depth += 1;
            }
            b')' => {
                depth -= 1;
                if depth <= 0 {
                    if let Some((score, end)) = component(s, i + 1) {
                        let (a, e) = span(i, end);
                        rep.report(
                            "ldap.breakout",
                            score,
                            || "a parenthesis closes the LDAP assertion and a new filter follows",
                            a,
                            e,
                        );
                    }
                }
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            prev = b;
        }
        i += 1;
    }
}

/// A whole filter parses at `s[i]` (an unterminated one counts when the
/// value ends inside it).
fn parses(s: &[u8], i: usize) -> bool {
    let mut p = Parser {
        s,
        i,
        items: 0,
        f: Features::default(),
    };
    p.filter(0, false).is_some() || p.i >= s.len()
}

/// A filter component starting at `s[i]` (after a closing parenthesis):
/// its score and where the evidence ends.
fn component(s: &[u8], i: usize) -> Option<(u8, usize)> {
    let k = skip_ws(s, i);
    match s.get(k)? {
        b'(' => {
            let a = skip_ws(s, k + 1);
            match s.get(a) {
                // `)(&)`, `)(|`, `)(|(uid=*`: an operator, then a filter,
                // the end of its list, or the end of the value.
                Some(b'&' | b'|' | b'!') => {
                    let n = skip_ws(s, a + 1);
                    matches!(s.get(n), None | Some(b'(' | b')')).then_some((80, a + 1))
                }
                Some(_) => {
                    let v = assertion(s, a)?;
                    let wild = s.get(v) == Some(&b'*');
                    Some((if wild { 75 } else { 65 }, v))
                }
                None => None,
            }
        }
        b'&' | b'|' | b'!' => {
            let p = skip_ws(s, k + 1);
            (s.get(p) == Some(&b'(')).then_some((80, p + 1))
        }
        _ => None,
    }
}

/// What a parsed filter holds.
#[derive(Debug, Default)]
struct Features {
    composites: usize,
    items: usize,
    absolute: bool,
    tautology: bool,
    password: bool,
    or_objectclass: bool,
}

/// Attributes that hold secrets.
const SECRET: &[&str] = &[
    "ms-mcs-admpwd",
    "pass",
    "passwd",
    "password",
    "sambalmpassword",
    "sambantpassword",
    "unicodepwd",
    "userpassword",
];

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    items: usize,
    f: Features,
}

impl Parser<'_> {
    /// One filter at `self.i` (`(` expected).
    fn filter(&mut self, depth: usize, in_or: bool) -> Option<()> {
        if depth > MAX_DEPTH || self.items > MAX_ITEMS {
            return None;
        }
        self.items += 1;
        self.i = skip_ws(self.s, self.i);
        if self.s.get(self.i) != Some(&b'(') {
            return None;
        }
        self.i = skip_ws(self.s, self.i + 1);
        match *self.s.get(self.i)? {
            op @ (b'&' | b'|') => {
                self.f.composites += 1;
                self.i += 1;
                let mut n = 0;
                loop {
                    self.i = skip_ws(self.s, self.i);
                    match self.s.get(self.i)? {
                        b')' => break,
                        b'(' => {
                            self.filter(depth + 1, op == b'|')?;
                            n += 1;
                        }
                        _ => return None,
                    }
                }
                if n == 0 {
                    self.f.absolute = true;
                }
            }
            b'!' => {
                self.f.composites += 1;
                self.i += 1;
                self.filter(depth + 1, in_or)?;
                self.i = skip_ws(self.s, self.i);
            }
            _ => {
                self.f.items += 1;
                let a = self.i;
                let v = assertion(self.s, a)?;
                let name_end = self.s[a..v]
                    .iter()
                    .position(|&b| !is_attr_char(b))
                    .map_or(v, |k| a + k);
                let name = &self.s[a..name_end];
                let mut e = v;
                while let Some(&b) = self.s.get(e) {
                    match b {
                        b')' => break,
                        b'(' | 0 => return None,
                        b'\\' => e += 3,
                        _ => e += 1,
                    }
                }
                let val = self.s.get(v..e)?;
                if !name.is_empty() && name.iter().all(u8::is_ascii_digit) {
                    self.f.tautology = true;
                }
                if in_table(SECRET, name) {
                    self.f.password = true;
                }
                if in_or && val == b"*" && name.eq_ignore_ascii_case(b"objectclass") {
                    self.f.or_objectclass = true;
                }
                self.i = e;
            }
        }
        if self.s.get(self.i) != Some(&b')') {
            return None;
        }
        self.i += 1;
        Some(())
    }
}

/// The value is one or more whole filters.
fn whole_filter(s: &[u8], first: usize, rep: &mut Reporter<'_>) {
    let mut p = Parser {
        s,
        i: first,
        items: 0,
        f: Features::default(),
    };
    loop {
        if p.filter(0, false).is_none() {
            return;
        }
        p.i = skip_ws(s, p.i);
        if p.i >= s.len() {
            break;
        }
        if s[p.i] != b'(' {
            return;
        }
    }
    let f = &p.f;
    let strong = f.absolute || f.tautology || f.password || f.or_objectclass;
    let score = if strong {
        70
    } else if f.composites > 0 {
        20
    } else {
        0
    };
    let what = if f.absolute {
        "an LDAP filter with an absolute true/false component"
    } else if f.tautology {
        "an LDAP filter with a numeric tautology"
    } else if f.password {
        "an LDAP filter on a password attribute"
    } else if f.or_objectclass {
        "an LDAP filter with (objectClass=*) in an OR"
    } else {
        "a composite LDAP filter in the value"
    };
    rep.report("ldap.filter", score, || what, first, p.i);
}

/// `attr:OID:=value` or `attr:dn:=value` outside a filter.
fn extensible(s: &[u8], rep: &mut Reporter<'_>) {
    let mut i = 0;
    let mut n = 0;
    while let Some(k) = s[i..].windows(2).position(|w| w == b":=") {
        let p = i + k;
        i = p + 2;
        n += 1;
        if n > 16 {
            return;
        }
        // Back to the start of `attr:...:`.
        let mut a = p;
        while a > 0 && (is_attr_char(s[a - 1]) || s[a - 1] == b':') {
            a -= 1;
        }
        if a == p || assertion(s, a) != Some(p + 2) {
            continue;
        }
        let name_end = s[a..p].iter().position(|&b| b == b':').map_or(p, |k| a + k);
        let name = &s[a..name_end];
        let parts = s[a..p].iter().filter(|&&b| b == b':').count();
        if parts == 0 {
            continue;
        }
        let secret = in_table(SECRET, name);
        let score = if secret { 70 } else { 30 };
        rep.report(
            "ldap.extensible-match",
            score,
            || {
                if secret {
                    "an LDAP extensible match on a password attribute"
                } else {
                    "an LDAP extensible match"
                }
            },
            a,
            p + 2,
        );
    }
}

/// `*`, `admin*`, `*adm*`: a short word with wildcards.
fn wildcard(s: &[u8]) -> bool {
    s.contains(&b'*')
        && s.len() <= 64
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'.' | b'_' | b'-' | b'@'))
}

fn user_key(k: &[u8]) -> bool {
    const KEYS: &[&str] = &[
        "account",
        "cn",
        "login",
        "samaccountname",
        "uid",
        "user",
        "user_name",
        "userid",
        "username",
    ];
    in_table(KEYS, k)
}
