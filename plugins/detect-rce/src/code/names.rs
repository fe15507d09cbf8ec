//! The names the code injection detector knows.

use crate::common::Small;

/// The rule a name reports under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Exec,
    Php,
    Node,
    Python,
    Java,
    JavaDeser,
    Ruby,
    Perl,
    Asp,
    Dotnet,
    Yaml,
    CallableString,
    Concat,
    ProtoPollution,
    Loop,
}

impl Rule {
    /// Rule name and message.
    pub fn text(self) -> (&'static str, &'static str) {
        match self {
            Rule::Exec => (
                "code-injection.exec-function",
                "a code or command execution function called",
            ),
            Rule::Php => ("code-injection.php", "PHP code"),
            Rule::Node => (
                "code-injection.node",
                "Node.js code reaching the process or the module loader",
            ),
            Rule::Python => (
                "code-injection.python",
                "Python code reaching the OS or object internals",
            ),
            Rule::Java => (
                "code-injection.java",
                "Java code: dangerous classes, reflection or OGNL/EL",
            ),
            Rule::JavaDeser => (
                "code-injection.java-deserialization",
                "a Java deserialization payload or gadget",
            ),
            Rule::Ruby => ("code-injection.ruby", "Ruby code running commands"),
            Rule::Perl => ("code-injection.perl", "Perl code interpolation"),
            Rule::Asp => ("code-injection.asp", "ASP/VBScript code"),
            Rule::Dotnet => (
                "code-injection.dotnet",
                ".NET code starting processes or a deserialization gadget",
            ),
            Rule::Yaml => (
                "code-injection.yaml-deserialization",
                "a YAML tag that instantiates code",
            ),
            Rule::CallableString => (
                "code-injection.callable-string",
                "a function name built from strings and called",
            ),
            Rule::Concat => (
                "code-injection.concat-obfuscation",
                "an execution function hidden by string concatenation",
            ),
            Rule::ProtoPollution => (
                "code-injection.prototype-pollution",
                "a JavaScript prototype pollution key",
            ),
            Rule::Loop => (
                "code-injection.infinite-loop",
                "an endless loop on a constant condition",
            ),
        }
    }
}

/// When a name counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anywhere.
    Any,
    /// Called: `(` follows after blanks and comments.
    Call,
    /// Used as an object: `.`, `[` or `(` follows, or `.` precedes.
    Attr,
    /// A property key: `__proto__[x]`, `"__proto__":`.
    Key,
    /// Only right after the given chain segment.
    After(&'static str),
    /// Judged by its own code.
    Special,
}

/// One name.
#[derive(Debug, Clone, Copy)]
pub struct Name {
    pub name: &'static str,
    pub need: Need,
    /// Score when the need is met.
    pub score: u8,
    /// Score when called with strong arguments.
    pub strong: u8,
    pub rule: Rule,
    /// An ordinary English word (`system`, `include`): ignored in prose
    /// unless called with strong arguments.
    pub wordy: bool,
}

include!("names_table.rs");

/// Looks a lower-case name up.
pub fn find(key: &[u8]) -> Option<&'static Name> {
    index().find(NAMES, key, |n| n.name)
}

fn index() -> &'static crate::common::Index {
    static INDEX: std::sync::OnceLock<crate::common::Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| crate::common::Index::new(NAMES, |n| n.name))
}

/// False when [`Scan::judge_name`](super) can find nothing in a lone
/// identifier `raw` (not lower-cased) whose next byte after blanks is
/// `next`: the table's filter rules its lower-case form out, it is not
/// `__name__`, and no call can follow (a call's `(` may come after blanks
/// and comments, which start with `/` or `#`); the names judged without a
/// table entry are all called.
#[inline]
pub fn may_matter(raw: &[u8], next: Option<u8>) -> bool {
    index().may_hold_ci(raw) || raw.starts_with(b"__") || matches!(next, Some(b'(' | b'/' | b'#'))
}

/// Functions whose name, rebuilt from pieces, makes a call an attack.
const EXEC_NAMES: [&[u8]; 10] = [
    b"system",
    b"exec",
    b"passthru",
    b"shell_exec",
    b"shellexec",
    b"popen",
    b"proc_open",
    b"eval",
    b"assert",
    b"execute",
];

/// True when squeezed letters contain an execution function name.
pub fn has_exec_name(s: &[u8]) -> bool {
    EXEC_NAMES
        .iter()
        .any(|n| s.windows(n.len()).any(|x| x == *n))
}

/// True when squeezed letters end with an execution function name.
pub fn ends_with_exec_name(s: &[u8]) -> bool {
    EXEC_NAMES.iter().any(|n| s.ends_with(n))
}

/// Java deserialization gadget class names.
const GADGETS: [&[u8]; 13] = [
    b"invokertransformer",
    b"chainedtransformer",
    b"constanttransformer",
    b"instantiatetransformer",
    b"instantiatefactory",
    b"clonetransformer",
    b"forclosure",
    b"whileclosure",
    b"prototypeclonefactory",
    b"prototypeserializationfactory",
    b"transformedmap",
    b"lazymap",
    b"templatesimpl",
];

/// A dotted chain naming a gadget together with `runtime`,
/// `processbuilder` or `java` (`runtime.clonetransformer`).
pub fn is_gadget_chain(keys: &[Small<64>]) -> bool {
    let gadget = keys.iter().any(|k| {
        GADGETS
            .iter()
            .any(|g| crate::common::eq_short(g, k.as_bytes()))
    });
    let anchor = keys.iter().any(|k| {
        matches!(
            k.as_bytes(),
            b"runtime" | b"processbuilder" | b"java" | b"evil" | b"exec"
        )
    });
    gadget && anchor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted() {
        for p in NAMES.windows(2) {
            assert!(p[0].name < p[1].name, "{}", p[1].name);
        }
    }
}

#[cfg(test)]
mod b64_tests {
    #[test]
    fn base64_cores_sorted() {
        for p in super::super::b64::B64_JAVA.windows(2) {
            assert!(p[0].0 < p[1].0, "{}", p[1].0);
        }
    }
}
