//! NoSQL (MongoDB) injection.
//!
//! - `nosql.operator-key`: the point sits under a key that is a MongoDB
//!   operator: `{"user": {"$ne": null}}` gives `body:json.user["$ne"]`,
//!   `user[$ne]=x` gives `query.user["$ne"]`. Keys are read from the tree
//!   (the point's own key and up to seven above it); a key that holds an
//!   operator in brackets or quotes (`u[$ne]` left undecoded, a JSON text
//!   used as a form key) counts too.
//! - `nosql.operator`: an operator written in a string as an object key or
//!   a bracketed key: `{"$gt": ""}`, `true, $where: '1'`, `[$lte]x`.
//! - `nosql.shell`: a mongo-shell call, `db.users.find(`, `db.eval(`.
//! - `nosql.js-injection`: JavaScript that breaks out of a string or a
//!   number in a `$where` clause or a server-side script, at the start of
//!   the value or after a quote: `';return true;var a='`, `0;var d=new
//!   Date();do{...}while(...)`, `'||'1'=='1`, `' && this.password.match(`.
//!
//! - `nosql.orm-lookup`: a parameter name that is a Django ORM filter
//!   expression, `field__lookup` (`password__startswith=a`,
//!   `user__profile__city__startswith=p`): an application that passes
//!   request parameters to `Model.objects.filter(**params)` lets the
//!   caller read any field through any relation, one character at a time.
//!   This is operator injection into an ORM query, the same attack as
//!   `user[$ne]=` against MongoDB. django-filter APIs legitimately expose
//!   single lookups (`price__gte=10`, `name__icontains=x`), so the name
//!   alone scores 20; each relation crossed before the field adds 15 (two
//!   relations block), a prefix/contains/regex probe with an operand of at
//!   most three characters (the blind-extraction step) adds 15; a secret
//!   or privilege field on the way (`password`, `token`, `is_staff`,
//!   `roles`...) scores 70, and a JSON-key lookup (`has_key`) probing for
//!   one (`data__has_key=is_admin`) 60.
//!
//! Operators are in three sorted tables: code execution (`$where`,
//! `$function`, `$accumulator`, `$expr`: 80), query operators used to
//! bypass checks or read data (`$ne`, `$gt`, `$regex`, `$in`, `$or`,
//! `$lookup`...: 60) and update/aggregation operators that also have
//! ordinary uses (`$set`, `$inc`, `$match`...: 40 as a key, 30 in text).
//! Operator names must end at a non-identifier character
//! (`$existsor` is no operator). OData's `$filter`, `$top`, `$select`,
//! `$skip`, `$count`, `$search` are not in the tables.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::util::{
    decoded_as, find_byte, head, ident_end, in_table, is_ident, is_layer, keys_below_layer,
    keys_up, place, skip_ws, starts_ci, Place, Reporter,
};

const NAME: &str = "nosql";

/// Keys examined above a point.
const MAX_KEYS: usize = 8;
/// Quotes examined as breakout positions.
const MAX_QUOTES: usize = 16;
/// `$` signs examined per value.
const MAX_DOLLARS: usize = 256;

/// The NoSQL-injection detector (plugin `nosql`, class [`Class::Nosql`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NosqlDetector;

impl Detector for NosqlDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "NoSQL injection: MongoDB operators in keys and values, mongo-shell \
                          calls, JavaScript breakouts",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Nosql]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut rep = Reporter::new(out, ctx, Class::Nosql, NAME, value.len());
        let len = value.len();
        let s = head(value);
        let orm = matches!(place(ctx), Place::Query | Place::Body) && !is_layer(ctx);
        // The keys above the point are read with its value, not again when
        // the engine offers a member's name on its own.
        if ctx.is_value(value) {
            // Keys inside a GraphQL document are GraphQL names: `$x` there
            // declares a variable.
            let graphql = keys_below_layer(ctx, "graphql").unwrap_or(0);
            keys_up(ctx, |level, key| {
                if level == 0 && orm {
                    if let Some((score, what)) = orm_lookup(head(key), s) {
                        rep.report(
                            "nosql.orm-lookup",
                            score,
                            || {
                                format!(
                                    "the parameter name {} is a Django ORM filter ({what})",
                                    String::from_utf8_lossy(key)
                                )
                            },
                            0,
                            0,
                        );
                    }
                }
                if let Some((op, score)) = key_operator(head(key)).filter(|_| level >= graphql) {
                    rep.report(
                        "nosql.operator-key",
                        score,
                        || {
                            format!(
                                "the value is the operand of the MongoDB operator {}",
                                String::from_utf8_lossy(op)
                            )
                        },
                        0,
                        len,
                    );
                }
                level + 1 < MAX_KEYS
            });
        }
        // What the value scans need: `$` for operators, `db.` for shell
        // calls, `;`, `||` or `&&` for a breakout. One pass rejects the rest.
        let (mut dollar, mut dot, mut punct) = (false, false, false);
        for (i, &b) in s.iter().enumerate() {
            match b {
                b'$' => dollar = true,
                b'.' => dot |= i >= 2 && s[i - 2..i].eq_ignore_ascii_case(b"db"),
                b';' => punct = true,
                b'|' | b'&' => punct |= i > 0 && s[i - 1] == b,
                _ => {}
            }
        }
        // A GraphQL document (decoded as one) writes its variables `$x`.
        if dollar && !decoded_as(ctx, "graphql") {
            operators(s, &mut rep);
        }
        if dot {
            shell(s, &mut rep);
        }
        if punct {
            js(s, &mut rep);
        }
    }
}

