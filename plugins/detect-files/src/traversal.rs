//! Path traversal and local file inclusion.
//!
//! The value is cut into path tokens (runs without whitespace, quotes,
//! brackets or `? & = # , |`), each read as a path through the unit
//! reader of [`crate::norm`] (so `．．／`, `%2e%2e%2f` left after the
//! engine's decoding, `0x2e` and overlong forms are dots and slashes):
//! both `/` and `\` separate, repeated separators collapse, `.` segments
//! vanish, a segment of two or more dots is a parent (`..`, `...`,
//! `....` of `....//`), a `;` starts a segment parameter (`..;/`), a NUL
//! ends the segment (truncation). The walk counts how far above its start
//! the path climbs, resolves the rest, and looks the result up in the
//! tables of [`crate::sensitive`].
//!
//! Rules (score):
//! - `traversal.sensitive-file`: a file holding secrets or a classic probe
//!   file (`etc/passwd`, `.ssh/id_rsa`, `win.ini`, `proc/self/environ`,
//!   `.env`, `WEB-INF/`...) reached by climbing, by an absolute path, a
//!   drive, a UNC path or a `file:` URL (90); named relatively as a whole
//!   value (60), inside a short value (50), inside prose (35); a bare
//!   name (`.htaccess`) as the whole value of an include-like parameter
//!   (60), an upload file name (50), any other whole value (40). A
//!   configuration or information file people also talk about
//!   (`etc/hosts`, `php.ini`, `.bashrc`, `proc/cpuinfo`): 80 climbed to,
//!   70 by an absolute path, 30 inside prose, 40 as a relative whole
//!   value. A link to a remote file (`https://host/.env`) is not a read.
//! - `traversal.system-path`: an absolute path into a system directory
//!   (`/etc/...`, `/proc/...`, `/var/...`, `C:\Windows\...`): 70 when
//!   climbed to, 50 as a short value (40 for Windows), 25 inside prose.
//! - `traversal.dot-dot`: climbing without a known target. One level is
//!   20, two 35, three 50, more 60; climbing above an absolute root, a
//!   disguised form (`..;/`, `....//`, `.../.../`, encoded or full-width
//!   dots, NUL: at least 50 even without climbing), an upload file name,
//!   the URL path itself raise it; a target with a web asset extension
//!   (`../img/a.png`) lowers it. Below 10 nothing is reported.
//! - `traversal.wrapper`: PHP and other stream wrappers that read files
//!   or run code: `php://` (80), `expect://` (80), `phar://` `zip://`
//!   `compress.zlib://` `data://` `data:text/plain;base64,` (60),
//!   `data:text/plain` `glob://` `file://` (50; a `file://` URL inside
//!   prose 30).
//! - `traversal.restricted-file` (URL path only): a hidden file or
//!   directory other than `/.well-known/` (50), a backup, dump or log file
//!   (`.bak`, `.sql.gz`, `.log`, `~`: 50).
//!
//! The point's own key is read the same way (a multipart field named
//! `../../etc/passwd`, a JSON key `data:text/plain`). The raw `uri` is
//! not read: everything in it is seen again, decoded and with its
//! parameter name, in the path and the query, and evidence must not count
//! twice (nor be judged without the spaces that `+` and `%20` hide).
//!
//! Caps: the first 64 KiB of a value; 32 bytes of a segment are kept for
//! table lookups (longer segments match nothing); the 16 innermost
//! segments of a path are kept for its resolution.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::context::{name_has_word, Place, INCLUDE_WORDS};
use crate::norm::{is_prose, is_space, starts_with_ci, trim, unit_at, OTHER};
use crate::sensitive::{classify, is_asset, leak, may_classify_quick, Leak, Sens};
use crate::{Best, CAP};

const NAME: &str = "traversal";
const SEG: usize = 32;
const STACK: usize = 16;

/// The traversal and local-file-inclusion detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraversalDetector;

