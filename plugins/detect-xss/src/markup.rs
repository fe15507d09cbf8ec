//! Scores what the HTML tokenizer sees: dangerous tags, event handlers,
//! script URLs, CSS that runs script, `srcdoc`, and markup hidden in
//! attribute values, `data:` URLs and comments (looked at again as
//! markup, a bounded number of levels deep).
//!
//! The same attributes weigh differently by context ([`Ctx`]): inside a
//! real tag (`<img ... onerror=...>`), after a quote that breaks out of an
//! attribute value (`" onmouseover="...`), or as a bare attribute list
//! (` onmouseover=...`, a value placed inside a tag or an unquoted value).

use crate::css;
use crate::entity;
use crate::hits::{Hits, Rule};
use crate::html::{self, Attr, Comment, Events, Name};
use crate::js::{self, Start, Strength};
use crate::url::{self, DataKind, Scheme};

/// Levels of markup looked at inside attribute values and comments.
pub const MAX_NEST: u8 = 3;
/// Bytes of an attribute value decoded and examined.
pub const VALUE_CAP: usize = 64 * 1024;

/// Where the attributes being read sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// In a tag the value opened (`<img src=x onerror=...>`).
    Tag,
    /// After a quote that closes the attribute value the text was put in.
    Quote,
    /// At the start of the text (or after a `>`): the text put inside a
    /// tag or an unquoted attribute value.
    Bare,
}

