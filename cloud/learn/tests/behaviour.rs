//! The behaviour layer on generated traffic: normal shop sessions (browsing,
//! search, cart, checkout, logins with the odd typo, mobile-app API
//! clients, several users behind one address, staff) and attack scenarios
//! (brute force, credential stuffing, enumeration, forced browsing,
//! scraping, API abuse), each folded into `ClientStats` the way a node's
//! aggregator does it (32 endpoints and transitions at most, keyed hashes
//! of the data segments of paths into the object sketch).

use std::collections::HashMap;
use std::sync::OnceLock;

use rampart_learn::behaviour::{
    features, merge, BehaviourConfig, BehaviourModel, BehaviourParams, Context, FnContext, Metric,
    FEATURES, FEATURE_COUNT,
};
use rampart_learn::{Function, Threat};
use rampart_telemetry::sketch::Keyer;
use rampart_telemetry::ClientStats;

const WINDOW: u64 = 60;
const T0: u64 = 1_700_000_000;

// ---------------------------------------------------------------------------
// Randomness

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------
// The application and its inventory (what the endpoint layer would learn)

const INVENTORY: &[(&str, Function)] = &[
    ("GET /", Function::Static),
    ("GET /assets/{hex}", Function::Static),
    ("GET /search", Function::Search),
    ("GET /products", Function::Search),
    ("GET /products/{int}", Function::ProductView),
    ("GET /products/{int}/reviews", Function::ProductView),
    ("GET /api/v1/products/{int}", Function::ApiRead),
    ("GET /api/v1/recommendations", Function::ApiRead),
    ("GET /api/v1/orders/{int}", Function::ApiRead),
    ("POST /api/v1/reviews", Function::ApiWrite),
    ("GET /cart", Function::Cart),
    ("POST /cart/items", Function::Cart),
    ("DELETE /cart/items/{int}", Function::Cart),
    ("GET /checkout", Function::Checkout),
    ("POST /checkout", Function::Checkout),
    ("GET /login", Function::Login),
    ("POST /login", Function::Login),
    ("POST /logout", Function::Logout),
    ("POST /register", Function::Registration),
    ("POST /password/reset", Function::PasswordReset),
    ("GET /account", Function::Profile),
    ("GET /account/orders", Function::Profile),
    ("GET /account/orders/{int}", Function::Profile),
    ("GET /invoices/{uuid}", Function::Download),
    ("GET /admin", Function::Admin),
    ("GET /admin/orders", Function::Admin),
];

fn inventory() -> &'static HashMap<&'static str, Function> {
    static INV: OnceLock<HashMap<&'static str, Function>> = OnceLock::new();
    INV.get_or_init(|| INVENTORY.iter().copied().collect())
}

fn function_of(e: &str) -> Option<Function> {
    inventory().get(e).copied()
}

fn known(e: &str) -> bool {
    inventory().contains_key(e)
}

type Ctx = FnContext<fn(&str) -> Option<Function>, fn(&str) -> bool>;

fn ctx() -> Ctx {
    FnContext {
        function: function_of as fn(&str) -> Option<Function>,
        known: known as fn(&str) -> bool,
    }
}

// ---------------------------------------------------------------------------
// A node's client aggregate, as aggregate.rs builds it

struct Event {
    t: u64,
    key: String,
    objects: Vec<String>,
    status: u16,
    /// The node refused it (counted as blocked only, not as an error).
    blocked: bool,
}

fn ev(t: u64, key: &str, objects: &[String], status: u16) -> Event {
    Event {
        t,
        key: key.to_string(),
        objects: objects.to_vec(),
        status,
        blocked: false,
    }
}

/// A request the node blocked (its block page's 403 is not the
/// application's answer).
fn blocked(t: u64, key: &str, objects: &[String]) -> Event {
    Event {
        blocked: true,
        ..ev(t, key, objects, 403)
    }
}

fn keyer() -> &'static Keyer {
    static K: OnceLock<Keyer> = OnceLock::new();
    K.get_or_init(|| Keyer::new(b"behaviour-test-salt"))
}

fn bump<K: PartialEq>(list: &mut Vec<(K, u64)>, key: K) {
    if let Some((_, n)) = list.iter_mut().find(|(k, _)| *k == key) {
        *n += 1;
    } else if list.len() < 32 {
        list.push((key, 1));
    }
}

/// Folds time-ordered events of one client into its stats.
fn aggregate(id: u64, mut events: Vec<Event>) -> ClientStats {
    events.sort_by_key(|e| e.t);
    let mut s = ClientStats {
        client: format!("{id:016x}"),
        kind: "ip".to_string(),
        ..ClientStats::default()
    };
    let mut endpoints: Vec<(String, u64)> = Vec::new();
    let mut transitions: Vec<(String, u64)> = Vec::new();
    let mut last: Option<String> = None;
    for e in events {
        if s.requests == 0 {
            s.first = e.t;
        }
        s.last = e.t;
        s.requests += 1;
        if e.blocked {
            s.blocked += 1;
        } else {
            if e.status >= 400 {
                s.errors += 1;
            }
            if e.status == 401 || e.status == 403 {
                s.auth_failures += 1;
            }
        }
        for o in &e.objects {
            s.objects.add_hash(keyer().hash(b"object", o.as_bytes()));
        }
        bump(&mut endpoints, e.key.clone());
        if let Some(prev) = &last {
            bump(&mut transitions, format!("{prev} -> {}", e.key));
        }
        last = Some(e.key);
    }
    s.endpoints = endpoints.into_iter().collect();
    s.transitions = transitions.into_iter().collect();
    s
}

