//! Cross-site scripting detection without regular expressions.
//!
//! [`XssDetector`] (plugin `xss`, class [`Class::Xss`]) reads a value the
//! way the places it may be reflected into would read it, each with a
//! small hand-written recogniser:
//!
//! - **As HTML** (module `html`): a tokenizer following the HTML5
//!   tokenization states (tag open only on `<` + letter, case-insensitive
//!   names, every attribute quoting style, `/` and missing spaces between
//!   attributes, comments, bogus comments, CDATA in SVG/MathML, the raw
//!   text of `script` and `style`). It runs from the data state (the
//!   value in page text), from after the first `"` and the first `'`
//!   (the value inside a quoted attribute value it breaks out of), and as
//!   a bare attribute list (the value inside a tag or an unquoted value,
//!   again after each `>`). Attribute values are entity-decoded here (the
//!   engine decodes only whole values) and looked at again as markup when
//!   they hold some (`srcdoc`, mutation XSS in `title`, SVG `values`,
//!   `data:` payloads, base64 included), as are comment bodies; at most
//!   three levels deep. Legacy splits of unquoted values (IE's backtick
//!   quotes, vertical tabs) are read too.
//! - **As JavaScript** (module `js`): a lexer that tracks whether an
//!   operand or an operator comes next, so that prose (two words side by
//!   side) is not code, and notes sinks. Strong: calls of `alert`,
//!   `prompt`, `confirm`, `eval`, `Function`, `document.write`,
//!   `.constructor(...)`, a timer given a string, also through
//!   `.call`/`.apply`, `(alert)(1)`, `alert?.()`, tagged templates, a sink
//!   passed as a callback or assigned to `onerror`, computed calls on
//!   `window`/`top`/`self`, `document["cookie"]`. Weak (ordinary code
//!   uses them too): `fetch`, `import()`, timers given a function, `atob`,
//!   assignments to `location`/`innerHTML`, plain `document.cookie`. It
//!   reads event handler values, `javascript:` URLs (also anywhere in the
//!   text: `[x](javascript:...)`), the value after the first `'`, `"` or
//!   backtick (a string it breaks out of), `${...}` substitutions,
//!   `{{...}}` client-side template expressions, and the whole value as
//!   code (strong sinks only: a snippet may `fetch`).
//! - **As CSS** (module `css`): `expression()`, `behavior:`,
//!   `-moz-binding`, script URLs, `@import`, after comments and escapes
//!   are undone; braces, brackets, broken strings or unterminated
//!   comments in a `style` attribute (parser-confusion vectors).
//! - **Derived copies**, judged like the value: the value with its tags
//!   stripped (`o<x>nfocus=alert<x>(1)` after a sanitizer), read as UTF-7
//!   (`+ADw-script+AD4-`), fullwidth forms folded (`＜script＞`), and the
//!   7-bit reading of high bytes (`\xbcscript\xbe`).
//!
//! Rules and scores (the engine blocks at 50 per class):
//!
//! | rule | what | score |
//! |---|---|---|
//! | `xss.script-tag` | a `script` start tag: with attributes or code / bare | 80 / 60 |
//! | `xss.event-handler` | an `on*` attribute (any `on` + letters) in a tag / after a quote break / in a bare list: sink 80/75/65, other call 70/55/40, other code 55/40/25 (65/55/35 for a known event), a lone word 35/25/0 (50/50/30 for a known event such as `onerror=KCF`; 50/50/0 for a known event whose empty value is cut by the end of the text, `<x onend=`); a JSX value `{...}` without sink 30; `on<event>=` with a sink anywhere 65 | 80-25 |
//! | `xss.js-url` | `javascript:`/`vbscript:` in a URL attribute (`href`, `src`, `action`, `formaction`, `data`, `xlink:href`, `background`, `poster`, `lowsrc`, `dynsrc`, SVG `to`/`from`/`values`...): with a call 80, other code 65, anything but `void(0)` 50, `void(0)` 35 (in a tag); meta refresh to it 80; in text followed by a sink / call / code 70 / 50 / 30 | 80-20 |
//! | `xss.data-url` | `data:` URL of a document or script type / any `data:` loaded by `script`, `iframe`, `object`, `embed`, `link` / the value itself | 70 / 60 / 50 |
//! | `xss.srcdoc` | `srcdoc` holding markup | 70 |
//! | `xss.css` | `expression()` or `javascript:` in CSS 65, `-moz-binding` 60, `behavior:` 55, `@import` 50, a `style` attribute breaking out of its declarations 50 (after a quote break 5 less, in a bare list 15 less), a bare declaration 10 less | 65-30 |
//! | `xss.dangerous-tag` | `link rel=import` 60; `link` typed as script (`type=text/javascript`) with a URL 50; `iframe`/`frame`/`object`/`embed`/`base` with a URL, meta refresh / set-cookie / UTF-7, `xml` islands, `?import`, `?xml-stylesheet`, XSLT, XML Events handlers, `dataformatas=html`, SVG animation of a link 50; external style sheet 40; `style` 30; `form` 25; `svg`/`math`/`template`/`xmp`/`noscript`... 20 | 60-20 |
//! | `xss.script-close` | a `</script>` end tag | 30 |
//! | `xss.js-breakout` | a string broken out of (`';alert(1)//`, `"-alert(1)-"`) or a `${}` substitution, reaching a sink / only a call | 70 / 30 |
//! | `xss.js-code` | the whole value is JavaScript reaching a strong sink (`alert(1)`, `(alert)(1)`, `document["cookie"]`, a call through `call`/`apply` with a template literal instead of parentheses, a global read under an escaped name `self["\x24"]`) 60; JSFuck 70 | 60-70 |
//! | `xss.template-injection` | AngularJS / Vue expression or framework directive (`ng-*`, `v-on:`, `@click`, `(click)`...) reaching a sink (`{{constructor.constructor('alert(1)')()}}`): 70; a directive in a tag / after a quote break / bare 80 / 75 / 65 | 65-80 |
//!
//! Decisions on precision: `<b>`, `<3`, `a < b > c`, `x<y`, e-mail
//! addresses in angle brackets, and tags with safe attributes give
//! nothing; the words `onclick` or `script` in prose give nothing; a
//! literal `<script>` tag does block (60), even in prose such as "use a
//! `<script>` tag", because the value opens a script element wherever it
//! is reflected unescaped; an `iframe` with any `src` blocks (a YouTube
//! embed included) while an external style sheet does not; an `on*=`
//! attribute needs a known event or code to block in a tag, code after a
//! quote break, a sink in a bare list; `javascript:` followed by prose
//! (`JavaScript: Basics of ...`) is not a URL; code snippets that fetch,
//! set timers or assign `innerHTML` do not block, ones calling `alert` do.
//! In an `html` layer decoded from a value that is itself markup
//! (`<code>&lt;script&gt;</code>`) scores are capped at
//! [`DECODED_MARKUP_CAP`]: those references were text to a browser.
//!
//! Caps: values longer than 128 KiB are inspected in their first and
//! last 64 KiB (padding attacks put the payload at the end; the middle of
//! a huge value is not inspected); at most 8 `${`, `{{`, script-scheme
//! and stray-handler starts per window; JavaScript scans stop after 4096
//! tokens or 48 open brackets; nested markup is examined three levels
//! deep and within a byte budget of four times the window; names are cut
//! at 24 bytes. The work is linear in the value's length (each view is a
//! pass; derived copies are made at most once). The detector allocates
//! only for derived copies, to decode attribute values that hold
//! character references or escapes, and for the findings it reports.
//!
//! Cheap rejection (module `gate`): one pass over the bytes proves most
//! values can give no finding (no `<`, quote, backslash, backtick,
//! brace, bracket, control character, character reference, UTF-7 or
//! fullwidth start, and no word some view needs: a sink name, `on*` or
//! `style` with a `=`, a script scheme before a `:`, a CSS construct),
//! so words, numbers, query strings, browser headers and cookie headers
//! cost tens to a couple of hundred nanoseconds and allocate nothing.
//! Values that go on are tokenized only by the views whose evidence they
//! hold (a census of bytes and words per text). `tests/gate.rs` checks
//! on the shared corpora and on random values that neither changes what
//! is reported.

