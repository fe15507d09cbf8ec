//! An HTML5 tokenizer reduced to what an XSS check needs: where tags
//! start, their names, their attributes (every quoting style, missing
//! spaces between attributes, `/` as a separator), comments, bogus
//! comments and CDATA sections, and the raw text of `script` and `style`.
//!
//! It follows the tokenization states of the HTML standard closely enough
//! to see what a browser sees (`<svg/onload=...>`, `<a href="x"onclick=..>`,
//! `<!--><img ...>`), with two deliberate departures that make it see
//! more than a browser does, since old engines and sanitizers disagree:
//! NUL bytes are dropped from tag and attribute names (`<scr\0ipt>` is a
//! script tag) and a `<` followed by NUL bytes and a letter opens a tag.
//! The content of RAWTEXT and RCDATA elements other than `script` and
//! `style` (`textarea`, `title`, `xmp`, `noscript`...) is tokenized as
//! markup, as a sanitizer that mis-nests them would. Inside `svg` and
//! `math` (until their end tag) `style` is markup too, as in browsers.
//!
//! Every step advances; the tokenizer is linear in its input.

/// Longest tag or attribute name kept (longer names are cut; no name in
/// the tables is that long).
pub const NAME_CAP: usize = 24;

/// A tag or attribute name, lower-cased, NUL bytes dropped, cut at
/// [`NAME_CAP`] bytes.
#[derive(Debug, Clone, Copy)]
pub struct Name {
    buf: [u8; NAME_CAP],
    len: u8,
    /// The name was longer than the cap.
    pub long: bool,
}

impl Name {
    pub fn new(raw: &[u8]) -> Name {
        let mut n = Name {
            buf: [0; NAME_CAP],
            len: 0,
            long: false,
        };
        for &c in raw {
            if c == 0 {
                continue;
            }
            if usize::from(n.len) == NAME_CAP {
                n.long = true;
                break;
            }
            n.buf[usize::from(n.len)] = c.to_ascii_lowercase();
            n.len += 1;
        }
        n
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The local part of a qualified name (`x:script` gives `script`).
    pub fn local(&self) -> &[u8] {
        let b = self.as_bytes();
        match b.iter().rposition(|&c| c == b':') {
            Some(k) => &b[k + 1..],
            None => b,
        }
    }
}

/// One attribute of a tag.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: Name,
    pub name_start: usize,
    /// The value's bytes (without quotes), if there is an `=`.
    pub value: Option<(usize, usize)>,
    /// The quote of the value (`"`, `'`, or 0 when unquoted).
    pub quote: u8,
}

/// What a comment-like construct was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comment {
    /// `<!-- ... -->`
    Regular,
    /// `<!...>`, `<?...>`, `</ ...>`: a bogus comment.
    Bogus,
    /// `<![CDATA[ ... ]]>` in SVG or MathML.
    Cdata,
}

/// Receives what the tokenizer sees.
pub trait Events {
    /// A start tag opens at `start` (the `<`).
    fn start_tag(&mut self, name: &Name, start: usize);
    /// An attribute of the open start tag.
    fn attr(&mut self, attr: &Attr);
    /// The open start tag ends at `end` (after `>`, or the end of the
    /// text when `eof`).
    fn tag_end(&mut self, end: usize, eof: bool);
    /// An end tag `</name ...>` spanning `start..end`.
    fn end_tag(&mut self, name: &Name, start: usize, end: usize);
    /// A comment-like construct whose body is `body`; `start` is its `<`.
    fn comment(&mut self, kind: Comment, start: usize, body: (usize, usize));
    /// The raw text of a `script` or `style` element.
    fn raw_text(&mut self, tag: &[u8], body: (usize, usize));
}

pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// Tokenizes `src` from the data state.
pub fn tokenize<E: Events>(src: &[u8], ev: &mut E) {
    let mut i = 0;
    let mut foreign = false;
    while let Some(k) = src[i..].iter().position(|&c| c == b'<') {
        let lt = i + k;
        i = lt + 1;
        let mut j = i;
        while j < src.len() && src[j] == 0 && j - i < 8 {
            j += 1;
        }
        let Some(&c) = src.get(j) else { break };
        if c.is_ascii_alphabetic() {
            let name_end = name_end(src, j);
            let name = Name::new(&src[j..name_end]);
            ev.start_tag(&name, lt);
            let (end, eof) = attributes(src, name_end, ev);
            ev.tag_end(end, eof);
            i = end;
            let local = name.local();
            if local == b"svg" || local == b"math" {
                foreign = true;
            }
            // In SVG and MathML `style` holds markup, not raw text.
            if !eof && (local == b"script" || (local == b"style" && !foreign)) {
                let close = find_end_tag(src, end, local).unwrap_or(src.len());
                ev.raw_text(local, (end, close));
                i = close;
            }
            continue;
        }
        match c {
            b'/' => {
                let Some(&n) = src.get(j + 1) else { break };
                if n.is_ascii_alphabetic() {
                    let ne = name_end(src, j + 1);
                    let name = Name::new(&src[j + 1..ne]);
                    // Attributes of end tags are ignored by browsers.
                    let mut skip = Skip;
                    let (end, _) = attributes(src, ne, &mut skip);
                    ev.end_tag(&name, lt, end);
                    let local = name.local();
                    if local == b"svg" || local == b"math" {
                        foreign = false;
                    }
                    i = end;
                } else if n == b'>' {
                    i = j + 2;
                } else {
                    i = bogus(src, lt, j + 1, ev);
                }
            }
            b'!' => {
                let rest = &src[j + 1..];
                if rest.starts_with(b"--") {
                    i = comment(src, lt, j + 3, ev);
                } else if foreign && rest.starts_with(b"[CDATA[") {
                    let body = j + 8;
                    let end = find(&src[body..], b"]]>").map_or(src.len(), |k| body + k);
                    ev.comment(Comment::Cdata, lt, (body, end));
                    i = (end + 3).min(src.len());
                } else {
                    i = bogus(src, lt, j + 1, ev);
                }
            }
            b'?' => i = bogus(src, lt, j, ev),
            _ => {}
        }
    }
}

/// Tokenizes the attributes of a tag whose name ended at `from`, up to
/// its `>`: the attribute-list contexts start here too.
pub fn attributes<E: Events>(src: &[u8], mut i: usize, ev: &mut E) -> (usize, bool) {
    loop {
        // Before attribute name.
        while i < src.len() && (is_space(src[i]) || src[i] == b'/') {
            i += 1;
        }
        if i >= src.len() {
            return (src.len(), true);
        }
        if src[i] == b'>' {
            return (i + 1, false);
        }
        // Attribute name (a leading `=` belongs to the name).
        let name_start = i;
        i += 1;
        while i < src.len() && !is_space(src[i]) && !matches!(src[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = Name::new(&src[name_start..i]);
        // After attribute name.
        while i < src.len() && is_space(src[i]) {
            i += 1;
        }
        let mut attr = Attr {
            name,
            name_start,
            value: None,
            quote: 0,
        };
        if i < src.len() && src[i] == b'=' {
            i += 1;
            while i < src.len() && is_space(src[i]) {
                i += 1;
            }
            match src.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let vs = i + 1;
                    match src[vs..].iter().position(|&c| c == q) {
                        Some(k) => {
                            attr.value = Some((vs, vs + k));
                            i = vs + k + 1;
                        }
                        None => {
                            attr.value = Some((vs, src.len()));
                            i = src.len();
                        }
                    }
                    attr.quote = q;
                }
                Some(b'>') | None => attr.value = Some((i, i)),
                Some(_) => {
                    let vs = i;
                    while i < src.len() && !is_space(src[i]) && src[i] != b'>' {
                        i += 1;
                    }
                    attr.value = Some((vs, i));
                }
            }
        }
        ev.attr(&attr);
    }
}

fn name_end(src: &[u8], mut i: usize) -> usize {
    while i < src.len() && !is_space(src[i]) && src[i] != b'/' && src[i] != b'>' {
        i += 1;
    }
    i
}

/// A comment whose body starts at `body` (after `<!--`); returns the
/// position after it.
fn comment<E: Events>(src: &[u8], lt: usize, body: usize, ev: &mut E) -> usize {
    let rest = &src[body.min(src.len())..];
    // `<!-->` and `<!--->` end at once.
    if rest.starts_with(b">") {
        ev.comment(Comment::Regular, lt, (body, body));
        return body + 1;
    }
    if rest.starts_with(b"->") {
        ev.comment(Comment::Regular, lt, (body, body));
        return body + 2;
    }
    let mut k = 0;
    while k < rest.len() {
        if rest[k..].starts_with(b"-->") {
            ev.comment(Comment::Regular, lt, (body, body + k));
            return body + k + 3;
        }
        if rest[k..].starts_with(b"--!>") {
            ev.comment(Comment::Regular, lt, (body, body + k));
            return body + k + 4;
        }
        k += 1;
    }
    ev.comment(Comment::Regular, lt, (body, src.len()));
    src.len()
}

