//! Transparent layers: the decoders Rampart applies to a value to see what it
//! really carries.
//!
//! Each decoder here is a *transforming* decoder: it writes the decoded bytes
//! straight into the tree's buffer and makes them the value of its layer
//! point (`query.q:base64`), emitting no children. The engine then treats
//! that point as a leaf, inspects it and tries the other decoders on it, so
//! layers stack (`query.q:url:base64:json.id`). The exception is [`JwtDecoder`],
//! which takes a token apart into `header` and `payload`, both declared JSON.
//!
//! | layer | decoder | declared by | sniffed on |
//! |---|---|---|---|
//! | `gzip` | [`GzipDecoder`] | `Content-Encoding` | magic `1f 8b 08` |
//! | `deflate` | [`DeflateDecoder`] | `Content-Encoding` | a zlib header |
//! | `jwt` | [`JwtDecoder`] | - | `eyJ...` with two dots |
//! | `base64` | [`Base64Decoder`] | - | base64 that is not a word |
//! | `url` | [`UrlDecoder`] | - | `%XX` left after decoding |
//! | `html` | [`HtmlEntityDecoder`] | - | character references |
//! | `jsesc` | [`JsEscapeDecoder`] | - | `\uXXXX`, `\u{..}`, `\xXX` |
//!
//! Every decoder is total and bounded: output never exceeds the request's
//! byte budget (a gzip bomb stops at the cap and keeps what was inflated),
//! loops check the time budget, and nothing recurses.

mod b64;
mod base64;
mod deflate;
mod gzip;
mod html;
mod html_names;
mod inflate;
mod jsesc;
mod jwt;
mod sink;
mod url;

pub use crate::base64::Base64Decoder;
pub use crate::deflate::DeflateDecoder;
pub use crate::gzip::GzipDecoder;
pub use crate::html::HtmlEntityDecoder;
pub use crate::jsesc::JsEscapeDecoder;
pub use crate::jwt::JwtDecoder;
pub use crate::url::UrlDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers every layer decoder of this crate, in the order the engine
/// should try them: `gzip`, `deflate`, `jwt`, `base64`, `url`, `html`, `jsesc`.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(GzipDecoder, Origin::Builtin)?;
    reg.add_decoder(DeflateDecoder, Origin::Builtin)?;
    reg.add_decoder(JwtDecoder, Origin::Builtin)?;
    reg.add_decoder(Base64Decoder, Origin::Builtin)?;
    reg.add_decoder(UrlDecoder, Origin::Builtin)?;
    reg.add_decoder(HtmlEntityDecoder, Origin::Builtin)?;
    reg.add_decoder(JsEscapeDecoder, Origin::Builtin)?;
    Ok(())
}

// Loadable as a shared library: `cargo build -p rampart-decode-layers --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [GzipDecoder, DeflateDecoder, JwtDecoder, Base64Decoder, UrlDecoder, HtmlEntityDecoder, JsEscapeDecoder],
    detectors: [],
}
