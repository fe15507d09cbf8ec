//! Remote file inclusion: a URL given where the application expects a
//! file, a page or a template, or a URL shaped to be included as code.
//!
//! URLs are found by [`crate::url`]; the schemes that can carry an
//! included file are `http`, `https`, `ftp`, `ftps`, `sftp`, `smb` and
//! `webdav`, plus UNC paths (`\\host\share\file`) and protocol-relative
//! `//host/file` given as a whole value.
//!
//! Rules (score):
//! - `rfi.include-param`: the whole value of a parameter whose name has an
//!   include word (`file`, `page`, `include`, `path`, `template`, `doc`,
//!   `folder`, `root`, `pg`, `style`, `pdf`, `lang`, `dir`, `module`...,
//!   split on `_ - .` and camel case, so `mosConfig_absolute_path` counts
//!   and `profile` does not) is a URL: 55, plus 10 each for a script
//!   extension, a suffix-cutting tail and an IP-literal host; 30 for a
//!   link to a document or a picture (`.pdf`, `.png`, `.docx`...).
//! - `rfi.script-url`: a URL shaped for inclusion elsewhere: a script or
//!   text extension on its last segment (`.php`, `.txt`, `.inc`, `.jsp`,
//!   30), a tail that cuts the suffix the application appends (a final
//!   `?`, a `%00`/NUL, an empty `#`: 25), and with one of them an
//!   IP-literal host (25) or an FTP scheme (25); FTP to an IP literal is
//!   50. Summed: `http://1.2.3.4/shell.php` and `http://evil/shell.txt?`
//!   reach 55; a plain URL, or a URL to an address, scores nothing here.
//!   Inside a longer value the score is capped at 40, inside prose at 30.
//!   A suffix cut on a whole-value URL to another host than the request's
//!   `Host` adds 25 (so `?x=http://evil.example/a?` reaches 50): the
//!   truncation trick needs a server the attacker controls, while a stray
//!   `?` on a link back to the site itself is the application's own doing.
//!   Not in a parameter named for URLs, where redirects carry such links.
//! - `rfi.unc`: a UNC path as the whole value: 40, 60 for an include-like
//!   parameter, an IP-literal host or an administrative share (`c$`).
//!
//! A URL in a parameter named for URLs (`url`, `website`, `homepage`,
//! `redirect`...) gets no include bonus: whether it may be fetched is for
//! the SSRF detector to judge.

use rampart_plugin_api::types::Source;
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo, Tree};

use crate::context::{Place, INCLUDE_WORDS, URL_WORDS};
use crate::host::classify;
use crate::norm::{is_prose, trim};
use crate::url::{authority, each_url, Url};
use crate::{Best, CAP};

const NAME: &str = "rfi";

/// The remote-file-inclusion detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct RfiDetector;

impl Detector for RfiDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "remote file inclusion: URLs in include-like parameters, URLs shaped \
                          for inclusion, UNC paths",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Rfi]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let place = Place::of(ctx);
        if place.raw_uri {
            return; // read again, decoded, in the path and the query
        }
        let v = &value[..value.len().min(CAP)];
        let mut best = Best::new(Class::Rfi, NAME);
        scan(v, &place, ctx.tree, &mut best);
        best.emit(ctx, place.layer, out);
    }
}

/// Extensions of files included as code or read as text (sorted).
const SCRIPT_EXT: &[&str] = &[
    "asp", "aspx", "cfm", "cgi", "inc", "jsp", "jspx", "phar", "php", "php3", "php4", "php5",
    "php7", "pht", "phtml", "pl", "py", "rb", "sh", "shtml", "txt",
];

/// Extensions of documents and media (sorted).
const DOC_EXT: &[&str] = &[
    "csv", "doc", "docx", "gif", "jpeg", "jpg", "mp3", "mp4", "odt", "pdf", "png", "ppt", "pptx",
    "svg", "webp", "xls", "xlsx", "zip",
];

/// The last path segment names a document or a picture.
fn document(last: &[u8]) -> bool {
    match last.iter().rposition(|&b| b == b'.') {
        Some(d) if d + 1 < last.len() && last.len() - d <= 6 => {
            let mut e = [0u8; 6];
            let ext = &mut e[..last.len() - d - 1];
            ext.copy_from_slice(&last[d + 1..]);
            ext.make_ascii_lowercase();
            has(DOC_EXT, ext)
        }
        _ => false,
    }
}

fn has(table: &[&str], s: &[u8]) -> bool {
    crate::lookup(table, s)
}

