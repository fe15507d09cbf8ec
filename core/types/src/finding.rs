use std::borrow::Cow;
use std::fmt;

use crate::tree::NodeId;

/// The class of a finding. Attack classes first, then the classes decoders
/// and the engine use for what they notice about the request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum Class {
    Sqli = 1,
    Xss = 2,
    Cmdi = 3,
    CodeInjection = 4,
    Ssti = 5,
    Jndi = 6,
    Shellshock = 7,
    Traversal = 8,
    Rfi = 9,
    Ssrf = 10,
    Xxe = 11,
    XmlInjection = 12,
    Xpath = 13,
    Ldap = 14,
    Nosql = 15,
    Crlf = 16,
    MailInjection = 17,
    Ssi = 18,
    Protocol = 19,
    Scanner = 20,
    /// A request that plants a session identifier for a victim (a cookie
    /// set from a parameter, a session id sent from another site).
    SessionFixation = 21,
    /// An upload whose file name would be executed or trusted by the server
    /// (`shell.php`, `.htaccess`, `web.config`).
    FileUpload = 22,
    /// Something odd about the encoding (invalid escape, overlong UTF-8,
    /// truncated document). Not an attack by itself; scored low.
    Anomaly = 100,
    /// A decoding budget was exhausted (depth, nodes, bytes, time).
    Limit = 101,
    /// A plugin failed (returned an error or panicked).
    PluginError = 102,
}

impl Class {
    pub const ALL: [Class; 25] = [
        Class::Sqli,
        Class::Xss,
        Class::Cmdi,
        Class::CodeInjection,
        Class::Ssti,
        Class::Jndi,
        Class::Shellshock,
        Class::Traversal,
        Class::Rfi,
        Class::Ssrf,
        Class::Xxe,
        Class::XmlInjection,
        Class::Xpath,
        Class::Ldap,
        Class::Nosql,
        Class::Crlf,
        Class::MailInjection,
        Class::Ssi,
        Class::Protocol,
        Class::Scanner,
        Class::SessionFixation,
        Class::FileUpload,
        Class::Anomaly,
        Class::Limit,
        Class::PluginError,
    ];

    /// Stable name used in logs, configuration and the rule language.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Sqli => "sqli",
            Class::Xss => "xss",
            Class::Cmdi => "cmdi",
            Class::CodeInjection => "code-injection",
            Class::Ssti => "ssti",
            Class::Jndi => "jndi",
            Class::Shellshock => "shellshock",
            Class::Traversal => "traversal",
            Class::Rfi => "rfi",
            Class::Ssrf => "ssrf",
            Class::Xxe => "xxe",
            Class::XmlInjection => "xml-injection",
            Class::Xpath => "xpath",
            Class::Ldap => "ldap",
            Class::Nosql => "nosql",
            Class::Crlf => "crlf",
            Class::MailInjection => "mail-injection",
            Class::Ssi => "ssi",
            Class::Protocol => "protocol",
            Class::Scanner => "scanner",
            Class::SessionFixation => "session-fixation",
            Class::FileUpload => "file-upload",
            Class::Anomaly => "anomaly",
            Class::Limit => "limit-exceeded",
            Class::PluginError => "plugin-error",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The numeric code used across the plugin ABI.
    pub fn code(self) -> u16 {
        self as u16
    }

    pub fn from_code(code: u16) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.code() == code)
    }

    /// True for the classes that name an attack (not anomalies, limits or
    /// plugin errors).
    pub fn is_attack(self) -> bool {
        (self as u16) < 100
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte range inside a point's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
}

/// What a decoder, detector or the engine noticed about one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The point the finding is about.
    pub point: NodeId,
    pub class: Class,
    /// A stable identifier: `anomaly.invalid-escape`, `sqli.union`, ...
    pub rule: Cow<'static, str>,
    /// 0..=100: how sure the reporter is that this is what it says.
    pub score: u8,
    /// Where in the point's value (may be empty for whole-value findings).
    pub span: Span,
    /// Human-readable explanation.
    pub message: Cow<'static, str>,
    /// The plugin (or `engine`) that reported it.
    pub origin: &'static str,
    /// The finding is about the point's name (the key of a member of a
    /// structured document), not its value; the span is within the name.
    pub on_name: bool,
}

impl Finding {
    pub fn new(
        point: NodeId,
        class: Class,
        rule: impl Into<Cow<'static, str>>,
        score: u8,
        message: impl Into<Cow<'static, str>>,
    ) -> Finding {
        Finding {
            point,
            class,
            rule: rule.into(),
            score: score.min(100),
            span: Span::default(),
            message: message.into(),
            origin: "engine",
            on_name: false,
        }
    }

    pub fn with_span(mut self, span: Span) -> Finding {
        self.span = span;
        self
    }

    pub fn with_origin(mut self, origin: &'static str) -> Finding {
        self.origin = origin;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_and_codes_round_trip() {
        for c in Class::ALL {
            assert_eq!(Class::parse(c.as_str()), Some(c));
            assert_eq!(Class::from_code(c.code()), Some(c));
        }
        assert_eq!(Class::from_code(0), None);
        assert!(Class::Sqli.is_attack());
        assert!(!Class::Limit.is_attack());
    }
}