mod css;
mod entity;
mod gate;
mod hits;
mod html;
mod js;
mod markup;
mod url;

use rampart_plugin_api::types::Seg;
use rampart_plugin_api::{
    Class, DetectCtx, Detector, Finding, Origin, PluginInfo, Registry, RegistryError, Span,
};

use gate::Census;
use hits::{Hits, Rule};
use js::{Start, Strength};
use markup::{Ctx, Markup};

const NAME: &str = "xss";

/// Bytes inspected at each end of a long value.
pub const WINDOW: usize = 64 * 1024;
/// Starts of `${`, `{{` and script schemes examined per window.
const MAX_STARTS: usize = 8;
/// Scores below this are not reported.
const REPORT_MIN: u8 = 20;

/// The cross-site scripting detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct XssDetector;

impl Detector for XssDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "cross-site scripting: HTML tags and attributes that run script, \
                          script URLs, JavaScript string breakouts and sinks, client-side \
                          template expressions",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Xss]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        // Most values: rejected before anything is set up.
        if value.len() <= 2 * WINDOW && gate::clean(value) {
            return;
        }
        let hits = analyze(value);
        if hits.max() < REPORT_MIN {
            return;
        }
        let cap = if decoded_from_markup(ctx) {
            DECODED_MARKUP_CAP
        } else {
            100
        };
        for (rule, hit) in hits.iter() {
            if hit.score < REPORT_MIN {
                continue;
            }
            out.push(
                Finding::new(
                    ctx.point,
                    Class::Xss,
                    rule.name(),
                    hit.score.min(cap),
                    hit.what,
                )
                .with_span(Span::new(hit.start, hit.end.min(value.len())))
                .with_origin(NAME),
            );
        }
    }
}

