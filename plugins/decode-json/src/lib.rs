//! JSON decoder for Rampart: any depth, duplicate keys kept, iterative.
//!
//! [`JsonDecoder`] (layer `json`) takes apart JSON documents declared by
//! `application/json`, `text/json`, `application/x-json`,
//! `application/jsonrequest` or a `+json` suffix, and values that sniff as
//! JSON (an object or array: first non-whitespace byte `{` or `[`, last one
//! the matching `}` or `]`).
//!
//! # What it emits
//!
//! - Object members as `Key::Span` members (keys unescaped), in document
//!   order; duplicate keys are all kept: `{"a":1,"a":2}` gives two points
//!   `json.a`.
//! - Array elements as indexes: `[10,20]` gives `json[0]`, `json[1]`.
//! - Objects and arrays as containers with an empty value; the top-level
//!   object or array is the layer point itself.
//! - Strings unescaped (`\uXXXX` with surrogate pairs); numbers, `true`,
//!   `false` and `null` as written.
//! - A top-level scalar (`"abc"`, `42`) emits no point: it becomes the
//!   value of the layer point. Only in declared mode; speculatively only
//!   objects and arrays are JSON.
//! - An empty (or all-whitespace) declared body emits nothing and is no
//!   defect. In declared mode a UTF-8 byte order mark is skipped.
//!
//! # Defects (declared mode)
//!
//! - `json.invalid-escape` (score 20): an escape JSON does not know (kept
//!   literally, backslash included) or a lone surrogate (decoded as U+FFFD);
//!   reported once per document.
//! - `json.invalid-utf8` (score 20): a string holding bytes that are not
//!   UTF-8 (kept as they are); once per document.
//! - `json.malformed` (score 30) for bytes after the document, which are
//!   ignored; a truncated document or a syntax error stops decoding with
//!   `DecodeError::Malformed("json.malformed")`, the points decoded before
//!   it kept.
//!
//! Speculatively, any defect but a lone surrogate or bytes that are not
//! UTF-8 (both allowed silently) means the value is not JSON.
//!
//! # Limits
//!
//! The parser keeps an explicit stack of open containers, bounded by
//! `max_nesting` (the top-level container counts as one level); one level
//! more stops decoding with `Exhausted(Nesting)`, the points decoded before
//! kept. Strings are decoded straight into the tree's buffer, never more
//! than the byte budget allows.

mod json;
mod parser;
mod string;

pub use json::JsonDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers the decoders of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(JsonDecoder, Origin::Builtin)
}

// Loadable as a shared library: `cargo build -p rampart-decode-json --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [JsonDecoder],
    detectors: [],
}
