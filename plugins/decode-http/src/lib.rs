//! `rampart-decode-http`: decoders for HTTP header structures.
//!
//! - [`CookieDecoder`] (layer `cookie`): one `Cookie` header value into one
//!   leaf per `name=value` pair, values unquoted and percent-decoded.
//! - [`BasicDecoder`] (layer `basic`): `Authorization: Basic ...` into the
//!   leaves `user` and `password`.
//! - [`BearerDecoder`] (layer `bearer`): `Authorization: Bearer ...` into
//!   the token itself, as the layer's value, for the engine to sniff (a JWT).
//!
//! The engine tries the `Authorization` decoders in turn: each answers
//! `NotThisFormat` unless the value's [`scheme`] is its own.
//!
//! ```
//! assert_eq!(rampart_decode_http::scheme(b"  Basic Ym9iOnB3"), b"Basic");
//! ```

mod basic;
mod bearer;
mod cookie;

pub use basic::BasicDecoder;
pub use bearer::BearerDecoder;
pub use cookie::CookieDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers the decoders of this crate: `cookie`, `basic`, `bearer`.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(CookieDecoder, Origin::Builtin)?;
    reg.add_decoder(BasicDecoder, Origin::Builtin)?;
    reg.add_decoder(BearerDecoder, Origin::Builtin)
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The authentication scheme of an `Authorization` value: the first token,
/// leading whitespace skipped (`Basic` in `Basic Ym9iOnB3`). Compare it
/// case-insensitively.
pub fn scheme(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| !is_ws(b)).unwrap_or(value.len());
    let rest = &value[start..];
    let end = rest.iter().position(|&b| is_ws(b)).unwrap_or(rest.len());
    &rest[..end]
}

/// What follows the scheme, trimmed, with its offset in `value`.
pub(crate) fn credentials(value: &[u8]) -> (usize, &[u8]) {
    let lead = value.iter().position(|&b| !is_ws(b)).unwrap_or(value.len());
    let after = lead + scheme(value).len();
    let rest = &value[after..];
    let skip = rest.iter().position(|&b| !is_ws(b)).unwrap_or(rest.len());
    (after + skip, rest[skip..].trim_ascii_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_credentials() {
        assert_eq!(scheme(b"Basic abc"), b"Basic");
        assert_eq!(scheme(b"\tbearer"), b"bearer");
        assert_eq!(scheme(b""), b"");
        assert_eq!(credentials(b" Basic   Ym9i  "), (9, &b"Ym9i"[..]));
        assert_eq!(credentials(b"Basic"), (5, &b""[..]));
    }
}

// Loadable as a shared library: `cargo build -p rampart-decode-http --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [CookieDecoder, BasicDecoder, BearerDecoder],
    detectors: [],
}
