//! [`XmlDecoder`]: the `xml` layer.

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo, Span};

use crate::chars::{is_name_start, is_ws};
use crate::flags::MALFORMED;
use crate::parser::Parser;
use crate::utf16;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// The sniff looks past at most this much leading or trailing whitespace.
const SNIFF_WS: usize = 256;

/// Decodes XML documents (SOAP envelopes included) into request points:
/// elements as members keyed by their qualified name, attributes as
/// `@name`, text as the element's value or `#text`, comments as
/// `#comment`, processing instructions as `?target`, and the DOCTYPE as
/// `!doctype` with its entity declarations under `!entity`, flagged and
/// never expanded.
#[derive(Debug, Clone, Copy, Default)]
pub struct XmlDecoder;

impl Decoder for XmlDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "xml",
            version: env!("CARGO_PKG_VERSION"),
            description: "XML and SOAP: elements, attributes, text, CDATA, comments, PIs; \
                          DOCTYPE and entities surfaced and flagged, never expanded",
        }
    }

    fn layer(&self) -> &'static str {
        "xml"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &[
            "application/xml",
            "text/xml",
            "application/soap+xml",
            "+xml",
        ]
    }

    /// After an optional BOM and whitespace the value starts with `<?xml`,
    /// or `<` and a name or `!`, and its last byte that is not whitespace is
    /// `>`.
    fn sniff(&self, value: &[u8]) -> bool {
        let v = value.strip_prefix(BOM).unwrap_or(value);
        let lead = v
            .iter()
            .take(SNIFF_WS + 1)
            .take_while(|&&b| is_ws(b))
            .count();
        let trail = v
            .iter()
            .rev()
            .take(SNIFF_WS + 1)
            .take_while(|&&b| is_ws(b))
            .count();
        if lead > SNIFF_WS || trail > SNIFF_WS || lead + trail >= v.len() {
            return false;
        }
        let v = &v[lead..v.len() - trail];
        if v.len() < 3 || v.last() != Some(&b'>') {
            return false;
        }
        v.starts_with(b"<?xml") || (v[0] == b'<' && (v[1] == b'!' || is_name_start(v[1])))
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let declared = ctx.declared;
        if !declared && !self.sniff(input) {
            return Err(DecodeError::NotThisFormat);
        }
        let transcoded;
        let doc = match utf16::detect(input) {
            Some(_) if !declared => return Err(DecodeError::NotThisFormat),
            Some(order) => {
                let (text, bad) = utf16::transcode(input, order);
                let root = out.root();
                out.flag(
                    root,
                    "xml.utf16",
                    10,
                    Span::default(),
                    "UTF-16 document, read as UTF-8",
                );
                if let Some(at) = bad {
                    let msg = "unpaired surrogate or odd byte in a UTF-16 document";
                    out.flag(root, MALFORMED, 10, Span::new(at, at + 1), msg);
                }
                transcoded = text;
                &transcoded[..]
            }
            None => input,
        };
        let bad_utf8 = std::str::from_utf8(doc).err().map(|e| e.valid_up_to());
        if bad_utf8.is_some() && !declared {
            return Err(DecodeError::NotThisFormat);
        }
        let start = if doc.starts_with(BOM) { BOM.len() } else { 0 };
        let mut p = Parser::new(doc, start, out, declared);
        let result = p.run();
        if let (Some(at), false) = (bad_utf8, p.other_encoding) {
            let root = p.out.root();
            p.flag_malformed(root, Span::new(at, at + 1), "invalid UTF-8");
        }
        if result != Err(DecodeError::NotThisFormat) {
            p.flush_notes();
        }
        result
    }
}