// ---------------------------------------------------------------------------
// Normal traffic

const ASSETS: u64 = 14;
const PRODUCTS: u64 = 20_000;

fn assets(rng: &mut Rng, t: u64, out: &mut Vec<Event>, first_page: bool) {
    let n = if first_page {
        rng.range(3, 8)
    } else {
        rng.range(0, 2)
    };
    for i in 0..n {
        let a = format!("a{:x}f00d", rng.range(1, ASSETS));
        out.push(ev(t + i / 4, "GET /assets/{hex}", &[a], 200));
    }
}

/// One person browsing the shop during the window.
fn browser(rng: &mut Rng, start: u64, end: u64, out: &mut Vec<Event>) {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Home,
        Search,
        List,
        Product,
        Reviews,
        Cart,
        Checkout,
        Account,
        Orders,
        Order,
        Invoice,
        Done,
    }
    let mut t = start;
    let mut page = *rng.pick(&[P::Home, P::Home, P::Search, P::Product, P::List, P::Account]);
    let mut logged_in = rng.chance(0.3);
    let mut first = true;
    let mut order = rng.range(1000, 900_000);
    let pace = rng.range(3, 25); // seconds between pages, this person
    while t < end && page != P::Done {
        match page {
            P::Home => out.push(ev(t, "GET /", &[], 200)),
            P::Search => out.push(ev(t, "GET /search", &[], 200)),
            P::List => out.push(ev(t, "GET /products", &[], 200)),
            P::Product => {
                let id = rng.range(1, PRODUCTS).to_string();
                let status = if rng.chance(0.01) { 404 } else { 200 };
                out.push(ev(t, "GET /products/{int}", &[id], status));
                if rng.chance(0.2) {
                    let id = rng.range(1, PRODUCTS).to_string();
                    out.push(ev(t + 1, "GET /api/v1/products/{int}", &[id], 200));
                }
            }
            P::Reviews => {
                let id = rng.range(1, PRODUCTS).to_string();
                out.push(ev(t, "GET /products/{int}/reviews", &[id], 200));
                if logged_in && rng.chance(0.1) {
                    out.push(ev(t + 5, "POST /api/v1/reviews", &[], 201));
                }
            }
            P::Cart => {
                if rng.chance(0.6) {
                    out.push(ev(t, "POST /cart/items", &[], 201));
                }
                if rng.chance(0.1) {
                    let id = rng.range(1, PRODUCTS).to_string();
                    out.push(ev(t, "DELETE /cart/items/{int}", &[id], 204));
                }
                out.push(ev(t + 1, "GET /cart", &[], 200));
            }
            P::Checkout => {
                if !logged_in {
                    login(rng, &mut t, out);
                    logged_in = true;
                }
                out.push(ev(t, "GET /checkout", &[], 200));
                if rng.chance(0.7) {
                    t += rng.range(10, 30);
                    out.push(ev(t, "POST /checkout", &[], 200));
                }
            }
            P::Account => {
                if !logged_in {
                    login(rng, &mut t, out);
                    logged_in = true;
                }
                out.push(ev(t, "GET /account", &[], 200));
            }
            P::Orders => out.push(ev(t, "GET /account/orders", &[], 200)),
            P::Order => {
                order += rng.range(1, 30);
                out.push(ev(
                    t,
                    "GET /account/orders/{int}",
                    &[order.to_string()],
                    200,
                ));
            }
            P::Invoice => {
                let id = format!("{:08x}-1b2c-4d3e-8f90-{:012x}", rng.next() as u32, order);
                out.push(ev(t, "GET /invoices/{uuid}", &[id], 200));
            }
            P::Done => {}
        }
        assets(rng, t, out, first);
        first = false;
        if rng.chance(0.003) {
            // A stale bookmark or a mistyped address.
            let keys = ["GET /{word}", "GET /products/{word}"];
            let key = keys[(rng.next() % 2) as usize];
            out.push(ev(t + 1, key, &[], 404));
        }
        let r = rng.f();
        page = match page {
            P::Home | P::Search | P::List => {
                if r < 0.15 {
                    P::Search
                } else if r < 0.25 {
                    P::List
                } else if r < 0.85 {
                    P::Product
                } else if r < 0.9 {
                    P::Account
                } else {
                    P::Done
                }
            }
            P::Product | P::Reviews => {
                if r < 0.35 {
                    P::Product
                } else if r < 0.45 {
                    P::Reviews
                } else if r < 0.6 {
                    P::Search
                } else if r < 0.75 {
                    P::Cart
                } else if r < 0.85 {
                    P::List
                } else if r < 0.93 {
                    P::Home
                } else {
                    P::Done
                }
            }
            P::Cart => {
                if r < 0.4 {
                    P::Checkout
                } else if r < 0.8 {
                    P::Product
                } else {
                    P::Done
                }
            }
            P::Checkout => {
                if r < 0.3 {
                    P::Orders
                } else {
                    P::Done
                }
            }
            P::Account | P::Orders => {
                if r < 0.5 {
                    P::Orders
                } else if r < 0.8 {
                    P::Order
                } else {
                    P::Home
                }
            }
            P::Order => {
                if r < 0.3 {
                    P::Invoice
                } else if r < 0.6 {
                    P::Order
                } else if r < 0.8 {
                    P::Orders
                } else {
                    P::Done
                }
            }
            P::Invoice => {
                if r < 0.5 {
                    P::Order
                } else {
                    P::Done
                }
            }
            P::Done => P::Done,
        };
        t += pace / 2 + rng.range(0, pace);
    }
    if logged_in && rng.chance(0.05) {
        out.push(ev(t.min(end), "POST /logout", &[], 200));
    }
}