impl Detector for TraversalDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "path traversal and local file inclusion: dot-dot climbing in every \
                          disguise, sensitive files, PHP stream wrappers, restricted files",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Traversal]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let place = Place::of(ctx);
        if place.raw_uri {
            return;
        }
        let v = &value[..value.len().min(CAP)];
        let v_plain = nothing_in(v);
        let key = place
            .own_key
            .map(|k| &k[..k.len().min(CAP)])
            .filter(|k| !nothing_in(k));
        if !place.url_path && v_plain && key.is_none() {
            return;
        }
        let mut best = Best::new(Class::Traversal, NAME);
        if !v_plain {
            scan(v, &place, false, &mut best);
        }
        if let Some(k) = key {
            {
                let mut kb = Best::new(Class::Traversal, NAME);
                scan(k, &place, true, &mut kb);
                best.merge_key(&kb);
            }
        }
        if place.url_path {
            restricted(v, &mut best);
        }
        best.emit(ctx, place.layer, out);
    }
}

/// A value `scan` finds nothing in: every run between delimiters is a
/// plain word (ASCII, no NUL, no separator, dot, escape, `0`, `:` or `;`,
/// see the skip in `scan`), and no `_` for a dotless secret name given as
/// the whole value (`id_rsa`). Wrappers need a `:`. One pass, no state.
/// (The reference [`nothing_in`] is checked against.)
#[cfg(test)]
fn plain(v: &[u8]) -> bool {
    v.iter().enumerate().all(|(i, &b)| {
        let k = BYTES[b as usize];
        k & (PATHY | UNDERSCORE) == 0 && (k & ZERO == 0 || !hex_x(v.get(i + 1)))
    })
}

/// A value (or key) `scan` finds nothing in: [`plain`], or without `:`
/// (no wrapper) and [`whole_inert`]. Told from the byte classes first.
fn nothing_in(v: &[u8]) -> bool {
    let acc = v.iter().fold(0u8, |a, &b| a | BYTES[b as usize]);
    if acc & PATHY == 0 && (acc & ZERO == 0 || !has_zero_x(v)) {
        if acc & UNDERSCORE == 0 {
            return true; // plain
        }
        // Plain but for `_`: only a run that is the whole trimmed value is
        // read (a dotless secret name, `id_rsa`).
        let (_, tv) = trim(v);
        return tv.iter().any(|&b| delim(b)) || !may_classify_quick(tv);
    }
    acc & (COLON | COMPLEX) == 0 && whole_inert(v)
}

/// `x` or `X`: after a `0`, the start of a hex-written dot or slash.
fn hex_x(b: Option<&u8>) -> bool {
    matches!(b, Some(b'x' | b'X'))
}

/// Byte classes, looked up once per byte on the hot paths.
const DELIM: u8 = 1;
/// Not part of a plain word: non-ASCII, NUL, a separator, a dot, an
/// escape, `:` or `;`.
const PATHY: u8 = 2;
const UNDERSCORE: u8 = 4;
/// `0`: not part of a plain word when an `x` follows (`0x2e`, a
/// hex-written dot); any other `0` reads as itself and no table entry a
/// dotless, separator-free word could match holds one.
const ZERO: u8 = 8;
/// What the unit reader may read as something else: NUL, `%`, non-ASCII.
const COMPLEX: u8 = 16;
const DOT: u8 = 32;
const SEP: u8 = 64;
const COLON: u8 = 128;

static BYTES: [u8; 256] = byte_classes();

const fn byte_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if (c < 0x20 && c != 0)
            || matches!(
                c,
                b' ' | b'"'
                    | b'\''
                    | b'`'
                    | b'<'
                    | b'>'
                    | b'('
                    | b')'
                    | b'{'
                    | b'}'
                    | b'['
                    | b']'
                    | b'|'
                    | b'&'
                    | b'='
                    | b'?'
                    | b'#'
                    | b','
                    | 0x7F
            )
        {
            k |= DELIM;
        }
        if c >= 0x80 || matches!(c, 0 | b'/' | b'\\' | b'.' | b'%' | b':' | b';') {
            k |= PATHY;
        }
        if c == b'0' {
            k |= ZERO;
        }
        if c >= 0x80 || c == 0 || c == b'%' {
            k |= COMPLEX;
        }
        if c == b'.' {
            k |= DOT;
        }
        if c == b'/' || c == b'\\' {
            k |= SEP;
        }
        if c == b':' {
            k |= COLON;
        }
        if c == b'_' {
            k |= UNDERSCORE;
        }
        t[b] = k;
        b += 1;
    }
    t
}

/// Whether the value reads as prose, worked out on first use.
struct Prose<'a> {
    v: &'a [u8],
    val: Option<bool>,
}

impl Prose<'_> {
    fn get(&mut self) -> bool {
        let v = self.v;
        *self.val.get_or_insert_with(|| is_prose(v, 4096))
    }
}