fn scan(v: &[u8], place: &Place<'_>, tree: &Tree, best: &mut Best) {
    let (t0, tv) = trim(v);
    let whole_end = t0 + tv.len();
    let unc_like = tv.starts_with(b"\\\\") && tv.get(2).is_some_and(|&b| b != b'\\');
    let relative = tv.starts_with(b"//") && tv.get(2).is_some_and(|&b| b != b'/');
    // A URL needs a `:` (see `each_url`); UNC and protocol-relative paths
    // are read only as the whole value. Nothing else is judged here.
    if !unc_like && !relative && !v.contains(&b':') {
        return;
    }
    let include = place.name_has(INCLUDE_WORDS);
    let mut url_named = None;
    let mut prose = None;
    each_url(v, |u| {
        if !carrier(u) {
            return true;
        }
        // A NUL that cuts the value still leaves the URL whole.
        let whole = u.start == t0 && (u.end >= whole_end || v.get(u.end) == Some(&0));
        let p = !whole && *prose.get_or_insert_with(|| is_prose(v, 4096));
        let cut_tail = u.nul
            || u.fragment.is_some_and(|(s, e)| s >= e)
            || u.query
                .is_some_and(|(s, e)| v[s..e].iter().all(|&b| b == b'?'));
        let offsite = whole
            && cut_tail
            && !include
            && !*url_named.get_or_insert_with(|| place.name_has(URL_WORDS))
            && off_site(tree, u.host.text());
        judge(v, u, whole, include, p, offsite, best);
        true
    });
    if unc_like {
        unc(tv, t0, include, best);
    } else if include && relative {
        let auth = authority(tv, 2);
        if auth.host.text().contains(&b'.') {
            best.add(
                "rfi.include-param",
                55,
                (t0, whole_end),
                "protocol-relative URL in an include-like parameter",
            );
        }
    }
}

/// Schemes that deliver a file to include.
fn carrier(u: &Url) -> bool {
    [
        &b"http"[..],
        b"https",
        b"ftp",
        b"ftps",
        b"sftp",
        b"smb",
        b"webdav",
    ]
    .iter()
    .any(|s| u.is(s))
}

/// `host` is neither the request's `Host` nor a subdomain of it (false
/// when the request names no host).
fn off_site(tree: &Tree, host: &[u8]) -> bool {
    let Some(h) = tree.source(Source::Header) else {
        return false;
    };
    let Some(own) = tree.child_by_key(h, b"host").map(|id| tree.value(id)) else {
        return false;
    };
    let own = own.trim_ascii();
    let own = match own.iter().rposition(|&b| b == b':') {
        Some(c) if !own.starts_with(b"[") => &own[..c],
        _ => own,
    };
    if own.is_empty() || host.is_empty() {
        return false;
    }
    let within = |a: &[u8], b: &[u8]| {
        a.len() >= b.len()
            && a[a.len() - b.len()..].eq_ignore_ascii_case(b)
            && (a.len() == b.len() || a[a.len() - b.len() - 1] == b'.')
    };
    !within(host, own) && !within(own, host)
}

fn judge(
    v: &[u8],
    u: &Url,
    whole: bool,
    include: bool,
    prose: bool,
    offsite: bool,
    best: &mut Best,
) {
    let path = &v[u.path.0..u.path.1];
    let last = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let script = match last.iter().rposition(|&b| b == b'.') {
        Some(d) if d + 1 < last.len() && last.len() - d <= 8 => {
            let mut e = [0u8; 8];
            let ext = &mut e[..last.len() - d - 1];
            ext.copy_from_slice(&last[d + 1..]);
            ext.make_ascii_lowercase();
            has(SCRIPT_EXT, ext)
        }
        _ => false,
    };
    let trailing_q = u
        .query
        .is_some_and(|(s, e)| v[s..e].iter().all(|&b| b == b'?'))
        && u.fragment.is_none();
    let empty_hash = u.fragment.is_some_and(|(s, e)| s >= e);
    let cut = u.nul || trailing_q || empty_hash;
    let ip = !u.host.is_empty() && classify(u.host.text()).ip;
    let ftp = u.is(b"ftp") || u.is(b"ftps");
    let span = (u.start, u.end);
    if whole && include {
        // A link to a document or a picture is not an inclusion.
        let score = if document(last) && !cut {
            30
        } else {
            55 + 10 * (u8::from(script) + u8::from(cut) + u8::from(ip))
        };
        best.add(
            "rfi.include-param",
            score,
            span,
            "URL given as a file, page or template to include",
        );
        return;
    }
    let mut score = 30 * u8::from(script)
        + 25 * u8::from(cut)
        + 25 * u8::from(ip)
        + 25 * u8::from(ftp)
        + 25 * u8::from(cut && offsite);
    if !whole {
        score = score.min(if prose { 30 } else { 40 });
    }
    // An address alone is the SSRF detector's business.
    if script || cut || (ftp && ip) {
        best.add(
            "rfi.script-url",
            score,
            span,
            "URL shaped for file inclusion (script extension, suffix cut, IP host)",
        );
    }
}

/// `\\host\share\file` as the whole value.
fn unc(tv: &[u8], t0: usize, include: bool, best: &mut Best) {
    let mut host_end = 2;
    while host_end < tv.len() && tv[host_end] != b'\\' && tv[host_end] != b'/' {
        host_end += 1;
    }
    let host = &tv[2..host_end];
    if host.is_empty() || host.contains(&b' ') {
        return;
    }
    let share_end = tv[host_end.min(tv.len())..]
        .iter()
        .skip(1)
        .position(|&b| b == b'\\' || b == b'/')
        .map_or(tv.len(), |p| host_end + 1 + p);
    let share = tv.get(host_end + 1..share_end).unwrap_or_default();
    if share.is_empty() {
        return; // `\\c`: no share, no file
    }
    let admin = share.ends_with(b"$");
    let mut low = [0u8; 64];
    let n = host.len().min(64);
    low[..n].copy_from_slice(&host[..n]);
    low[..n].make_ascii_lowercase();
    let ip = classify(&low[..n]).ip;
    let score = if include || ip || admin { 60 } else { 40 };
    best.add(
        "rfi.unc",
        score,
        (t0, t0 + tv.len()),
        "UNC path to a remote share",
    );
}