/// A login, with the odd typo (401) before it works, or giving up.
fn login(rng: &mut Rng, t: &mut u64, out: &mut Vec<Event>) {
    out.push(ev(*t, "GET /login", &[], 200));
    *t += rng.range(4, 15);
    let typos = if rng.chance(0.9) {
        0
    } else if rng.chance(0.8) {
        1
    } else if rng.chance(0.8) {
        2
    } else {
        3
    };
    for _ in 0..typos {
        out.push(ev(*t, "POST /login", &[], 401));
        *t += rng.range(3, 12);
    }
    if rng.chance(0.02) {
        // Forgot the password.
        out.push(ev(*t, "POST /password/reset", &[], 200));
        *t += 20;
    }
    out.push(ev(*t, "POST /login", &[], 200));
    *t += 1;
}

/// A mobile app: API reads, a review now and then.
fn app(rng: &mut Rng, start: u64, end: u64, out: &mut Vec<Event>) {
    let pace = rng.range(2, 12);
    let mut t = start;
    while t < end {
        if rng.chance(0.7) {
            let id = rng.range(1, PRODUCTS).to_string();
            out.push(ev(t, "GET /api/v1/products/{int}", &[id], 200));
        } else {
            out.push(ev(t, "GET /api/v1/recommendations", &[], 200));
        }
        if rng.chance(0.02) {
            out.push(ev(t + 1, "POST /api/v1/reviews", &[], 201));
        }
        if rng.chance(0.01) {
            let id = rng.range(1000, 900_000).to_string();
            out.push(ev(t + 1, "GET /api/v1/orders/{int}", &[id], 200));
        }
        t += rng.range(1, pace);
    }
}

/// Staff working in the back office.
fn staff(rng: &mut Rng, start: u64, end: u64, out: &mut Vec<Event>) {
    let mut t = start;
    out.push(ev(t, "GET /admin", &[], 200));
    while t < end {
        t += rng.range(3, 15);
        out.push(ev(t, "GET /admin/orders", &[], 200));
        if rng.chance(0.5) {
            let id = rng.range(1000, 900_000).to_string();
            out.push(ev(t + 2, "GET /account/orders/{int}", &[id], 200));
        }
    }
}

/// One normal client (an address) during a window.
fn normal_client(rng: &mut Rng, id: u64) -> ClientStats {
    let end = T0 + WINDOW;
    let mut out = Vec::new();
    let r = rng.f();
    let start = |rng: &mut Rng| T0 + rng.range(0, WINDOW - 5);
    if r < 0.86 {
        let s = start(rng);
        browser(rng, s, end, &mut out);
    } else if r < 0.95 {
        let s = start(rng);
        app(rng, s, end, &mut out);
    } else if r < 0.995 {
        // Several people behind one address (an office, a carrier NAT).
        for _ in 0..rng.range(2, 5) {
            let s = start(rng);
            if rng.chance(0.8) {
                browser(rng, s, end, &mut out);
            } else {
                app(rng, s, end, &mut out);
            }
        }
    } else {
        let s = start(rng);
        staff(rng, s, end, &mut out);
    }
    aggregate(id, out)
}

fn normal_clients(seed: u64, n: usize) -> Vec<ClientStats> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| normal_client(&mut rng, seed << 32 | i as u64))
        .collect()
}

// ---------------------------------------------------------------------------
// Attacks

/// `n` events spread over the window.
fn spread(rng: &mut Rng, rate_per_min: u64) -> Vec<u64> {
    let start = T0 + rng.range(0, 5);
    let n = rate_per_min * (T0 + WINDOW - start) / 60;
    (0..n.max(1))
        .map(|i| start + i * 60 / rate_per_min)
        .collect()
}

fn brute_force(rng: &mut Rng, id: u64) -> ClientStats {
    let mut out = vec![ev(T0, "GET /login", &[], 200)];
    let rate = rng.range(10, 300);
    for t in spread(rng, rate) {
        let ok = rng.chance(0.002);
        out.push(ev(t, "POST /login", &[], if ok { 200 } else { 401 }));
    }
    aggregate(id, out)
}

fn enumeration(rng: &mut Rng, id: u64) -> ClientStats {
    let key = *rng.pick(&["GET /account/orders/{int}", "GET /api/v1/orders/{int}"]);
    let mut next = rng.range(1000, 900_000);
    let mut out = Vec::new();
    if rng.chance(0.5) {
        out.push(ev(T0, "GET /account", &[], 200));
    }
    let rate = rng.range(30, 300);
    for t in spread(rng, rate) {
        next += rng.range(1, 3);
        let status = *rng.pick(&[403, 403, 404, 200]);
        out.push(ev(t, key, &[next.to_string()], status));
    }
    aggregate(id, out)
}

fn forced_browsing(rng: &mut Rng, id: u64) -> ClientStats {
    let shapes = [
        ("GET /{word}", 0),
        ("GET /{word}/{word}", 0),
        ("GET /admin/{word}", 0),
        ("GET /api/{word}", 0),
        ("GET /{word}/{word}/{word}", 0),
        ("GET /{token}", 1),
        ("GET /{word}/{token}", 1),
        ("GET /assets/{word}", 0),
        ("POST /{word}", 0),
    ];
    let mut out = Vec::new();
    let rate = rng.range(20, 300);
    for (i, t) in spread(rng, rate).into_iter().enumerate() {
        let (key, objects) = *rng.pick(&shapes);
        let obj: Vec<String> = (0..objects).map(|_| format!("w{i}")).collect();
        let status = if rng.chance(0.9) { 404 } else { 403 };
        out.push(ev(t, key, &obj, status));
    }
    aggregate(id, out)
}

