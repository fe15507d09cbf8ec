//! The simulator: applications, values, traffic, server and driver.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rampart_learn::{Function, ParamFormat, Threat};
use rampart_sim::app::{Route, Style};
use rampart_sim::traffic::{learning_phase, test_phase, SimRequest, TestConfig};
use rampart_sim::values::value_of;
use rampart_sim::{demo_shop, driver, generate, server, App, Rng};

#[test]
fn apps_are_deterministic_per_seed_and_varied_across_seeds() {
    let mut styles = HashSet::new();
    let mut functions = HashSet::new();
    let mut logins = HashSet::new();
    let mut templates = HashSet::new();
    let mut graphql = 0;
    let mut soap = 0;
    for seed in 0..40u64 {
        let a = generate(seed);
        assert_eq!(a, generate(seed), "seed {seed}");
        assert!(
            (6..=40).contains(&a.endpoints.len()),
            "seed {seed}: {}",
            a.endpoints.len()
        );
        styles.insert(a.style);
        for e in &a.endpoints {
            functions.insert(e.function);
            templates.insert(e.template.clone());
            if e.function == Function::Login && e.method == "POST" {
                logins.insert(e.template.clone());
            }
            graphql += usize::from(e.body == rampart_sim::BodyKind::GraphQl);
            soap += usize::from(e.body == rampart_sim::BodyKind::Soap);
            // Every placeholder is a declared parameter and vice versa.
            let holes = e.template.matches('{').count();
            assert_eq!(holes, e.path_params.len(), "{}", e.template);
            let points: HashSet<&str> = e.params.iter().map(|p| p.point.as_str()).collect();
            assert_eq!(
                points.len(),
                e.params.len(),
                "duplicate points in {}",
                e.template
            );
        }
        // No two endpoints alike.
        let keys: HashSet<(String, String, Option<String>)> = a
            .endpoints
            .iter()
            .map(|e| (e.method.clone(), e.template.clone(), e.operation.clone()))
            .collect();
        assert_eq!(keys.len(), a.endpoints.len());
    }
    assert!(styles.len() >= 5, "{styles:?}");
    assert!(functions.len() >= 14, "{functions:?}");
    assert!(logins.len() >= 6, "{logins:?}");
    assert!(templates.len() >= 300, "{}", templates.len());
    assert!(graphql > 0 && soap > 0);
    assert_ne!(generate(1), generate(2));
}

fn luhn(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    d.len() >= 13 && sum.is_multiple_of(10)
}

fn valid(format: ParamFormat, v: &str) -> bool {
    let b64 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(&b))
    };
    match format {
        ParamFormat::Integer => v.parse::<i64>().is_ok(),
        ParamFormat::Decimal => v.contains('.') && v.parse::<f64>().is_ok(),
        ParamFormat::Boolean => ["true", "false"].contains(&v),
        ParamFormat::Enumeration => !v.is_empty() && v.bytes().all(|b| b.is_ascii_lowercase()),
        ParamFormat::Uuid => {
            v.len() == 36
                && v.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
                && v.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
        }
        ParamFormat::Hex => v.len() >= 16 && v.bytes().all(|b| b.is_ascii_hexdigit()),
        ParamFormat::Base64 => v.len().is_multiple_of(4) && v.len() >= 16 && b64(v),
        ParamFormat::Jwt => {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() == 3 && v.starts_with("eyJ") && parts.iter().all(|p| b64(p))
        }
        ParamFormat::Email => {
            let (l, d) = v.split_once('@').unwrap_or(("", ""));
            !l.is_empty() && d.contains('.') && !v.contains(' ')
        }
        ParamFormat::Url => v.starts_with("https://") && !v.contains(' '),
        ParamFormat::Ip => v.parse::<std::net::IpAddr>().is_ok(),
        ParamFormat::DateTime => {
            let b = v.as_bytes();
            b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T'
        }
        ParamFormat::Phone => {
            let digits = v.bytes().filter(u8::is_ascii_digit).count();
            digits >= 7
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || b" +()-".contains(&b))
        }
        ParamFormat::Card => luhn(v) && v.bytes().all(|b| b.is_ascii_digit() || b == b' '),
        ParamFormat::Name => {
            let w: Vec<&str> = v.split(' ').collect();
            w.len() == 2
                && w.iter()
                    .all(|x| x.starts_with(|c: char| c.is_ascii_uppercase()))
        }
        ParamFormat::FreeText => v.contains(' ') && v.len() > 5,
        ParamFormat::Json => serde_json::from_str::<serde_json::Value>(v).is_ok(),
        ParamFormat::Xml => v.starts_with("<?xml") && v.ends_with('>'),
        ParamFormat::Html => v.starts_with('<') && v.ends_with('>') && !v.starts_with("<?xml"),
        ParamFormat::FilePath => {
            v.contains('/') && v.rsplit('/').next().is_some_and(|f| f.contains('.'))
        }
    }
}