/// A bogus comment whose body starts at `body`, ending at the next `>`.
fn bogus<E: Events>(src: &[u8], lt: usize, body: usize, ev: &mut E) -> usize {
    let body = body.min(src.len());
    let end = src[body..]
        .iter()
        .position(|&c| c == b'>')
        .map_or(src.len(), |k| body + k);
    ev.comment(Comment::Bogus, lt, (body, end));
    (end + 1).min(src.len())
}

/// The position of `</name` (ASCII case-insensitive) at or after `from`.
fn find_end_tag(src: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(k) = src.get(i..)?.iter().position(|&c| c == b'<') {
        let lt = i + k;
        let rest = &src[lt + 1..];
        if rest.first() == Some(&b'/')
            && rest.len() > name.len()
            && rest[1..=name.len()].eq_ignore_ascii_case(name)
        {
            return Some(lt);
        }
        i = lt + 1;
    }
    None
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&c| c == first)
        {
            Some(k) => {
                let at = i + k;
                if &hay[at..at + needle.len()] == needle {
                    return Some(at);
                }
                i = at + 1;
            }
            None => return None,
        }
    }
    None
}

/// Events that are dropped (attributes of end tags).
struct Skip;

impl Events for Skip {
    fn start_tag(&mut self, _: &Name, _: usize) {}
    fn attr(&mut self, _: &Attr) {}
    fn tag_end(&mut self, _: usize, _: bool) {}
    fn end_tag(&mut self, _: &Name, _: usize, _: usize) {}
    fn comment(&mut self, _: Comment, _: usize, _: (usize, usize)) {}
    fn raw_text(&mut self, _: &[u8], _: (usize, usize)) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log(Vec<String>, Vec<u8>);

    impl Events for Log {
        fn start_tag(&mut self, name: &Name, _: usize) {
            self.0
                .push(format!("<{}", String::from_utf8_lossy(name.as_bytes())));
        }
        fn attr(&mut self, a: &Attr) {
            let v = a
                .value
                .map(|(s, e)| String::from_utf8_lossy(&self.1[s..e]).into_owned());
            self.0.push(format!(
                " {}={:?}",
                String::from_utf8_lossy(a.name.as_bytes()),
                v
            ));
        }
        fn tag_end(&mut self, _: usize, eof: bool) {
            self.0.push(if eof { "EOF".into() } else { ">".into() });
        }
        fn end_tag(&mut self, name: &Name, _: usize, _: usize) {
            self.0
                .push(format!("</{}>", String::from_utf8_lossy(name.as_bytes())));
        }
        fn comment(&mut self, k: Comment, _: usize, (s, e): (usize, usize)) {
            self.0
                .push(format!("{k:?}({})", String::from_utf8_lossy(&self.1[s..e])));
        }
        fn raw_text(&mut self, t: &[u8], (s, e): (usize, usize)) {
            self.0.push(format!(
                "raw {}({})",
                String::from_utf8_lossy(t),
                String::from_utf8_lossy(&self.1[s..e])
            ));
        }
    }

    fn tok(s: &str) -> String {
        let mut log = Log(Vec::new(), s.as_bytes().to_vec());
        tokenize(s.as_bytes(), &mut log);
        log.0.concat()
    }

    #[test]
    fn tags_and_attributes() {
        assert_eq!(
            tok("<svg/onload=alert(1)>"),
            "<svg onload=Some(\"alert(1)\")>"
        );
        assert_eq!(
            tok("<a href=\"x\"onclick='y' b>"),
            "<a href=Some(\"x\") onclick=Some(\"y\") b=None>"
        );
        assert_eq!(
            tok("<ScR\0iPt>x</script>"),
            "<script>raw script(x)</script>"
        );
        assert_eq!(tok("a < b > c <3 x<y"), "<yEOF");
        assert_eq!(
            tok("<!--<img src=\"--><img src=x onerror=alert(1)//\">"),
            "Regular(<img src=\")<img src=Some(\"x\") onerror=Some(\"alert(1)//\\\"\")>"
        );
        assert_eq!(
            tok("<!<script>alert(1)</script>"),
            "Bogus(<script)</script>"
        );
        assert_eq!(tok("<!-->x<!--->"), "Regular()Regular()");
        assert_eq!(tok("<svg><![CDATA[><x]]><p>"), "<svg>Cdata(><x)<p>");
        assert_eq!(tok("<p><![CDATA[><x]]>"), "<p>Bogus([CDATA[)<x]]>");
        assert_eq!(tok("<<\0img src=1>"), "<img src=Some(\"1\")>");
    }
}
