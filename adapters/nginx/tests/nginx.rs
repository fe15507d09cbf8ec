//! The module inside Debian's real nginx, proxying to a hyper echo
//! backend on 127.0.0.1.
//!
//! Needs the nginx binary and the built module (adapters/nginx/build.sh);
//! without them each test prints a skip notice, or fails when
//! RAMPART_REQUIRE_SERVERS=1.

mod support;

use support::{
    echo, echoed_body, echoed_header, get, post, post_chunked, prerequisites, temp_dir, Nginx,
};

/// One server: `/` in block mode (node.toml), `/monitor/` in monitor mode,
/// `/off/` without Rampart, `/small/` with a 4 KiB body limit.
fn servers(backend: std::net::SocketAddr) -> String {
    format!(
        r#"    server {{
        listen 127.0.0.1:PORT;
        rampart on;
        proxy_set_header Host $host;
        proxy_http_version 1.1;
        location / {{ proxy_pass http://{backend}; }}
        location /monitor/ {{ rampart_mode monitor; proxy_pass http://{backend}; }}
        location /off/ {{ rampart off; proxy_pass http://{backend}; }}
        location /small/ {{ rampart_body_limit 4k; proxy_pass http://{backend}; }}
    }}"#
    )
}

const SQLI_QUERY: &str = "/search?q=1%27%20union%20select%20password%20from%20users--";
const XSS: &str = "<script>alert(document.cookie)</script>";

macro_rules! setup {
    ($name:literal) => {{
        let Some((bin, module)) = prerequisites($name) else {
            return;
        };
        let backend = echo();
        let dir = temp_dir($name);
        let nginx = Nginx::start(&bin, &module, &dir, &servers(backend.addr));
        (bin, module, backend, nginx)
    }};
}

#[test]
fn attacks_are_blocked_and_benign_traffic_passes_unchanged() {
    let (_bin, _module, _backend, nginx) = setup!("block");

    // An attack in the query: 403 with the node's block page (JSON by
    // default), its request id in a header and in the page.
    let r = nginx.send(&get(SQLI_QUERY, ""));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let id = r.header("x-request-id").expect("request id").to_string();
    assert!(r.text().contains("\"error\":\"blocked\""), "{}", r.text());
    assert!(r.text().contains(&id), "{}", r.text());

    // HTML when the client prefers it.
    let r = nginx.send(&get(SQLI_QUERY, "Accept: text/html\r\n"));
    assert_eq!(r.status, 403);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert!(r.text().contains("403 Forbidden"), "{}", r.text());

    // An attack in a header, in a cookie, in a form body, in a JSON body.
    let r = nginx.send(&get("/", &format!("User-Agent: {XSS}\r\n")));
    assert_eq!(r.status, 403, "header: {}", r.text());
    let r = nginx.send(&get("/", "Cookie: session=1' or '1'='1' --\r\n"));
    assert_eq!(r.status, 403, "cookie: {}", r.text());
    let r = nginx.send(&post(
        "/login",
        "application/x-www-form-urlencoded",
        b"user=admin&pass=x%27%20union%20select%20password%20from%20users--",
    ));
    assert_eq!(r.status, 403, "form: {}", r.text());
    let r = nginx.send(&post(
        "/api",
        "application/json",
        format!("{{\"comment\":\"{XSS}\"}}").as_bytes(),
    ));
    assert_eq!(r.status, 403, "json: {}", r.text());

    // A HEAD that is blocked gets the status and no body.
    let r = nginx.send(
        format!("HEAD {SQLI_QUERY} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 403);
    assert!(r.body.is_empty());

    // Benign traffic reaches the backend byte for byte.
    let r = nginx.send(&get(
        "/shop/items?q=red+running+shoes&page=2",
        "X-Custom: hello world\r\n",
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text()
            .starts_with("GET /shop/items?q=red+running+shoes&page=2\n"),
        "{}",
        r.text()
    );
    assert_eq!(echoed_header(&r.body, "x-custom"), Some("hello world"));
    assert_eq!(echoed_header(&r.body, "host"), Some("test.local"));
    let form = b"name=Jane+Doe&comment=Nice+shoes%2C+fits+well&qty=2".to_vec();
    let r = nginx.send(&post("/order", "application/x-www-form-urlencoded", &form));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(echoed_body(&r.body), &form[..]);
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let r = nginx.send(&post("/upload", "application/octet-stream", &binary));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(echoed_body(&r.body), &binary[..]);

    // The verdicts are in the node's log, as JSON lines.
    let log = nginx.rampart_log();
    assert!(log.contains("\"action\":\"block\""), "{log}");
    assert!(log.contains("\"adapter\":\"nginx\""), "{log}");
}

#[test]
fn a_body_spilled_to_a_temp_file_is_inspected_to_its_end() {
    let (_bin, _module, _backend, nginx) = setup!("spill");

    // 200 KB (client_body_buffer_size is 16k: NGINX writes it to its temp
    // file), the attack in the last bytes.
    let mut body = b"comment=".to_vec();
    body.extend(std::iter::repeat_n(b'a', 200_000));
    body.extend_from_slice(b"&q=1%27%20union%20select%20password%20from%20users--");
    let r = nginx.send(&post("/upload", "application/x-www-form-urlencoded", &body));
    assert_eq!(r.status, 403, "{}", r.text());

    // The same size without the attack passes, byte for byte.
    let mut clean = b"comment=".to_vec();
    clean.extend(std::iter::repeat_n(b'a', 200_000));
    clean.extend_from_slice(b"&q=plain+words");
    let r = nginx.send(&post(
        "/upload",
        "application/x-www-form-urlencoded",
        &clean,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(echoed_body(&r.body), &clean[..]);

    // A chunked body (no length up front), spilled too, attack at the end.
    let r = nginx.send(&post_chunked(
        "/upload",
        "application/x-www-form-urlencoded",
        &body,
        7000,
    ));
    assert_eq!(r.status, 403, "{}", r.text());
    let r = nginx.send(&post_chunked(
        "/upload",
        "application/x-www-form-urlencoded",
        &clean,
        7000,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(echoed_body(&r.body), &clean[..]);
    assert!(
        std::fs::read_dir(nginx.dir.join("client_body")).is_ok(),
        "NGINX used its body temp path"
    );
}

#[test]
fn bodies_over_the_limit_are_refused_with_413() {
    let (_bin, _module, _backend, nginx) = setup!("limit");

    // Over node.toml's 1 MiB, by its declared length: refused unread.
    let big = vec![b'a'; (1 << 20) + 10];
    let r = nginx.send(&post("/upload", "application/octet-stream", &big));
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("body_too_large"), "{}", r.text());
    // Over it without a declared length (chunked): refused once read.
    let r = nginx.send(&post_chunked(
        "/upload",
        "application/octet-stream",
        &big,
        65536,
    ));
    assert_eq!(r.status, 413, "{}", r.text());

    // `rampart_body_limit 4k` lowers it for /small/.
    let r = nginx.send(&post(
        "/small/upload",
        "application/octet-stream",
        &[b'a'; 5000],
    ));
    assert_eq!(r.status, 413, "{}", r.text());
    let r = nginx.send(&post(
        "/small/upload",
        "application/octet-stream",
        &[b'a'; 4000],
    ));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn monitor_and_off_locations_pass_attacks() {
    let (_bin, _module, _backend, nginx) = setup!("monitor");

    let target = "/monitor/search?q=1%27%20union%20select%20password%20from%20users--";
    let r = nginx.send(&get(target, ""));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with(&format!("GET {target}\n")),
        "{}",
        r.text()
    );
    let r = nginx.send(&post(
        "/monitor/api",
        "application/json",
        format!("{{\"c\":\"{XSS}\"}}").as_bytes(),
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let log = nginx.rampart_log();
    assert!(
        log.lines()
            .any(|l| l.contains("\"action\":\"monitor\"") && l.contains("/monitor/search")),
        "{log}"
    );

    let r = nginx.send(&get(
        "/off/search?q=1%27%20union%20select%20password%20from%20users--",
        "",
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        !nginx.rampart_log().contains("/off/search"),
        "rampart off inspects nothing"
    );
}

#[test]
fn a_reload_keeps_blocking_and_applies_the_new_configuration() {
    let (_bin, module, backend, nginx) = setup!("reload");
    assert_eq!(nginx.send(&get(SQLI_QUERY, "")).status, 403);

    // Reload with one more location, without Rampart: once it answers,
    // the new workers (and their new guards) serve.
    let added = servers(backend.addr).replace(
        "location /off/",
        "location /added/ { rampart off; proxy_pass http://BACKEND; }\n        location /off/",
    );
    let added = added.replace("BACKEND", &backend.addr.to_string());
    nginx.rewrite(&module, &added);
    nginx.reload();
    let probe = get(
        "/added/?q=1%27%20union%20select%20password%20from%20users--",
        "",
    );
    let mut live = false;
    for _ in 0..600 {
        if nginx.send(&probe).status == 200 {
            live = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        live,
        "the reloaded configuration never answered:\n{}",
        nginx.error_log()
    );
    assert_eq!(nginx.send(&get(SQLI_QUERY, "")).status, 403);
    let r = nginx.send(&get("/shop?q=shoes", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    let errors = nginx.error_log();
    assert!(errors.contains("rampart: guard ready"), "{errors}");
    assert!(!errors.contains("panic"), "{errors}");
}

#[test]
fn a_bad_configuration_is_refused_at_load_time() {
    let Some((bin, module)) = prerequisites("config") else {
        return;
    };
    let dir = temp_dir("config");

    let (ok, out) = support::check_conf(
        &bin,
        &module,
        &dir,
        "server { listen 127.0.0.1:1; rampart on; }",
    );
    assert!(!ok, "{out}");
    assert!(out.contains("needs \"rampart_config"), "{out}");

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "mode = \"sideways\"\n").expect("write");
    let (ok, out) = support::check_conf(
        &bin,
        &module,
        &dir,
        &format!("rampart_config {};", bad.display()),
    );
    assert!(!ok, "{out}");
    assert!(out.contains("sideways"), "{out}");

    let good = dir.join("good.toml");
    std::fs::write(&good, support::node_toml(&dir)).expect("write");
    for (directive, expect) in [
        (
            "rampart_mode sideways;",
            "expected \"block\" or \"monitor\"",
        ),
        ("rampart_body_limit lots;", "invalid size"),
        ("rampart maybe;", "invalid value"),
        ("rampart on; rampart off;", "is duplicate"),
    ] {
        let (ok, out) = support::check_conf(
            &bin,
            &module,
            &dir,
            &format!(
                "rampart_config {};\nserver {{ listen 127.0.0.1:1; {directive} }}",
                good.display()
            ),
        );
        assert!(!ok, "{directive}: {out}");
        assert!(out.contains(expect), "{directive}: {out}");
    }
    let (ok, out) = support::check_conf(
        &bin,
        &module,
        &dir,
        // A relative path is relative to the configuration's directory.
        "rampart_config good.toml;\nrampart on;\nserver { listen 127.0.0.1:1; rampart_mode monitor; \
         rampart_body_limit 64k; location /x { rampart off; } }",
    );
    assert!(ok, "{out}");
}

#[test]
fn a_worker_whose_guard_cannot_start_follows_the_failure_policy() {
    let Some((bin, module)) = prerequisites("guard-failure") else {
        return;
    };
    let backend = echo();
    // node.toml parses and validates (so `nginx -t` and the start pass), but
    // its rule file does not exist: the guard fails in the worker.
    for (policy, expect) in [("closed", 503), ("open", 200)] {
        let dir = temp_dir(&format!("guard-failure-{policy}"));
        let node = format!(
            "mode = \"block\"\n[telemetry]\nenabled = false\n[policy]\non_plugin_error = \"{policy}\"\n\
             [rules]\nfiles = [\"{}\"]\n",
            dir.join("missing.rules").display()
        );
        let nginx = Nginx::start_with(&bin, &module, &dir, &servers(backend.addr), &node);
        let r = nginx.send(&get(SQLI_QUERY, ""));
        assert_eq!(r.status, expect, "{policy}: {}", r.text());
        let errors = nginx.error_log();
        assert!(errors.contains("the guard could not start"), "{errors}");
        assert!(
            errors.contains(&format!("on_plugin_error = {policy}")),
            "{errors}"
        );
        // `rampart off` locations are not concerned.
        assert_eq!(nginx.send(&get("/off/x", "")).status, 200);
    }
}
