//! The plugins linked into the `rampart` binary by default, one cargo
//! feature per plugin crate.
//!
//! Registration order matters: it is the order in which the engine tries
//! sniffing decoders on a value. Compressed and structured formats come
//! before text escapes, so that `eyJ...` is read as a JWT before base64.

use rampart_plugin_api::{Registry, RegistryError};

/// A registry holding every built-in plugin enabled at compile time.
pub fn registry() -> Result<Registry, RegistryError> {
    let mut reg = Registry::new();
    register(&mut reg)?;
    Ok(reg)
}

/// Registers every built-in plugin enabled at compile time.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "url")]
    rampart_decode_url::register(reg)?;
    #[cfg(feature = "http")]
    rampart_decode_http::register(reg)?;
    #[cfg(feature = "multipart")]
    rampart_decode_multipart::register(reg)?;
    #[cfg(feature = "json")]
    rampart_decode_json::register(reg)?;
    #[cfg(feature = "xml")]
    rampart_decode_xml::register(reg)?;
    #[cfg(feature = "graphql")]
    rampart_decode_graphql::register(reg)?;
    #[cfg(feature = "layers")]
    rampart_decode_layers::register(reg)?;
    #[cfg(feature = "scanner")]
    rampart_detect_scanner::register(reg)?;
    #[cfg(feature = "detect-protocol")]
    rampart_detect_protocol::register(reg)?;
    #[cfg(feature = "detect-xss")]
    rampart_detect_xss::register(reg)?;
    #[cfg(feature = "detect-injections")]
    rampart_detect_injections::register(reg)?;
    #[cfg(feature = "detect-sqli")]
    rampart_detect_sqli::register(reg)?;
    #[cfg(feature = "detect-files")]
    rampart_detect_files::register(reg)?;
    #[cfg(feature = "detect-rce")]
    rampart_detect_rce::register(reg)?;
    let _ = &reg;
    Ok(())
}
