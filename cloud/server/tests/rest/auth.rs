//! Signing in and out, the sign-in throttle, users and API tokens, and
//! every endpoint refusing callers without the right credentials or role.

use serde_json::{json, Value};

use crate::client::{expect, expect_error, login, world, Cred, World, ADMIN, ANALYST};
use crate::common::TestDb;

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Any caller may read.
    Read,
    /// Only an admin may read.
    AdminRead,
    /// Only an admin may call it.
    Write,
    /// A POST any caller may make (`rules/check`).
    OpenPost,
}

#[derive(Debug)]
struct Ep {
    method: &'static str,
    path: String,
    body: Option<Value>,
    kind: Kind,
}

fn ep(method: &'static str, path: String, body: Option<Value>, kind: Kind) -> Ep {
    Ep {
        method,
        path,
        body,
        kind,
    }
}

/// Real objects for the matrix to point at.
#[derive(Debug)]
struct Ids {
    attack: i64,
    incident: i64,
    rule: String,
    pack: i64,
    user: i64,
    token: i64,
}

/// Every authenticated operation of the router (logout has its own test),
/// on real objects.
fn endpoints(w: &World, ids: &Ids) -> Vec<Ep> {
    use Kind::{AdminRead, OpenPost, Read, Write};
    let a = |rest: &str| w.app_path(rest);
    let rule = &ids.rule;
    let good = "rule other \"Other\" {\n    endpoint \"/other\"\n    then block\n}\n";
    vec![
        ep("GET", "/api/v1/me".into(), None, Read),
        ep("GET", "/api/v1/users".into(), None, AdminRead),
        ep(
            "POST",
            "/api/v1/users".into(),
            Some(json!({"name": "mallory", "password": "mallory's password", "role": "admin"})),
            Write,
        ),
        ep("DELETE", format!("/api/v1/users/{}", ids.user), None, Write),
        ep("GET", "/api/v1/tokens".into(), None, Read),
        ep(
            "POST",
            "/api/v1/tokens".into(),
            Some(json!({"label": "stolen", "role": "admin"})),
            Write,
        ),
        ep(
            "DELETE",
            format!("/api/v1/tokens/{}", ids.token),
            None,
            Write,
        ),
        ep("GET", "/api/v1/apps".into(), None, Read),
        ep(
            "POST",
            "/api/v1/apps".into(),
            Some(json!({"name": "evil"})),
            Write,
        ),
        ep("GET", a("/overview?minutes=30"), None, Read),
        ep("GET", a("/endpoints"), None, Read),
        ep("GET", a("/nodes"), None, Read),
        ep("GET", a("/alerts"), None, Read),
        ep("GET", a("/scans"), None, Read),
        ep("GET", a("/incidents"), None, Read),
        ep(
            "GET",
            format!("/api/v1/incidents/{}", ids.incident),
            None,
            Read,
        ),
        ep(
            "POST",
            format!("/api/v1/incidents/{}/status", ids.incident),
            Some(json!({"status": "resolved"})),
            Write,
        ),
        ep("GET", a("/attacks?limit=5"), None, Read),
        ep("GET", a("/attacks/export?format=jsonl"), None, Read),
        ep("GET", format!("/api/v1/attacks/{}", ids.attack), None, Read),
        ep(
            "POST",
            format!("/api/v1/attacks/{}/false-positive", ids.attack),
            Some(json!({"note": "not really"})),
            Write,
        ),
        ep("GET", a("/rules"), None, Read),
        ep(
            "POST",
            a("/rules/check"),
            Some(json!({"source": good})),
            OpenPost,
        ),
        ep("GET", a(&format!("/rules/{rule}")), None, Read),
        ep(
            "PUT",
            a(&format!("/rules/{rule}")),
            Some(json!({"source": good.replace("other", rule)})),
            Write,
        ),
        ep(
            "POST",
            a(&format!("/rules/{rule}/state")),
            Some(json!({"state": "disabled"})),
            Write,
        ),
        ep("DELETE", a(&format!("/rules/{rule}")), None, Write),
        ep("GET", a("/packs"), None, Read),
        ep("POST", a("/packs"), None, Write),
        ep("GET", a(&format!("/packs/{}/diff", ids.pack)), None, Read),
    ]
}

