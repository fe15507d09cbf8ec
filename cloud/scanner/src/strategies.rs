//! Built-in strategies, one rhai file per class under `strategies/`.

/// `(class, source)` of every built-in strategy.
pub const BUILTIN: &[(&str, &str)] = &[
    ("sqli", include_str!("../strategies/sqli.rhai")),
    ("xss", include_str!("../strategies/xss.rhai")),
    ("traversal", include_str!("../strategies/traversal.rhai")),
    ("cmdi", include_str!("../strategies/cmdi.rhai")),
    ("ssti", include_str!("../strategies/ssti.rhai")),
    ("ssrf", include_str!("../strategies/ssrf.rhai")),
    ("xxe", include_str!("../strategies/xxe.rhai")),
];

/// The strategy a canonical class uses (`rfi` uses the SSRF callback: it
/// proves the server fetches the URL, not that it runs it).
pub fn strategy_name(canonical: &str) -> &str {
    match canonical {
        "rfi" => "ssrf",
        c => c,
    }
}

/// The source of the built-in strategy for a class (any accepted name).
pub fn builtin_strategy(class: &str) -> Option<&'static str> {
    let c = crate::report::canonical_class(class);
    let name = strategy_name(&c);
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The classes with a built-in strategy (canonical names).
pub fn builtin_classes() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}