#[test]
fn every_format_generator_gives_values_of_its_format() {
    let mut rng = Rng::new(7);
    for &f in ParamFormat::ALL {
        let mut distinct = HashSet::new();
        for _ in 0..300 {
            let v = value_of(f, &mut rng);
            assert!(valid(f, &v), "{f}: {v:?}");
            distinct.insert(v);
        }
        let floor = match f {
            ParamFormat::Boolean => 2,
            ParamFormat::Enumeration => 3,
            _ => 30,
        };
        assert!(distinct.len() >= floor, "{f}: {} distinct", distinct.len());
    }
}

async fn start(app: Arc<App>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(server::serve(app, listener));
    addr
}

fn login_app() -> App {
    // A web application with a form sign-in.
    (0..200)
        .map(generate)
        .find(|a| {
            a.style == Style::WebShop
                && a.endpoints
                    .iter()
                    .any(|e| e.function == Function::Login && e.method == "POST" && e.html)
        })
        .expect("a web shop among 200 seeds")
}

fn req(
    at: f64,
    method: &str,
    target: &str,
    body: &str,
    ct: Option<&str>,
    session: u64,
) -> SimRequest {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut headers = vec![("x-forwarded-for".to_string(), "10.0.0.1".to_string())];
    if let Some(ct) = ct {
        headers.push(("content-type".into(), ct.into()));
    }
    SimRequest {
        at: Duration::from_secs_f64(at),
        method: method.into(),
        path,
        query,
        headers,
        body: body.as_bytes().to_vec(),
        client: "10.0.0.1".into(),
        truth: rampart_sim::Truth {
            endpoint: None,
            scenario: None,
            injected: None,
            injection: None,
            session,
        },
    }
}