impl Ctx {
    /// Picks the score for this context from `[tag, quote, bare]`.
    fn pick(self, s: [u8; 3]) -> u8 {
        match self {
            Ctx::Tag => s[0],
            Ctx::Quote => s[1],
            Ctx::Bare => s[2],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TagKind {
    #[default]
    Other,
    Script,
    Style,
    Frame,
    Frameset,
    Embed,
    Base,
    Meta,
    Link,
    Form,
    Foreign,
    Mxss,
    Import,
    Animate,
}

/// Tags that matter, by local name. Sorted.
const TAGS: &[(&str, TagKind)] = &[
    ("animate", TagKind::Animate),
    ("animatemotion", TagKind::Animate),
    ("animatetransform", TagKind::Animate),
    ("applet", TagKind::Embed),
    ("base", TagKind::Base),
    ("bgsound", TagKind::Embed),
    ("embed", TagKind::Embed),
    ("form", TagKind::Form),
    ("frame", TagKind::Frame),
    ("frameset", TagKind::Frameset),
    ("iframe", TagKind::Frame),
    ("ilayer", TagKind::Frame),
    ("import", TagKind::Import),
    ("isindex", TagKind::Form),
    ("layer", TagKind::Frame),
    ("link", TagKind::Link),
    ("math", TagKind::Foreign),
    ("meta", TagKind::Meta),
    ("noembed", TagKind::Mxss),
    ("noframes", TagKind::Mxss),
    ("noscript", TagKind::Mxss),
    ("object", TagKind::Embed),
    ("plaintext", TagKind::Mxss),
    ("portal", TagKind::Frame),
    ("script", TagKind::Script),
    ("set", TagKind::Animate),
    ("style", TagKind::Style),
    ("svg", TagKind::Foreign),
    ("template", TagKind::Mxss),
    ("vmlframe", TagKind::Frame),
    ("xml", TagKind::Import),
    ("xmp", TagKind::Mxss),
];

/// Attributes holding a URL that is fetched or navigated to. Sorted.
const URL_ATTRS: &[&str] = &[
    "action",
    "archive",
    "background",
    "by",
    "code",
    "codebase",
    "data",
    "dynsrc",
    "folder",
    "formaction",
    "from",
    "handler",
    "href",
    "icon",
    "longdesc",
    "lowsrc",
    "manifest",
    "movie",
    "poster",
    "profile",
    "src",
    "to",
    "usemap",
    "values",
    "xlink:href",
    "xml:base",
];

fn tag_kind(name: &Name) -> TagKind {
    if name.long {
        return TagKind::Other;
    }
    let local = name.local();
    if let Ok(i) = TAGS.binary_search_by(|(k, _)| k.as_bytes().cmp(local)) {
        return TAGS[i].1;
    }
    // `<script<{alert(1)}/>`: old engines cut the name at the `<`.
    if local.len() > 6 && local.starts_with(b"script") && !local[6].is_ascii_alphanumeric() {
        return TagKind::Script;
    }
    // XSLT style sheets run script in some engines.
    if local.len() < name.as_bytes().len() && matches!(local, b"stylesheet" | b"transform") {
        return TagKind::Import;
    }
    TagKind::Other
}

fn is_url_attr(name: &[u8]) -> bool {
    URL_ATTRS
        .binary_search_by(|k| k.as_bytes().cmp(name))
        .is_ok()
}

/// `on` followed by letters: every event handler, known or future
/// (the local part of a qualified name: `x:ontimer`).
fn is_handler(name: &Name) -> bool {
    is_handler_name(name.local())
}

fn is_handler_name(b: &[u8]) -> bool {
    b.len() >= 5
        && b.starts_with(b"on")
        && b[2].is_ascii_lowercase()
        && b[2..].iter().all(|&c| c.is_ascii_lowercase() || c < 0x20)
}

/// A handler whose event browsers (past or present) fire: its mere
/// presence with a value is an injection even when the value is a
/// placeholder (`onerror=KCF`).
pub fn is_known_event(name: &[u8]) -> bool {
    let ev = &name[2.min(name.len())..];
    let end = ev.iter().position(|&c| c < 0x20);
    let whole = &ev[..end.unwrap_or(ev.len())];
    if EVENTS.binary_search_by(|k| k.as_bytes().cmp(whole)).is_ok() {
        return true;
    }
    // A name cut at the tokenizer's cap: an event it begins.
    end.is_none()
        && name.len() >= html::NAME_CAP
        && EVENTS.iter().any(|k| k.as_bytes().starts_with(ev))
}

/// Event names (without `on`), from the HTML, SVG, DOM and CSS
/// specifications and from legacy engines. Sorted.
const EVENTS: &[&str] = &[
    "abort",
    "activate",
    "afterprint",
    "afterscriptexecute",
    "afterupdate",
    "animationcancel",
    "animationend",
    "animationiteration",
    "animationstart",
    "auxclick",
    "beforeactivate",
    "beforecopy",
    "beforecut",
    "beforedeactivate",
    "beforeeditfocus",
    "beforeinput",
    "beforematch",
    "beforepaste",
    "beforeprint",
    "beforescriptexecute",
    "beforetoggle",
    "beforeunload",
    "beforeupdate",
    "begin",
    "blur",
    "bounce",
    "cancel",
    "canplay",
    "canplaythrough",
    "cellchange",
    "change",
    "click",
    "close",
    "command",
    "contextlost",
    "contextmenu",
    "contextrestored",
    "controlselect",
    "copy",
    "cuechange",
    "cut",
    "dataavailable",
    "datasetchanged",
    "datasetcomplete",
    "dblclick",
    "deactivate",
    "drag",
    "dragdrop",
    "dragend",
    "dragenter",
    "dragexit",
    "dragleave",
    "dragover",
    "dragstart",
    "drop",
    "durationchange",
    "emptied",
    "end",
    "ended",
    "error",
    "errorupdate",
    "filterchange",
    "finish",
    "focus",
    "focusin",
    "focusout",
    "formdata",
    "fullscreenchange",
    "fullscreenerror",
    "gotpointercapture",
    "hashchange",
    "help",
    "input",
    "invalid",
    "keydown",
    "keypress",
    "keyup",
    "layoutcomplete",
    "load",
    "loadeddata",
    "loadedmetadata",
    "loadend",
    "loadstart",
    "losecapture",
    "lostpointercapture",
    "message",
    "messageerror",
    "mousedown",
    "mouseenter",
    "mouseleave",
    "mousemove",
    "mouseout",
    "mouseover",
    "mouseup",
    "mousewheel",
    "move",
    "moveend",
    "movestart",
    "offline",
    "online",
    "pagehide",
    "pagereveal",
    "pageshow",
    "pageswap",
    "paste",
    "pause",
    "play",
    "playing",
    "pointercancel",
    "pointerdown",
    "pointerenter",
    "pointerleave",
    "pointermove",
    "pointerout",
    "pointerover",
    "pointerrawupdate",
    "pointerup",
    "popstate",
    "progress",
    "propertychange",
    "ratechange",
    "readystatechange",
    "repeat",
    "reset",
    "resize",
    "resizeend",
    "resizestart",
    "rowenter",
    "rowexit",
    "rowsdelete",
    "rowsinserted",
    "scroll",
    "scrollend",
    "search",
    "securitypolicyviolation",
    "seeked",
    "seeking",
    "select",
    "selectionchange",
    "selectstart",
    "show",
    "slotchange",
    "stalled",
    "start",
    "stop",
    "storage",
    "submit",
    "suspend",
    "timer",
    "timeupdate",
    "toggle",
    "touchcancel",
    "touchend",
    "touchmove",
    "touchstart",
    "transitioncancel",
    "transitionend",
    "transitionrun",
    "transitionstart",
    "unhandledrejection",
    "unload",
    "volumechange",
    "waiting",
    "webkitanimationend",
    "webkitanimationiteration",
    "webkitanimationstart",
    "webkitplaybacktargetavailabilitychanged",
    "webkittransitionend",
    "wheel",
    "zoom",
];

/// Attributes whose value client-side frameworks run as code:
/// AngularJS `ng-*`, Vue `v-on:` / `@` / `:`, Alpine `x-on:` / `x-init`,
/// htmx `hx-on`, Angular `(event)` and `[property]` bindings.
fn is_framework_code(name: &[u8]) -> bool {
    const PREFIXES: [&[u8]; 10] = [
        b"ng-",
        b"data-ng-",
        b"v-on:",
        b"v-bind:",
        b"v-html",
        b"v-if",
        b"x-on:",
        b"x-init",
        b"x-html",
        b"hx-on",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || (name.len() > 1 && (name[0] == b'@' || name[0] == b':'))
        || (name.len() > 2 && name[0] == b'(' && name[name.len() - 1] == b')')
        || (name.len() > 2 && name[0] == b'[' && name[name.len() - 1] == b']')
}

/// A tag opener: `<` and a letter, `/`+letter, `!` or `?`.
pub fn has_markup(b: &[u8]) -> bool {
    b.windows(2).enumerate().any(|(i, w)| {
        w[0] == b'<'
            && (w[1].is_ascii_alphabetic()
                || w[1] == b'!'
                || w[1] == b'?'
                || (w[1] == b'/' && b.get(i + 2).is_some_and(u8::is_ascii_alphabetic)))
    })
}

fn is_blank(b: &[u8]) -> bool {
    b.iter().all(|&c| c <= 0x20)
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// What the tag being read has shown so far.
#[derive(Debug, Clone, Copy, Default)]
struct TagState {
    kind: TagKind,
    start: usize,
    attrs: u16,
    /// A non-empty URL attribute (`src`, `data`, `href`, `classid`...).
    url: bool,
    refresh: bool,
    /// `http-equiv` set-cookie, link, or a content type naming UTF-7.
    meta_other: bool,
    content: Option<(usize, usize)>,
    rel_import: bool,
    rel_style: bool,
    /// A `type` naming a script language (`text/javascript`).
    script_type: bool,
    odd_charset: bool,
    /// SVG animation of an event handler attribute: the animated values.
    anim_handler: bool,
    anim_values: [Option<(usize, usize)>; 3],
    /// SVG animation of a link target (`attributeName=xlink:href`).
    anim_href: bool,
    data_binding: bool,
    /// XML Events: an `event` attribute, a `handler` attribute.
    xml_event: bool,
    xml_handler: bool,
    local: [u8; 8],
}

/// The markup analyzer: receives tokenizer events and records hits.
pub struct Markup<'a, 'h> {
    src: &'a [u8],
    hits: &'h mut Hits,
    ctx: Ctx,
    /// Hits found in a decoded copy point at this span of the value.
    map: Option<(usize, usize)>,
    /// Offset of `src` in the value (when `map` is none).
    base: usize,
    depth: u8,
    /// Bytes that nested views may still examine.
    budget: &'h mut usize,
    tag: TagState,
    /// Inside `svg` or `math`, where `style` is not raw text.
    foreign: bool,
    buf: Vec<u8>,
}

impl<'a, 'h> Markup<'a, 'h> {
    pub fn new(src: &'a [u8], ctx: Ctx, hits: &'h mut Hits, budget: &'h mut usize) -> Self {
        Markup {
            src,
            hits,
            ctx,
            map: None,
            base: 0,
            depth: 0,
            budget,
            tag: TagState::default(),
            foreign: false,
            buf: Vec::new(),
        }
    }

    /// Sets the offset of `src` in the value.
    pub fn set_base(&mut self, base: usize) {
        self.base = base;
    }

    fn span(&self, s: usize, e: usize) -> (usize, usize) {
        match self.map {
            Some(m) => m,
            None => (self.base + s, self.base + e),
        }
    }

    fn add(&mut self, rule: Rule, score: u8, span: (usize, usize), what: &'static str) {
        self.hits.add(rule, score, span, what);
    }

    /// Takes `len` bytes from the budget of nested views.
    fn spend(&mut self, len: usize) -> bool {
        if self.depth >= MAX_NEST || *self.budget < len {
            return false;
        }
        *self.budget -= len;
        true
    }

    fn child<'b>(
        &'b mut self,
        src: &'b [u8],
        ctx: Ctx,
        map: Option<(usize, usize)>,
        base: usize,
    ) -> Markup<'b, 'b> {
        Markup {
            src,
            hits: &mut *self.hits,
            ctx,
            map,
            base,
            depth: self.depth + 1,
            budget: &mut *self.budget,
            tag: TagState::default(),
            foreign: false,
            buf: Vec::new(),
        }
    }

    /// Looks at `text` (a decoded copy of part of the value) as markup.
    fn nested(&mut self, text: &[u8], span: (usize, usize)) {
        if !self.spend(text.len()) {
            return;
        }
        let map = Some(self.map.unwrap_or(span));
        let mut m = self.child(text, Ctx::Tag, map, 0);
        html::tokenize(text, &mut m);
    }

    /// Looks at `text` (a decoded copy) as a list of attributes of a tag.
    fn nested_attrs(&mut self, text: &[u8], span: (usize, usize)) {
        if !self.spend(text.len()) {
            return;
        }
        let map = Some(self.map.unwrap_or(span));
        let mut m = self.child(text, Ctx::Tag, map, 0);
        html::attributes(text, 0, &mut m);
    }

    /// Looks at `src[body]` (a comment's or raw text's body) as markup.
    fn nested_body(&mut self, body: (usize, usize)) {
        let src = self.src;
        let text = &src[body.0..body.1];
        if text.is_empty() || !self.spend(text.len()) {
            return;
        }
        let (map, base) = (self.map, self.base + body.0);
        let mut m = self.child(text, Ctx::Tag, map, base);
        html::tokenize(text, &mut m);
    }

    fn handler(
        &mut self,
        name: &[u8],
        code: &[u8],
        span: (usize, usize),
        framework: bool,
        cut: bool,
    ) {
        let strength = handler_strength(code);
        let known = !framework && is_known_event(name);
        let blank = is_blank(code);
        // A JSX expression container (`onClick={handleClick}`, cut at the
        // first space by the tokenizer): code snippets, not payloads,
        // unless a sink is reached.
        let jsx = trim(code).first() == Some(&b'{');
        let score = match strength {
            Strength::Sink | Strength::Weak => self.ctx.pick([80, 75, 65]),
            _ if framework => 0,
            _ if jsx => self.ctx.pick([30, 25, 0]),
            Strength::Call => self.ctx.pick([70, 55, 40]),
            Strength::Code if known => self.ctx.pick([65, 55, 35]),
            Strength::Code => self.ctx.pick([55, 40, 25]),
            // `<x onend=` at the very end: a handler injected into a tag
            // (or after a quote break) whose value the page supplies.
            Strength::None if blank && cut && known => self.ctx.pick([50, 50, 0]),
            Strength::None if blank => 0,
            Strength::None if known => self.ctx.pick([50, 50, 30]),
            Strength::None => self.ctx.pick([35, 25, 0]),
        };
        let what = if framework {
            "framework directive running a sink"
        } else {
            match strength {
                Strength::Sink | Strength::Weak => "event handler calling a script sink",
                Strength::Call | Strength::Code => "event handler with script",
                Strength::None => "event handler attribute",
            }
        };
        let rule = if framework {
            Rule::TemplateInjection
        } else {
            Rule::EventHandler
        };
        self.add(rule, score, span, what);
    }

    fn url_attr(&mut self, name: &[u8], val: &[u8], span: (usize, usize)) {
        if !is_blank(val) {
            self.tag.url = true;
        }
        match url::scheme(val) {
            Scheme::Script(off) => {
                let code = &val[off..];
                let score = match code_strength(code) {
                    Strength::Sink | Strength::Weak | Strength::Call => self.ctx.pick([80, 75, 60]),
                    Strength::Code => self.ctx.pick([65, 50, 35]),
                    Strength::None if trivial_js(code) => self.ctx.pick([35, 25, 20]),
                    Strength::None => self.ctx.pick([50, 40, 25]),
                };
                self.add(
                    Rule::JsUrl,
                    score,
                    span,
                    "javascript: URL in a URL attribute",
                );
            }
            Scheme::VbScript(off) => {
                let score = if is_blank(&val[off..]) {
                    self.ctx.pick([30, 20, 0])
                } else {
                    self.ctx.pick([70, 60, 50])
                };
                self.add(Rule::JsUrl, score, span, "vbscript: URL in a URL attribute");
            }
            Scheme::Data(kind, payload) => {
                let loader = matches!(
                    self.tag.kind,
                    TagKind::Script
                        | TagKind::Frame
                        | TagKind::Embed
                        | TagKind::Import
                        | TagKind::Link
                ) && matches!(name, b"src" | b"data" | b"code" | b"movie" | b"href");
                let score = match kind {
                    DataKind::Document | DataKind::Script => self.ctx.pick([70, 60, 45]),
                    DataKind::Other if loader => self.ctx.pick([60, 50, 40]),
                    DataKind::Other => 0,
                };
                self.add(
                    Rule::DataUrl,
                    score,
                    span,
                    "data: URL that loads a document or script",
                );
                self.data_payload(val, payload, span);
            }
            Scheme::Other => {}
        }
    }

    /// The payload of a `data:` URL, percent- or base64-decoded, as markup.
    fn data_payload(&mut self, val: &[u8], payload: usize, span: (usize, usize)) {
        let head = &val[..payload.min(val.len())];
        let body = &val[payload.min(val.len())..];
        let mut dec = Vec::new();
        if contains_ci(head, b"base64") {
            base64_decode(body, &mut dec, VALUE_CAP);
        } else if body.contains(&b'%') {
            url::percent_decode(body, &mut dec, VALUE_CAP);
        } else {
            dec.extend_from_slice(&body[..body.len().min(VALUE_CAP)]);
        }
        if has_markup(&dec) {
            self.nested(&dec, span);
        }
    }

    fn style(&mut self, val: &[u8], span: (usize, usize)) {
        let mut buf = std::mem::take(&mut self.buf);
        if let Some(h) = css::scan(val, &mut buf) {
            let s = match self.ctx {
                Ctx::Tag => h.score,
                Ctx::Quote => h.score - 5,
                Ctx::Bare => h.score - 15,
            };
            self.add(Rule::Css, s, span, h.what);
        }
        if css::attribute_anomaly(val) {
            let s = self.ctx.pick([50, 40, 30]);
            self.add(
                Rule::Css,
                s,
                span,
                "style attribute breaking out of its declarations",
            );
        }
        // CSS escapes that spell markup (`\3cimg\20src...`), decoded
        // twice for doubled backslashes.
        if val.contains(&b'\\') {
            css::normalise(val, &mut buf, true);
            if !has_markup(&buf) && buf.contains(&b'\\') {
                let once = buf.clone();
                css::normalise(&once, &mut buf, true);
            }
            if has_markup(&buf) {
                let text = buf.clone();
                self.nested(&text, span);
            }
        }
        self.buf = buf;
    }

    /// An unquoted value that old engines split differently: IE took a
    /// backtick as a quote (`src=`x`onerror=...`) and vertical tabs and
    /// other control characters as spaces (`src=x\x0bonerror=...`).
    fn legacy_split(&mut self, raw: &[u8], span: (usize, usize)) {
        if raw.first() == Some(&b'`') {
            if let Some(k) = raw[1..].iter().position(|&c| c == b'`') {
                let rest = raw[k + 2..].to_vec();
                self.nested_attrs(&rest, span);
                return;
            }
        }
        if raw.iter().any(|&c| c < 0x20 && !html::is_space(c)) {
            let spaced: Vec<u8> = raw
                .iter()
                .map(|&c| if c < 0x20 { b' ' } else { c })
                .collect();
            self.nested_attrs(&spaced, span);
        }
    }

    fn finish_tag(&mut self, end: usize) {
        let t = self.tag;
        let span = self.span(t.start, end);
        match t.kind {
            TagKind::Script => {
                let s = if t.attrs > 0 { 80 } else { 60 };
                self.add(Rule::ScriptTag, s, span, "script element");
            }
            TagKind::Frame => {
                let s = if t.url { 50 } else { 30 };
                self.add(
                    Rule::DangerousTag,
                    s,
                    span,
                    "frame element loading a document",
                );
            }
            TagKind::Embed => {
                let s = if t.url { 50 } else { 30 };
                self.add(
                    Rule::DangerousTag,
                    s,
                    span,
                    "plugin element (object, embed, applet)",
                );
            }
            TagKind::Base => {
                let s = if t.url { 50 } else { 20 };
                self.add(
                    Rule::DangerousTag,
                    s,
                    span,
                    "base element redirecting relative URLs",
                );
            }
            TagKind::Meta => {
                if t.refresh {
                    if let Some((s, e)) = t.content {
                        self.meta_refresh(s, e, span);
                    }
                }
                if t.meta_other {
                    self.add(
                        Rule::DangerousTag,
                        50,
                        span,
                        "meta element setting a header",
                    );
                }
                if t.odd_charset {
                    self.add(
                        Rule::DangerousTag,
                        50,
                        span,
                        "meta element switching to UTF-7",
                    );
                }
            }
            TagKind::Link => {
                if t.rel_import && t.url {
                    self.add(Rule::DangerousTag, 60, span, "link element importing HTML");
                } else if t.script_type && t.url {
                    // Style sheets written in JavaScript (JSSS) and
                    // links typed as script: what they load runs.
                    self.add(
                        Rule::DangerousTag,
                        50,
                        span,
                        "link element loading a script",
                    );
                } else if t.rel_style && t.url {
                    self.add(
                        Rule::DangerousTag,
                        40,
                        span,
                        "link element loading a style sheet",
                    );
                }
            }
            TagKind::Style => self.add(Rule::DangerousTag, 30, span, "style element"),
            TagKind::Import => {
                self.add(Rule::DangerousTag, 50, span, "xml island or import element")
            }
            TagKind::Form => self.add(Rule::DangerousTag, 25, span, "form element"),
            TagKind::Frameset | TagKind::Foreign | TagKind::Mxss => {
                self.add(Rule::DangerousTag, 20, span, "element used in XSS vectors");
            }
            TagKind::Animate => {
                if t.anim_handler {
                    for v in t.anim_values.iter().flatten() {
                        let code = decode_attr(&self.src[v.0..v.1]);
                        let st = handler_strength(&code);
                        let s = match st {
                            Strength::Sink | Strength::Weak => 80,
                            Strength::Call | Strength::Code => 70,
                            Strength::None => 50,
                        };
                        self.add(
                            Rule::EventHandler,
                            s,
                            span,
                            "SVG animation setting an event handler",
                        );
                    }
                }
            }
            TagKind::Other => {}
        }
        if t.data_binding {
            self.add(
                Rule::DangerousTag,
                50,
                span,
                "data binding that renders HTML",
            );
        }
        if t.anim_href && t.anim_values.iter().any(Option::is_some) {
            self.add(
                Rule::DangerousTag,
                50,
                span,
                "SVG animation rewriting a link target",
            );
        }
        let listener = matches!(&t.local, b"handler\0" | b"listener");
        if (t.xml_event && (t.xml_handler || listener)) || (listener && t.xml_handler) {
            self.add(Rule::DangerousTag, 50, span, "XML Events handler");
        }
    }

    /// `<meta http-equiv=refresh content="0;url=...">` (the `url=` may be
    /// left out: `content="0; http://..."`).
    fn meta_refresh(&mut self, s: usize, e: usize, span: (usize, usize)) {
        let dec = decode_attr(&self.src[s..e]);
        // After the delay and its separator.
        let Some(sep) = dec.iter().position(|&c| c == b';' || c == b',') else {
            return;
        };
        let mut target = &dec[sep + 1..];
        while let [c, rest @ ..] = target {
            if *c > 0x20 {
                break;
            }
            target = rest;
        }
        if target.len() >= 3 && target[..3].eq_ignore_ascii_case(b"url") {
            let mut t = &target[3..];
            while let [c, rest @ ..] = t {
                if *c > 0x20 {
                    break;
                }
                t = rest;
            }
            if let [b'=', rest @ ..] = t {
                target = rest;
            }
        }
        while let [b'"' | b'\'' | b' ', rest @ ..] = target {
            target = rest;
        }
        if is_blank(target) {
            return;
        }
        match url::scheme(target) {
            Scheme::Script(_) | Scheme::VbScript(_) => {
                self.add(Rule::JsUrl, 80, span, "meta refresh to a script URL");
            }
            Scheme::Data(..) => {
                self.add(Rule::DataUrl, 70, span, "meta refresh to a data: URL");
            }
            _ => self.add(Rule::DangerousTag, 50, span, "meta refresh redirect"),
        }
    }

    /// A processing instruction or declaration (`<?import ...>`).
    fn instruction(&mut self, body: (usize, usize), start: usize) {
        let text = &self.src[body.0..body.1];
        let Some(rest) = text.strip_prefix(b"?") else {
            return;
        };
        let end = rest
            .iter()
            .position(|&c| html::is_space(c) || c == b'?')
            .unwrap_or(rest.len());
        let target = &rest[..end];
        let span = self.span(start, body.1);
        if target.eq_ignore_ascii_case(b"import") {
            self.add(
                Rule::DangerousTag,
                50,
                span,
                "import processing instruction",
            );
        } else if target.eq_ignore_ascii_case(b"xml-stylesheet")
            || target.eq_ignore_ascii_case(b"xml:namespace")
        {
            self.add(
                Rule::DangerousTag,
                50,
                span,
                "style sheet or namespace processing instruction",
            );
            // Its pseudo-attributes: `href="javascript:..."`, `href="data:..."`.
            let attrs = rest[end..].to_vec();
            self.nested_attrs(&attrs, span);
        }
    }
}

/// A `javascript:` URL that does nothing: empty, `void(0)`, `;`.
fn trivial_js(code: &[u8]) -> bool {
    let t: Vec<u8> = code
        .iter()
        .copied()
        .filter(|&c| c > 0x20)
        .take(16)
        .collect();
    t.is_empty()
        || t.starts_with(b"void")
        || t.iter().all(|&c| matches!(c, b';' | b'/' | b'#' | b'0'))
}

/// An attribute value with its character references decoded.
fn decode_attr(raw: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    entity::decode(raw, &mut v, VALUE_CAP);
    v
}

/// Decodes standard or URL-safe base64, skipping spaces and stopping at
/// the first other byte.
pub fn base64_decode(src: &[u8], out: &mut Vec<u8>, cap: usize) {
    out.clear();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in src {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            c if c <= 0x20 => continue,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            if out.len() >= cap {
                break;
            }
        }
    }
}

/// The strength of an event handler's code: as written, and without the
/// stray quotes, backslashes and control characters that payloads wrap
/// it in (`onerror=\\"alert(1)\\"`, `onerror=`alert(1)``, smart quotes).
pub fn handler_strength(code: &[u8]) -> Strength {
    let first = js::scan(code, Start::Statement, false).strength;
    if first >= Strength::Call {
        return first;
    }
    let inner = strip_junk(code);
    if inner.len() == code.len() {
        return first;
    }
    first.max(js::scan(inner, Start::Statement, false).strength)
}

/// `code` without leading and trailing quote-like bytes.
fn strip_junk(mut code: &[u8]) -> &[u8] {
    loop {
        let n = junk_len(code);
        if n == 0 {
            break;
        }
        code = &code[n..];
    }
    loop {
        let n = junk_len_end(code);
        if n == 0 {
            break;
        }
        code = &code[..code.len() - n];
    }
    code
}

fn junk_len(b: &[u8]) -> usize {
    match b {
        [b'"' | b'\'' | b'`' | b'\\' | 0..=0x20, ..] => 1,
        [0xe2, 0x80, 0x98 | 0x99 | 0x9c | 0x9d, ..] => 3,
        [0xc2, 0xb4, ..] => 2,
        _ => 0,
    }
}

fn junk_len_end(b: &[u8]) -> usize {
    match b {
        [.., b'"' | b'\'' | b'`' | b'\\' | 0..=0x20] => 1,
        [.., 0xe2, 0x80, 0x98 | 0x99 | 0x9c | 0x9d] => 3,
        [.., 0xc2, 0xb4] => 2,
        _ => 0,
    }
}

/// The strength of the code of a `javascript:` URL (percent-decoded
/// first, as the browser does).
pub fn code_strength(code: &[u8]) -> Strength {
    if code.contains(&b'%') {
        let mut dec = Vec::new();
        url::percent_decode(code, &mut dec, VALUE_CAP);
        js::scan(&dec, Start::Statement, false).strength
    } else {
        js::scan(code, Start::Statement, false).strength
    }
}

impl Events for Markup<'_, '_> {
    fn start_tag(&mut self, name: &Name, start: usize) {
        let local = name.local();
        let mut short = [0u8; 8];
        if local.len() <= 8 {
            short[..local.len()].copy_from_slice(local);
        }
        self.tag = TagState {
            kind: tag_kind(name),
            start,
            local: short,
            ..TagState::default()
        };
        if local == b"svg" || local == b"math" {
            self.foreign = true;
        }
    }

    fn attr(&mut self, a: &Attr) {
        self.tag.attrs = self.tag.attrs.saturating_add(1);
        let Some((vs, ve)) = a.value else { return };
        let src = self.src;
        let raw = &src[vs..ve.min(vs + VALUE_CAP)];
        let name = a.name.as_bytes();
        let end = if a.quote != 0 && ve < src.len() {
            ve + 1
        } else {
            ve
        };
        let span = self.span(a.name_start, end);
        // Character references decoded (a copy only when there are some).
        let decoded = raw.contains(&b'&').then(|| decode_attr(raw));
        let val: &[u8] = decoded.as_deref().unwrap_or(raw);
        match a.name.local() {
            b"event" => self.tag.xml_event = true,
            b"handler" => self.tag.xml_handler = true,
            _ => {}
        }
        // The value runs to the end of the text (`<x onload=`).
        let cut = ve >= src.len();
        if is_handler(&a.name) {
            self.handler(a.name.local(), val, span, false, cut);
        } else if is_framework_code(name) {
            self.handler(name, val, span, true, cut);
        } else if is_url_attr(name) {
            self.url_attr(name, val, span);
            if self.tag.kind == TagKind::Animate
                && matches!(name, b"to" | b"values" | b"from" | b"by")
            {
                if let Some(slot) = self.tag.anim_values.iter_mut().find(|s| s.is_none()) {
                    *slot = Some((vs, ve));
                }
            }
        } else {
            match name {
                b"style" => self.style(val, span),
                b"srcdoc" if has_markup(val) => {
                    let s = self.ctx.pick([70, 65, 55]);
                    self.add(Rule::Srcdoc, s, span, "srcdoc document with markup");
                }
                b"http-equiv" => {
                    let v = trim(val);
                    if v.eq_ignore_ascii_case(b"refresh") {
                        self.tag.refresh = true;
                    } else if v.eq_ignore_ascii_case(b"set-cookie")
                        || v.eq_ignore_ascii_case(b"link")
                    {
                        self.tag.meta_other = true;
                    }
                }
                b"content" => {
                    self.tag.content = Some((vs, ve));
                    self.tag.odd_charset |= utf7(val);
                }
                b"charset" => self.tag.odd_charset |= utf7(val),
                b"type" => self.tag.script_type |= contains_ci(val, b"script"),
                b"rel" => {
                    self.tag.rel_import |= contains_ci(val, b"import");
                    self.tag.rel_style |= contains_ci(val, b"stylesheet");
                }
                b"classid" => self.tag.url |= contains_ci(val, b"clsid:"),
                b"dataformatas" => self.tag.data_binding |= contains_ci(val, b"html"),
                b"attributename" => {
                    let n = lower(trim(val));
                    self.tag.anim_handler |= is_handler_name(&n);
                    self.tag.anim_href |= n == b"href" || n == b"xlink:href";
                }
                _ => {}
            }
        }
        // Markup inside any value: mutation XSS, srcdoc, SVG animation
        // values, values that a sanitizer decodes.
        if has_markup(val) {
            self.nested(val, span);
        }
        if a.quote == 0 {
            self.legacy_split(raw, span);
        }
    }

    fn tag_end(&mut self, end: usize, _eof: bool) {
        self.finish_tag(end);
        self.tag = TagState::default();
    }

    fn end_tag(&mut self, name: &Name, start: usize, end: usize) {
        let local = name.local();
        if local == b"script" {
            let span = self.span(start, end);
            self.add(Rule::ScriptClose, 30, span, "end tag of a script element");
        } else if local == b"svg" || local == b"math" {
            self.foreign = false;
        }
    }

    fn comment(&mut self, kind: Comment, start: usize, body: (usize, usize)) {
        if kind == Comment::Bogus {
            self.instruction(body, start);
        }
        // A parser that disagrees about where the comment ends (or old
        // IE's conditional comments) sees the body as markup.
        if body.0 < body.1 && has_markup(&self.src[body.0..body.1]) {
            self.nested_body(body);
        }
    }

    fn raw_text(&mut self, tag: &[u8], body: (usize, usize)) {
        let text = &self.src[body.0..body.1];
        let span = self.span(body.0, body.1);
        if tag == b"script" {
            if !is_blank(text) {
                self.add(Rule::ScriptTag, 80, span, "script element with code");
            }
            return;
        }
        // style: CSS that runs script, script in a style element (JSSS),
        // and markup (which is markup in SVG, where style is no raw text).
        let mut buf = std::mem::take(&mut self.buf);
        if let Some(h) = css::scan(text, &mut buf) {
            self.add(Rule::Css, h.score, span, h.what);
        }
        self.buf = buf;
        if js::scan(text, Start::Statement, false).strength == Strength::Sink {
            self.add(Rule::Css, 50, span, "script in a style element");
        }
        if has_markup(text) {
            self.nested_body(body);
        }
    }
}

/// A charset or content type naming UTF-7.
fn utf7(val: &[u8]) -> bool {
    contains_ci(val, b"utf-7") || contains_ci(val, b"utf7") || contains_ci(val, b"imap4")
}

fn lower(b: &[u8]) -> Vec<u8> {
    b.iter().take(64).map(u8::to_ascii_lowercase).collect()
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|&c| c > 0x20).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| c > 0x20).map_or(s, |k| k + 1);
    &b[s..e]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_sorted() {
        assert!(TAGS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(URL_ATTRS.windows(2).all(|w| w[0] < w[1]));
        assert!(EVENTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn handler_names() {
        for n in [
            "onload",
            "onerror",
            "onbeforehellfreezes",
            "onmouseover\x0b",
            "x:ontimer",
        ] {
            assert!(is_handler(&Name::new(n.as_bytes())), "{n}");
        }
        for n in ["on", "onx", "one", "o-nload", "\"onwheel", "on1oad"] {
            assert!(!is_handler(&Name::new(n.as_bytes())), "{n}");
        }
        assert!(is_known_event(b"onerror"));
        assert!(is_known_event(b"onmouseover\x0b"));
        assert!(!is_known_event(b"online"));
        assert!(!is_known_event(b"onbeforehellfreezes"));
    }

    #[test]
    fn junk() {
        assert_eq!(strip_junk(b"\\\"alert(1)\\\""), b"alert(1)");
        assert_eq!(
            strip_junk("\u{201d}alert(1)\u{201d}".as_bytes()),
            b"alert(1)"
        );
        assert_eq!(handler_strength(b"`alert(1)`"), Strength::Sink);
        assert_eq!(handler_strength(b"\0\"alert(1)\""), Strength::Sink);
    }

    #[test]
    fn base64() {
        let mut out = Vec::new();
        base64_decode(b"PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", &mut out, 100);
        assert_eq!(out, b"<script>alert(1)</script>");
    }
}
