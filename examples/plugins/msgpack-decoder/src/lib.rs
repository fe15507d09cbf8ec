//! An example Rampart decoder plugin: MessagePack bodies, read without a
//! schema.
//!
//! [`MsgpackDecoder`] (plugin and layer `msgpack`) takes apart values
//! declared as `application/msgpack`, `application/x-msgpack` or
//! `application/vnd.msgpack` (a request body, a multipart part). It is
//! never tried on undeclared values: almost any byte string is the start of
//! some MessagePack value (`a` is the integer 97, `hello` a 5-element
//! array), so no cheap test tells MessagePack from arbitrary text and
//! [`Decoder::sniff`] always says no.
//!
//! # What it emits
//!
//! Like the JSON decoder: the top-level map or array is the layer point
//! itself (`{"user": {"name": "bob"}}` gives `body:msgpack.user.name` =
//! `bob`); a top-level scalar becomes the layer point's value.
//!
//! - Maps as members, arrays as indexes (`body:msgpack.ids[0]`); nested
//!   maps and arrays are containers. Duplicate keys are all kept.
//! - Map keys: a str as it is; an integer, boolean or nil as its text
//!   (`body:msgpack["42"]`, `["true"]`, `["nil"]`); any other key (float,
//!   bin, ext, array, map) names its member by the member's position in the
//!   map, `[N]` as for an array index, and is flagged once per document
//!   (`msgpack.complex-key`, score 10); the key's own content is read but
//!   not emitted.
//! - nil as `nil`, booleans as `true` / `false`, integers of every width
//!   in decimal, floats as the shortest decimal text that reads back as the
//!   same value (`1.5`, `0.1`, `1e300`, `NaN`, `inf`; float 32 as float 32).
//! - str and bin as their bytes. A str that is not UTF-8 is kept as it is
//!   and flagged once per document (`msgpack.invalid-utf8`, score 20). The
//!   engine may sniff either further (a str holding JSON or base64 gets its
//!   own layer).
//! - Extension values as a container holding one `@ext<type>` leaf with the
//!   raw payload (`body:msgpack.k["@ext5"]`), except timestamps (type -1,
//!   all three layouts) which are a leaf holding RFC 3339 text
//!   (`2023-11-14T22:13:20.5Z`); a timestamp RFC 3339 cannot write (before
//!   year 0, after 9999, nanoseconds out of range) is left as `@ext-1`.
//! - An empty body emits nothing and is no defect.
//!
//! # Defects
//!
//! A truncated or invalid value (a value head `0xc1`, a length that runs
//! past the end) stops decoding with `DecodeError::Malformed`, rule
//! `msgpack.malformed`; what was decoded before it is kept. Bytes after the
//! top-level value are flagged `msgpack.malformed` (score 30) and not
//! decoded (the raw body, which detectors also see, still holds them).
//!
//! # Limits
//!
//! The decoder keeps an explicit stack of open arrays and maps, bounded by
//! `max_nesting` (the top-level container counts as one; arrays and maps
//! used as keys count too); one more stops decoding with
//! `Exhausted(Nesting)`. Every length read from the input is compared with
//! the bytes left before it is used: an array or map claiming more entries
//! than could fit (one byte per element, two per member) is malformed at
//! once, and nothing is ever allocated from a claimed length. Decoded text
//! is written straight into the tree's buffer, inside the byte budget.

#![deny(unsafe_code)]

mod decode;
mod timestamp;
mod wire;

use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo};

/// The plugin's name and layer.
pub const NAME: &str = "msgpack";
/// Rule of a truncated or invalid value, or of trailing bytes.
pub const MALFORMED: &str = decode::MALFORMED;
/// Rule of a map key that is not a str, integer, boolean or nil.
pub const COMPLEX_KEY: &str = decode::COMPLEX_KEY;
/// Rule of a str that is not UTF-8.
pub const INVALID_UTF8: &str = decode::INVALID_UTF8;

/// The MessagePack decoder; see the crate documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgpackDecoder;

impl Decoder for MsgpackDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "MessagePack documents (declared only): members, indexes, \
                          timestamps; iterative",
        }
    }

    fn layer(&self) -> &'static str {
        NAME
    }

    fn media_types(&self) -> &'static [&'static str] {
        &[
            "application/msgpack",
            "application/x-msgpack",
            "application/vnd.msgpack",
        ]
    }

    /// Never: MessagePack cannot be told from arbitrary bytes (see the
    /// crate documentation). The decoder runs only where it is declared.
    fn sniff(&self, _value: &[u8]) -> bool {
        false
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        decode::Decoding::new(input, ctx.declared, out).document()
    }
}

rampart_plugin_api::declare_plugin! {
    decoders: [MsgpackDecoder],
    detectors: [],
}