/// Django's built-in and PostgreSQL lookups (sorted).
const LOOKUPS: &[&str] = &[
    "contained_by",
    "contains",
    "date",
    "day",
    "endswith",
    "exact",
    "gt",
    "gte",
    "has_any_keys",
    "has_key",
    "has_keys",
    "hour",
    "icontains",
    "iendswith",
    "iexact",
    "in",
    "iregex",
    "isnull",
    "iso_week_day",
    "iso_year",
    "istartswith",
    "len",
    "lt",
    "lte",
    "minute",
    "month",
    "overlap",
    "quarter",
    "range",
    "regex",
    "search",
    "second",
    "startswith",
    "time",
    "trigram_similar",
    "unaccent",
    "week",
    "week_day",
    "year",
];

/// Lookups that test part of a text: the blind-extraction oracle.
const PROBES: &[&str] = &[
    "contains",
    "endswith",
    "icontains",
    "iendswith",
    "iregex",
    "istartswith",
    "regex",
    "startswith",
];

/// Lookups that test which keys a JSON or array field holds.
const KEY_PROBES: &[&str] = &[
    "contained_by",
    "contains",
    "has_any_keys",
    "has_key",
    "has_keys",
    "overlap",
];

/// Field names that hold secrets or privileges.
fn sensitive(w: &[u8]) -> bool {
    if w.len() > 40 {
        return false;
    }
    let mut buf = [0u8; 40];
    let n = &mut buf[..w.len()];
    for (d, s) in n.iter_mut().zip(w) {
        *d = s.to_ascii_lowercase();
    }
    let n: &[u8] = n;
    if matches!(n, b"role" | b"roles" | b"salt" | b"otp" | b"totp" | b"pin") {
        return true;
    }
    const PARTS: [&[u8]; 10] = [
        b"password",
        b"passwd",
        b"secret",
        b"token",
        b"api_key",
        b"apikey",
        b"is_admin",
        b"is_staff",
        b"is_superuser",
        b"permission",
    ];
    PARTS.iter().any(|p| n.windows(p.len()).any(|x| x == *p))
}

/// A Django ORM filter expression as a parameter name; the score and what
/// made it one.
fn orm_lookup(key: &[u8], value: &[u8]) -> Option<(u8, &'static str)> {
    if key.len() < 5 || key.len() > 256 || key.starts_with(b"_") || key.ends_with(b"_") {
        return None;
    }
    if !key.windows(2).any(|w| w == b"__") || !key.iter().all(|&b| is_ident(b)) {
        return None;
    }
    let mut segs = [&b""[..]; 16];
    let mut n = 0;
    let mut start = 0;
    let mut i = 0;
    while i + 1 < key.len() {
        if key[i] == b'_' && key[i + 1] == b'_' {
            if n + 1 >= segs.len() {
                return None;
            }
            segs[n] = &key[start..i];
            n += 1;
            i += 2;
            start = i;
        } else {
            i += 1;
        }
    }
    segs[n] = &key[start..];
    n += 1;
    let segs = &segs[..n];
    // `a___b` leaves a segment that starts with `_`; Python names may, but
    // no lookup chain of a real model does.
    if segs.iter().any(|g| g.is_empty() || g[0] == b'_') {
        return None;
    }
    let (last, fields) = segs.split_last()?;
    if !in_table(LOOKUPS, last) {
        return None;
    }
    if fields.iter().any(|f| sensitive(f)) {
        return Some((70, "a lookup on a secret or privilege field"));
    }
    let v = value.trim_ascii();
    if in_table(KEY_PROBES, last) && sensitive(v) {
        return Some((60, "a probe for a privilege or secret key"));
    }
    let hops = fields.len() - 1;
    let mut score = 20 + 15 * hops.min(4) as u32;
    let mut what = if hops > 0 {
        "a lookup across relations"
    } else {
        "a field lookup"
    };
    if in_table(PROBES, last) && !v.is_empty() && v.len() <= 3 {
        score += 15;
        what = "a short text probe (blind extraction)";
    }
    Some((score.min(80) as u8, what))
}

