//! The rule generator's output: every rule compiles in both states, says
//! why it exists, and tests what the aggregates prove.

use rampart_learn::formats::fold;
use rampart_learn::rulegen::{
    generate, AppFacts, DistinctFacts, EndpointFacts, PointFacts, RateFacts, RuleGenConfig,
    RuleKind, State,
};
use rampart_learn::{Function, ParamFormat};

fn point(name: &str, values: &[&str], format: ParamFormat) -> PointFacts {
    let v: Vec<&[u8]> = values.iter().map(|s| s.as_bytes()).collect();
    PointFacts {
        point: name.into(),
        stats: fold(&v, name),
        format,
        confidence: 0.99,
    }
}

fn repeat(values: &[&'static str], n: usize) -> Vec<&'static str> {
    values.iter().copied().cycle().take(n).collect()
}

fn facts() -> AppFacts {
    let ids = repeat(&["1", "42", "917", "23", "7"], 500);
    let emails = repeat(&["ann@example.org", "bob.smith@mail.example.com"], 300);
    let q = repeat(&["red shoes", "Blue hat", "café au lait"], 300);
    AppFacts {
        endpoints: vec![
            EndpointFacts {
                method: "GET".into(),
                template: "/products/{id}".into(),
                operation: None,
                function: Some(Function::ProductView),
                requests: 500,
                points: vec![point("query.page", &ids, ParamFormat::Integer)],
                points_incomplete: false,
            },
            EndpointFacts {
                method: "POST".into(),
                template: "/account".into(),
                operation: None,
                function: Some(Function::Profile),
                requests: 300,
                points: vec![
                    point("body:json.user.email", &emails, ParamFormat::Email),
                    point("body:json.note", &q, ParamFormat::FreeText),
                ],
                points_incomplete: false,
            },
            EndpointFacts {
                method: "POST".into(),
                template: "/graphql".into(),
                operation: Some("exists(body:json.query:graphql.mutation.login)".into()),
                function: Some(Function::Login),
                requests: 300,
                points: vec![point("body:json.variables.id", &ids, ParamFormat::Integer)],
                points_incomplete: false,
            },
        ],
        rates: vec![RateFacts {
            function: Function::Login,
            endpoints: vec![("POST".into(), "/graphql".into())],
            limit: 12,
            window_secs: 60,
            explanation: "login attempts per minute: 99.9% of 900 clients at or below 4".into(),
            confidence: 0.98,
            support: 300,
        }],
        distinct: vec![DistinctFacts {
            method: "GET".into(),
            template: "/products/{id}".into(),
            param: "id".into(),
            limit: 40,
            window_secs: 60,
            explanation: "distinct object ids per minute: at most 20".into(),
            confidence: 0.97,
            support: 500,
        }],
    }
}

#[test]
fn every_rule_compiles_in_both_states_and_all_together() {
    let rules = generate(&facts(), &RuleGenConfig::default());
    let kinds: std::collections::HashSet<_> = rules.iter().map(|r| r.kind).collect();
    for k in [
        RuleKind::Format,
        RuleKind::Parameters,
        RuleKind::Endpoints,
        RuleKind::Rate,
        RuleKind::Distinct,
        RuleKind::Mask,
    ] {
        assert!(kinds.contains(&k), "no {k:?} rule in {rules:#?}");
    }
    for state in [State::Monitoring, State::Blocking] {
        let mut all = String::new();
        for r in &rules {
            let text = r.source(state);
            if let Err(d) = rampart_dsl::compile_str("r.rules", text) {
                panic!("{} does not compile:\n{}\n{}", r.id, text, d.render());
            }
            assert!(text.contains("origin learned"), "{text}");
            assert!(!r.explanation.is_empty());
            assert!((0.0..=1.0).contains(&r.confidence));
            all.push_str(text);
        }
        rampart_dsl::compile_str("all.rules", &all).expect("the rules compile together");
    }
    // Ids are stable: the same facts give the same rules.
    assert_eq!(rules, generate(&facts(), &RuleGenConfig::default()));
}

#[test]
fn monitoring_never_blocks_and_blocking_does() {
    for r in generate(&facts(), &RuleGenConfig::default()) {
        let m = r.source(State::Monitoring);
        assert!(!m.contains("block(") && !m.contains("rate_limit("), "{m}");
        if r.kind != RuleKind::Mask {
            assert!(m.contains("monitor"), "{m}");
            let b = r.source(State::Blocking);
            assert!(
                b.contains("block(") || b.contains("rate_limit(") || b.contains("score("),
                "{b}"
            );
        }
    }
}

#[test]
fn format_rules_state_what_the_aggregates_prove() {
    let rules = generate(&facts(), &RuleGenConfig::default());
    let page = rules
        .iter()
        .find(|r| r.kind == RuleKind::Format && r.blocking.contains("query.page"))
        .expect("a rule for query.page");
    // Integers of at most 3 digits, never a quote or a bracket.
    assert!(page.blocking.contains("is_int(it)"), "{}", page.blocking);
    assert!(page.blocking.contains("char_ratio(it, quote) == 0"));
    assert!(page.blocking.contains("len(it) <="));
    // Free text with spaces and accents: no format test, and neither space
    // nor non-ASCII is claimed absent.
    let note = rules
        .iter()
        .find(|r| r.kind == RuleKind::Format && r.blocking.contains("body:json.note"))
        .expect("a rule for the note");
    assert!(!note.blocking.contains("is_"), "{}", note.blocking);
    assert!(!note.blocking.contains("char_ratio(it, space)"));
    assert!(!note.blocking.contains("char_ratio(it, non_ascii)"));
    // The operation's rule is scoped to the operation.
    let op = rules
        .iter()
        .find(|r| r.blocking.contains("body:json.variables.id"))
        .expect("a rule for the operation's variable");
    assert!(op
        .blocking
        .contains("exists(body:json.query:graphql.mutation.login)"));
    // Personal data is masked.
    assert!(rules
        .iter()
        .any(|r| r.kind == RuleKind::Mask && r.blocking.contains("mask(body:json.user.email)")));
    // No unknown-member rule for an operation (its body is shared).
    assert!(!rules
        .iter()
        .any(|r| r.kind == RuleKind::Parameters && r.blocking.contains("graphql")));
}

#[test]
fn too_little_evidence_writes_nothing() {
    let mut f = facts();
    for e in &mut f.endpoints {
        e.requests = 3;
        for p in &mut e.points {
            p.stats.count = 3;
        }
    }
    f.rates.clear();
    f.distinct.clear();
    let rules = generate(&f, &RuleGenConfig::default());
    assert!(rules.iter().all(|r| r.kind == RuleKind::Mask), "{rules:#?}");
}