/// Everything this detector reads in one value (or key).
fn scan(v: &[u8], place: &Place<'_>, is_key: bool, best: &mut Best) {
    let (ts, tv) = trim(v);
    let whole = (ts, ts + tv.len());
    let mut prose = Prose { v, val: None };
    let upload = place
        .name
        .is_some_and(|n| n.eq_ignore_ascii_case(b"@filename"))
        && !is_key;
    let cx = Cx {
        whole,
        name: if is_key { None } else { place.name },
        include: std::cell::OnceCell::new(),
        upload,
        url_path: place.url_path && !is_key,
        is_key,
    };
    // Built on the first token worth reading (its ring is 640 bytes).
    let mut token: Option<Token> = None;
    let mut i = 0;
    let n = v.len();
    if whole_inert(v) {
        i = n;
    }
    while i < n {
        let k = BYTES[v[i] as usize];
        if k & DELIM != 0 {
            i += 1;
            continue;
        }
        if k & COMPLEX != 0 {
            // An escape or a character may stand for a delimiter.
            let u = unit_at(v, i);
            if delim_unit(u) {
                i += u.len;
                continue;
            }
        }
        // The run up to the next delimiter byte, in one pass: what it
        // holds decides whether the token reader can find anything in it.
        let mut acc = 0u8;
        let mut run_end = i;
        while run_end < n {
            let c = BYTES[v[run_end] as usize];
            if c & DELIM != 0 {
                break;
            }
            acc |= c;
            run_end += 1;
        }
        let run = &v[i..run_end];
        // Plain words (no separator, dot, escape, `0x`, NUL or non-ASCII)
        // are no paths: skip them without building a token. (A whole value
        // may still be a dotless secret name: `id_rsa`.)
        let zero_x = acc & ZERO != 0 && has_zero_x(run);
        let plain = acc & PATHY == 0 && !zero_x;
        let whole_run = i <= whole.0 && run_end >= whole.1;
        let simple = acc & COMPLEX == 0 && !zero_x;
        if (plain && !(whole_run && acc & UNDERSCORE != 0))
            || (simple && !(acc & DOT != 0 && has_dotdot(run)) && no_trigger(run))
        {
            i = run_end.max(i + 1);
            continue;
        }
        let t = token.get_or_insert_with(Token::new);
        let end = t.read(v, i);
        i = end.max(i + 1);
        if t.count + (t.parents as usize) > 0 && t.interesting(whole) {
            judge(t, &cx, &mut prose, best);
        }
    }
    wrappers(v, is_key, best);
}

/// A run (between delimiters) the token reader would find nothing in,
/// told without reading it as a token: plain ASCII that the unit reader
/// takes byte for byte (no escape, `0x`, NUL or non-ASCII, so nothing is
/// disguised), no `..` (a parent needs two dots in a row), and no segment
/// that `classify` could start from (see
/// [`crate::sensitive::may_classify`]): `judge` then has neither a parent
/// nor a sensitive path to report. Wrappers are looked for apart.
/// The whole value holds no run the token reader could find anything in
/// (see [`inert`]), told in one pass: plain ASCII without `0x` or `..`,
/// and no piece between delimiters, separators and `;` that `classify`
/// could start from. (Splitting at `;` too only adds pieces: a segment cut
/// at its `;` is one of them.)
fn whole_inert(v: &[u8]) -> bool {
    let mut start = 0;
    for (k, &b) in v.iter().enumerate() {
        let c = WHOLE[b as usize];
        if c == 0 {
            continue; // letters, most digits and punctuation
        }
        if c & W_COMPLEX != 0 {
            return false;
        }
        let prev = if k > 0 { v[k - 1] } else { 0 };
        if (c & W_DOT != 0 && prev == b'.') || (c & W_X != 0 && prev == b'0') {
            return false; // `..` or `0x`
        }
        if c & W_BOUND != 0 {
            // (Pieces under three bytes match no entry.)
            if k - start >= 3 && may_classify_quick(&v[start..k]) {
                return false;
            }
            start = k + 1;
        }
    }
    !may_classify_quick(&v[start..])
}

/// Byte classes of `whole_inert`.
const W_COMPLEX: u8 = 1;
const W_DOT: u8 = 2;
const W_X: u8 = 4;
/// A delimiter, a separator or `;`: ends a piece.
const W_BOUND: u8 = 8;

