//! Checks that read the point's place in the request rather than only its
//! bytes: uploaded file names that a web server would run as code (a web
//! shell upload), PHP session file names (session file overwrite), and
//! prototype pollution through nested JSON keys.

use rampart_plugin_api::{DetectCtx, Seg, Source};

use crate::common::{lc, Hits};

/// Header names that upload scripts read the file name from.
const NAME_HEADERS: [&[u8]; 4] = [b"x-filename", b"x_filename", b"x-file-name", b"x.filename"];

/// True when the point is an uploaded file's name: a multipart part's
/// `@filename`, or an `X-Filename`-like request header.
fn is_file_name(ctx: &DetectCtx<'_>) -> bool {
    let tree = ctx.tree;
    if ctx.point.index() >= tree.len() {
        return false;
    }
    let node = tree.node(ctx.point);
    let Some(key) = tree.key(node.seg) else {
        return false;
    };
    // Every name below is 9 to 11 bytes.
    if !(9..=11).contains(&key.len()) {
        return false;
    }
    if key.eq_ignore_ascii_case(b"@filename") || key.eq_ignore_ascii_case(b"@filename*") {
        return true;
    }
    let header = node
        .parent()
        .is_some_and(|p| p.index() < tree.len() && tree.node(p).seg == Seg::Source(Source::Header));
    header && NAME_HEADERS.iter().any(|h| key.eq_ignore_ascii_case(h))
}

/// Extensions a web server hands to a script engine (lower-case):
/// PHP, JSP, ASP.NET, classic ASP, CGI.
const SCRIPT_EXT: [&[u8]; 18] = [
    b"asax", b"ascx", b"ashx", b"asmx", b"asp", b"aspx", b"cfm", b"cgi", b"jsp", b"jspf", b"jspx",
    b"phar", b"php", b"phps", b"pht", b"phpt", b"phtml", b"shtml",
];

/// Image extensions that upload filters accept and that a misconfigured
/// server (Apache `AddHandler`) runs when a script extension precedes
/// them (`shell.php.jpg`).
const IMAGE_EXT: [&[u8]; 9] = [
    b"bmp", b"gif", b"ico", b"jpe", b"jpeg", b"jpg", b"png", b"svg", b"webp",
];

/// The script extension an extension names: itself, or `php` followed by
/// digits (`php5`, `php7`).
fn script_ext(ext: &[u8]) -> bool {
    if ext.is_empty() || ext.len() > 8 {
        return false;
    }
    if SCRIPT_EXT.contains(&ext) {
        return true;
    }
    ext.len() > 3 && ext.starts_with(b"php") && ext[3..].iter().all(u8::is_ascii_digit)
}

/// A file name's last path component, lower-cased, with the blanks
/// removed (`photo. php`: a blank after the dot is an evasion) and the
/// trailing dots and blanks that Windows drops (`shell.jsp..`).
fn normalise(v: &[u8]) -> ([u8; 128], usize) {
    let base = match v.iter().rposition(|&c| c == b'/' || c == b'\\') {
        Some(p) => &v[p + 1..],
        None => v,
    };
    let mut out = [0u8; 128];
    let mut n = 0;
    for &c in base.iter().take(1024) {
        if c.is_ascii_whitespace() || c == 0 {
            continue;
        }
        if n < out.len() {
            out[n] = lc(c);
            n += 1;
        }
    }
    while n > 0 && out[n - 1] == b'.' {
        n -= 1;
    }
    (out, n)
}

/// Scores a file name (also used by the tests).
pub fn judge_name(v: &[u8]) -> Option<(u8, &'static str, &'static str)> {
    let (buf, n) = normalise(v);
    let name = &buf[..n];
    // `sess_<id>`: PHP's session files are named so; writing one plants a
    // session.
    if let Some(id) = name.strip_prefix(b"sess_") {
        if id.len() >= 16
            && id.len() <= 256
            && id
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b',' || c == b'-')
        {
            return Some((
                70,
                "code-injection.session-file-upload",
                "an uploaded file named like a PHP session file",
            ));
        }
    }
    let mut parts = name.split(|&c| c == b'.');
    let _stem = parts.next();
    // The extensions after the first dot, last one last.
    let mut last: &[u8] = &[];
    let mut before: &[u8] = &[];
    let mut count = 0;
    for p in parts {
        before = last;
        last = p;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    if script_ext(last) {
        return Some((
            80,
            "code-injection.script-upload",
            "an uploaded file with a server-side script extension",
        ));
    }
    if count >= 2 && script_ext(before) && IMAGE_EXT.contains(&last) {
        return Some((
            60,
            "code-injection.script-upload",
            "an uploaded image whose name hides a server-side script extension",
        ));
    }
    None
}

/// Reports an uploaded file's name that a server would run as code.
pub fn check(value: &[u8], ctx: &DetectCtx<'_>, hits: &mut Hits) {
    if value.is_empty() || value.len() > 4096 || !is_file_name(ctx) {
        return;
    }
    if !value.iter().any(|&c| c == b'.' || c == b'_') {
        return;
    }
    if let Some((score, rule, msg)) = judge_name(value) {
        hits.add(rule, score, 0, value.len(), msg);
    }
}

/// True when a key above the point is `__proto__` or `constructor`
/// (what [`pollution_keys`] reads further).
pub fn pollution_key(ctx: &DetectCtx<'_>) -> bool {
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..32 {
        if id.index() >= tree.len() {
            return false;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Key { .. } => {
                if tree
                    .key(node.seg)
                    .is_some_and(|k| k == b"__proto__" || k == b"constructor")
                {
                    return true;
                }
            }
            Seg::Index(_) | Seg::Layer(_) => {}
            Seg::Root | Seg::Source(_) => return false,
        }
        match node.parent() {
            Some(p) => id = p,
            None => return false,
        }
    }
    false
}

/// `__proto__` as a key above the point, or `constructor` then
/// `prototype` (`{"__proto__":{"isAdmin":true}}`): prototype pollution
/// through a JSON body or a bracketed form name.
pub fn pollution_keys(ctx: &DetectCtx<'_>, hits: &mut Hits) {
    let tree = ctx.tree;
    let mut id = ctx.point;
    let mut below: Option<&[u8]> = None;
    for _ in 0..32 {
        if id.index() >= tree.len() {
            return;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Key { .. } => {
                let Some(k) = tree.key(node.seg) else {
                    return;
                };
                if k == b"__proto__" || k == b"constructor" && below == Some(b"prototype") {
                    hits.add(
                        "code-injection.prototype-pollution",
                        80,
                        0,
                        0,
                        "a JavaScript prototype pollution key",
                    );
                    return;
                }
                below = Some(k);
            }
            Seg::Index(_) | Seg::Layer(_) => {}
            Seg::Root | Seg::Source(_) => return,
        }
        match node.parent() {
            Some(p) => id = p,
            None => return,
        }
    }
}
