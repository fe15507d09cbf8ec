//! Session fixation: a request that plants a session identifier the
//! attacker chose into the victim's browser or the application.
//!
//! Two shapes, each read from a different part of the request tree:
//!
//! - **A value that sets a cookie** (`session-fixation.cookie-set`, 60):
//!   script that writes `document.cookie` with cookie attributes
//!   (`.cookie = "sid=1; domain=.example.com"`, where the `;` before
//!   `expires`/`domain`/`path`/`max-age` is what makes it a cookie being
//!   set, not a word), or an HTML `<meta http-equiv="Set-Cookie">`. A
//!   reflected value like this fixes the session of whoever loads the page.
//!   (`Set-Cookie:` after a line break is header injection: the `crlf`
//!   detector's.)
//! - **A session identifier handed over in a link or a cross-site form**:
//!   the point's own name is a session cookie name in the query or the
//!   body, and the request's `Referer` names another site than its `Host`
//!   (`session-fixation.offsite-referer`). An application that accepts
//!   session identifiers from parameters adopts the attacker's one; a
//!   same-site referer is the application's own URL rewriting
//!   (`?PHPSESSID=` with `session.use_trans_sid`), which is not reported.
//!   - Names only session frameworks give their cookies score 60:
//!     `PHPSESSID` (any `...sessid`), `JSESSIONID`, `ASP.NET_SessionId`,
//!     `ASPSESSIONID...`, dotted ones (`connect.sid`, `koa.sess`,
//!     `rack.session`, `next-auth.session-token`), Rails' `_app_session`,
//!     `laravel_session`, `ci_session`, `play_session`, and a short table
//!     (`CFID`, `CFTOKEN`, `CAKEPHP`, `jwsession`...). The cookie prefixes
//!     `__Host-` and `__Secure-` are ignored.
//!   - Generic names (`sessionid`, `session_id`, `sessionId`,
//!     `session-token`, `_session_id`, `cko-session-id`) score 30: payment
//!     providers return the user to the shop with their own such parameter
//!     and their own Referer (Stripe Checkout `session_id`, Adyen
//!     `sessionId`, Checkout.com `cko-session-id`). They score 60 when the
//!     request also carries a cookie of that very name (then it is the
//!     site's own session identifier), or when the request goes to a
//!     sign-in page (a path word `login`, `logon`, `signin`, `auth`):
//!     fixation links lead there, so that the victim authenticates the
//!     planted session, and payment providers return elsewhere.
//!
//!   With no usable `Referer` (API and mobile clients send none, and pass
//!   their session token in parameters) the name alone scores 20 (10 for
//!   a generic one) (`session-fixation.session-param`): evidence, never a
//!   block by itself; except a framework name sent to a sign-in page (50):
//!   the fixation link delivered by e-mail, which carries no Referer,
//!   while the site's own rewritten links do.
//!
//! Cost: a value without `=` or `k` is rejected by one pass; at most 64
//! occurrences of `cookie` and of `http-equiv` are examined, 256 bytes
//! each; the name check runs only for keyed points of the query or the
//! body and reads at most 64 bytes; the `Referer`, `Host`, cookies and
//! path are looked at only for a session name.

use rampart_plugin_api::types::Source;
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo, Tree};

use crate::util::{find_ci, head, is_ident, is_layer, own_key, place, starts_ci, Place, Reporter};

const NAME: &str = "session-fixation";

/// Occurrences of `cookie` and of `http-equiv` examined per value (each
/// reads at most 256 bytes on).
const MAX_WORDS: usize = 64;

/// The session-fixation detector (plugin `session-fixation`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionFixationDetector;

impl Detector for SessionFixationDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "session fixation: values that set cookies, session identifiers \
                          handed over from another site",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::SessionFixation]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let at = place(ctx);
        // The name is judged once, at the value itself, not again at its
        // decoded layers nor when the engine offers the name on its own.
        let keyed =
            matches!(at, Place::Query | Place::Body) && !is_layer(ctx) && ctx.is_value(value);
        let s = head(value);
        // `cookie` and `set-cookie` both need a `k`, and an `=` follows.
        let (mut eq, mut k) = (false, false);
        for &b in s {
            eq |= b == b'=';
            k |= (b | 0x20) == b'k';
        }
        let payload = eq && k;
        if !payload && !keyed {
            return;
        }
        let mut rep = Reporter::new(out, ctx, Class::SessionFixation, NAME, value.len());
        if payload {
            cookie_set(s, &mut rep);
        }
        if keyed {
            if let Some(key) = own_key(ctx) {
                session_param(key, ctx.endpoint, ctx.tree, &mut rep);
            }
        }
    }
}

