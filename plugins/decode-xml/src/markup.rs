//! Comments, processing instructions (the XML declaration among them),
//! CDATA sections and unknown `<!...>` declarations.

use rampart_plugin_api::{DecodeError, Span};

use crate::chars::{find, is_ws, name_end, skip_ws, CLASS, CTRL};
use crate::parser::{Item, Parser, Sp};

/// Encodings whose documents this decoder reads as they are.
const UTF8_LIKE: [&[u8]; 5] = [b"utf-8", b"utf8", b"us-ascii", b"ascii", b"utf-16"];
/// Single-byte encodings common in legacy SOAP: read as bytes, not flagged.
const LATIN: [&[u8]; 5] = [
    b"iso-8859-1",
    b"latin1",
    b"iso-8859-15",
    b"windows-1252",
    b"cp1252",
];

impl Parser<'_, '_, '_> {
    /// Finds the end of a construct that closes with `close`, starting the
    /// search at `from`; sets the position after it. Returns where its
    /// content ends (the end of the input when it is truncated).
    fn until(&mut self, from: usize, close: &[u8], what: &'static str) -> usize {
        let n = self.s.len();
        match find(self.s, from, close) {
            Some(e) => {
                self.pos = e + close.len();
                e
            }
            None => {
                self.truncated(self.pos, what);
                self.pos = n;
                n
            }
        }
    }

    /// `<!-- ... -->`: a `#comment` member of the enclosing element.
    pub(crate) fn comment(&mut self) -> Result<(), DecodeError> {
        let start = self.pos + 4;
        let end = self.until(start, b"-->", "document ends inside a comment");
        self.push_item(Item::Comment(Sp(start, end)))
    }

    /// `<?target data?>`: a `?target` member holding the data.
    pub(crate) fn pi(&mut self) -> Result<(), DecodeError> {
        let s = self.s;
        let at = self.pos;
        let target = Sp(at + 2, name_end(s, at + 2));
        let end = self.until(
            target.1,
            b"?>",
            "document ends inside a processing instruction",
        );
        if target.1 == target.0 {
            self.malformed(at, "processing instruction without a target")?;
        } else if target.1 < end && !is_ws(s[target.1]) {
            self.malformed(
                target.1,
                "processing instruction target not followed by whitespace",
            )?;
        }
        let data = Sp(skip_ws(s, target.1).min(end), end);
        if &s[target.0..target.1] == b"xml" {
            self.xml_declaration(&s[data.0..data.1], data.0);
        }
        self.push_item(Item::Pi { target, data })
    }

    /// Notes the encoding the XML declaration names. One this decoder
    /// cannot read (UTF-7, EBCDIC...) may still be honoured by the parser
    /// behind it, so that a payload hidden in it would pass unseen: flagged.
    fn xml_declaration(&mut self, d: &[u8], at: usize) {
        let Some(k) = find(d, 0, b"encoding") else {
            return;
        };
        let i = skip_ws(d, k + 8);
        if d.get(i) != Some(&b'=') {
            return;
        }
        let i = skip_ws(d, i + 1);
        let Some(&q) = d.get(i).filter(|&&q| q == b'"' || q == b'\'') else {
            return;
        };
        let v = &d[i + 1..];
        let v = &v[..v.iter().position(|&c| c == q).unwrap_or(v.len())];
        let known = |list: &[&[u8]]| list.iter().any(|e| v.eq_ignore_ascii_case(e));
        self.other_encoding = !known(&UTF8_LIKE);
        if self.other_encoding && !known(&LATIN) {
            let root = self.out.root();
            let span = Span::new(at + i + 1, at + i + 1 + v.len());
            let msg = "XML declaration names an encoding this decoder reads as bytes";
            self.note(root, "xml.encoding", 20, span, msg);
        }
    }

    /// `<![CDATA[ ... ]]>`: merged, raw, into the current text run.
    pub(crate) fn cdata(&mut self) -> Result<(), DecodeError> {
        let s = self.s;
        let start = self.pos + 9;
        let end = self.until(start, b"]]>", "document ends inside a CDATA section");
        let body = &s[start..end];
        if let Some(k) = body.iter().position(|&b| CLASS[usize::from(b)] == CTRL) {
            self.malformed(start + k, "control character in a CDATA section")?;
        }
        self.append(body)?;
        if body.iter().any(|&b| !is_ws(b)) {
            self.saw_text()?;
        }
        Ok(())
    }

    /// `<!FOO ...>` that XML does not know: skipped.
    pub(crate) fn unknown_declaration(&mut self) -> Result<(), DecodeError> {
        self.malformed(self.pos, "unknown markup declaration")?;
        let from = self.pos + 2;
        self.until(from, b">", "document ends inside a markup declaration");
        Ok(())
    }
}