/// Operators that run JavaScript or arbitrary expressions.
const EXEC: &[&str] = &["accumulator", "eval", "expr", "function", "where"];

/// Query operators.
const QUERY: &[&str] = &[
    "all",
    "and",
    "elemmatch",
    "eq",
    "exists",
    "graphlookup",
    "gt",
    "gte",
    "in",
    "jsonschema",
    "lookup",
    "lt",
    "lte",
    "merge",
    "mod",
    "ne",
    "nin",
    "nor",
    "not",
    "options",
    "or",
    "out",
    "regex",
    "size",
    "text",
    "unionwith",
];

/// Update and aggregation operators with ordinary uses.
const OTHER: &[&str] = &[
    "addtoset",
    "comment",
    "currentdate",
    "group",
    "inc",
    "match",
    "pop",
    "project",
    "pull",
    "pullall",
    "push",
    "rename",
    "set",
    "setoninsert",
    "type",
    "unset",
];

/// The score of an operator name (without the `$`), 0 if none.
fn op_score(name: &[u8], key: bool) -> u8 {
    if in_table(EXEC, name) {
        80
    } else if in_table(QUERY, name) {
        60
    } else if in_table(OTHER, name) {
        if key {
            40
        } else {
            30
        }
    } else {
        0
    }
}

/// A key that is an operator (`$ne`) or holds one in brackets or quotes.
fn key_operator(key: &[u8]) -> Option<(&[u8], u8)> {
    if key.first() == Some(&b'$') {
        let e = ident_end(key, 1);
        if e == key.len() {
            let s = op_score(&key[1..], true);
            return (s > 0).then_some((key, s));
        }
    }
    let mut best: Option<(&[u8], u8)> = None;
    let mut i = 0;
    let mut n = 0;
    while let Some(p) = find_byte(key, i, b'$') {
        i = p + 1;
        n += 1;
        if n > MAX_DOLLARS {
            break;
        }
        let e = ident_end(key, p + 1);
        let before = p.checked_sub(1).map(|k| key[k]);
        let after = key.get(e).copied();
        let wrapped = matches!(before, Some(b'[' | b'"' | b'\'' | b'{'))
            && matches!(after, Some(b']' | b'"' | b'\'' | b':'));
        if wrapped {
            let s = op_score(&key[p + 1..e], true);
            if s > best.map_or(0, |b| b.1) {
                best = Some((&key[p..e], s));
            }
        }
    }
    best
}

/// Operators written as keys inside the text.
fn operators(s: &[u8], rep: &mut Reporter<'_>) {
    let mut i = 0;
    let mut n = 0;
    while let Some(p) = find_byte(s, i, b'$') {
        i = p + 1;
        n += 1;
        if n > MAX_DOLLARS {
            return;
        }
        if p > 0 && is_ident(s[p - 1]) {
            continue;
        }
        let e = ident_end(s, p + 1);
        if e == p + 1 || e - p > 24 {
            continue;
        }
        let score = op_score(&s[p + 1..e], false);
        if score == 0 {
            continue;
        }
        let before = p.checked_sub(1).map(|k| s[k]);
        // `$op:`, `"$op":`, `'$op' :`
        let mut k = e;
        if matches!(s.get(k), Some(b'"' | b'\'')) && matches!(before, Some(b'"' | b'\'')) {
            k += 1;
        }
        let k = skip_ws(s, k);
        let keyed = s.get(k) == Some(&b':');
        let bracketed = before == Some(b'[') && s.get(e) == Some(&b']');
        if keyed || bracketed {
            let op = &s[p..e];
            rep.report(
                "nosql.operator",
                score,
                || {
                    format!(
                        "the MongoDB operator {} written as a key",
                        String::from_utf8_lossy(op)
                    )
                },
                p,
                k + 1,
            );
        }
    }
}