/// The highest score of a finding in a value that the engine's `html`
/// layer decoded from markup.
pub const DECODED_MARKUP_CAP: u8 = 40;

/// The point is an `html` layer (character references decoded) of a value
/// that is itself markup. Its references were text to a browser
/// (`<code>&lt;script&gt;</code>`): markup that appears only once they
/// are decoded is suspicious, not executable. The value itself is
/// inspected on its own, its attribute values decoded here.
fn decoded_from_markup(ctx: &DetectCtx<'_>) -> bool {
    let tree = ctx.tree;
    if ctx.point.index() >= tree.len() {
        return false;
    }
    let node = tree.node(ctx.point);
    if node.seg != Seg::Layer("html") {
        return false;
    }
    let Some(parent) = node.parent() else {
        return false;
    };
    let raw = tree.value(parent);
    markup::has_markup(&raw[..raw.len().min(WINDOW)])
}

/// Registers the detector of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(XssDetector, Origin::Builtin)
}

/// The highest score the detector gives `value` (0 when nothing is
/// found): for measurements and benchmarks.
pub fn score(value: &[u8]) -> u8 {
    analyze(value).max()
}

/// The rule names and scores the detector reports for `value`.
pub fn explain(value: &[u8]) -> Vec<(&'static str, u8)> {
    named(&analyze(value))
}

/// [`explain`] without the cheap rejection of values that cannot give a
/// finding: for the test that checks the rejection never changes a
/// verdict. Not part of the detector's interface.
#[doc(hidden)]
pub fn explain_ungated(value: &[u8]) -> Vec<(&'static str, u8)> {
    named(&analyze_with(value, false))
}

fn named(hits: &Hits) -> Vec<(&'static str, u8)> {
    hits.iter()
        .filter(|(_, h)| h.score >= REPORT_MIN)
        .map(|(r, h)| (r.name(), h.score))
        .collect()
}

fn analyze(value: &[u8]) -> Hits {
    analyze_with(value, true)
}

fn analyze_with(value: &[u8], gated: bool) -> Hits {
    let mut hits = Hits::default();
    if value.len() <= 2 * WINDOW {
        analyze_window(value, &mut hits, gated);
    } else {
        analyze_window(&value[..WINDOW], &mut hits, gated);
        let off = value.len() - WINDOW;
        let mut tail = Hits::default();
        analyze_window(&value[off..], &mut tail, gated);
        hits.merge_shifted(&tail, off);
    }
    hits
}

