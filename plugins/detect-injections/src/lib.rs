//! Detectors of the injection classes that target an interpreter other
//! than SQL, a shell or a browser: XML external entities, XML injection,
//! XPath, LDAP, NoSQL (MongoDB), CRLF / HTTP response splitting, mail
//! (SMTP/IMAP) injection, server-side includes and session fixation.
//!
//! Each class is its own detector and plugin, named after the class
//! (session fixation has no class code yet):
//!
//! | plugin | detector | class |
//! |---|---|---|
//! | `xxe` | [`XxeDetector`] | [`Class::Xxe`] |
//! | `xml-injection` | [`XmlInjectionDetector`] | [`Class::XmlInjection`] |
//! | `xpath` | [`XpathDetector`] | [`Class::Xpath`] |
//! | `ldap` | [`LdapDetector`] | [`Class::Ldap`] |
//! | `nosql` | [`NosqlDetector`] | [`Class::Nosql`] |
//! | `crlf` | [`CrlfDetector`] | [`Class::Crlf`] |
//! | `mail-injection` | [`MailInjectionDetector`] | [`Class::MailInjection`] |
//! | `ssi` | [`SsiDetector`] | [`Class::Ssi`] |
//! | `session-fixation` | [`SessionFixationDetector`] | session-fixation |
//!
//! The module of each detector documents its rules and scores. Common
//! ground:
//!
//! - No regular expressions: small lexers, parsers and sorted tables.
//! - Every detector reads at most the first 64 KiB of a value
//!   and caps its own loops (tags, quotes,
//!   declarations, line breaks: each module names its caps), so the cost
//!   is linear in the value and bounded; nothing allocates on the way
//!   except the findings it reports (and the XXE detector's UTF-7 buffer,
//!   only for values that hold UTF-7 markup).
//! - Context comes from the request-point tree: the point's key and its
//!   parents' keys (`$ne` under `body:json.user`, `!entity` under
//!   `body:xml`), its source (the path, a header, the body); session
//!   fixation also reads the request's `Referer`, `Host`, cookies and path.
//! - Findings: at most four per value and detector, one per rule (the
//!   strongest), each spanning the evidence in the value (an empty span
//!   when the evidence is the point's key). Scores follow the engine's
//!   convention: 50 and above blocks on its own, 20-40 is suspicious.

mod crlf;
mod ldap;
mod lines;
mod mail;
mod nosql;
mod session;
mod ssi;
mod util;
mod xmlinj;
mod xpath;
mod xxe;

pub use crlf::CrlfDetector;
pub use ldap::LdapDetector;
pub use mail::MailInjectionDetector;
pub use nosql::NosqlDetector;
pub use session::SessionFixationDetector;
pub use ssi::SsiDetector;
pub use xmlinj::XmlInjectionDetector;
pub use xpath::XpathDetector;
pub use xxe::XxeDetector;

use rampart_plugin_api::{Class, Origin, Registry, RegistryError};

/// The classes of this crate's detectors (each named after its class), in
/// registration order.
pub const CLASSES: [Class; 9] = [
    Class::Xxe,
    Class::XmlInjection,
    Class::Xpath,
    Class::Ldap,
    Class::Nosql,
    Class::Crlf,
    Class::MailInjection,
    Class::Ssi,
    Class::SessionFixation,
];

/// Registers the detectors of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(XxeDetector, Origin::Builtin)?;
    reg.add_detector(XmlInjectionDetector, Origin::Builtin)?;
    reg.add_detector(XpathDetector, Origin::Builtin)?;
    reg.add_detector(LdapDetector, Origin::Builtin)?;
    reg.add_detector(NosqlDetector, Origin::Builtin)?;
    reg.add_detector(CrlfDetector, Origin::Builtin)?;
    reg.add_detector(MailInjectionDetector, Origin::Builtin)?;
    reg.add_detector(SsiDetector, Origin::Builtin)?;
    reg.add_detector(SessionFixationDetector, Origin::Builtin)
}

// Loadable as a shared library:
// `cargo build -p rampart-detect-injections --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [
        XxeDetector,
        XmlInjectionDetector,
        XpathDetector,
        LdapDetector,
        NosqlDetector,
        CrlfDetector,
        MailInjectionDetector,
        SsiDetector,
        SessionFixationDetector,
    ],
}