static WHOLE: [u8; 256] = whole_classes();

const fn whole_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let k = BYTES[b];
        let mut w = 0;
        if k & COMPLEX != 0 {
            w |= W_COMPLEX;
        }
        if k & DOT != 0 {
            w |= W_DOT;
        }
        if b == b'x' as usize || b == b'X' as usize {
            w |= W_X;
        }
        if k & (DELIM | SEP) != 0 || b == b';' as usize {
            w |= W_BOUND;
        }
        t[b] = w;
        b += 1;
    }
    t
}

#[cfg(test)]
fn inert(run: &[u8]) -> bool {
    !run.iter().any(|&b| BYTES[b as usize] & COMPLEX != 0)
        && !has_zero_x(run)
        && !has_dotdot(run)
        && no_trigger(run)
}

/// `0x` or `0X`.
fn has_zero_x(run: &[u8]) -> bool {
    run.windows(2).any(|w| w[0] == b'0' && hex_x(Some(&w[1])))
}

fn has_dotdot(run: &[u8]) -> bool {
    run.windows(2).any(|w| w == b"..")
}

/// No segment of a plain ASCII run (split at `/` and `\`) is one that
/// `classify` could start from.
fn no_trigger(run: &[u8]) -> bool {
    let mut start = 0;
    for (k, &b) in run.iter().enumerate() {
        // (Splitting at `;` as well only adds pieces: the segment the
        // reader keeps, cut at its `;`, is one of them.)
        if b == b'/' || b == b'\\' || b == b';' {
            if may_classify_quick(&run[start..k]) {
                return false;
            }
            start = k + 1;
        }
    }
    !may_classify_quick(&run[start..])
}

/// The context a token is judged in.
struct Cx<'t> {
    /// The trimmed value's extent.
    whole: (usize, usize),
    /// The parameter's name (none for a key), for `include`.
    name: Option<&'t [u8]>,
    /// The name has an include word: worked out on first use.
    include: std::cell::OnceCell<bool>,
    upload: bool,
    url_path: bool,
    is_key: bool,
}

impl Cx<'_> {
    fn include(&self) -> bool {
        *self
            .include
            .get_or_init(|| self.name.is_some_and(|n| name_has_word(n, INCLUDE_WORDS)))
    }
}

/// Ends a path token. Invalid UTF-8 does too (`OTHER` of one byte).
fn delim_unit(u: crate::norm::Unit) -> bool {
    delim(u.b) || (u.b == OTHER && u.len == 1)
}

fn delim(b: u8) -> bool {
    BYTES[b as usize] & DELIM != 0
}

/// One segment as kept for table lookups.
#[derive(Clone, Copy)]
struct Seg {
    buf: [u8; SEG],
    len: usize,
}

impl Seg {
    const EMPTY: Seg = Seg {
        buf: [0; SEG],
        len: 0,
    };
    fn text(&self) -> &[u8] {
        &self.buf[..self.len.min(SEG)]
    }
    fn long(&self) -> bool {
        self.len > SEG
    }
}

/// A path token read through.
struct Token {
    start: usize,
    end: usize,
    /// Anchored at a root: leading separator, drive, UNC, URL.
    absolute: bool,
    /// `file:` URL.
    file_url: bool,
    /// Another URL (`http://host/...`): its path is the remote server's.
    url: bool,
    seps: u32,
    back: bool,
    fwd: bool,
    /// Disguised dots or separators (encoded, full-width, `0x2e`).
    odd: bool,
    /// Disguised parents: `...`, `..;`, `..<NUL>`.
    odd_parent: bool,
    /// A NUL cut a segment.
    nul: bool,
    /// A `...` parent was seen.
    triple: bool,
    parents: u32,
    pushed: u32,
    depth: i32,
    min_depth: i32,
    /// The first parent's offset (for spans).
    first_parent: Option<usize>,
    /// Ring of the innermost resolved segments.
    ring: [Seg; STACK],
    base: usize,
    count: usize,
    lost: bool,
}

/// State of the segment being read.
struct Cur {
    seg: Seg,
    units: u32,
    dots: u32,
    only_dots: bool,
    /// After `;` or NUL: the rest of the segment is ignored.
    cut: bool,
    param: bool,
    nul: bool,
}

