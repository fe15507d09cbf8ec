//! Decoders for the parts of a URL and for form bodies.
//!
//! - [`FormDecoder`] (layer `form`): `key=value&...` pairs of query strings and
//!   `application/x-www-form-urlencoded` bodies, with PHP/Rails-style array
//!   keys (`a[]=1`, `a[b]=2`).
//! - [`PathDecoder`] (layer `path`): the URL path, percent-decoded as a whole
//!   and split into segments.
//!
//! Both report what matters to a WAF about percent-encoding: invalid
//! escapes, IIS `%uXXXX` escapes, overlong UTF-8 (normalised so that
//! `%c0%ae%c0%ae/` reads `../`), NUL bytes and invalid UTF-8.

mod flags;
mod form;
mod path;

pub use flags::flag_report;
pub use form::FormDecoder;
pub use path::PathDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers the decoders of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(FormDecoder, Origin::Builtin)?;
    reg.add_decoder(PathDecoder, Origin::Builtin)?;
    Ok(())
}

// Loadable as a shared library: `cargo build -p rampart-decode-url --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [FormDecoder, PathDecoder],
    detectors: [],
}
