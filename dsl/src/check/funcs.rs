//! The table of built-in functions and name suggestions.

use crate::ir::{Builtin, Ty};

/// A plain function: fixed parameter types and a result type.
pub(crate) struct Sig {
    pub name: &'static str,
    pub f: Builtin,
    pub params: &'static [Ty],
    pub ret: Ty,
}

const S: Ty = Ty::Str;

pub(crate) const FUNCS: &[Sig] = &[
    Sig {
        name: "len",
        f: Builtin::Len,
        params: &[S],
        ret: Ty::Num,
    },
    Sig {
        name: "lower",
        f: Builtin::Lower,
        params: &[S],
        ret: S,
    },
    Sig {
        name: "upper",
        f: Builtin::Upper,
        params: &[S],
        ret: S,
    },
    Sig {
        name: "trim",
        f: Builtin::Trim,
        params: &[S],
        ret: S,
    },
    Sig {
        name: "num",
        f: Builtin::Num,
        params: &[S],
        ret: Ty::Num,
    },
    Sig {
        name: "contains",
        f: Builtin::Contains,
        params: &[S, S],
        ret: Ty::Bool,
    },
    Sig {
        name: "starts_with",
        f: Builtin::StartsWith,
        params: &[S, S],
        ret: Ty::Bool,
    },
    Sig {
        name: "ends_with",
        f: Builtin::EndsWith,
        params: &[S, S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_int",
        f: Builtin::IsInt,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_number",
        f: Builtin::IsNumber,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_uuid",
        f: Builtin::IsUuid,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_email",
        f: Builtin::IsEmail,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_base64",
        f: Builtin::IsBase64,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_hex",
        f: Builtin::IsHex,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_ip",
        f: Builtin::IsIp,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_ipv4",
        f: Builtin::IsIpv4,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_ipv6",
        f: Builtin::IsIpv6,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_jwt",
        f: Builtin::IsJwt,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_alnum",
        f: Builtin::IsAlnum,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "is_ascii",
        f: Builtin::IsAscii,
        params: &[S],
        ret: Ty::Bool,
    },
    Sig {
        name: "entropy",
        f: Builtin::Entropy,
        params: &[S],
        ret: Ty::Num,
    },
];

/// Functions with their own checking rules (not in [`FUNCS`]).
pub(crate) const SPECIAL: &[&str] = &[
    "count",
    "distinct",
    "exists",
    "attack",
    "deviation",
    "length_z",
    "char_ratio",
    "name",
];

pub(crate) fn lookup(name: &str) -> Option<&'static Sig> {
    FUNCS.iter().find(|s| s.name == name)
}

/// The detector class a shorthand function name stands for (`sqli`,
/// `code_injection`).
pub(crate) fn class_function(name: &str) -> Option<rampart_types::Class> {
    rampart_types::Class::parse(&name.replace('_', "-"))
}

/// Parses a class name as written in the language (`xss`,
/// `code_injection` or `"code-injection"`).
pub(crate) fn class_name(name: &str) -> Option<rampart_types::Class> {
    rampart_types::Class::parse(name).or_else(|| class_function(name))
}

/// Every function name, for suggestions.
pub(crate) fn all_names() -> Vec<String> {
    let mut v: Vec<String> = FUNCS.iter().map(|s| s.name.to_string()).collect();
    v.extend(SPECIAL.iter().map(|s| s.to_string()));
    v.extend(
        rampart_types::Class::ALL
            .iter()
            .map(|c| c.as_str().replace('-', "_")),
    );
    v
}

/// The closest candidate within an edit distance of 2, if any.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.len().max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
