//! Emitting one part: its body as a leaf keyed by its name, `@filename`
//! and `@<header>` children, the part's `Content-Type` as a hint, and the
//! anomalies of its headers.

use rampart_plugin_api::text::PctReport;
use rampart_plugin_api::{DecodeError, Emitter, Key, LimitKind, NodeId, Span};

use crate::disposition::{Disposition, Val};
use crate::flags::PartFlags;
use crate::headers::{Header, Headers};

/// State of one decoding run.
#[derive(Debug)]
pub(crate) struct Run<'i> {
    pub input: &'i [u8],
    /// Anomalies are flagged only when the format was declared.
    pub declared: bool,
    /// `multipart/form-data`: parts are expected to carry a name.
    pub form_data: bool,
    bare_lf_flagged: bool,
    prefix_flagged: bool,
    scratch: Vec<u8>,
}

/// The headers of a part that matter, found in a first pass.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub disposition: Option<Header>,
    pub content_type: Option<Header>,
    pub encoding: Option<Header>,
    pub dup_disposition: bool,
    pub dup_other: bool,
    pub long: bool,
    pub folded: bool,
    pub bad: bool,
}

impl<'i> Run<'i> {
    pub fn new(input: &'i [u8], declared: bool, form_data: bool) -> Run<'i> {
        Run {
            input,
            declared,
            form_data,
            bare_lf_flagged: false,
            prefix_flagged: false,
            scratch: Vec::new(),
        }
    }

    pub fn flag(
        &self,
        out: &mut Emitter<'_>,
        node: NodeId,
        rule: &'static str,
        score: u8,
        span: Span,
        msg: &'static str,
    ) {
        if self.declared {
            out.flag(node, rule, score, span, msg);
        }
    }

    /// Flags `multipart.bare-lf` the first time a bare LF is seen.
    pub fn bare_lf(&mut self, out: &mut Emitter<'_>, at: usize) {
        if !self.bare_lf_flagged {
            self.bare_lf_flagged = true;
            let root = out.root();
            self.flag(
                out,
                root,
                "multipart.bare-lf",
                10,
                Span::new(at, at + 1),
                "line ended by a bare LF instead of CRLF",
            );
        }
    }

    /// `Content-Transfer-Encoding: base64` or `quoted-printable`.
    pub(crate) fn transfer_encoded(&self, h: Header) -> bool {
        let v = self.slice(h.value);
        v.eq_ignore_ascii_case(b"base64") || v.eq_ignore_ascii_case(b"quoted-printable")
    }

    /// Flags `multipart.boundary-prefix` once, for the first line that
    /// starts with `--boundary` but is no delimiter.
    pub fn prefix(&mut self, out: &mut Emitter<'_>, at: Option<usize>, len: usize) {
        if let (Some(at), false) = (at, self.prefix_flagged) {
            self.prefix_flagged = true;
            let span = Span::new(at, at + 2 + len);
            let msg = "line starting with the boundary that is no delimiter";
            let root = out.root();
            self.flag(out, root, "multipart.boundary-prefix", 20, span, msg);
        }
    }

    pub(crate) fn slice(&self, r: (usize, usize)) -> &'i [u8] {
        &self.input[r.0..r.1]
    }

    /// Decoded bytes of `v` written to the tree's buffer.
    fn write(out: &mut Emitter<'_>, v: &Val<'_>) -> Result<((u32, u32), PctReport), DecodeError> {
        if v.raw_len() > out.bytes_left() {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        let m = out.mark();
        let rep = v.write(out.buf());
        Ok((out.span_from(m)?, rep))
    }

    /// True when two values decode differently.
    fn differ(&mut self, a: &Val<'_>, b: &Val<'_>) -> bool {
        self.scratch.clear();
        a.write(&mut self.scratch);
        let mid = self.scratch.len();
        b.write(&mut self.scratch);
        self.scratch[..mid] != self.scratch[mid..]
    }

    fn first_pass(
        &mut self,
        out: &mut Emitter<'_>,
        hs: &mut Headers<'_>,
    ) -> Result<Seen, DecodeError> {
        let mut seen = Seen::default();
        for h in hs {
            out.tick()?;
            seen.long |= h.long;
            seen.folded |= h.folded;
            seen.bad |= h.bad || h.odd_name;
            if h.bad {
                continue;
            }
            let name = self.slice(h.name);
            let (slot, dup) = if name.eq_ignore_ascii_case(b"content-disposition") {
                (&mut seen.disposition, &mut seen.dup_disposition)
            } else if name.eq_ignore_ascii_case(b"content-type") {
                (&mut seen.content_type, &mut seen.dup_other)
            } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
                (&mut seen.encoding, &mut seen.dup_other)
            } else {
                continue;
            };
            match slot {
                Some(_) => *dup = true,
                None => *slot = Some(h),
            }
        }
        Ok(seen)
    }