/// Collection methods of the mongo shell.
const COLLECTION: &[&str] = &[
    "aggregate",
    "bulkwrite",
    "count",
    "countdocuments",
    "deletemany",
    "deleteone",
    "distinct",
    "drop",
    "find",
    "findandmodify",
    "findone",
    "findoneanddelete",
    "findoneandreplace",
    "findoneandupdate",
    "insert",
    "insertmany",
    "insertone",
    "mapreduce",
    "remove",
    "renamecollection",
    "replaceone",
    "save",
    "update",
    "updatemany",
    "updateone",
];

/// Database methods of the mongo shell.
const DATABASE: &[&str] = &[
    "admincommand",
    "createcollection",
    "createuser",
    "dropdatabase",
    "dropuser",
    "eval",
    "getcollection",
    "getcollectionnames",
    "getsiblingdb",
    "getusers",
    "runcommand",
    "shutdownserver",
];

/// `db.coll.method(` and `db.method(`.
fn shell(s: &[u8], rep: &mut Reporter<'_>) {
    let mut i = 0;
    let mut n = 0;
    while let Some(p) = find_byte(s, i, b'.') {
        i = p + 1;
        n += 1;
        if n > MAX_DOLLARS {
            return;
        }
        if p < 2 || !starts_ci(s, p - 2, b"db") || (p > 2 && is_ident(s[p - 3])) {
            continue;
        }
        let a = p + 1;
        let ae = ident_end(s, a);
        if ae == a {
            continue;
        }
        let call = |e: usize| s.get(skip_ws(s, e)) == Some(&b'(');
        let hit = if in_table(DATABASE, &s[a..ae]) && call(ae) {
            Some(ae)
        } else if s.get(ae) == Some(&b'.') {
            let m = ae + 1;
            let me = ident_end(s, m);
            (in_table(COLLECTION, &s[m..me]) && call(me)).then_some(me)
        } else {
            None
        };
        if let Some(e) = hit {
            rep.report(
                "nosql.shell",
                60,
                || "a mongo-shell call (db.collection.method())",
                p - 2,
                e,
            );
            return;
        }
    }
}

/// JavaScript breakouts at the start of the value and after quotes.
fn js(s: &[u8], rep: &mut Reporter<'_>) {
    let mut starts = [0usize; MAX_QUOTES + 1];
    let mut n = 1;
    let mut i = 0;
    while n < starts.len() {
        match s[i..].iter().position(|&b| b == b'\'' || b == b'"') {
            Some(k) => {
                starts[n] = i + k + 1;
                n += 1;
                i += k + 1;
            }
            None => break,
        }
    }
    for &p in &starts[..n] {
        if let Some((score, end, what)) = breakout(s, p) {
            rep.report(
                "nosql.js-injection",
                score,
                || format!("JavaScript breakout: {what}"),
                p.saturating_sub(1),
                end,
            );
        }
    }
}

/// After a number or a boolean literal at `s[i]`.
fn literal_end(s: &[u8], i: usize) -> usize {
    let mut k = i;
    while s.get(k).is_some_and(|b| b.is_ascii_digit() || *b == b'.') {
        k += 1;
    }
    if k > i {
        return k;
    }
    for w in [&b"true"[..], b"false", b"null", b"undefined"] {
        if starts_ci(s, i, w) && !s.get(i + w.len()).is_some_and(|&b| is_ident(b)) {
            return i + w.len();
        }
    }
    i
}

/// A breakout at `s[p]`: `;` and a statement, or `||`/`&&` and an
/// expression. Returns the score, where it ends and what it is.
fn breakout(s: &[u8], p: usize) -> Option<(u8, usize, &'static str)> {
    let k = skip_ws(s, p);
    let k = skip_ws(s, literal_end(s, k));
    match (s.get(k), s.get(k + 1)) {
        (Some(b';'), _) => statement(s, skip_ws(s, k + 1)),
        (Some(b'|'), Some(b'|')) | (Some(b'&'), Some(b'&')) => expression(s, skip_ws(s, k + 2)),
        _ => None,
    }
}