fn scraping(rng: &mut Rng, id: u64) -> ClientStats {
    let mut next = rng.range(1, PRODUCTS);
    let mut out = Vec::new();
    let rate = rng.range(60, 400);
    for t in spread(rng, rate) {
        if rng.chance(0.05) {
            out.push(ev(t, "GET /products", &[], 200));
            continue;
        }
        next += 1;
        let status = if rng.chance(0.03) { 404 } else { 200 };
        out.push(ev(t, "GET /products/{int}", &[next.to_string()], status));
    }
    aggregate(id, out)
}

fn api_abuse(rng: &mut Rng, id: u64) -> ClientStats {
    let mut out = Vec::new();
    let rate = rng.range(30, 300);
    for t in spread(rng, rate) {
        if rng.chance(0.1) {
            let p = rng.range(1, PRODUCTS).to_string();
            out.push(ev(t, "GET /api/v1/products/{int}", &[p], 200));
        } else {
            out.push(ev(t, "POST /api/v1/reviews", &[], 201));
        }
    }
    aggregate(id, out)
}

/// One bot of a credential-stuffing campaign: a few logins, nearly all
/// failing.
fn stuffer(rng: &mut Rng, id: u64) -> ClientStats {
    let mut out = Vec::new();
    let mut t = T0 + rng.range(0, 50);
    if rng.chance(0.5) {
        out.push(ev(t, "GET /login", &[], 200));
        t += 1;
    }
    for _ in 0..rng.range(1, 4) {
        let ok = rng.chance(0.02);
        out.push(ev(t, "POST /login", &[], if ok { 200 } else { 401 }));
        t += rng.range(1, 3);
    }
    aggregate(id, out)
}

// ---------------------------------------------------------------------------
// The trained model, shared by the tests

fn config() -> BehaviourConfig {
    let mut cfg = BehaviourConfig::default();
    // Fewer passes than the default keep the debug build's test short.
    cfg.train.epochs = 25;
    cfg
}

fn training_set() -> &'static Vec<ClientStats> {
    static SET: OnceLock<Vec<ClientStats>> = OnceLock::new();
    SET.get_or_init(|| normal_clients(1, 6000))
}

fn model() -> &'static BehaviourModel {
    static MODEL: OnceLock<BehaviourModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        BehaviourModel::train(training_set(), &ctx(), &config()).expect("enough normal clients")
    })
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn merge_adds_counts_bounds_maps_and_merges_sketches() {
    let mut rng = Rng::new(5);
    let mut a = aggregate(
        7,
        (0..40)
            .map(|i| ev(T0 + i, &format!("GET /p{i}"), &[format!("o{i}")], 200))
            .collect(),
    );
    let b = aggregate(
        7,
        (0..40)
            .map(|i| {
                let status = if rng.chance(0.5) { 401 } else { 404 };
                ev(
                    T0 - 30 + i,
                    &format!("GET /q{i}"),
                    &[format!("o{}", i + 20)],
                    status,
                )
            })
            .collect(),
    );
    assert_eq!(a.endpoints.len(), 32);
    let (ra, rb) = (a.requests, b.requests);
    let (ea, eb) = (a.errors, b.errors);
    merge(&mut a, &b);
    assert_eq!(a.requests, ra + rb);
    assert_eq!(a.errors, ea + eb);
    assert_eq!(a.auth_failures, b.auth_failures);
    assert_eq!(a.first, T0 - 30);
    assert_eq!(a.last, T0 + 39);
    assert_eq!(a.endpoints.len(), 64, "bounded");
    assert!(a.transitions.len() <= 64);
    let est = a.objects.estimate();
    assert!((est - 60.0).abs() < 10.0, "{est}");
    // Repeated merges of one endpoint add up.
    let mut c = ClientStats::default();
    let d = aggregate(9, vec![ev(T0 + 5, "GET /x", &[], 200)]);
    merge(&mut c, &d);
    merge(&mut c, &d);
    assert_eq!(c.endpoints.get("GET /x"), Some(&2));
    assert_eq!(
        (c.first, c.last, c.client.as_str()),
        (T0 + 5, T0 + 5, d.client.as_str())
    );
    // Saturation instead of overflow.
    let mut e = ClientStats {
        requests: u64::MAX,
        ..ClientStats::default()
    };
    merge(&mut e, &d);
    assert_eq!(e.requests, u64::MAX);
}

#[test]
fn features_are_finite_bounded_and_documented() {
    assert_eq!(FEATURES.len(), 24);
    let c = ctx();
    let mut rng = Rng::new(3);
    let mut odd = normal_client(&mut rng, 1);
    odd.requests = 0;
    odd.errors = u64::MAX;
    odd.auth_failures = u64::MAX;
    odd.endpoints.insert("GET /zzz".into(), u64::MAX);
    odd.transitions.insert("no arrow".into(), 3);
    for s in [ClientStats::default(), odd, brute_force(&mut rng, 2)] {
        for secs in [0, 1, 60, u64::MAX] {
            let f = features(&s, &c, secs);
            assert_eq!(f.len(), FEATURE_COUNT);
            assert!(f.iter().all(|x| x.is_finite()), "{f:?}");
            // Shares and ratios stay within [0, 2].
            for (i, x) in f.iter().enumerate() {
                assert!(*x >= 0.0, "feature {i}: {x}");
            }
        }
    }
    // The login features of a brute forcer.
    let bf = brute_force(&mut Rng::new(4), 3);
    let f = features(&bf, &c, WINDOW);
    assert!(f[5] > 0.8, "login failure ratio {}", f[5]);
    assert!(f[22 + Function::Login.index()] > 0.95);
}