fn analyze_window(w: &[u8], hits: &mut Hits, gated: bool) {
    if gated && gate::clean(w) {
        return;
    }
    let mut budget = 4 * w.len() + 4096;
    let c = census(w, gated);
    views(w, hits, &mut budget, &c, gated);
    // Derived copies: what a sanitizer that strips tags leaves
    // (`o<x>nfocus=alert<x>(1)`), and the value read as UTF-7.
    let whole = (0, w.len());
    // (The census skips what cannot apply; the conditions after it are
    // the ones the copies need.)
    if let Some(stripped) = c.has(gate::LT | gate::GT).then(|| strip_tags(w)).flatten() {
        let mut derived = Hits::default();
        let dc = census(&stripped, gated);
        views(&stripped, &mut derived, &mut budget, &dc, gated);
        hits.merge_mapped(&derived, whole);
    }
    let mut derive = |hits: &mut Hits, decode: fn(&[u8], &mut Vec<u8>)| {
        let mut dec = Vec::new();
        decode(w, &mut dec);
        let mut derived = Hits::default();
        let dc = census(&dec, gated);
        views(&dec, &mut derived, &mut budget, &dc, gated);
        hits.merge_mapped(&derived, whole);
    };
    if c.any(gate::PLUS) && html::find(w, b"+AD").is_some() {
        derive(hits, utf7_decode);
    }
    // Fullwidth forms that "best fit" conversions turn into ASCII
    // (`＜script＞`), and 7-bit readings of bytes with the high bit set
    // (US-ASCII in old IE: `\xbcscript\xbe`).
    if c.any(gate::FULLWIDTH) && html::find(w, "＜".as_bytes()).is_some() {
        derive(hits, fullwidth_fold);
    }
    if c.any(gate::HIGH_BC) && w.contains(&0xbc) {
        derive(hits, seven_bit);
    }
}

/// What `w` holds, or everything when the views are not gated.
fn census(w: &[u8], gated: bool) -> Census {
    if gated {
        Census::of(w)
    } else {
        Census::all()
    }
}

/// The 7-bit reading of bytes with the high bit set; Latin-1 characters
/// written as UTF-8 (`¼` as `c2 bc`) count as their one byte.
fn seven_bit(src: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < src.len() {
        match src[i..] {
            [b1 @ (0xc2 | 0xc3), b2 @ 0x80..=0xbf, ..] => {
                out.push((((b1 & 0x03) << 6) | (b2 & 0x3f)) & 0x7f);
                i += 2;
            }
            [c, ..] => {
                out.push(c & 0x7f);
                i += 1;
            }
            [] => break,
        }
    }
}

/// Fullwidth ASCII variants (U+FF01..U+FF5E) folded to ASCII.
fn fullwidth_fold(src: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < src.len() {
        if let [0xef, b1 @ (0xbc | 0xbd), b2, ..] = src[i..] {
            let cp = 0xf000 | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f);
            if (0xff01..=0xff5e).contains(&cp) {
                out.push((cp - 0xfee0) as u8);
                i += 3;
                continue;
            }
        }
        out.push(src[i]);
        i += 1;
    }
}

/// Every view of one text. A view runs only when the text holds what it
/// needs (`c`): markup a `<`, attributes a `=`, JavaScript an operation, a
/// sink name or a global, script URLs a scheme word before a `:`, CSS
/// its constructs, JSFuck `!` and `[`.
fn views(w: &[u8], hits: &mut Hits, budget: &mut usize, c: &Census, gated: bool) {
    let lt = if gated {
        c.any(gate::LT)
    } else {
        w.contains(&b'<')
    };
    if lt {
        let mut m = Markup::new(w, Ctx::Tag, hits, budget);
        html::tokenize(w, &mut m);
    }
    if !gated || c.any(gate::EQ) {
        // The value as attributes of the tag it sits in, and again after
        // each `>` (a tag that ended before the attacker meant it to).
        let mut at = 0;
        while at < w.len() {
            let mut m = Markup::new(&w[at..], Ctx::Bare, hits, budget);
            m.set_base(at);
            let (end, eof) = html::attributes(&w[at..], 0, &mut m);
            if eof || !lt {
                break;
            }
            at += end;
        }
        for q in [b'"', b'\''] {
            if let Some(p) = w.iter().position(|&c| c == q) {
                let mut m = Markup::new(&w[p + 1..], Ctx::Quote, hits, budget);
                m.set_base(p + 1);
                html::attributes(&w[p + 1..], 0, &mut m);
            }
        }
    }
    js_views(w, hits, c);
    if c.any(gate::EQ) {
        stray_handlers(w, hits);
    }
    if c.has(gate::BANG | gate::BRACKET) {
        jsfuck(w, hits);
    }
    if c.css && c.any(gate::COLON) {
        bare_css(w, hits);
    }
    data_url_value(w, hits, budget);
}

