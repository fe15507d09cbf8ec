//! `rampart-decode-multipart`: the `multipart` decoder for
//! `multipart/form-data`, `multipart/mixed`, `multipart/related` and
//! `multipart/alternative` bodies (RFC 2046, RFC 7578).
//!
//! Each part becomes one leaf under the `:multipart` layer, keyed by the
//! `name` of its `Content-Disposition` (or by its position, `[N]`), holding
//! the part body. Its children are `@filename` and one `@<header>` per part
//! header with the raw header value; a part's `Content-Type` is handed to
//! the engine as a hint, so a JSON part or a nested `multipart/mixed` is
//! decoded as declared. What parsers read differently (duplicate names,
//! `filename` against `filename*`, bare LF, text around the boundaries, a
//! missing final boundary) is flagged as `multipart.*` anomalies.
//!
//! ```
//! use rampart_decode_multipart::MultipartDecoder;
//! use rampart_plugin_api::Decoder;
//! assert!(MultipartDecoder.sniff(b"--xyz\r\n\r\nvalue\r\n--xyz--"));
//! ```

mod decoder;
mod disposition;
mod flags;
mod headers;
mod params;
mod part;
mod scan;

pub use decoder::MultipartDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers the `multipart` decoder.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(MultipartDecoder, Origin::Builtin)
}

// Loadable as a shared library: `cargo build -p rampart-decode-multipart --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [MultipartDecoder],
    detectors: [],
}