    /// Emits the part `input[start..end]` (headers and body) as part `index`.
    pub fn part(
        &mut self,
        out: &mut Emitter<'_>,
        index: u32,
        start: usize,
        end: usize,
    ) -> Result<(), DecodeError> {
        let mut hs = Headers::new(self.input, start, end);
        let seen = self.first_pass(out, &mut hs)?;
        if hs.bare_lf {
            self.bare_lf(out, start);
        }
        let body = self.slice((hs.body.unwrap_or(end), end));
        let disp = seen
            .disposition
            .map(|h| Disposition::parse(self.slice(h.value)));
        let disp = disp.unwrap_or_default();
        let mut ambiguous = seen.dup_disposition || disp.ambiguous;
        if let (Some(a), Some(b)) = (&disp.name, &disp.name_ext) {
            ambiguous |= self.differ(a, b);
        }
        let filenames_differ = match (&disp.filename, &disp.filename_ext) {
            (Some(a), Some(b)) => self.differ(a, b),
            _ => false,
        };
        ambiguous |= filenames_differ;

        let root = out.root();
        let name = disp.name.as_ref().or(disp.name_ext.as_ref());
        let key = match name {
            None => Key::Index(index),
            Some(v) => match v.verbatim() {
                Some(raw) => Key::Name(raw),
                None => {
                    let (span, _) = Self::write(out, v)?;
                    Key::Span(span.0, span.1)
                }
            },
        };
        let node = out.leaf(root, key, body)?;

        if let Some(v) = &disp.filename {
            let (span, _) = Self::write(out, v)?;
            let f = out.leaf_span(node, Key::Name(b"@filename"), span)?;
            if out.tree().value(f).contains(&0) {
                self.flag(
                    out,
                    f,
                    "multipart.nul-byte",
                    30,
                    Span::default(),
                    "NUL byte in a filename",
                );
            }
        }
        if let Some(v) = disp
            .filename_ext
            .as_ref()
            .filter(|_| disp.filename.is_none() || filenames_differ)
        {
            let (span, rep) = Self::write(out, v)?;
            let f = out.leaf_span(node, Key::Name(b"@filename"), span)?;
            self.pct_flags(out, f, &rep);
        }

        for h in Headers::new(self.input, start, end) {
            if h.bad {
                continue;
            }
            let name = self.slice(h.name);
            if name.len() + 1 > out.bytes_left() {
                return Err(DecodeError::Exhausted(LimitKind::Bytes));
            }
            let m = out.mark();
            out.buf().push(b'@');
            out.buf().extend(name.iter().map(u8::to_ascii_lowercase));
            let (ks, ke) = out.span_from(m)?;
            out.leaf(node, Key::Span(ks, ke), self.slice(h.value))?;
        }

        // A transfer-encoded body is not yet in its declared type: leave it
        // to the engine's sniffing (base64), with no hint.
        let encoded = seen.encoding.is_some_and(|h| self.transfer_encoded(h));
        if let Some(h) = seen
            .content_type
            .filter(|h| h.value.0 < h.value.1 && !encoded)
        {
            out.hint(node, self.slice(h.value))?;
        }
        let f = PartFlags {
            encoded,
            ambiguous,
            named: disp.name.is_some() || disp.name_ext.is_some(),
            spaced: disp.spaced,
            no_end: hs.body.is_none(),
        };
        self.part_flags(out, node, &seen, f);
        Ok(())
    }
}