/// `.cookie ... ; expires=` / `; domain=` (also `["cookie"]`) and
/// `http-equiv=set-cookie`.
fn cookie_set(s: &[u8], rep: &mut Reporter<'_>) {
    // Both shapes hold the word `cookie`.
    let Some(mut from) = find_ci(s, 0, b"cookie") else {
        return;
    };
    let mut seen = 0;
    while let Some(p) = find_ci(s, from, b"cookie") {
        from = p + 6;
        seen += 1;
        if seen > MAX_WORDS {
            break;
        }
        let prev = p.checked_sub(1).map(|i| s[i]);
        let after = match prev {
            Some(b'.') if !s.get(p + 6).is_some_and(|&b| is_ident(b)) => p + 6,
            Some(q @ (b'"' | b'\'' | b'`'))
                if p >= 2 && s[p - 2] == b'[' && s.get(p + 6) == Some(&q) =>
            {
                p + 7
            }
            _ => continue,
        };
        if let Some(end) = cookie_attribute(s, after) {
            rep.report(
                "session-fixation.cookie-set",
                60,
                || "script that sets a cookie with its attributes (document.cookie)",
                p - 1,
                end,
            );
            return;
        }
    }
    let mut from = 0;
    let mut seen = 0;
    while let Some(p) = find_ci(s, from, b"http-equiv") {
        from = p + 10;
        seen += 1;
        if seen > MAX_WORDS {
            return;
        }
        let mut i = p + 10;
        let stop = (i + 8).min(s.len());
        while i < stop && !s[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if starts_ci(s, i, b"set-cookie") {
            rep.report(
                "session-fixation.cookie-set",
                60,
                || "an HTML meta element that sets a cookie",
                p,
                i + 10,
            );
            return;
        }
    }
}

/// After `.cookie` at `i`: within the next 256 bytes a `;`, non-word
/// characters, a cookie attribute name, non-word characters and `=`.
/// Returns the end of the `=`.
fn cookie_attribute(s: &[u8], i: usize) -> Option<usize> {
    const ATTRS: [&[u8]; 4] = [b"expires", b"domain", b"path", b"max-age"];
    let stop = (i + 256).min(s.len());
    let mut k = i;
    while k < stop {
        if s[k] == b';' {
            let mut j = k + 1;
            while j < stop && !s[j].is_ascii_alphanumeric() && s[j] != b'=' {
                j += 1;
            }
            if let Some(a) = ATTRS.iter().find(|a| starts_ci(s, j, a)) {
                let mut e = j + a.len();
                while e < stop && !s[e].is_ascii_alphanumeric() && s[e] != b'=' && s[e] != b';' {
                    e += 1;
                }
                if s.get(e) == Some(&b'=') {
                    return Some(e + 1);
                }
            }
        }
        k += 1;
    }
    None
}

/// How strongly a name says "session identifier".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionName {
    No,
    /// `sessionid`, `session_id`, `sessionToken`...: also what payment
    /// providers hand back on their return URLs.
    Generic,
    /// A name only a session framework uses.
    Framework,
}

/// Framework session cookie names without a telling suffix (lower case,
/// sorted).
const FRAMEWORK: &[&str] = &[
    "asp.net_sessionid",
    "cakephp",
    "cfid",
    "cfsid",
    "cftoken",
    "jservsession",
    "jsessionid",
    "jwsession",
    "meteor_login_token",
    "phpsession",
    "shiny-token",
    "weblogicsession",
];

/// Suffixes only session frameworks give their cookies (`PHPSESSID`,
/// `connect.sid`, `koa.sess`, `rack.session`, `_app_session`).
const FRAMEWORK_SUFFIXES: &[&[u8]] = &[
    b"sessid",
    b".sid",
    b":sid",
    b".sess",
    b":sess",
    b".session",
    b":session",
    b"_session",
];

/// Suffixes of generic session-identifier names.
const GENERIC_SUFFIXES: &[&[u8]] = &[
    b"sessionid",
    b"session_id",
    b"session-id",
    b"sessiontoken",
    b"session_token",
    b"session-token",
];