impl Cur {
    fn new() -> Cur {
        Cur {
            seg: Seg::EMPTY,
            units: 0,
            dots: 0,
            only_dots: true,
            cut: false,
            param: false,
            nul: false,
        }
    }
}

/// What the token's first segments were.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lead {
    /// Nothing read yet.
    Start,
    /// A scheme was read; `n` separators followed so far.
    Scheme {
        file: bool,
    },
    /// The next segment is a host (URL with `//`, UNC `\\`), then maybe a
    /// share.
    Host {
        share: bool,
    },
    Path,
}

impl Token {
    /// A token to read into; `read` resets it. Reused across the tokens of
    /// a value: the ring is only ever read below `count`, after a write.
    fn new() -> Token {
        Token {
            start: 0,
            end: 0,
            absolute: false,
            file_url: false,
            url: false,
            seps: 0,
            back: false,
            fwd: false,
            odd: false,
            odd_parent: false,
            nul: false,
            triple: false,
            parents: 0,
            pushed: 0,
            depth: 0,
            min_depth: 0,
            first_parent: None,
            ring: [Seg::EMPTY; STACK],
            base: 0,
            count: 0,
            lost: false,
        }
    }

    /// Reads the token starting at `v[start]`; returns where it ends.
    fn read(&mut self, v: &[u8], start: usize) -> usize {
        let t = self;
        t.start = start;
        t.end = start;
        t.absolute = false;
        t.file_url = false;
        t.url = false;
        t.seps = 0;
        t.back = false;
        t.fwd = false;
        t.odd = false;
        t.odd_parent = false;
        t.nul = false;
        t.triple = false;
        t.parents = 0;
        t.pushed = 0;
        t.depth = 0;
        t.min_depth = 0;
        t.first_parent = None;
        t.base = 0;
        t.count = 0;
        t.lost = false;
        let mut cur = Cur::new();
        let mut lead = Lead::Start;
        let mut run = 0u32; // separators in the current run
        let mut seg_start = start;
        let mut i = start;
        while i < v.len() {
            let u = unit_at(v, i);
            if delim_unit(u) {
                break;
            }
            match u.b {
                b'/' | b'\\' => {
                    if cur.units > 0 {
                        t.finish(&mut cur, &mut lead, run, seg_start, false);
                        run = 0;
                    }
                    run += 1;
                    t.seps += 1;
                    if u.b == b'\\' {
                        t.back = true;
                    } else {
                        t.fwd = true;
                    }
                    t.odd |= u.odd;
                    if i == start {
                        t.absolute = true;
                        lead = Lead::Path;
                        // `\\host\share`: a UNC path.
                        if u.b == b'\\' && v.get(i + 1) == Some(&b'\\') {
                            lead = Lead::Host { share: true };
                        }
                    }
                    seg_start = i + u.len;
                }
                0 => {
                    cur.cut = true;
                    cur.nul = true;
                    cur.units += 1;
                }
                b';' if !cur.cut => {
                    cur.cut = true;
                    cur.param = true;
                    cur.units += 1;
                }
                b => {
                    cur.units += 1;
                    if !cur.cut {
                        if b == b'.' {
                            cur.dots += 1;
                            t.odd |= u.odd;
                        } else {
                            cur.only_dots = false;
                        }
                        if cur.seg.len < SEG {
                            cur.seg.buf[cur.seg.len] = if b == OTHER {
                                b'?'
                            } else {
                                b.to_ascii_lowercase()
                            };
                        }
                        cur.seg.len += 1;
                    }
                }
            }
            i += u.len;
        }
        if cur.units > 0 {
            t.finish(&mut cur, &mut lead, run, seg_start, true);
        }
        t.end = i;
        i
    }