async fn call(w: &World, cred: &Cred, e: &Ep) -> crate::common::Resp {
    w.api.call(cred, e.method, &e.path, e.body.as_ref()).await
}

/// Everything a refused call could have changed, as the admin reads it.
async fn state(w: &World, ids: &Ids) -> Vec<Value> {
    let mut out = Vec::new();
    for p in [
        "/api/v1/users".to_owned(),
        "/api/v1/apps".to_owned(),
        w.app_path("/rules"),
        w.app_path("/packs"),
        format!("/api/v1/incidents/{}", ids.incident),
        format!("/api/v1/attacks/{}", ids.attack),
    ] {
        out.push(expect(&w.api.get(&w.admin(), &p).await, 200, &p));
    }
    out
}

async fn every_endpoint_refuses_the_wrong_callers(db: &TestDb) {
    let w = world(db).await;
    w.traffic(1, 1).await;
    let store = w.store();
    // The objects the calls point at.
    let attack = expect(
        &w.api.get(&w.admin(), &w.app_path("/attacks?q=union")).await,
        200,
        "attacks",
    )["items"][0]["id"]
        .as_i64()
        .expect("an attack");
    let incident = store
        .open_incident(
            w.app_id,
            rampart_store::NewIncident {
                title: "SQL injection confirmed",
                severity: rampart_store::entity::Severity::High,
                endpoint_id: None,
                point: Some("query.q"),
                payload: Some("'"),
                evidence: &json!({"status": 500}),
                dedup_key: "matrix",
            },
        )
        .await
        .expect("incident")
        .incident
        .id;
    let rule = "no-admin";
    let src = "rule no-admin \"No admin area\" {\n    endpoint \"/admin/**\"\n    then block\n}\n";
    expect(
        &w.api
            .put(
                &w.admin(),
                &w.app_path("/rules/no-admin"),
                &json!({"source": src}),
            )
            .await,
        201,
        "rule",
    );
    let pack = expect(
        &w.api
            .post(&w.admin(), &w.app_path("/packs"), &json!({}))
            .await,
        201,
        "pack",
    )["version"]
        .as_i64()
        .expect("a pack version");
    let user = expect(
        &w.api
            .post(
                &w.admin(),
                "/api/v1/users",
                &json!({"name": "bob", "password": "bob's password", "role": "analyst"}),
            )
            .await,
        201,
        "user",
    )["id"]
        .as_i64()
        .expect("user id");
    let token = expect(
        &w.api
            .post(&w.admin(), "/api/v1/tokens", &json!({"label": "kept"}))
            .await,
        201,
        "token",
    )["id"]
        .as_i64()
        .expect("token id");
    let ids = Ids {
        attack,
        incident,
        rule: rule.into(),
        pack,
        user,
        token,
    };

    // Credentials that do not authenticate.
    let revoked = expect(
        &w.api
            .post(&w.admin(), "/api/v1/tokens", &json!({"label": "old"}))
            .await,
        201,
        "token",
    );
    expect(
        &w.api
            .delete(&w.admin(), &format!("/api/v1/tokens/{}", revoked["id"]))
            .await,
        204,
        "revoke",
    );
    let ended = login(&w.api, ADMIN.0, ADMIN.1).await;
    expect(
        &w.api
            .post(&ended.cred(), "/api/v1/logout", &json!({}))
            .await,
        204,
        "logout",
    );
    let analyst_role_of_admin = expect(
        &w.api
            .post(
                &w.admin_bearer(),
                "/api/v1/tokens",
                &json!({"label": "read-only", "role": "analyst"}),
            )
            .await,
        201,
        "analyst token of the admin",
    )["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let expired = store
        .create_console_session(
            w.admin.user["id"].as_i64().expect("id"),
            std::time::Duration::ZERO,
        )
        .await
        .expect("an expired session");
    let unauthenticated = [
        ("no credentials", Cred::None),
        ("an unknown token", Cred::Bearer("rpt_not_a_token".into())),
        (
            "a revoked token",
            Cred::Bearer(revoked["token"].as_str().expect("token").to_owned()),
        ),
        ("an ended session", ended.cred()),
        (
            "an expired session",
            Cred::Cookie {
                cookie: expired.token.clone(),
                csrf: Some(expired.csrf.clone()),
            },
        ),
        (
            "an unknown session",
            Cred::Cookie {
                cookie: "forged".into(),
                csrf: Some(w.admin.csrf.clone()),
            },
        ),
        (
            "Basic authentication",
            Cred::Authorization("Basic YWRtaW46YWRtaW4=".into()),
        ),
        (
            "a node's credential",
            Cred::Bearer(w.node.credential.clone()),
        ),
    ];

    let before = state(&w, &ids).await;
    let eps = endpoints(&w, &ids);
    for e in &eps {
        let what = |who: &str| format!("{} {} by {who}", e.method, e.path);
        for (who, cred) in &unauthenticated {
            expect_error(&call(&w, cred, e).await, 401, "unauthorized", &what(who));
        }
        let writes = matches!(e.kind, Kind::Write | Kind::OpenPost);
        if writes {
            // A cookie without the session's anti-CSRF token: refused
            // whoever the session is, before the role is looked at.
            for (who, cred) in [
                ("the admin's cookie alone", w.admin.cookie_only()),
                ("the analyst's cookie alone", w.analyst.cookie_only()),
                (
                    "the admin's cookie with another session's token",
                    Cred::Cookie {
                        cookie: w.admin.cookie.clone(),
                        csrf: Some(w.analyst.csrf.clone()),
                    },
                ),
            ] {
                expect_error(&call(&w, &cred, e).await, 403, "csrf", &what(who));
            }
        }
        let analysts = [
            ("the analyst's session", w.analyst()),
            ("the analyst's token", w.analyst_bearer()),
            (
                "the admin's analyst token",
                Cred::Bearer(analyst_role_of_admin.clone()),
            ),
        ];
        for (who, cred) in &analysts {
            let r = call(&w, cred, e).await;
            match e.kind {
                Kind::Write | Kind::AdminRead => {
                    expect_error(&r, 403, "forbidden", &what(who));
                }
                Kind::Read | Kind::OpenPost => {
                    expect(&r, 200, &what(who));
                }
            }
        }
    }
    assert_eq!(
        state(&w, &ids).await,
        before,
        "a refused call changed something"
    );

    // Logout: authenticated, and a cookie needs the anti-CSRF token.
    for (who, cred) in &unauthenticated {
        expect_error(
            &w.api.post(cred, "/api/v1/logout", &json!({})).await,
            401,
            "unauthorized",
            &format!("logout by {who}"),
        );
    }
    expect_error(
        &w.api
            .post(&w.admin.cookie_only(), "/api/v1/logout", &json!({}))
            .await,
        403,
        "csrf",
        "logout without the anti-CSRF token",
    );
    expect(
        &w.api.get(&w.admin(), "/api/v1/me").await,
        200,
        "still signed in",
    );
    w.cloud.stop().await;
}

async fn signing_in_and_out(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    // Who am I, three ways.
    let me = expect(&api.get(&w.admin(), "/api/v1/me").await, 200, "me");
    assert_eq!(me["user"]["name"], ADMIN.0);
    assert_eq!(me["user"]["role"], "admin");
    assert_eq!(me["csrf"], w.admin.csrf.as_str());
    assert_eq!(w.admin.user["name"], ADMIN.0);
    assert_eq!(w.admin.user["role"], "admin");
    let me = expect(&api.get(&w.admin_bearer(), "/api/v1/me").await, 200, "me");
    assert_eq!(me["user"]["name"], ADMIN.0);
    assert_eq!(
        me["csrf"],
        Value::Null,
        "no anti-CSRF token with an API token"
    );
    let me = expect(&api.get(&w.analyst(), "/api/v1/me").await, 200, "me");
    assert_eq!(me["user"]["role"], "analyst");
    let me = expect(&api.get(&w.analyst_bearer(), "/api/v1/me").await, 200, "me");
    assert_eq!(me["user"]["name"], ANALYST.0);
    assert_eq!(me["user"]["role"], "analyst");
    expect_error(
        &api.get(&Cred::None, "/api/v1/me").await,
        401,
        "unauthorized",
        "me",
    );

    // Refused sign-ins.
    for (name, password) in [(ADMIN.0, "wrong"), ("nobody", ADMIN.1), (ADMIN.0, "")] {
        let r = api
            .post(
                &Cred::None,
                "/api/v1/login",
                &json!({"name": name, "password": password}),
            )
            .await;
        expect_error(&r, 401, "unauthorized", "bad credentials");
        assert!(r.header("set-cookie").is_none());
    }
    for body in [
        json!({"name": "admin"}),
        json!([1, 2]),
        json!({"name": 1, "password": 2}),
    ] {
        let r = api.post(&Cred::None, "/api/v1/login", &body).await;
        expect_error(&r, 400, "bad_request", &format!("login {body}"));
    }

    // Two sessions of one user are independent; signing out ends one.
    let second = login(api, ADMIN.0, ADMIN.1).await;
    assert_ne!(second.cookie, w.admin.cookie);
    assert_ne!(second.csrf, w.admin.csrf);
    // The anti-CSRF token is the session's own.
    let r = api
        .post(
            &Cred::Cookie {
                cookie: second.cookie.clone(),
                csrf: Some(w.admin.csrf.clone()),
            },
            "/api/v1/logout",
            &json!({}),
        )
        .await;
    expect_error(&r, 403, "csrf", "another session's token");
    let r = api.post(&second.cred(), "/api/v1/logout", &json!({})).await;
    expect(&r, 204, "logout");
    let cleared = r.header("set-cookie").expect("the cookie is cleared");
    assert!(cleared.starts_with("rampart_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    expect_error(
        &api.get(&second.cred(), "/api/v1/me").await,
        401,
        "unauthorized",
        "ended",
    );
    expect_error(
        &api.post(&second.cred(), "/api/v1/apps", &json!({"name": "x"}))
            .await,
        401,
        "unauthorized",
        "a write with an ended session is 401, not 403",
    );
    expect_error(
        &api.post(&second.cred(), "/api/v1/logout", &json!({})).await,
        401,
        "unauthorized",
        "logout twice",
    );
    expect(
        &api.get(&w.admin(), "/api/v1/me").await,
        200,
        "the other session lives",
    );

    // An expired session (made by the store with no lifetime left).
    let admin_id = w.admin.user["id"].as_i64().expect("id");
    let expired = w
        .store()
        .create_console_session(admin_id, std::time::Duration::ZERO)
        .await
        .expect("session");
    let expired = Cred::Cookie {
        cookie: expired.token,
        csrf: Some(expired.csrf),
    };
    expect_error(
        &api.get(&expired, "/api/v1/me").await,
        401,
        "unauthorized",
        "an expired session",
    );
    expect_error(
        &api.post(&expired, "/api/v1/apps", &json!({"name": "x"}))
            .await,
        401,
        "unauthorized",
        "a write with an expired session",
    );

    // Signing out with an API token changes nothing.
    expect(
        &api.post(&w.admin_bearer(), "/api/v1/logout", &json!({}))
            .await,
        204,
        "logout with a token",
    );
    expect(
        &api.get(&w.admin_bearer(), "/api/v1/me").await,
        200,
        "the token still works",
    );

    // An analyst signs out too (not a write of the admin's).
    let ana = login(api, ANALYST.0, ANALYST.1).await;
    expect(
        &api.post(&ana.cred(), "/api/v1/logout", &json!({})).await,
        204,
        "analyst logout",
    );
    expect_error(
        &api.get(&ana.cred(), "/api/v1/me").await,
        401,
        "unauthorized",
        "ended",
    );

    // The API's description needs no caller.
    let r = api.get(&Cred::None, "/api/v1/openapi.yaml").await;
    expect(&r, 200, "openapi.yaml");
    w.cloud.stop().await;
}

async fn the_sign_in_throttle(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    let attempt = |name: &'static str, password: &'static str| async move {
        api.post(
            &Cred::None,
            "/api/v1/login",
            &json!({"name": name, "password": password}),
        )
        .await
    };
    for i in 1..=10 {
        let r = attempt(ADMIN.0, "guess").await;
        expect_error(&r, 401, "unauthorized", &format!("failure {i}"));
    }
    // The 11th: refused without looking at the password.
    for password in ["guess", ADMIN.1] {
        let r = attempt(ADMIN.0, password).await;
        expect_error(&r, 429, "too_many_failures", "11th attempt");
        let wait: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=300).contains(&wait), "Retry-After {wait}");
        assert!(r.header("set-cookie").is_none());
    }
    // Other names are not affected; sessions already open still work.
    login(api, ANALYST.0, ANALYST.1).await;
    expect(
        &api.get(&w.admin(), "/api/v1/me").await,
        200,
        "open session",
    );
    // An unknown name is throttled the same way (no user enumeration).
    for _ in 0..10 {
        expect_error(&attempt("ghost", "x").await, 401, "unauthorized", "ghost");
    }
    expect_error(
        &attempt("ghost", "x").await,
        429,
        "too_many_failures",
        "ghost",
    );
    w.cloud.stop().await;
}