#[test]
fn at_most_one_false_alarm_per_10000_normal_clients() {
    let m = model();
    let c = ctx();
    let normal = normal_clients(2, 10_000);
    let verdicts = m.assess_many(&normal, &c, WINDOW);
    let alarms: Vec<_> = verdicts.iter().filter(|a| a.anomalous).collect();
    println!(
        "threshold {:.3} ({:?}); false alarms {} of {}",
        m.threshold(),
        m.params().calibration,
        alarms.len(),
        normal.len()
    );
    for a in &alarms {
        println!("  {}", a.explanation);
    }
    let mut scores: Vec<f64> = verdicts
        .iter()
        .zip(&normal)
        .filter(|(_, c)| c.requests >= m.params().config.min_requests)
        .map(|(a, _)| a.score)
        .collect();
    scores.sort_by(f64::total_cmp);
    let excess = verdicts
        .iter()
        .map(|a| a.profile_excess)
        .fold(0.0, f64::max);
    println!(
        "largest scores of judged normal clients {:?}; largest profile excess {excess:.2}",
        &scores[scores.len() - 5..]
    );
    assert!(alarms.len() <= 1, "{} false alarms", alarms.len());
    // The window-level detector is quiet on normal windows too.
    for w in normal.chunks(400) {
        assert!(m.assess_window(w, &c).is_empty());
    }
}

#[test]
fn every_scenario_is_detected_with_its_threat() {
    let m = model();
    let c = ctx();
    type Gen = fn(&mut Rng, u64) -> ClientStats;
    let scenarios: [(Threat, Gen); 5] = [
        (Threat::BruteForce, brute_force),
        (Threat::Enumeration, enumeration),
        (Threat::ForcedBrowsing, forced_browsing),
        (Threat::Scraping, scraping),
        (Threat::ApiAbuse, api_abuse),
    ];
    let mut rng = Rng::new(77);
    for (threat, gen) in scenarios {
        let n = 200;
        let clients: Vec<ClientStats> = (0..n).map(|i| gen(&mut rng, 1 << 40 | i)).collect();
        let verdicts = m.assess_many(&clients, &c, WINDOW);
        let hit = verdicts
            .iter()
            .filter(|a| a.anomalous && a.threat == Some(threat))
            .count();
        let flagged = verdicts.iter().filter(|a| a.anomalous).count();
        let by_network = verdicts.iter().filter(|a| a.score > a.threshold).count();
        let lowest = verdicts.iter().map(|a| a.score).fold(f64::MAX, f64::min);
        println!("{threat}: lowest score {lowest:.3}");
        println!(
            "{threat}: {hit} of {n} named right, {flagged} flagged ({by_network} by the \
             autoencoder's score alone)"
        );
        if let Some(a) = verdicts.iter().find(|a| a.threat != Some(threat)) {
            println!("  missed: {}", a.explanation);
        } else if let Some(a) = verdicts.first() {
            println!("  e.g. {}", a.explanation);
        }
        assert!(hit * 100 >= n as usize * 95, "{threat}: {hit} of {n}");
    }
}

#[test]
fn credential_stuffing_is_flagged_across_clients() {
    let m = model();
    let c = ctx();
    let mut rng = Rng::new(99);
    let windows = 20;
    let mut detected = 0;
    let (mut found, mut bots_total, mut wrong) = (0, 0, 0);
    for w in 0..windows {
        let mut clients = normal_clients(1000 + w, 300);
        let bots = rng.range(40, 300);
        let first_bot = clients.len();
        for i in 0..bots {
            clients.push(stuffer(&mut rng, 1 << 48 | w << 20 | i));
        }
        let bot_ids: Vec<String> = clients[first_bot..]
            .iter()
            .map(|c| c.client.clone())
            .collect();
        let alerts = m.assess_window(&clients, &c);
        if let Some(a) = alerts
            .iter()
            .find(|a| a.threat == Threat::CredentialStuffing)
        {
            detected += 1;
            found += a.clients.iter().filter(|c| bot_ids.contains(c)).count();
            wrong += a.clients.iter().filter(|c| !bot_ids.contains(c)).count();
            if w == 0 {
                println!("{}", a.explanation);
            }
        }
        bots_total += bots as usize;
    }
    println!(
        "credential stuffing: {detected} of {windows} windows; {found} of {bots_total} bots named, \
         {wrong} normal clients named"
    );
    assert!(detected * 100 >= windows as usize * 95);
    assert!(found * 100 >= bots_total * 95);
    assert!(
        wrong * 20 <= found,
        "{wrong} normal clients among {found} bots"
    );
}