    /// Ends a segment; `last` when no separator follows it.
    fn finish(&mut self, cur: &mut Cur, lead: &mut Lead, run: u32, seg_start: usize, last: bool) {
        let c = std::mem::replace(cur, Cur::new());
        let text = c.seg.text();
        match *lead {
            Lead::Start => {
                *lead = Lead::Path;
                if !c.seg.long() && text.len() >= 2 && text.ends_with(b":") && !c.cut {
                    let name = &text[..text.len() - 1];
                    if name.len() == 1 && name[0].is_ascii_alphabetic() {
                        self.absolute = true; // a drive
                        return;
                    }
                    if name[0].is_ascii_alphabetic()
                        && name
                            .iter()
                            .all(|b| b.is_ascii_alphanumeric() || b"+.-:".contains(b))
                    {
                        let file = name.ends_with(b"file") || name.starts_with(b"file:");
                        self.file_url = file;
                        self.url = remote(name);
                        self.absolute = true;
                        *lead = Lead::Scheme { file };
                        return;
                    }
                }
            }
            Lead::Scheme { file } => {
                *lead = Lead::Path;
                if run == 2 {
                    // `scheme://host/...`: the host is not a path segment,
                    // except for `file://etc/passwd` read as a path.
                    let local = text == b"localhost" || text.is_empty();
                    if !file || local {
                        return;
                    }
                }
            }
            Lead::Host { share } => {
                // The host, then the share (`c$`): neither is a directory.
                *lead = if share {
                    Lead::Host { share: false }
                } else {
                    Lead::Path
                };
                return;
            }
            Lead::Path => {}
        }
        if c.nul {
            self.nul = true;
        }
        // A trailing `...` is an ellipsis, not a parent (`.../` is one).
        let ellipsis = last && c.dots > 2 && !c.param && !c.nul;
        if c.only_dots && c.dots >= 2 && !ellipsis {
            self.parents += 1;
            self.first_parent.get_or_insert(seg_start);
            // `....//` and `..;/` are filter evasions; a lone `.../` is how
            // people elide a path prefix, twice is a climb.
            if c.dots > 3 || c.param || c.nul || (c.dots == 3 && self.triple) {
                self.odd_parent = true;
            }
            self.triple |= c.dots == 3;
            self.depth -= 1;
            self.min_depth = self.min_depth.min(self.depth);
            if self.count > 0 {
                self.count -= 1;
            }
            return;
        }
        if c.only_dots {
            return; // `.` or a bare `;param`
        }
        self.depth += 1;
        self.pushed += 1;
        let mut s = c.seg;
        // Windows ignores trailing dots and the `::$DATA` stream name.
        let mut n = s.len.min(SEG);
        if s.buf[..n].ends_with(b"::$data") {
            n -= 7;
        }
        while n > 1 && s.buf[n - 1] == b'.' {
            n -= 1;
        }
        if !s.long() {
            s.len = n;
        }
        if self.count == STACK {
            self.base = (self.base + 1) % STACK;
            self.count -= 1;
            self.lost = true;
        }
        self.ring[(self.base + self.count) % STACK] = s;
        self.count += 1;
    }

    fn climb(&self) -> u32 {
        (-self.min_depth).max(0) as u32
    }

    /// Worth judging: shaped like a path, or the whole value.
    fn interesting(&self, whole: (usize, usize)) -> bool {
        self.seps > 0 || self.file_url || (self.start <= whole.0 && self.end >= whole.1)
    }

    fn segs<'a>(&'a self, buf: &mut [&'a [u8]; STACK]) -> usize {
        let mut n = 0;
        for k in 0..self.count {
            let s = &self.ring[(self.base + k) % STACK];
            buf[n] = if s.long() { b"\xff" } else { s.text() };
            n += 1;
        }
        n
    }

    fn last(&self) -> Option<&Seg> {
        (self.count > 0).then(|| &self.ring[(self.base + self.count - 1) % STACK])
    }
}

/// Schemes whose path names a file on another machine (`https://host/.env`
/// is a link, `netdoc:/etc/passwd` and `jar:file:` are local reads).
fn remote(scheme: &[u8]) -> bool {
    let s = match scheme.iter().rposition(|&b| b == b':') {
        Some(p) => &scheme[p + 1..],
        None => scheme,
    };
    [
        &b"http"[..],
        b"https",
        b"ftp",
        b"ftps",
        b"sftp",
        b"ws",
        b"wss",
        b"smb",
        b"git",
        b"ssh",
    ]
    .contains(&s)
}