/// The value with its tags (`<x ...>`, `</x>`) removed, if it had any.
fn strip_tags(w: &[u8]) -> Option<Vec<u8>> {
    // No tag closes after the last `>`.
    let last_gt = w.iter().rposition(|&c| c == b'>')?;
    let mut out = Vec::with_capacity(w.len());
    let mut i = 0;
    let mut changed = false;
    while i < last_gt {
        let c = w[i];
        let opens = c == b'<'
            && match w.get(i + 1) {
                Some(&n) if n.is_ascii_alphabetic() => true,
                Some(b'/') => w.get(i + 2).is_some_and(u8::is_ascii_alphabetic),
                _ => false,
            };
        if opens {
            if let Some(k) = w[i..].iter().position(|&b| b == b'>') {
                i += k + 1;
                changed = true;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out.extend_from_slice(&w[i..]);
    changed.then_some(out)
}

/// Decodes UTF-7 (`+ADw-script+AD4-` is `<script>`); other bytes are
/// copied.
fn utf7_decode(src: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    let mut units: Vec<u16> = Vec::new();
    while i < src.len() {
        let c = src[i];
        if c != b'+' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if src.get(i) == Some(&b'-') {
            out.push(b'+');
            i += 1;
            continue;
        }
        let mut acc: u32 = 0;
        let mut bits = 0;
        units.clear();
        while i < src.len() {
            let v = match src[i] {
                b @ b'A'..=b'Z' => b - b'A',
                b @ b'a'..=b'z' => b - b'a' + 26,
                b @ b'0'..=b'9' => b - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => break,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 16 {
                bits -= 16;
                units.push((acc >> bits) as u16);
            }
            i += 1;
        }
        if src.get(i) == Some(&b'-') {
            i += 1;
        }
        for ch in char::decode_utf16(units.iter().copied()) {
            let ch = ch.unwrap_or('\u{fffd}');
            let mut b = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
        }
    }
}

/// The JavaScript views of the value.
fn js_views(w: &[u8], hits: &mut Hits, c: &Census) {
    // The whole value as code: only strong sinks (a snippet of ordinary
    // code may fetch, set a timer or assign innerHTML), which need a sink
    // name, a global or a template.
    if c.js_word || c.global || c.any(gate::BACKTICK) {
        whole_js(w, hits);
    }
    // A string broken out of, a substitution, an expression: calls,
    // assignments, templates, sink names or globals.
    if c.js() {
        breakouts(w, hits, c);
    }
    // Script schemes anywhere: `javascript:alert(1)`, `[x](javascript:...)`
    // (tabs and line breaks may split the scheme word).
    if c.any(gate::COLON) && (c.scheme || c.any(gate::CTRL)) {
        script_schemes(w, hits);
    }
}

fn whole_js(w: &[u8], hits: &mut Hits) {
    let t = w.iter().position(|&c| c > 0x20).unwrap_or(w.len());
    let code = &w[t..];
    let v = js::scan(code, Start::Statement, false);
    if v.strength == Strength::Sink && !v.errored(code.len()) {
        hits.add(
            Rule::JsCode,
            60,
            (t + v.start, t + v.end),
            "the value is JavaScript reaching a sink",
        );
    }
}

fn breakouts(w: &[u8], hits: &mut Hits, c: &Census) {
    // After the first quote of each kind: a string broken out of.
    for q in [b'\'', b'"', b'`'] {
        let Some(p) = w.iter().position(|&c| c == q) else {
            continue;
        };
        let rest = &w[p + 1..];
        let v = js::scan(rest, Start::AfterOperand, false);
        let span = (p, p + 1 + v.end);
        match v.strength {
            Strength::Sink | Strength::Weak => hits.add(
                Rule::JsBreakout,
                70,
                span,
                "breaks out of a JavaScript string and reaches a sink",
            ),
            Strength::Call if v.tokens >= 3 => hits.add(
                Rule::JsBreakout,
                30,
                span,
                "breaks out of a JavaScript string and calls a function",
            ),
            _ => {}
        }
    }
    // `${...}` substitutions and `{{...}}` template expressions.
    if !c.any(gate::BRACE) {
        return;
    }
    for (pat, rule, what) in [
        (
            &b"${"[..],
            Rule::JsBreakout,
            "template literal substitution reaching a sink",
        ),
        (
            &b"{{"[..],
            Rule::TemplateInjection,
            "client-side template expression reaching a sink",
        ),
    ] {
        let mut from = 0;
        for _ in 0..MAX_STARTS {
            let Some(k) = html::find(&w[from..], pat) else {
                break;
            };
            let body = from + k + 2;
            let v = js::scan(&w[body..], Start::Statement, true);
            if v.strength >= Strength::Weak {
                hits.add(rule, 70, (from + k, body + v.end), what);
            }
            from = body;
        }
    }
}

fn script_schemes(w: &[u8], hits: &mut Hits) {
    url::find_script_schemes(w, MAX_STARTS, |start, code, vb| {
        let st = markup::code_strength(&w[code..]);
        let score = match (st, vb) {
            (Strength::Sink | Strength::Weak, _) => 70,
            (Strength::Call, true) => 60,
            (Strength::Call, false) => 50,
            (Strength::Code, _) => 30,
            (Strength::None, _) => 0,
        };
        hits.add(
            Rule::JsUrl,
            score,
            (start, w.len()),
            "script URL followed by code",
        );
    });
}

/// `onfocus=eval(...)` anywhere (after `;`, `&`, `,` or inside a URL),
/// where no attribute view reaches it: counts only with a sink.
fn stray_handlers(w: &[u8], hits: &mut Hits) {
    let mut from = 0;
    let mut seen = 0;
    while let Some(k) = html::find(&w[from..], b"on") {
        let at = from + k;
        from = at + 2;
        if at > 0 && (w[at - 1].is_ascii_alphanumeric() || w[at - 1] == b'_' || w[at - 1] == b'-') {
            continue;
        }
        let mut e = at + 2;
        while e < w.len() && w[e].is_ascii_alphabetic() && e - at < 40 {
            e += 1;
        }
        let mut v = e;
        while v < w.len() && html::is_space(w[v]) {
            v += 1;
        }
        if w.get(v) != Some(&b'=') {
            continue;
        }
        let mut name = [0u8; 40];
        for (d, s) in name.iter_mut().zip(&w[at..e]) {
            *d = s.to_ascii_lowercase();
        }
        if !markup::is_known_event(&name[..e - at]) {
            continue;
        }
        seen += 1;
        if seen > MAX_STARTS {
            break;
        }
        let code = &w[v + 1..];
        if markup::handler_strength(code) >= Strength::Weak {
            hits.add(
                Rule::EventHandler,
                65,
                (at, w.len()),
                "event handler assignment calling a script sink",
            );
            break;
        }
    }
}

/// JavaScript written with six characters (`[]()!+`): nothing else
/// looks like it.
fn jsfuck(w: &[u8], hits: &mut Hits) {
    let mut fuck = 0usize;
    let mut other = 0usize;
    for &c in w {
        match c {
            b'[' | b']' | b'(' | b')' | b'!' | b'+' => fuck += 1,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => other += 1,
        }
    }
    if fuck >= 12 && other * 20 <= fuck && html::find(w, b"![]").is_some() {
        hits.add(Rule::JsCode, 70, (0, w.len()), "JSFuck-encoded JavaScript");
    }
}

/// A value that is a CSS declaration running script (the value put in a
/// `style` attribute): `-moz-binding:url(...)`, `x:expression(...)`.
fn bare_css(w: &[u8], hits: &mut Hits) {
    let has = |hay: &[u8], needle: &[u8]| {
        hay.windows(needle.len())
            .any(|x| x.eq_ignore_ascii_case(needle))
    };
    if !w.contains(&b':')
        || !(has(w, b"-moz-binding") || has(w, b"expression(") || has(w, b"behavior:"))
    {
        return;
    }
    // Declaration syntax (`property:value`) is required: prose says "a
    // regular expression(regex)".
    let mut buf = Vec::new();
    css::normalise(w, &mut buf, false);
    let declared = [&b":expression("[..], b"-moz-binding:", b"behavior:url("]
        .iter()
        .any(|k| html::find(&buf, k).is_some());
    if !declared {
        return;
    }
    if let Some(h) = css::scan(w, &mut buf) {
        hits.add(Rule::Css, h.score - 10, (0, w.len()), h.what);
    }
}

/// A value that is itself a `data:` URL of a document.
fn data_url_value(w: &[u8], hits: &mut Hits, budget: &mut usize) {
    if let url::Scheme::Data(kind, payload) = url::scheme(w) {
        if kind == url::DataKind::Other {
            return;
        }
        hits.add(
            Rule::DataUrl,
            50,
            (0, w.len()),
            "data: URL of a document or script",
        );
        let body = &w[payload.min(w.len())..];
        if markup::has_markup(body) {
            let mut m = Markup::new(body, Ctx::Tag, hits, budget);
            m.set_base(payload);
            html::tokenize(body, &mut m);
        }
    }
}

// Loadable as a shared library: `cargo build -p rampart-detect-xss --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [XssDetector],
}