#[test]
fn profiles_bound_normal_clients_and_explain_themselves() {
    let m = model();
    let login = m
        .profile(Metric::LoginFailuresPerMinute, Some(Function::Login))
        .expect("login failures profile");
    assert!(
        login.limit >= login.value && login.limit >= 3.0,
        "{login:?}"
    );
    assert!(login.limit < 10.0, "{login:?}");
    assert!(login.explanation.contains("failed logins"));
    let objects = m
        .profile(Metric::DistinctObjectsPerMinute, None)
        .expect("objects profile");
    assert!(objects.value > 5.0 && objects.limit < 200.0, "{objects:?}");
    let product = m
        .profile(Metric::RequestsPerMinute, Some(Function::ProductView))
        .expect("product view profile");
    assert!(product.limit >= product.max);
    // Every profile bounds the normal clients it was learned from.
    for p in m.profiles() {
        assert!(p.limit >= p.max, "{p:?}");
        println!("{}", p.explanation);
    }
    assert!(m
        .profile(Metric::RequestsPerMinute, Some(Function::Upload))
        .is_none());
}

#[test]
fn params_round_trip_as_json_and_restore_the_model() {
    let m = model();
    let json = serde_json::to_string(m.params()).expect("serialises");
    let back: BehaviourParams = serde_json::from_str(&json).expect("parses");
    // Floats come back to the last digit or so (serde_json's parser).
    let p = m.params();
    assert_eq!(back.feature_names, p.feature_names);
    assert_eq!((&back.mean, &back.scale), (&p.mean, &p.scale));
    assert_eq!(back.config, p.config);
    assert!((back.threshold - p.threshold).abs() <= 1e-9 * p.threshold);
    assert_eq!(back.profiles.len(), p.profiles.len());
    for (x, y) in back.profiles.iter().zip(&p.profiles) {
        assert_eq!((x.metric, x.function), (y.metric, y.function));
        assert!((x.limit - y.limit).abs() <= 1e-9 * y.limit);
    }
    let c = ctx();
    let restored = BehaviourModel::restore(back, training_set(), &c).expect("restores");
    assert!((restored.threshold() - m.threshold()).abs() <= 1e-9 * m.threshold());
    let mut rng = Rng::new(123);
    let probe: Vec<ClientStats> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                normal_client(&mut rng, i)
            } else {
                brute_force(&mut rng, i)
            }
        })
        .collect();
    let a = m.assess_many(&probe, &c, WINDOW);
    let b = restored.assess_many(&probe, &c, WINDOW);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x.anomalous, y.anomalous,
            "{} / {}",
            x.explanation, y.explanation
        );
        assert_eq!(x.threat, y.threat);
    }
    // Too little data is an error, not a silent model.
    assert!(BehaviourModel::train(&training_set()[..10], &c, &config()).is_err());
}

#[test]
fn merged_windows_of_an_attacker_are_still_detected() {
    // Six 10 s node batches of one brute forcer, merged.
    let m = model();
    let c = ctx();
    let mut acc = ClientStats::default();
    for k in 0..6u64 {
        let out: Vec<Event> = (0..5)
            .map(|i| ev(T0 + k * 10 + i * 2, "POST /login", &[], 401))
            .collect();
        merge(&mut acc, &aggregate(42, out));
    }
    assert_eq!(acc.requests, 30);
    let a = m.assess(&acc, &c);
    assert!(a.anomalous, "{}", a.explanation);
    assert_eq!(a.threat, Some(Threat::BruteForce), "{}", a.explanation);
    assert!(a.explanation.contains("failed logins"));
}

// ---------------------------------------------------------------------------
// Hard cases: normal users near the criteria, attackers the node partly
// blocked, campaigns of few clients

/// Whether the verdict raises an alert (what the server records: an
/// anomalous client with a named threat).
fn alert(a: &rampart_learn::behaviour::Assessment) -> bool {
    a.anomalous && a.threat.is_some()
}

/// A user who signs in with a typo or two early in the span and does
/// little else yet (the span ends soon after).
fn clumsy_user(rng: &mut Rng, id: u64) -> ClientStats {
    let mut t = T0 + rng.range(0, 40);
    let mut out = Vec::new();
    if rng.chance(0.5) {
        out.push(ev(t, "GET /login", &[], 200));
        t += rng.range(3, 10);
    }
    for _ in 0..rng.range(1, 2) {
        out.push(ev(t, "POST /login", &[], 401));
        t += rng.range(3, 10);
    }
    if rng.chance(0.8) {
        out.push(ev(t, "POST /login", &[], 200));
        t += 2;
    }
    for _ in 0..rng.range(0, 2) {
        let page = *rng.pick(&["GET /account", "GET /", "GET /cart"]);
        out.push(ev(t, page, &[], 200));
        t += rng.range(2, 8);
    }
    aggregate(id, out)
}

/// A user of an application that answers 401 to pages that need a
/// session: a few API reads of their own orders before signing in, then
/// the same after.
fn early_reader(rng: &mut Rng, id: u64) -> ClientStats {
    let mut t = T0 + rng.range(0, 10);
    let mut out = vec![ev(t, "GET /", &[], 200)];
    let mut order = rng.range(1000, 900_000);
    for _ in 0..rng.range(4, 7) {
        t += rng.range(2, 6);
        order += rng.range(1, 40);
        out.push(ev(t, "GET /api/v1/orders/{int}", &[order.to_string()], 401));
    }
    let mut u = 0;
    login(rng, &mut t, &mut out);
    for _ in 0..rng.range(0, 5) {
        t += rng.range(2, 6);
        u += 1;
        out.push(ev(
            t,
            "GET /api/v1/orders/{int}",
            &[(order + u).to_string()],
            200,
        ));
    }
    aggregate(id, out)
}