fn session_name(key: &[u8]) -> SessionName {
    if key.len() < 4 || key.len() > 64 {
        return SessionName::No;
    }
    let mut buf = [0u8; 64];
    let n = &mut buf[..key.len()];
    for (d, s) in n.iter_mut().zip(key) {
        *d = s.to_ascii_lowercase();
    }
    let mut n: &[u8] = n;
    // Every name below holds `ses` or `sid`, ends in `token` or is a
    // ColdFusion (`cf...`) or CakePHP one: reject the rest at once.
    let telling = n
        .windows(3)
        .any(|w| w[0] == b's' && (&w[1..] == b"es" || &w[1..] == b"id"))
        || n.ends_with(b"token")
        || n.starts_with(b"cf")
        || n == b"cakephp";
    if !telling {
        return SessionName::No;
    }
    for prefix in [&b"__host-"[..], b"__secure-"] {
        if let Some(rest) = n.strip_prefix(prefix) {
            n = rest;
        }
    }
    // IIS classic ASP appends eight letters: `ASPSESSIONIDQQGGQGQB`.
    if n.starts_with(b"aspsessionid") || FRAMEWORK.binary_search_by(|t| t.as_bytes().cmp(n)).is_ok()
    {
        return SessionName::Framework;
    }
    for suf in FRAMEWORK_SUFFIXES {
        if n.ends_with(suf) && (n.len() > suf.len() || suf[0].is_ascii_alphabetic()) {
            // `_session` only in Rails' `_app_session` shape (a leading
            // underscore) and the named stores `laravel_session`,
            // `ci_session`, `play_session`: `training_session=4` is a form
            // field.
            if *suf == b"_session" && !n.starts_with(b"_") {
                let stem = &n[..n.len() - suf.len()];
                if !matches!(stem, b"laravel" | b"ci" | b"play") {
                    continue;
                }
            }
            return SessionName::Framework;
        }
    }
    for suf in GENERIC_SUFFIXES {
        if let Some(stem) = n.strip_suffix(*suf) {
            // A namespaced cookie name (`next-auth.session-token`) is a
            // framework's; a plain one (`sessionId`, `cko-session-id`) may
            // be anyone's.
            return if stem.iter().any(|&b| b == b'.' || b == b':') {
                SessionName::Framework
            } else {
                SessionName::Generic
            };
        }
    }
    SessionName::No
}

/// The request carries a cookie of this name (ASCII case ignored).
fn has_cookie(tree: &Tree, name: &[u8]) -> bool {
    let Some(c) = tree.source(Source::Cookie) else {
        return false;
    };
    tree.children(c).any(|id| {
        tree.key(tree.node(id).seg)
            .is_some_and(|k| k.eq_ignore_ascii_case(name))
    })
}

/// Where the request came from, as far as its `Referer` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// No `Referer`, no `Host`, or one that does not parse.
    Unknown,
    SameSite,
    OffSite,
}

fn header<'t>(tree: &'t Tree, name: &[u8]) -> Option<&'t [u8]> {
    let h = tree.source(Source::Header)?;
    let id = tree.child_by_key(h, name)?;
    Some(tree.value(id))
}

/// The host of an absolute `http(s)://` or `//` URL, without userinfo and
/// port.
fn url_host(u: &[u8]) -> Option<&[u8]> {
    let u = u.trim_ascii();
    let rest = if starts_ci(u, 0, b"http://") {
        &u[7..]
    } else if starts_ci(u, 0, b"https://") {
        &u[8..]
    } else if u.starts_with(b"//") {
        &u[2..]
    } else {
        return None;
    };
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#' | b'\\'))
        .unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = match auth.iter().rposition(|&b| b == b'@') {
        Some(a) => &auth[a + 1..],
        None => auth,
    };
    let host = strip_port(auth);
    (!host.is_empty()).then_some(host)
}

fn strip_port(h: &[u8]) -> &[u8] {
    let h = h.trim_ascii();
    if h.starts_with(b"[") {
        return match h.iter().position(|&b| b == b']') {
            Some(e) => &h[..=e],
            None => h,
        };
    }
    match h.iter().rposition(|&b| b == b':') {
        Some(c) => &h[..c],
        None => h,
    }
}

/// `a` is `b` or a subdomain of it (case ignored).
fn within(a: &[u8], b: &[u8]) -> bool {
    if a.len() == b.len() {
        return a.eq_ignore_ascii_case(b);
    }
    a.len() > b.len()
        && a[a.len() - b.len() - 1] == b'.'
        && a[a.len() - b.len()..].eq_ignore_ascii_case(b)
}

fn origin(tree: &Tree) -> Origin {
    let Some(host) = header(tree, b"host").map(strip_port) else {
        return Origin::Unknown;
    };
    let Some(r) = header(tree, b"referer").and_then(url_host) else {
        return Origin::Unknown;
    };
    let r = r.strip_suffix(b".").unwrap_or(r);
    let host = host.strip_suffix(b".").unwrap_or(host);
    if host.is_empty() {
        return Origin::Unknown;
    }
    if within(r, host) || within(host, r) {
        Origin::SameSite
    } else {
        Origin::OffSite
    }
}