fn judge(t: &Token, cx: &Cx<'_>, prose: &mut Prose<'_>, best: &mut Best) {
    let mut buf: [&[u8]; STACK] = [b""; STACK];
    let n = t.segs(&mut buf);
    let segs = &buf[..n];
    let climb = t.climb();
    let anchored = t.absolute || climb > 0;
    let standalone = t.start <= cx.whole.0 && t.end >= cx.whole.1;
    let span = (t.first_parent.unwrap_or(t.start), t.end);
    let whole_span = (t.start, t.end);
    // A link to a remote file named like a secret is not a read of it.
    let sens = if n > 0 && (!t.url || t.parents > 0) {
        classify(segs, !t.lost && (t.absolute || climb > 0))
    } else {
        None
    };
    let shaped = t.seps > 0;
    let reached = anchored && (shaped || t.file_url);
    let (rule, score, msg) = match sens {
        Some(Sens::Strong) => {
            let score = if reached {
                90
            } else if shaped {
                if standalone {
                    60
                } else if prose.get() {
                    35
                } else {
                    50
                }
            } else if standalone && cx.include() {
                60
            } else if standalone && cx.upload {
                50
            } else if standalone && !cx.url_path {
                40
            } else {
                0
            };
            let msg = if climb > 0 {
                "path traversal to a sensitive file"
            } else {
                "path of a sensitive file"
            };
            ("traversal.sensitive-file", score, msg)
        }
        Some(Sens::Config) => {
            let score = if reached && climb > 0 {
                80
            } else if reached {
                if prose.get() {
                    30
                } else {
                    70
                }
            } else if standalone && (shaped || cx.include()) {
                40
            } else {
                0
            };
            let msg = "path of a system configuration or information file";
            ("traversal.sensitive-file", score, msg)
        }
        Some(Sens::System) if !cx.url_path && shaped => {
            let windows = segs.first().is_some_and(|s| s.starts_with(b"win"));
            let score = if climb > 0 {
                70
            } else if prose.get() {
                25
            } else if windows {
                40 // `C:\Windows\System32\...` is also pasted by users
            } else {
                50
            };
            (
                "traversal.system-path",
                score,
                "path into a system directory",
            )
        }
        _ => ("", 0, ""),
    };
    if score > 0 {
        best.add(rule, score, whole_span, msg);
    }
    if t.parents == 0 || t.seps == 0 {
        return;
    }
    let disguised = t.odd || t.odd_parent;
    let mut score: i32 = match climb {
        0 => 0,
        1 => 20,
        2 => 35,
        3 => 50,
        _ => 60,
    };
    if climb > 0 && t.absolute {
        score = score.max(40) + 20; // above the root
    }
    if disguised {
        // `..;/`, `....//`, `%2e%2e`, `．．／`: never written by a benign client.
        score = score.max(20) + 30;
    }
    if climb > 0 {
        if t.back && !t.fwd {
            score += 10;
        }
        if cx.include() && standalone {
            score += 15;
        }
        if cx.upload {
            score += 40;
        }
        if cx.url_path {
            score += 20;
        }
        if t.nul {
            score += 20;
        }
        if !disguised && t.last().is_some_and(|s| is_asset(s.text())) {
            score -= 15;
        }
        if cx.is_key {
            score += 10;
        }
    }
    if score >= 10 {
        let msg = if disguised {
            "disguised dot-dot path traversal"
        } else {
            "dot-dot path traversal"
        };
        best.add("traversal.dot-dot", score.clamp(0, 95) as u8, span, msg);
    }
}

/// Stream wrappers: a scheme name before `:` at a word start.
fn wrappers(v: &[u8], is_key: bool, best: &mut Best) {
    if !v.contains(&b':') {
        return; // (a word-at-a-time search)
    }
    let mut i = 0;
    while let Some(off) = v[i..].iter().position(|&b| b == b':') {
        let colon = i + off;
        i = colon + 1;
        let mut s = colon;
        while s > 0 && colon - s < 16 && {
            let b = v[s - 1];
            b.is_ascii_alphanumeric() || b == b'.' || b == b'_'
        } {
            s -= 1;
        }
        if s == colon || (s > 0 && (v[s - 1].is_ascii_alphanumeric() || v[s - 1] == b'_')) {
            continue;
        }
        let name = &v[s..colon];
        let rest = &v[colon + 1..];
        let slashes = rest.starts_with(b"//");
        let lower = |w: &[u8]| name.eq_ignore_ascii_case(w);
        let score = if slashes && (lower(b"php") || lower(b"expect")) {
            80
        } else if slashes
            && (lower(b"phar")
                || lower(b"zip")
                || lower(b"compress.zlib")
                || lower(b"compress.bzip2")
                || lower(b"rar")
                || lower(b"ssh2.shell")
                || lower(b"ssh2.exec")
                || lower(b"data"))
        {
            60
        } else if lower(b"data") && data_include(rest) {
            if contains_ci(&rest[..rest.len().min(64)], b";base64,") {
                60
            } else {
                50
            }
        } else if slashes && lower(b"glob") {
            50
        } else if slashes
            && (lower(b"file") || lower(b"local_file"))
            && rest.len() > 2
            && !is_space(rest[2])
        {
            if is_prose(v, 4096) {
                30
            } else {
                50
            }
        } else {
            0
        };
        if score > 0 {
            let end = (colon + 3).min(v.len());
            let msg = if is_key {
                "stream wrapper in a parameter name"
            } else {
                "stream wrapper that reads files or runs code"
            };
            best.add("traversal.wrapper", score, (s, end), msg);
        }
    }
}