async fn users(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    let list =
        |cred: Cred| async move { expect(&api.get(&cred, "/api/v1/users").await, 200, "users") };
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names(&list(w.admin()).await), ["admin", "ana"]);
    assert_eq!(list(w.admin()).await, list(w.admin_bearer()).await);

    // Created with a session and with a token.
    let carol = expect(
        &api.post(
            &w.admin(),
            "/api/v1/users",
            &json!({"name": "carol", "password": "carol's password", "role": "analyst"}),
        )
        .await,
        201,
        "create carol",
    );
    assert_eq!(carol["role"], "analyst");
    let dave = expect(
        &api.post(
            &w.admin_bearer(),
            "/api/v1/users",
            &json!({"name": "dave", "password": "dave's password", "role": "admin"}),
        )
        .await,
        201,
        "create dave",
    );
    assert_eq!(dave["role"], "admin");
    assert_eq!(
        names(&list(w.admin()).await),
        ["admin", "ana", "carol", "dave"]
    );
    let listed = list(w.admin()).await;
    assert!(
        listed
            .as_array()
            .expect("users")
            .iter()
            .all(|u| u.get("password_hash").is_none()),
        "{listed}"
    );

    // Refused creations.
    let r = api
        .post(
            &w.admin(),
            "/api/v1/users",
            &json!({"name": "carol", "password": "another password", "role": "analyst"}),
        )
        .await;
    expect_error(&r, 409, "conflict", "a name taken");
    for body in [
        json!({"name": "erin", "password": "erin's password", "role": "root"}),
        json!({"name": "erin", "password": "", "role": "analyst"}),
        json!({"name": "erin", "password": "short", "role": "analyst"}),
        json!({"name": "", "password": "a long password", "role": "analyst"}),
        json!({"name": "erin", "role": "analyst"}),
    ] {
        let r = api.post(&w.admin(), "/api/v1/users", &body).await;
        expect_error(&r, 400, "bad_request", &format!("create {body}"));
    }

    // The new users sign in; dave (admin) may write.
    let carol_s = login(api, "carol", "carol's password").await;
    let dave_s = login(api, "dave", "dave's password").await;
    expect_error(
        &api.get(&carol_s.cred(), "/api/v1/users").await,
        403,
        "forbidden",
        "an analyst lists users",
    );
    expect(
        &api.get(&dave_s.cred(), "/api/v1/users").await,
        200,
        "dave lists users",
    );
    let dave_token = Cred::Bearer(
        expect(
            &api.post(
                &dave_s.cred(),
                "/api/v1/tokens",
                &json!({"label": "dave's"}),
            )
            .await,
            201,
            "dave's token",
        )["token"]
            .as_str()
            .expect("token")
            .to_owned(),
    );
    expect(
        &api.post(&dave_token, "/api/v1/apps", &json!({"name": "daves-app"}))
            .await,
        201,
        "dave writes with his token",
    );
    // A user's role caps their sessions and tokens from the next call on.
    let dave_id = dave["id"].as_i64().expect("id");
    w.store()
        .set_user_role(dave_id, rampart_store::entity::Role::Analyst)
        .await
        .expect("demote dave");
    for cred in [dave_s.cred(), dave_token.clone()] {
        let me = expect(&api.get(&cred, "/api/v1/me").await, 200, "dave");
        assert_eq!(me["user"]["role"], "analyst", "{me}");
        expect_error(
            &api.post(&cred, "/api/v1/apps", &json!({"name": "daves-other"}))
                .await,
            403,
            "forbidden",
            "a demoted admin writes",
        );
    }
    w.store()
        .set_user_role(dave_id, rampart_store::entity::Role::Admin)
        .await
        .expect("promote dave again");

    // Deleted with a session and with a token: their sessions end.
    let r = api
        .delete(&w.admin(), &format!("/api/v1/users/{}", carol["id"]))
        .await;
    expect(&r, 204, "delete carol");
    expect_error(
        &api.get(&carol_s.cred(), "/api/v1/me").await,
        401,
        "unauthorized",
        "carol gone",
    );
    let r = api
        .delete(&w.admin_bearer(), &format!("/api/v1/users/{}", dave["id"]))
        .await;
    expect(&r, 204, "delete dave");
    expect_error(
        &api.get(&dave_s.cred(), "/api/v1/me").await,
        401,
        "unauthorized",
        "dave gone",
    );
    expect_error(
        &api.get(&dave_token, "/api/v1/me").await,
        401,
        "unauthorized",
        "the token of a deleted user",
    );
    let r = api
        .post(
            &Cred::None,
            "/api/v1/login",
            &json!({"name": "dave", "password": "dave's password"}),
        )
        .await;
    expect_error(&r, 401, "unauthorized", "a deleted user signs in");
    assert_eq!(names(&list(w.admin()).await), ["admin", "ana"]);

    // Not twice, not oneself, not a word.
    let r = api
        .delete(&w.admin(), &format!("/api/v1/users/{}", carol["id"]))
        .await;
    expect_error(&r, 404, "not_found", "delete twice");
    let me = w.admin.user["id"].as_i64().expect("id");
    let r = api.delete(&w.admin(), &format!("/api/v1/users/{me}")).await;
    expect_error(&r, 409, "conflict", "delete oneself");
    let r = api.delete(&w.admin(), "/api/v1/users/carol").await;
    expect_error(&r, 404, "not_found", "delete by name");
    w.cloud.stop().await;
}

