//! XML and SOAP decoder for Rampart: the `xml` layer.
//!
//! [`XmlDecoder`] is a hand-written, non-validating, iterative tokenizer that
//! emits request points as it reads (spec `spec/request-points.md`, section
//! 3): `body:xml["soap:Envelope"]["soap:Body"].order["@id"]`. It is total on
//! any input and bounded by the request's budget: nesting lives on an
//! explicit stack capped by `max_nesting`, text is decoded straight into the
//! tree's buffer, and entities are never expanded nor fetched, so a
//! billion-laughs or XXE document costs what its bytes cost, and is flagged
//! (`xml.doctype`, `xml.entity-declaration`, `xml.external-entity`,
//! `xml.entity-reference`). Broken documents keep what was decoded and are
//! flagged or fail with `xml.malformed`.
//!
//! ```
//! use rampart_plugin_api::{Registry, Decoder};
//! let mut reg = Registry::new();
//! rampart_decode_xml::register(&mut reg).unwrap();
//! assert_eq!(reg.decoders()[0].info.name, "xml");
//! assert!(rampart_decode_xml::XmlDecoder.sniff(b"<?xml version=\"1.0\"?><a/>"));
//! ```

mod chars;
mod decoder;
mod doctype;
mod emit;
mod flags;
mod markup;
mod parser;
mod tags;
mod utf16;

pub use decoder::XmlDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers the `xml` decoder.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(XmlDecoder, Origin::Builtin)
}

// Loadable as a shared library: `cargo build -p rampart-decode-xml --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [XmlDecoder],
    detectors: [],
}
