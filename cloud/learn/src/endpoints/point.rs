//! Shaped point paths, as nodes report them (`body:json.user.email`,
//! `query.page`, `body:xml["soap:Envelope"]["soap:Body"].GetUser`,
//! `body:json.items[*].qty`), taken apart into steps and written back in
//! the rule language's point syntax.
//!
//! The parser never fails: the text comes from untrusted nodes, so anything
//! it does not understand becomes one last member holding the rest.

/// One step of a point path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The source the path starts with: `query`, `body`, `header`, `cookie`.
    Source(String),
    /// A decoding layer: `:json`, `:graphql`, `:xml`, `:form`.
    Layer(String),
    /// A member, by name (unquoted): `user`, `soap:Envelope`, `{word}`.
    Member(String),
    /// An array position, `[*]`.
    Index,
}

impl Step {
    /// The member's name, when the step is a member.
    pub fn member(&self) -> Option<&str> {
        match self {
            Step::Member(m) => Some(m),
            _ => None,
        }
    }
}

/// True for a node placeholder such as `{word}` or `{token}`.
pub fn is_placeholder(name: &str) -> bool {
    name.len() >= 2 && name.starts_with('{') && name.ends_with('}')
}

/// True for names the decoders write for metadata: GraphQL arguments and
/// directives, XML attributes and processing instructions, GraphQL
/// variables and fragment spreads.
pub fn is_meta(name: &str) -> bool {
    name.starts_with(['@', '#', '?', '!', '$']) || name.starts_with("...")
}

/// Takes a shaped point path apart.
pub fn parse(p: &str) -> Vec<Step> {
    let b = p.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    let name_end = |from: usize| {
        let mut j = from;
        while j < b.len() && !matches!(b[j], b'.' | b':' | b'[') {
            j += 1;
        }
        j
    };
    let end = name_end(0);
    steps.push(Step::Source(p[..end].to_string()));
    i = i.max(end);
    while i < b.len() && steps.len() < 256 {
        match b[i] {
            b':' => {
                let end = name_end(i + 1);
                steps.push(Step::Layer(p[i + 1..end].to_string()));
                i = end;
            }
            b'.' => {
                let end = if b.get(i + 1) == Some(&b'{') {
                    // A placeholder runs to its closing brace.
                    match p[i + 1..].find('}') {
                        Some(k) => i + 1 + k + 1,
                        None => b.len(),
                    }
                } else {
                    name_end(i + 1)
                };
                steps.push(Step::Member(p[i + 1..end].to_string()));
                i = end;
            }
            b'[' if p[i..].starts_with("[*]") => {
                steps.push(Step::Index);
                i += 3;
            }
            b'[' if p[i..].starts_with("[\"") => {
                let mut name = String::new();
                let mut j = i + 2;
                let mut closed = false;
                let chars: Vec<(usize, char)> = p[j..].char_indices().collect();
                let mut k = 0;
                while k < chars.len() {
                    let (off, c) = chars[k];
                    if c == '\\' {
                        if let Some(&(_, n)) = chars.get(k + 1) {
                            name.push(n);
                        }
                        k += 2;
                        continue;
                    }
                    if c == '"' {
                        j += off + 1;
                        closed = true;
                        break;
                    }
                    name.push(c);
                    k += 1;
                }
                steps.push(Step::Member(name));
                if !closed {
                    return steps;
                }
                i = if p[j..].starts_with(']') { j + 1 } else { j };
            }
            _ => {
                // Not a path we understand: the rest is one member.
                steps.push(Step::Member(p[i..].to_string()));
                return steps;
            }
        }
    }
    steps
}

/// True when `name` can be written as `.name` in the rule language.
fn is_ident(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Writes steps in the rule language's point syntax; placeholders become
/// the wildcard `.*` (any one member).
pub fn write(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Source(n) => out.push_str(n),
            Step::Layer(l) => {
                out.push(':');
                out.push_str(l);
            }
            Step::Index => out.push_str("[*]"),
            Step::Member(m) if is_placeholder(m) => out.push_str(".*"),
            Step::Member(m) if is_ident(m) => {
                out.push('.');
                out.push_str(m);
            }
            Step::Member(m) => {
                out.push_str("[\"");
                for c in m.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push_str("\"]");
            }
        }
    }
    out
}

/// The member names of a point path, placeholders and metadata markers
/// left out, in order (`body:json.user.email` -> `user`, `email`).
pub fn names(p: &str) -> Vec<String> {
    parse(p)
        .into_iter()
        .filter_map(|s| match s {
            Step::Member(m) if !is_placeholder(&m) => {
                let m = m.trim_start_matches(['@', '#', '?', '!', '$', '.']);
                // `soap:Body` -> `Body`.
                let local = m.rsplit(':').next().unwrap_or(m);
                (!local.is_empty()).then(|| local.to_string())
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        for p in [
            "query.page",
            "body:json.user.email",
            "body:json.items[*].qty",
            "body:xml[\"soap:Envelope\"][\"soap:Body\"].GetUser.id",
            "header[\"user-agent\"]",
            "body:json.query:graphql.mutation.login.token",
        ] {
            assert_eq!(write(&parse(p)), p, "{p}");
        }
        assert_eq!(
            write(&parse("body:graphql.mutation.{word}.{token}")),
            "body:graphql.mutation.*.*"
        );
        assert_eq!(
            parse("body:xml[\"soap:Envelope\"]"),
            vec![
                Step::Source("body".into()),
                Step::Layer("xml".into()),
                Step::Member("soap:Envelope".into())
            ]
        );
        // Odd input does not panic.
        for p in ["", ".", "[\"", "[\"a\\", "a.{b", "a[x", ":", "a:[*"] {
            let _ = write(&parse(p));
        }
        assert_eq!(names("body:xml[\"s:Body\"].@id"), vec!["Body", "id"]);
    }
}