async fn api_tokens(db: &TestDb) {
    let w = world(db).await;
    let api = &w.api;
    // The token made by `world` with the session is listed, without secret.
    let listed = expect(&api.get(&w.admin(), "/api/v1/tokens").await, 200, "tokens");
    let listed = listed.as_array().expect("tokens");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["label"], "ci");
    assert_eq!(listed[0]["role"], "admin");
    assert!(listed[0].get("token").is_none());
    assert!(listed[0]["last_used_at"].is_null(), "not used yet");
    assert!(listed[0]["revoked_at"].is_null());

    // Created with a token: an analyst token of the admin.
    let ro = expect(
        &api.post(
            &w.admin_bearer(),
            "/api/v1/tokens",
            &json!({"label": "dashboards", "role": "analyst"}),
        )
        .await,
        201,
        "analyst token",
    );
    assert_eq!(ro["role"], "analyst");
    let secret = ro["token"].as_str().expect("the secret, once").to_owned();
    let ro_cred = Cred::Bearer(secret.clone());
    let me = expect(&api.get(&ro_cred, "/api/v1/me").await, 200, "me");
    assert_eq!(me["user"]["name"], ADMIN.0);
    assert_eq!(
        me["user"]["role"], "analyst",
        "the token's role, not the user's"
    );
    expect(
        &api.get(&ro_cred, &w.app_path("/rules")).await,
        200,
        "it reads",
    );
    expect_error(
        &api.post(&ro_cred, "/api/v1/apps", &json!({"name": "x"}))
            .await,
        403,
        "forbidden",
        "it does not write",
    );
    // The secret is never shown again.
    let all = expect(
        &api.get(&w.admin_bearer(), "/api/v1/tokens").await,
        200,
        "tokens",
    );
    assert!(!all.to_string().contains(&secret));
    let labels: Vec<&str> = all
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["label"].as_str())
        .collect();
    assert_eq!(labels, ["dashboards", "ci"], "newest first");
    let used = all
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["label"] == "dashboards")
        .expect("listed");
    assert!(
        used["last_used_at"].is_string(),
        "a used token shows when: {used}"
    );

    // Refused creations.
    for body in [
        json!({"role": "analyst"}),
        json!({"label": "x", "role": "root"}),
    ] {
        expect_error(
            &api.post(&w.admin(), "/api/v1/tokens", &body).await,
            400,
            "bad_request",
            &format!("create {body}"),
        );
    }
    // An analyst cannot create or revoke tokens, but lists their own.
    for cred in [w.analyst(), w.analyst_bearer()] {
        expect_error(
            &api.post(
                &cred,
                "/api/v1/tokens",
                &json!({"label": "mine", "role": "analyst"}),
            )
            .await,
            403,
            "forbidden",
            "an analyst creates a token",
        );
        let mine = expect(
            &api.get(&cred, "/api/v1/tokens").await,
            200,
            "analyst tokens",
        );
        let mine = mine.as_array().expect("tokens");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["label"], "siem");
        assert_eq!(mine[0]["role"], "analyst");
    }
    let analysts_token = expect(
        &api.get(&w.analyst(), "/api/v1/tokens").await,
        200,
        "tokens",
    )[0]["id"]
        .clone();
    expect_error(
        &api.delete(&w.analyst(), &format!("/api/v1/tokens/{analysts_token}"))
            .await,
        403,
        "forbidden",
        "an analyst revokes",
    );
    // An admin revokes only their own tokens.
    expect_error(
        &api.delete(&w.admin(), &format!("/api/v1/tokens/{analysts_token}"))
            .await,
        404,
        "not_found",
        "another user's token",
    );
    expect(
        &api.get(&w.analyst_bearer(), "/api/v1/me").await,
        200,
        "still valid",
    );

    // Revoked with a session: it stops working, stays listed.
    let r = api
        .delete(&w.admin(), &format!("/api/v1/tokens/{}", ro["id"]))
        .await;
    expect(&r, 204, "revoke");
    expect_error(
        &api.get(&ro_cred, "/api/v1/me").await,
        401,
        "unauthorized",
        "revoked",
    );
    let all = expect(&api.get(&w.admin(), "/api/v1/tokens").await, 200, "tokens");
    let gone = all
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == ro["id"])
        .expect("still listed");
    assert!(gone["revoked_at"].is_string(), "{gone}");
    expect_error(
        &api.delete(&w.admin(), &format!("/api/v1/tokens/{}", ro["id"]))
            .await,
        404,
        "not_found",
        "revoke twice",
    );
    // Revoked with a token (a token may revoke itself).
    let own = expect(&api.get(&w.admin(), "/api/v1/tokens").await, 200, "tokens")
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["label"] == "ci")
        .expect("ci token")["id"]
        .clone();
    expect(
        &api.delete(&w.admin_bearer(), &format!("/api/v1/tokens/{own}"))
            .await,
        204,
        "revoke itself",
    );
    expect_error(
        &api.get(&w.admin_bearer(), "/api/v1/me").await,
        401,
        "unauthorized",
        "revoked",
    );
    expect_error(
        &api.delete(&w.admin(), "/api/v1/tokens/x").await,
        404,
        "not_found",
        "a word",
    );
    w.cloud.stop().await;
}

crate::on_both!(
    every_endpoint_refuses_the_wrong_callers,
    signing_in_and_out,
    the_sign_in_throttle,
    users,
    api_tokens,
);
