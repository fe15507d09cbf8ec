//! Plugins that misbehave: the engine catches panics, records a
//! `plugin-error` finding and applies the fail-open/fail-closed policy; a
//! slow decoder runs into the time budget.

use std::time::Duration;

use rampart_core::{
    Action, Engine, EngineConfig, LimitsConfig, Mode, PluginFailure, Policy, Request,
};
use rampart_plugin_api::{
    Class, DecodeCtx, DecodeError, Decoder, DetectCtx, Detector, Emitter, Finding, Key, Origin,
    PluginInfo, Registry,
};

#[derive(Clone)]
struct PanickyDecoder;
impl Decoder for PanickyDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "panicky",
            version: "1",
            description: "panics on 'boom'",
        }
    }
    fn layer(&self) -> &'static str {
        "panicky"
    }
    fn sniff(&self, v: &[u8]) -> bool {
        v == b"boom"
    }
    fn decode(&self, _: &[u8], _: &DecodeCtx<'_>, _: &mut Emitter<'_>) -> Result<(), DecodeError> {
        panic!("decoder bug")
    }
}

#[derive(Clone)]
struct PanickyDetector;
impl Detector for PanickyDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "panicky-detector",
            version: "1",
            description: "panics on values starting with 'kaboom'",
        }
    }
    fn classes(&self) -> &'static [Class] {
        &[Class::Sqli]
    }
    fn inspect(&self, v: &[u8], _: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        if v.starts_with(b"kaboom") {
            panic!("detector bug");
        }
        if v == b"evil" {
            out.push(Finding::new(
                rampart_plugin_api::NodeId(0),
                Class::Sqli,
                "test.evil",
                90,
                "evil value",
            ));
        }
    }
}

#[derive(Clone)]
struct SlowDecoder;
impl Decoder for SlowDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "slow",
            version: "1",
            description: "sleeps, then emits",
        }
    }
    fn layer(&self) -> &'static str {
        "slow"
    }
    fn sniff(&self, v: &[u8]) -> bool {
        v == b"slow"
    }
    fn decode(
        &self,
        _: &[u8],
        _: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        std::thread::sleep(Duration::from_millis(20));
        let root = out.root();
        for i in 0..1000 {
            out.leaf(root, Key::Index(i), b"x")?;
        }
        Ok(())
    }
}

fn engine(on_error: PluginFailure, max_time_ms: u64) -> Engine {
    let mut reg = Registry::new();
    rampart_builtin_plugins::register(&mut reg).unwrap();
    reg.add_decoder(PanickyDecoder, Origin::Builtin).unwrap();
    reg.add_decoder(SlowDecoder, Origin::Builtin).unwrap();
    reg.add_detector(PanickyDetector, Origin::Builtin).unwrap();
    let cfg = EngineConfig {
        mode: Mode::Block,
        policy: Policy {
            on_plugin_error: on_error,
            ..Policy::default()
        },
        limits: LimitsConfig {
            max_time_ms,
            ..LimitsConfig::default()
        },
        ..EngineConfig::default()
    };
    Engine::new(&reg, cfg).unwrap()
}

#[test]
fn panicking_plugins_are_caught_and_the_failure_policy_applies() {
    for (q, origin) in [("/?a=boom", "panicky"), ("/?a=kaboom", "panicky-detector")] {
        let open = engine(PluginFailure::Open, 10_000).inspect(&Request::new("GET", q));
        let f = open
            .findings
            .iter()
            .find(|f| f.class == Class::PluginError)
            .expect("plugin-error finding");
        assert_eq!(f.origin, origin);
        assert_eq!(open.verdict.action, Action::Allow);
        let closed = engine(PluginFailure::Closed, 10_000).inspect(&Request::new("GET", q));
        assert_eq!(closed.verdict.action, Action::Block);
        assert_eq!(closed.verdict.class, Some(Class::PluginError));
    }
}

#[test]
fn a_panic_loses_only_the_failing_detectors_findings() {
    // The built-in SQLi detector runs on this value before the panicking
    // one: its finding is kept, and the panic is recorded once.
    let ins = engine(PluginFailure::Open, 10_000).inspect(&Request::new(
        "GET",
        "/?a=kaboom%27%20union%20select%20password%20from%20users--",
    ));
    let at_a = |f: &&rampart_core::Finding| ins.tree.path(f.point).to_string() == "query.a";
    assert!(
        ins.findings
            .iter()
            .filter(at_a)
            .any(|f| f.origin == "sqli" && f.rule == "sqli.union"),
        "{:?}",
        ins.findings
    );
    let panics: Vec<_> = ins
        .findings
        .iter()
        .filter(at_a)
        .filter(|f| f.class == Class::PluginError)
        .collect();
    assert_eq!(panics.len(), 1, "{:?}", ins.findings);
    assert_eq!(panics[0].origin, "panicky-detector");
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.class, Some(Class::Sqli));
}

#[test]
fn detector_findings_decide_with_point_and_span_normalised() {
    let ins = engine(PluginFailure::Open, 10_000).inspect(&Request::new("GET", "/?a=evil"));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.class, Some(Class::Sqli));
    assert_eq!(ins.verdict.point.as_deref(), Some("query.a"));
    assert_eq!(ins.verdict.rule.as_deref(), Some("test.evil"));
}

#[test]
fn a_slow_decoder_runs_into_the_time_budget() {
    let ins = engine(PluginFailure::Open, 5).inspect(&Request::new("GET", "/?a=slow"));
    assert!(
        ins.findings.iter().any(|f| f.rule == "limit.time"),
        "{:?}",
        ins.findings
    );
    assert_eq!(ins.verdict.action, Action::Block);
}