#[test]
fn users_with_a_few_failed_logins_or_401s_raise_no_alert() {
    let m = model();
    let c = ctx();
    let mut rng = Rng::new(404);
    type Gen = fn(&mut Rng, u64) -> ClientStats;
    for (what, gen) in [
        ("clumsy user", clumsy_user as Gen),
        ("early reader", early_reader as Gen),
    ] {
        let clients: Vec<ClientStats> = (0..1000).map(|i| gen(&mut rng, 1 << 44 | i)).collect();
        let verdicts = m.assess_many(&clients, &c, WINDOW);
        let alerts: Vec<_> = verdicts.iter().filter(|a| alert(a)).collect();
        let anomalous = verdicts.iter().filter(|a| a.anomalous).count();
        println!(
            "{what}: {} alerts, {anomalous} anomalous of {}",
            alerts.len(),
            clients.len()
        );
        for a in alerts.iter().take(3) {
            println!("  {}", a.explanation);
        }
        assert!(alerts.is_empty(), "{what}: {} alerts", alerts.len());
        assert!(verdicts
            .iter()
            .all(|a| a.threat != Some(Threat::CredentialStuffing)));
    }
    // A few of them among the clients of a window are no campaign.
    for w in 0..50u64 {
        let mut clients = normal_clients(5000 + w, 60);
        for i in 0..3 {
            clients.push(clumsy_user(&mut rng, 1 << 45 | w << 8 | i));
        }
        let alerts = m.assess_window(&clients, &c);
        assert!(alerts.is_empty(), "window {w}: {:?}", alerts);
    }
}

/// A brute forcer the node started blocking after a few attempts (a
/// learned rate limit): the blocked attempts are counted as blocked only.
fn blocked_brute_force(rng: &mut Rng, id: u64) -> ClientStats {
    let mut out = Vec::new();
    if rng.chance(0.5) {
        out.push(ev(T0, "GET /login", &[], 200));
    }
    let answered = rng.range(0, 12);
    let rate = rng.range(20, 240);
    for (i, t) in spread(rng, rate).into_iter().enumerate() {
        if (i as u64) < answered {
            out.push(ev(t, "POST /login", &[], 401));
        } else {
            out.push(blocked(t, "POST /login", &[]));
        }
    }
    aggregate(id, out)
}

/// A brute forcer of a sign-in form that answers failures with 200 and
/// the form again.
fn form_brute_force(rng: &mut Rng, id: u64) -> ClientStats {
    let rate = rng.range(25, 240);
    let out = spread(rng, rate)
        .into_iter()
        .map(|t| ev(t, "POST /login", &[], 200))
        .collect();
    aggregate(id, out)
}

/// A brute forcer of an API sign-in the endpoint layer took for an API
/// write (`POST /api/v1/reviews` here), partly blocked.
fn api_guessing(rng: &mut Rng, id: u64) -> ClientStats {
    let rate = rng.range(20, 240);
    let answered = rng.range(10, 30);
    let mut out = Vec::new();
    for (i, t) in spread(rng, rate).into_iter().enumerate() {
        if (i as u64) < answered {
            out.push(ev(t, "POST /api/v1/reviews", &[], 401));
        } else {
            out.push(blocked(t, "POST /api/v1/reviews", &[]));
        }
    }
    aggregate(id, out)
}

/// A scanner whose paths mostly fit a catalogue template (`GET /{slug}`,
/// product pages by name, so they look known), nearly all not found, a
/// quarter blocked by the node, a few outside the inventory.
fn catalogue_prober(rng: &mut Rng, id: u64) -> ClientStats {
    let mut out = Vec::new();
    let n = rng.range(60, 200);
    let mut t = T0 + rng.range(0, 5);
    for i in 0..n {
        if t >= T0 + WINDOW {
            break;
        }
        let r = rng.f();
        if r < 0.25 {
            out.push(blocked(t, "GET /{slug}", &[format!("p{i}")]));
        } else if r < 0.95 {
            out.push(ev(t, "GET /{slug}", &[format!("p{i}")], 404));
        } else {
            let key = *rng.pick(&["GET /{word}/{word}", "GET /{word}/{file}"]);
            out.push(ev(t, key, &[], 404));
        }
        if i % 3 == 0 {
            t += 1;
        }
    }
    aggregate(id, out)
}

fn slug_function(e: &str) -> Option<Function> {
    if e == "GET /{slug}" {
        Some(Function::ProductView)
    } else {
        function_of(e)
    }
}

fn slug_known(e: &str) -> bool {
    e == "GET /{slug}" || known(e)
}

/// A password-reset (or any write) flood, partly blocked by a rate limit.
fn write_flood(rng: &mut Rng, id: u64) -> ClientStats {
    let key = *rng.pick(&[
        "POST /password/reset",
        "POST /api/v1/reviews",
        "POST /register",
    ]);
    let rate = rng.range(300, 900);
    let block = rng.chance(0.5);
    let mut out = Vec::new();
    for (i, t) in spread(rng, rate).into_iter().enumerate() {
        if block && i >= 40 {
            out.push(blocked(t, key, &[]));
        } else {
            out.push(ev(t, key, &[], 200));
        }
    }
    aggregate(id, out)
}

/// An id walk that a distinct-id guard blocks after the first ids.
fn guarded_enumeration(rng: &mut Rng, id: u64) -> ClientStats {
    let mut next = rng.range(1000, 900_000);
    let mut out = Vec::new();
    let rate = rng.range(60, 300);
    for (i, t) in spread(rng, rate).into_iter().enumerate() {
        next += 1;
        let o = [next.to_string()];
        if i >= 25 {
            out.push(blocked(t, "GET /api/v1/orders/{int}", &o));
        } else {
            let status = *rng.pick(&[403, 403, 404, 200]);
            out.push(ev(t, "GET /api/v1/orders/{int}", &o, status));
        }
    }
    aggregate(id, out)
}

