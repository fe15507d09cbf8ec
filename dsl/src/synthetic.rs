//! Synthetic rule sets for benchmarks (`cargo bench -p rampart-dsl`,
//! `rampart rules bench --synthetic N`): a mix of the condition shapes
//! learned and hand-written rules use (detector calls, lengths and formats,
//! wildcards over points, lists, globs, attack scores) and of actions.

/// `n` rules over `endpoints` endpoint templates (0: no endpoint scope,
/// every rule applies to every request).
pub fn rules(n: usize, endpoints: usize) -> String {
    let mut s = String::with_capacity(n * 200);
    for i in 0..n {
        let scope = if endpoints == 0 {
            String::new()
        } else {
            format!("endpoint \"/api/r{}/{{id}}\"\n  ", i % endpoints)
        };
        let id = if endpoints == 0 {
            "query.page"
        } else {
            "path.id"
        };
        let cond = match i % 6 {
            0 => format!("sqli(query.q) or contains(lower(header[\"user-agent\"]), \"scan{i}\")"),
            1 => format!("len(query.q) > {} and not is_int({id})", 100 + i % 50),
            2 => format!("any(query.*, it ~ \"*<script{i}*\")"),
            3 => format!(
                "header[\"x-token\"] in [\"t{i}\", \"u{i}\", \"v{i}\"] and method == \"POST\""
            ),
            4 => format!("starts_with(query.q, \"{i}\") or query.sort ~ \"*;{i}*\""),
            _ => format!(
                "attack(any, class = xss, min_score = {}) and len(header.accept) > 3",
                50 + i % 40
            ),
        };
        let action = match i % 3 {
            0 => "block".to_string(),
            1 => format!("score({}, class = sqli)", 1 + i % 20),
            _ => format!("tag(\"t{i}\")"),
        };
        s.push_str(&format!(
            "rule r{i} \"generated {i}\" {{\n  {scope}when {cond}\n  then {action}\n}}\n"
        ));
    }
    s
}