/// `data:` URIs with a MIME type PHP would include as code or text.
fn data_include(rest: &[u8]) -> bool {
    let (_, r) = trim(rest);
    [
        &b"text/plain"[..],
        b"text/x-php",
        b"application/x-php",
        b"application/x-httpd-php",
    ]
    .iter()
    .any(|m| {
        starts_with_ci(r, m)
            && r.get(m.len())
                .is_none_or(|&b| b == b';' || b == b',' || is_space(b))
    })
}

fn contains_ci(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The URL path's own restricted files: hidden files and directories,
/// backups, dumps and logs.
fn restricted(v: &[u8], best: &mut Best) {
    let path = match v.iter().position(|&b| b == b'?' || b == b'#') {
        Some(q) => &v[..q],
        None => v,
    };
    // `leak` needs a dot (a hidden name, an extension) or a `~`.
    if !path.iter().any(|&b| b == b'.' || b == b'~') {
        return;
    }
    let mut off = 0;
    let segs = path.split(|&b| b == b'/');
    let total = path.split(|&b| b == b'/').filter(|s| !s.is_empty()).count();
    let mut seen = 0;
    for seg in segs {
        let start = off;
        off += seg.len() + 1;
        if seg.is_empty() {
            continue;
        }
        seen += 1;
        if seg.len() > 128 {
            continue;
        }
        let mut low = [0u8; 128];
        let l = &mut low[..seg.len()];
        l.copy_from_slice(seg);
        l.make_ascii_lowercase();
        match leak(l, seen == total) {
            Some(Leak::Hidden) => best.add(
                "traversal.restricted-file",
                50,
                (start, start + seg.len()),
                "request for a hidden file or directory",
            ),
            Some(Leak::Backup) => best.add(
                "traversal.restricted-file",
                50,
                (start, start + seg.len()),
                "request for a backup, dump or log file",
            ),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte table says what the plain definitions say.
    #[test]
    fn byte_classes_match_their_definitions() {
        for b in 0..=255u8 {
            let delim_def = (b < 0x20 && b != 0) || b" \"'`<>(){}[]|&=?#,\x7f".contains(&b);
            assert_eq!(delim(b), delim_def, "delim {b:#x}");
            let pathy = b >= 0x80 || b"\0/\\.%:;".contains(&b);
            assert_eq!(BYTES[b as usize] & PATHY != 0, pathy, "pathy {b:#x}");
            assert_eq!(BYTES[b as usize] & UNDERSCORE != 0, b == b'_');
        }
        assert!(plain(b"red running shoes"));
        assert!(!plain(b"price_asc"));
        assert!(!plain(b"../x"));
        assert!(!plain("caf\u{e9}".as_bytes()));
        assert!(plain(b"SKU-00000"));
        assert!(nothing_in(b"Mozilla/5.0 (X11; Linux x86_64)"));
        assert!(!nothing_in(b"a/etc/b"));
        assert!(!nothing_in(b"id_rsa"));
        assert!(!nothing_in(b" ID_RSA "));
        assert!(nothing_in(b"price_asc"));
        assert!(nothing_in(b"a=id_rsa&b=c"));
        assert!(!nothing_in(b"php://input"));
        assert!(!plain(b"a0x2e"));
        assert!(!plain(b"0X2F"));
        assert!(inert(b"Mozilla/5.0"));
        assert!(inert(b"text/html"));
        assert!(!inert(b"a/../b"));
        assert!(!inert(b"etc/x"));
        assert!(!inert(b"x/WIN.INI"));
        assert!(!inert(b"a%2e"));
        assert!(!inert(b"0x2e0x2e"));
    }
}