#[test]
fn partly_blocked_attackers_are_detected_with_their_threat() {
    let m = model();
    let plain = ctx();
    let slug: Ctx = FnContext {
        function: slug_function as fn(&str) -> Option<Function>,
        known: slug_known as fn(&str) -> bool,
    };
    type Gen = fn(&mut Rng, u64) -> ClientStats;
    let cases: [(&str, Threat, Gen, &dyn Context); 6] = [
        (
            "sign-in form answering 200",
            Threat::BruteForce,
            form_brute_force,
            &plain,
        ),
        (
            "guessing at an unrecognised sign-in",
            Threat::BruteForce,
            api_guessing,
            &plain,
        ),
        (
            "blocked brute force",
            Threat::BruteForce,
            blocked_brute_force,
            &plain,
        ),
        (
            "catalogue prober",
            Threat::ForcedBrowsing,
            catalogue_prober,
            &slug,
        ),
        ("write flood", Threat::ApiAbuse, write_flood, &plain),
        (
            "guarded enumeration",
            Threat::Enumeration,
            guarded_enumeration,
            &plain,
        ),
    ];
    let mut rng = Rng::new(808);
    for (what, threat, gen, c) in cases {
        let n = 200;
        let clients: Vec<ClientStats> = (0..n).map(|i| gen(&mut rng, 1 << 46 | i)).collect();
        let verdicts = m.assess_many(&clients, c, WINDOW);
        let hit = verdicts
            .iter()
            .filter(|a| alert(a) && a.threat == Some(threat))
            .count();
        println!("{what}: {hit} of {n} named {threat}");
        if let Some(a) = verdicts.iter().find(|a| a.threat != Some(threat)) {
            println!("  missed: {:?} {}", a.threat, a.explanation);
        }
        assert!(hit * 100 >= n as usize * 95, "{what}: {hit} of {n}");
    }
    // The plain scrapers stay scrapers in the context with the slug
    // template (their pages are found).
    let scrapers: Vec<ClientStats> = (0..100).map(|i| scraping(&mut rng, 1 << 47 | i)).collect();
    let named = m
        .assess_many(&scrapers, &slug, WINDOW)
        .iter()
        .filter(|a| a.threat == Some(Threat::Scraping))
        .count();
    assert!(named >= 95, "{named} of 100 scrapers");
}

/// A bot of a campaign whose login attempts the node may block.
fn stuffer_blocked(rng: &mut Rng, id: u64, block: bool) -> ClientStats {
    let mut out = Vec::new();
    let mut t = T0 + rng.range(0, 50);
    for _ in 0..rng.range(1, 4) {
        if block && rng.chance(0.7) {
            out.push(blocked(t, "POST /login", &[]));
        } else {
            out.push(ev(t, "POST /login", &[], 401));
        }
        t += rng.range(1, 8);
    }
    aggregate(id, out)
}

#[test]
fn credential_stuffing_by_few_bots_is_flagged_and_normal_windows_are_not() {
    let m = model();
    let c = ctx();
    let b = &m.params().login;
    println!(
        "login baseline: suspect share {:.5}, min suspects {}, p limit {:.0e}",
        b.suspect_share, b.min_suspects, b.p_limit
    );
    let mut rng = Rng::new(4242);
    let windows = 40u64;
    let (mut detected, mut named, mut bots_total, mut wrong) = (0, 0, 0, 0);
    for w in 0..windows {
        // One node batch's worth of clients: a few dozen normal ones and
        // five to eight bots, half of the windows with most bot attempts
        // blocked.
        let mut clients = normal_clients(7000 + w, rng.range(20, 80) as usize);
        let bots = rng.range(5, 8);
        let first_bot = clients.len();
        for i in 0..bots {
            clients.push(stuffer_blocked(&mut rng, 1 << 49 | w << 20 | i, w % 2 == 1));
        }
        let ids: Vec<String> = clients[first_bot..]
            .iter()
            .map(|c| c.client.clone())
            .collect();
        let alerts = m.assess_window(&clients, &c);
        if let Some(a) = alerts
            .iter()
            .find(|a| a.threat == Threat::CredentialStuffing)
        {
            detected += 1;
            named += a.clients.iter().filter(|c| ids.contains(c)).count();
            wrong += a.clients.iter().filter(|c| !ids.contains(c)).count();
            if w < 2 {
                println!("{}", a.explanation);
            }
        }
        bots_total += bots as usize;
    }
    println!(
        "few bots: {detected} of {windows} windows; {named} of {bots_total} bots named, {wrong} \
         normal clients named"
    );
    assert!(detected * 100 >= windows as usize * 95);
    assert!(named * 100 >= bots_total * 90);
    assert!(wrong * 20 <= named);
    // Normal windows of every size stay quiet.
    let normal = normal_clients(3, 12_000);
    for size in [10, 40, 150, 1000] {
        for w in normal.chunks(size) {
            let alerts = m.assess_window(w, &c);
            assert!(alerts.is_empty(), "{size}: {}", alerts[0].explanation);
        }
    }
}

#[allow(dead_code)]
fn _context_is_object_safe(c: &dyn Context) -> Option<Function> {
    c.function("GET /")
}