/// The request path is a sign-in page: a path word `login`, `logon`,
/// `signin` (`sign-in`) or `auth` (`/get/login.php`, `/api/auth/signin`).
fn login_endpoint(path: &[u8]) -> bool {
    let path = &path[..path.len().min(1024)];
    let path = path.split(|&b| b == b'?').next().unwrap_or(path);
    let mut prev: &[u8] = b"";
    for w in path.split(|b| !b.is_ascii_alphanumeric()) {
        if w.is_empty() {
            continue;
        }
        let is = |x: &[u8]| w.eq_ignore_ascii_case(x);
        if is(b"login") || is(b"logon") || is(b"signin") || is(b"auth") {
            return true;
        }
        if is(b"in") && prev.eq_ignore_ascii_case(b"sign") {
            return true;
        }
        prev = w;
    }
    false
}

fn session_param(key: &[u8], endpoint: &[u8], tree: &Tree, rep: &mut Reporter<'_>) {
    let kind = session_name(key);
    if kind == SessionName::No {
        return;
    }
    let show = || String::from_utf8_lossy(key).into_owned();
    match (origin(tree), kind) {
        (Origin::SameSite, _) | (_, SessionName::No) => {}
        (Origin::OffSite, SessionName::Framework) => rep.report(
            "session-fixation.offsite-referer",
            60,
            || {
                format!(
                    "a session identifier ({}) handed over from another site",
                    show()
                )
            },
            0,
            0,
        ),
        (Origin::OffSite, SessionName::Generic) => {
            // The application's own session cookie has this name (the
            // parameter is its session identifier), or the link leads to
            // a sign-in page, where a planted session gets authenticated.
            let own = has_cookie(tree, key);
            let login = login_endpoint(endpoint);
            rep.report(
                "session-fixation.offsite-referer",
                if own || login { 60 } else { 30 },
                || {
                    format!(
                        "a parameter named like a session identifier ({}) arriving from another site{}",
                        show(),
                        if own {
                            ", named as the site's session cookie"
                        } else if login {
                            ", on a sign-in page"
                        } else {
                            ""
                        }
                    )
                },
                0,
                0,
            );
        }
        (Origin::Unknown, kind) => rep.report(
            "session-fixation.session-param",
            match kind {
                // The e-mailed fixation link: no Referer, to the sign-in
                // page; the site's own links carry one.
                SessionName::Framework if login_endpoint(endpoint) => 50,
                SessionName::Framework => 20,
                _ => 10,
            },
            || format!("a session identifier ({}) in a parameter", show()),
            0,
            0,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "PHPSESSID",
            "PHPSESSid",
            "jsessionid",
            "ASPSESSIONIDQQGGQGQB",
            "ASP.NET_SessionId",
            "connect.sid",
            "koa:sess",
            "rack.session",
            "laravel_session",
            "_myapp_session",
            "__Secure-next-auth.session-token",
            "cfid",
        ] {
            assert_eq!(session_name(n.as_bytes()), SessionName::Framework, "{n}");
        }
        for n in [
            "session_id",
            "sessionid",
            "sessionId",
            "session-id",
            "_session_id",
            "cko-session-id",
            "sessionToken",
        ] {
            assert_eq!(session_name(n.as_bytes()), SessionName::Generic, "{n}");
        }
        for n in [
            "session",
            "training_session",
            "q",
            "sid",
            "token",
            "login_token",
            "username",
            "sessions",
        ] {
            assert_eq!(session_name(n.as_bytes()), SessionName::No, "{n}");
        }
    }

    #[test]
    fn sign_in_pages() {
        for p in [
            "/login",
            "/get/login.php",
            "/api/auth/signin",
            "/users/sign-in",
            "/Logon.aspx",
        ] {
            assert!(login_endpoint(p.as_bytes()), "{p}");
        }
        for p in ["/checkout/success", "/authors/12", "/signing", "/"] {
            assert!(!login_endpoint(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host(b"https://u:p@Evil.com:8080/x"),
            Some(&b"Evil.com"[..])
        );
        assert_eq!(url_host(b"http"), None);
        assert_eq!(url_host(b"//a.b/"), Some(&b"a.b"[..]));
        assert!(within(b"api.example.com", b"example.com"));
        assert!(!within(b"attacker.example.com", b"app.example.com"));
        assert!(!within(b"badexample.com", b"example.com"));
    }
}
