//! Diagnostics: every problem of a rule set at once, each with a stable
//! code, a message and a span, rendered like rustc with the source line and
//! a caret under the offending text.

use std::fmt::{self, Write as _};

use crate::span::{SourceMap, Span};

/// Stable diagnostic codes. The list and the meaning of each code are part
/// of `spec/rule-language.md` (section 8); codes are never reused.
pub mod code {
    /// Syntax error.
    pub const SYNTAX: &str = "E0001";
    /// An included file could not be loaded.
    pub const INCLUDE_NOT_FOUND: &str = "E0002";
    /// An include cycle, or includes nested too deep.
    pub const INCLUDE_CYCLE: &str = "E0003";
    /// Two rules with one id.
    pub const DUPLICATE_RULE: &str = "E0101";
    /// A clause written twice in one rule.
    pub const DUPLICATE_CLAUSE: &str = "E0102";
    /// A rule without a `then` clause.
    pub const NO_ACTION: &str = "E0103";
    /// Bad metadata: severity, confidence, origin.
    pub const BAD_METADATA: &str = "E0104";
    /// Bad scope: host pattern, method, endpoint template.
    pub const BAD_SCOPE: &str = "E0105";
    /// Two rule sets with one name.
    pub const DUPLICATE_RULESET: &str = "E0106";
    /// A point path whose root is neither a source nor a context value.
    pub const UNKNOWN_POINT: &str = "E0201";
    /// A malformed point path (a step that its root does not take).
    pub const BAD_POINT: &str = "E0202";
    /// `path.NAME` where the rule's endpoint template has no `{NAME}`.
    pub const UNKNOWN_PATH_PARAM: &str = "E0203";
    /// A call of a function that does not exist.
    pub const UNKNOWN_FUNCTION: &str = "E0301";
    /// Wrong number of arguments.
    pub const ARITY: &str = "E0302";
    /// Type mismatch.
    pub const TYPE: &str = "E0303";
    /// Unknown, repeated or misplaced named argument.
    pub const BAD_ARGUMENT: &str = "E0304";
    /// Unknown detector class.
    pub const UNKNOWN_CLASS: &str = "E0305";
    /// Bad duration (unit, zero, too long).
    pub const BAD_DURATION: &str = "E0306";
    /// `it` outside `any(..)` / `all(..)`.
    pub const IT_OUTSIDE: &str = "E0307";
    /// Unknown action.
    pub const UNKNOWN_ACTION: &str = "E0401";
    /// Actions of one rule that contradict each other.
    pub const CONFLICTING_ACTIONS: &str = "E0402";
    /// A bad action argument (status out of range, ...).
    pub const BAD_ACTION_ARGUMENT: &str = "E0403";
}

/// How bad a diagnostic is. Only errors stop a rule set from compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a rule set.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, see [`code`].
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// A label printed after the caret.
    pub label: Option<String>,
    /// A hint printed as `= help: ...`.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders with the source line and a caret:
    ///
    /// ```text
    /// error[E0201]: unknown point source `qurey`
    ///  --> app.rules:4:8
    ///   |
    /// 4 |   when qurey.q == "x"
    ///   |        ^^^^^^^ not a request source
    /// ```
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{sev}[{}]: {}", self.code, self.message);
        let loc = sources.locate(self.span);
        let Some(file) = sources.file(self.span.file) else {
            return out;
        };
        let line_text = file.line(loc.line);
        let num = loc.line.to_string();
        let pad = " ".repeat(num.len());
        let _ = writeln!(out, "{pad}--> {loc}");
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{num} | {line_text}");
        // Caret width: the span's characters on this line, at least one.
        let (end_line, end_col) = file.line_col(self.span.end);
        let line_chars = line_text.chars().count();
        let width = if end_line == loc.line {
            end_col.saturating_sub(loc.col).max(1)
        } else {
            (line_chars + 1).saturating_sub(loc.col).max(1)
        };
        let lead: String = line_text
            .chars()
            .take(loc.col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = write!(out, "{pad} | {lead}{}", "^".repeat(width));
        if let Some(label) = &self.label {
            let _ = write!(out, " {label}");
        }
        out.push('\n');
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// All diagnostics of one compilation, with the sources they point into.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub list: Vec<Diagnostic>,
    pub sources: SourceMap,
}

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    /// All diagnostics rendered, in source order.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.list {
            out.push_str(&d.render(&self.sources));
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}