/// A JavaScript statement at `s[i]`.
fn statement(s: &[u8], i: usize) -> Option<(u8, usize, &'static str)> {
    let e = ident_end(s, i);
    let w = &s[i..e];
    let next = s.get(skip_ws(s, e)).copied();
    let spaced = e < s.len() && s[e].is_ascii_whitespace();
    let hit = if w == b"var" || w == b"let" || w == b"const" {
        // `var a=`, `let d = new Date()`: a name, then `=`, `;` or `,`.
        let k = skip_ws(s, e);
        let ke = ident_end(s, k);
        let after = s.get(skip_ws(s, ke)).copied();
        (spaced && ke > k && matches!(after, Some(b'=' | b';' | b',')))
            .then_some((60, "a variable declaration after ;"))
    } else if w == b"return" {
        // `return true`, `return 1`, `return(...)`, `return this.x`.
        let k = skip_ws(s, e);
        let ke = ident_end(s, k);
        let word = &s[k..ke];
        let value = matches!(s.get(k), Some(b'(' | b'!' | b'\'' | b'"'))
            || s.get(k).is_some_and(u8::is_ascii_digit)
            || word == b"true"
            || word == b"false"
            || (word == b"this" && s.get(ke) == Some(&b'.'));
        (value && (spaced || s.get(e).is_some_and(|b| !b.is_ascii_alphanumeric())))
            .then_some((60, "a return statement after ;"))
    } else if w == b"while" {
        // `while(...)` followed by `{`, `;`, a quote or the end.
        (next == Some(b'(') && loop_head(s, skip_ws(s, e))).then_some((70, "a loop after ;"))
    } else if w == b"do" {
        (next == Some(b'{')).then_some((70, "a loop after ;"))
    } else if w == b"function" {
        (next == Some(b'(')).then_some((60, "a function after ;"))
    } else if w == b"sleep" {
        (next == Some(b'(')).then_some((70, "sleep() after ;"))
    } else if w == b"this" || w == b"db" {
        (s.get(e) == Some(&b'.')).then_some((70, "server-side object access after ;"))
    } else {
        None
    };
    hit.map(|(sc, what)| (sc, e, what))
}

/// The parenthesis at `s[i]` closes within 256 bytes and is followed by
/// `{`, `;`, a quote or the end of the value.
fn loop_head(s: &[u8], i: usize) -> bool {
    let lim = s.len().min(i + 256);
    let mut depth = 0u32;
    for k in i..lim {
        match s[k] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let n = skip_ws(s, k + 1);
                    return matches!(s.get(n), None | Some(b'{' | b';' | b'\'' | b'"'));
                }
            }
            _ => {}
        }
    }
    // Unclosed up to the end of the value: the rest of the script closes it.
    lim == s.len()
}

/// A JavaScript expression at `s[i]` after `||` or `&&`.
fn expression(s: &[u8], i: usize) -> Option<(u8, usize, &'static str)> {
    let e = ident_end(s, i);
    let w = &s[i..e];
    if (w == b"this" || w == b"db") && s.get(e) == Some(&b'.') {
        return Some((70, e, "server-side object access after ||/&&"));
    }
    if w == b"sleep" && s.get(skip_ws(s, e)) == Some(&b'(') {
        return Some((70, e, "sleep() after ||/&&"));
    }
    // `'1'=='1`, `1==1`, `"a"==="a"`: a JavaScript comparison.
    let (a, k) = js_operand(s, i)?;
    let k = skip_ws(s, k);
    let eq = match (s.get(k), s.get(k + 1), s.get(k + 2)) {
        (Some(b'='), Some(b'='), Some(b'=')) | (Some(b'!'), Some(b'='), Some(b'=')) => 3,
        (Some(b'='), Some(b'='), _) | (Some(b'!'), Some(b'='), _) => 2,
        _ => return None,
    };
    let (b, end) = js_operand(s, skip_ws(s, k + eq))?;
    let _ = (a, b);
    Some((60, end, "a JavaScript comparison after ||/&&"))
}

/// A quoted string (its closing quote optional at the end of the value) or
/// a number at `s[i]`.
fn js_operand(s: &[u8], i: usize) -> Option<(&[u8], usize)> {
    match s.get(i) {
        Some(&q @ (b'\'' | b'"')) => {
            let lim = s.len().min(i + 256);
            match s[i + 1..lim].iter().position(|&b| b == q) {
                Some(k) => Some((&s[i + 1..i + 1 + k], i + 2 + k)),
                None if lim == s.len() => Some((&s[i + 1..], s.len())),
                None => None,
            }
        }
        Some(b) if b.is_ascii_digit() => {
            let e = literal_end(s, i);
            Some((&s[i..e], e))
        }
        _ => None,
    }
}