#[tokio::test]
async fn upstream_server_answers_like_an_application() {
    let app = Arc::new(login_app());
    let addr = start(Arc::clone(&app)).await;
    let login = app
        .endpoints
        .iter()
        .find(|e| e.function == Function::Login && e.method == "POST")
        .unwrap();
    let user = &app.users[3];
    let form = |password: &str| -> String {
        login
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| {
                let name = p.point.trim_start_matches("body:form.");
                let v = match &p.gen {
                    rampart_sim::ValueGen::Username => user.username.clone(),
                    rampart_sim::ValueGen::LoginEmail => user.email.clone(),
                    rampart_sim::ValueGen::Password => password.to_string(),
                    _ => "0123456789abcdef0123456789abcdef".to_string(),
                };
                let v: String = v
                    .bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() {
                            char::from(b).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect();
                format!("{name}={v}")
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let ct = Some("application/x-www-form-urlencoded");
    let product = app.collection("products").unwrap().ids[0].clone();
    let product_ep = app
        .endpoints
        .iter()
        .find(|e| {
            e.function == Function::ProductView
                && e.path_params
                    .iter()
                    .any(|p| p.collection.as_deref() == Some("products"))
        })
        .unwrap();
    let fill = |id: &str| {
        let values: Vec<String> = product_ep
            .path_params
            .iter()
            .map(|p| match p.kind {
                rampart_sim::IdKind::Choice(ref xs) => xs[0].clone(),
                _ => id.to_string(),
            })
            .collect();
        product_ep.fill(&values)
    };
    let profile = app
        .endpoints
        .iter()
        .find(|e| e.function == Function::Profile && e.method == "GET" && e.path_params.is_empty())
        .unwrap();
    let reqs = vec![
        req(0.0, "POST", &login.template, &form("wrong password"), ct, 1),
        req(0.0, "POST", &login.template, &form(&user.password), ct, 2),
        req(0.1, "GET", &profile.template, "", None, 2),
        req(0.0, "GET", &profile.template, "", None, 3),
        req(0.0, "GET", "/definitely/not/here", "", None, 4),
        req(0.0, "GET", &fill(&product), "", None, 5),
        req(0.0, "GET", &fill("999999999"), "", None, 6),
        req(0.0, "DELETE", &login.template, "", None, 7),
        req(0.0, "POST", &login.template, "", ct, 8),
    ];
    let out = driver::replay(reqs, addr, 4, 0.0).await;
    let statuses: Vec<u16> = out.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [401, 200, 200, 401, 404, 200, 404, 405, 400],
        "{statuses:?}"
    );
    assert!(out.iter().all(|o| !o.blocked));
}

fn op_of(r: &SimRequest) -> Option<String> {
    if let Some((_, a)) = r.headers.iter().find(|(k, _)| k == "soapaction") {
        let a = a.trim_matches('"');
        return a.rsplit(['#', '/']).next().map(str::to_string);
    }
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()?
        .get("operationName")?
        .as_str()
        .map(str::to_string)
}

#[test]
fn generated_requests_map_onto_their_endpoints() {
    for seed in [3u64, 11, 12, 25] {
        let app = generate(seed);
        let s = learning_phase(&app, seed, 40, Duration::from_secs(600));
        assert!(s.requests.len() > 100, "{}", s.requests.len());
        assert!(s.requests.windows(2).all(|w| w[0].at <= w[1].at));
        let mut seen = HashSet::new();
        for r in &s.requests {
            assert!(r.truth.scenario.is_none() && r.truth.injected.is_none());
            let Some(i) = r.truth.endpoint else { continue };
            seen.insert(i);
            match app.route(&r.method, &r.path, op_of(r).as_deref()) {
                Route::Found(j, _) => assert_eq!(i, j, "{} {}", r.method, r.path),
                other => panic!("{} {}: {other:?}", r.method, r.path),
            }
        }
        assert!(
            seen.len() * 2 >= app.endpoints.len(),
            "{} of {}",
            seen.len(),
            app.endpoints.len()
        );
    }
}

#[test]
fn test_phase_holds_every_threat_with_ground_truth() {
    let app = (0..100)
        .map(generate)
        .find(|a| {
            a.style == Style::RestApi
                && a.endpoints.iter().any(|e| {
                    e.path_params
                        .iter()
                        .any(|p| p.kind == rampart_sim::IdKind::Int)
                })
        })
        .unwrap();
    let cfg = TestConfig {
        seed: 5,
        sessions: 30,
        duration: Duration::from_secs(900),
        per_threat: 2,
        injections: 25,
    };
    let s = test_phase(&app, &cfg);
    let threats: HashSet<Threat> = s.scenarios.iter().map(|x| x.threat).collect();
    assert!(threats.len() >= 5, "{threats:?}");
    assert_eq!(s.injected, 25);
    let marked = s
        .requests
        .iter()
        .filter(|r| r.truth.injected.is_some())
        .count();
    assert_eq!(marked, 25);
    for sc in &s.scenarios {
        let n = s
            .requests
            .iter()
            .filter(|r| r.truth.scenario == Some((sc.threat, sc.id)))
            .count();
        assert!(n >= 15, "{:?}: {n}", sc.threat);
        assert_eq!(n, sc.requests);
        if sc.threat == Threat::CredentialStuffing {
            assert!(sc.clients.len() >= 15);
        } else {
            assert_eq!(sc.clients.len(), 1);
        }
    }
    // Forced browsing asks for paths the application does not have.
    let forced: Vec<&SimRequest> = s
        .requests
        .iter()
        .filter(|r| {
            r.truth
                .scenario
                .is_some_and(|(t, _)| t == Threat::ForcedBrowsing)
        })
        .collect();
    assert!(forced.iter().filter(|r| r.truth.endpoint.is_none()).count() * 10 >= forced.len() * 9);
    // Different seeds, different schedules; the same seed, the same.
    assert_eq!(s, test_phase(&app, &cfg));
}

#[tokio::test]
async fn driver_replays_a_schedule_against_the_server() {
    let app = Arc::new(login_app());
    let addr = start(Arc::clone(&app)).await;
    let cfg = TestConfig {
        seed: 9,
        sessions: 25,
        duration: Duration::from_secs(300),
        per_threat: 1,
        injections: 5,
    };
    let s = test_phase(&app, &cfg);
    let n = s.requests.len();
    let out = driver::replay(s.requests.clone(), addr, 16, 0.0).await;
    assert_eq!(out.len(), n);
    assert!(out
        .iter()
        .enumerate()
        .all(|(i, o)| o.index == i && o.status != 0));
    let normal: Vec<u16> = out
        .iter()
        .zip(&s.requests)
        .filter(|(_, r)| {
            r.truth.scenario.is_none() && r.truth.injected.is_none() && r.truth.endpoint.is_some()
        })
        .map(|(o, _)| o.status)
        .collect();
    let ok = normal.iter().filter(|s| **s < 400).count();
    assert!(
        ok * 100 >= normal.len() * 93,
        "{ok} of {} normal requests succeeded",
        normal.len()
    );
    let brute: Vec<u16> = out
        .iter()
        .zip(&s.requests)
        .filter(|(_, r)| {
            r.truth
                .scenario
                .is_some_and(|(t, _)| t == Threat::BruteForce)
        })
        .map(|(o, _)| o.status)
        .collect();
    assert!(
        !brute.is_empty() && brute.iter().all(|s| *s == 401),
        "{brute:?}"
    );
    let forced = out
        .iter()
        .zip(&s.requests)
        .filter(|(_, r)| {
            r.truth
                .scenario
                .is_some_and(|(t, _)| t == Threat::ForcedBrowsing)
        })
        .filter(|(o, _)| o.status == 404)
        .count();
    assert!(forced >= 50);
}

#[test]
fn demo_shop_truth_matches_its_routes() {
    let app = demo_shop();
    let find = |m: &str, p: &str, op: Option<&str>| match app.route(m, p, op) {
        Route::Found(i, _) => Some(app.endpoints[i].function),
        _ => None,
    };
    assert_eq!(
        find("GET", "/products/3", None),
        Some(Function::ProductView)
    );
    assert_eq!(find("POST", "/login", None), Some(Function::Login));
    assert_eq!(
        find("POST", "/graphql", Some("AddToCart")),
        Some(Function::Cart)
    );
    assert_eq!(
        find("POST", "/soap/orders", Some("importOrder")),
        Some(Function::Checkout)
    );
    assert_eq!(find("GET", "/static/app.css", None), Some(Function::Static));
    assert_eq!(
        app.route("GET", "/products/99", None),
        Route::UnknownObject(2)
    );
    assert!(matches!(
        app.route("DELETE", "/cart", None),
        Route::MethodNotAllowed(_)
    ));
    assert_eq!(app.route("GET", "/nope", None), Route::NotFound);
    let s = learning_phase(&app, 1, 30, Duration::from_secs(300));
    assert!(s
        .requests
        .iter()
        .any(|r| r.path == "/login" && r.method == "POST"));
}
