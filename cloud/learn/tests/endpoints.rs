//! Layer 1 of the learners: endpoint templates from path shapes, and the
//! business function of each template.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use rampart_learn::endpoints::functions::{example, knowledge_base};
use rampart_learn::endpoints::{
    learn, reconcile, Change, FunctionModel, ParamKind, Protocol, Template, TemplateSet,
};
use rampart_learn::{nn, Function};
use rampart_telemetry::{EndpointStats, PointStats};

/// An endpoint as a node reports it.
fn ep(method: &str, path: &str, requests: u64, status: u16, points: &[&str]) -> EndpointStats {
    EndpointStats {
        method: method.into(),
        path: path.into(),
        requests,
        statuses: BTreeMap::from([(status, requests)]),
        points: points
            .iter()
            .map(|p| PointStats {
                point: (*p).into(),
                count: requests,
                ..PointStats::default()
            })
            .collect(),
        ..EndpointStats::default()
    }
}

fn templates(t: &[Template]) -> Vec<String> {
    t.iter()
        .filter(|t| t.operation.is_none())
        .map(|t| format!("{} {}", t.method, t.template))
        .collect()
}

fn get<'a>(ts: &'a [Template], method: &str, template: &str) -> &'a Template {
    ts.iter()
        .find(|t| t.operation.is_none() && t.method == method && t.template == template)
        .unwrap_or_else(|| panic!("no {method} {template} in {:?}", templates(ts)))
}

#[test]
fn ids_become_named_parameters() {
    let ts = learn(&[
        ep("GET", "/users/{int}", 50, 200, &[]),
        ep(
            "GET",
            "/users/{int}/orders/{hex}",
            40,
            200,
            &["query.expand"],
        ),
        ep("GET", "/api/invoices/{uuid}", 30, 200, &[]),
        ep("GET", "/reports/daily/{date}", 10, 200, &[]),
        ep("GET", "/api/users/by-email/{email}", 5, 200, &[]),
        ep("GET", "/api/sessions/{base64}", 5, 200, &[]),
        ep("GET", "/{int}/{int}", 5, 200, &[]),
    ]);
    let t = get(&ts, "GET", "/users/{id}/orders/{order_id}");
    assert_eq!(t.params.len(), 2);
    assert_eq!(t.params[0].kind, ParamKind::Int);
    assert_eq!(t.params[1].kind, ParamKind::Hash);
    assert_eq!(t.params[1].position, 3);
    assert_eq!(t.shapes, vec!["/users/{int}/orders/{hex}".to_string()]);
    assert_eq!(t.points.len(), 1);
    get(&ts, "GET", "/users/{id}");
    assert_eq!(
        get(&ts, "GET", "/api/invoices/{id}").params[0].kind,
        ParamKind::Uuid
    );
    assert_eq!(
        get(&ts, "GET", "/reports/daily/{date}").params[0].kind,
        ParamKind::Date
    );
    assert_eq!(
        get(&ts, "GET", "/api/users/by-email/{email}").params[0].kind,
        ParamKind::Email
    );
    get(&ts, "GET", "/api/sessions/{id}");
    // Names stay unique without a literal before them.
    get(&ts, "GET", "/{id}/{id_2}");
}

#[test]
fn data_words_become_slugs_and_routes_stay() {
    let slugs = [
        "red-running-shoes",
        "blue-denim-jacket",
        "wool-winter-hat",
        "leather-hiking-boots",
        "cotton-t-shirt-white",
        "silk-scarf-2024",
        "canvas-tote-bag",
        "linen-summer-dress",
    ];
    let users = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    ];
    let mut eps = vec![
        // A long tail of products below k, answered.
        ep("GET", "/products/{word}", 60, 200, &[]),
        ep("GET", "/products/{word}/reviews", 10, 200, &["query.page"]),
        ep("GET", "/u/{word}", 40, 200, &[]),
        // Genuine sibling routes, plus scanners' guesses (404).
        ep("GET", "/api/users", 300, 200, &["query.page"]),
        ep("POST", "/api/users", 40, 201, &["body:json.email"]),
        ep("GET", "/api/users/{int}", 500, 200, &[]),
        ep("GET", "/api/orders", 200, 200, &["query.status"]),
        ep("GET", "/api/orders/{int}", 150, 200, &[]),
        ep("GET", "/api/cart", 120, 200, &[]),
        ep("POST", "/api/cart", 90, 200, &["body:json.sku"]),
        ep("DELETE", "/api/cart", 10, 204, &[]),
        ep("GET", "/api/{word}", 30, 404, &[]),
        // Site pages at the root, and guesses there.
        ep("GET", "/about", 50, 200, &[]),
        ep("GET", "/contact", 40, 200, &[]),
        ep("POST", "/contact", 5, 302, &["body:form.message"]),
        ep("GET", "/imprint", 10, 200, &[]),
        ep("GET", "/faq", 20, 200, &[]),
        ep("GET", "/terms", 10, 200, &[]),
        ep("GET", "/privacy", 10, 200, &[]),
        ep("GET", "/login", 80, 200, &[]),
        ep(
            "POST",
            "/login",
            60,
            302,
            &["body:form.username", "body:form.password"],
        ),
        ep("GET", "/{word}", 70, 404, &[]),
    ];
    for (i, s) in slugs.iter().enumerate() {
        eps.push(ep("GET", &format!("/products/{s}"), 5 + i as u64, 200, &[]));
        if i % 2 == 0 {
            eps.push(ep(
                "GET",
                &format!("/products/{s}/reviews"),
                2,
                200,
                &["query.page"],
            ));
        }
    }
    for (i, u) in users.iter().enumerate() {
        eps.push(ep("GET", &format!("/u/{u}"), 3 + i as u64, 200, &[]));
    }
    let ts = learn(&eps);
    let names = templates(&ts);
    let p = get(&ts, "GET", "/products/{slug}");
    assert_eq!(p.params[0].kind, ParamKind::Slug);
    assert_eq!(p.shapes.len(), slugs.len() + 1, "{:?}", p.shapes);
    assert_eq!(
        p.requests,
        60 + (0..slugs.len() as u64).map(|i| 5 + i).sum::<u64>()
    );
    get(&ts, "GET", "/products/{slug}/reviews");
    get(&ts, "GET", "/u/{slug}");
    for kept in [
        "GET /api/users",
        "POST /api/users",
        "GET /api/users/{id}",
        "GET /api/orders",
        "GET /api/orders/{id}",
        "GET /api/cart",
        "POST /api/cart",
        "DELETE /api/cart",
        "GET /about",
        "GET /contact",
        "GET /imprint",
        "GET /faq",
        "GET /login",
        "POST /login",
    ] {
        assert!(names.iter().any(|n| n == kept), "{kept} not in {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("red-running-shoes")));
    assert!(!names.iter().any(|n| n.contains("alice")));
    // The guesses are one parameter beside the kept routes.
    get(&ts, "GET", "/api/{slug}");
    // Templates are unique.
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
}

#[test]
fn locales_versions_and_files() {
    let mut eps = vec![
        ep("GET", "/en/products/{int}", 100, 200, &[]),
        ep("GET", "/de-de/products/{int}", 60, 200, &[]),
        ep("GET", "/fr/products/{int}", 40, 200, &[]),
        ep("GET", "/en/help", 10, 200, &[]),
        ep("GET", "/my/orders", 30, 200, &[]),
        ep("GET", "/docs/v1.2.3/intro", 20, 200, &[]),
        ep("GET", "/docs/v2.0.1/intro", 30, 200, &[]),
        ep("GET", "/docs/v2.0.1/install", 10, 200, &[]),
        ep("GET", "/api/v1/users", 100, 200, &[]),
        ep("GET", "/api/v2/users", 80, 200, &[]),
        ep("GET", "/downloads/app/1.4.2", 10, 200, &[]),
    ];
    for (i, f) in [
        "main.3f9c2a.js",
        "vendor.8d7e1b.js",
        "runtime.a1b2c3.js",
        "polyfills.9e8d7c.js",
        "app.77aa11.js",
        "chunk-42.0f0e0d.js",
    ]
    .iter()
    .enumerate()
    {
        eps.push(ep(
            "GET",
            &format!("/static/js/{f}"),
            10 + i as u64,
            200,
            &[],
        ));
    }
    let ts = learn(&eps);
    let names = templates(&ts);
    let l = get(&ts, "GET", "/{locale}/products/{id}");
    assert_eq!(l.params[0].kind, ParamKind::Locale);
    assert_eq!(l.requests, 200);
    get(&ts, "GET", "/{locale}/help");
    // `my` is a route word, not Burmese.
    get(&ts, "GET", "/my/orders");
    let v = get(&ts, "GET", "/docs/{version}/intro");
    assert_eq!(v.params[0].kind, ParamKind::Version);
    get(&ts, "GET", "/docs/{version}/install");
    // API versions are routes.
    get(&ts, "GET", "/api/v1/users");
    get(&ts, "GET", "/api/v2/users");
    get(&ts, "GET", "/downloads/app/{version}");
    let f = get(&ts, "GET", "/static/js/{file}");
    assert_eq!(f.params[0].kind, ParamKind::File);
    assert_eq!(f.extensions.keys().collect::<Vec<_>>(), vec!["js"]);
    assert!(
        !names.iter().any(|n| n.contains("main.3f9c2a")),
        "{names:?}"
    );
}

#[test]
fn graphql_operations_and_soap_actions_are_endpoints() {
    let ts = learn(&[
        ep(
            "POST",
            "/graphql",
            100,
            200,
            &[
                "body:graphql.mutation.login.{token}",
                "body:graphql.mutation.login.token",
                "body:graphql.mutation.{token}",
                "body:graphql.query.products.{token}",
                "body:graphql.query.products.name",
                "body:graphql.query.{word}.id",
            ],
        ),
        ep(
            "POST",
            "/api",
            50,
            200,
            &[
                "body:json.query:graphql.mutation.addToCart.{token}",
                "body:json.variables.sku",
            ],
        ),
        ep(
            "POST",
            "/services/Accounts",
            30,
            200,
            &[
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].GetUser.userId",
                "body:xml[\"soap:Envelope\"][\"soap:Header\"].Security.token",
                "body:xml[\"soap:Envelope\"][\"{token}\"]",
            ],
        ),
        // Prefixed names the node could not keep: SOAP known by its header.
        ep(
            "POST",
            "/ws/bank",
            20,
            200,
            &[
                "header.soapaction",
                "body:xml.{token}.{token}.GetBalance.account",
            ],
        ),
        // Plain XML is no SOAP.
        ep(
            "POST",
            "/feed",
            5,
            200,
            &["body:xml.{token}.{token}.item.title"],
        ),
    ]);
    let ops: Vec<&Template> = ts.iter().filter(|t| t.operation.is_some()).collect();
    let find = |name: &str| {
        ops.iter()
            .find(|t| t.operation.as_ref().is_some_and(|o| o.name == name))
            .copied()
            .unwrap_or_else(|| panic!("no operation {name}"))
    };
    assert_eq!(
        ops.len(),
        5,
        "{:?}",
        ops.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    let login = find("login");
    let op = login.operation.as_ref().unwrap();
    assert_eq!(
        (op.protocol, op.kind.as_str()),
        (Protocol::Graphql, "mutation")
    );
    assert_eq!(login.template, "/graphql");
    assert_eq!(
        login.condition().unwrap(),
        "exists(body:graphql.mutation.login)"
    );
    assert_eq!(login.points.len(), 2);
    assert_eq!(login.requests, 100);
    assert_eq!(
        find("products").condition().unwrap(),
        "exists(body:graphql.query.products)"
    );
    assert_eq!(
        find("addToCart").condition().unwrap(),
        "exists(body:json.query:graphql.mutation.addToCart)"
    );
    let soap = find("GetUser");
    assert_eq!(soap.operation.as_ref().unwrap().protocol, Protocol::Soap);
    assert_eq!(
        soap.condition().unwrap(),
        "exists(body:xml[\"soap:Envelope\"][\"soap:Body\"].GetUser)"
    );
    assert_eq!(
        find("GetBalance").condition().unwrap(),
        "exists(body:xml.*.*.GetBalance)"
    );
    // The plain endpoints are there too, without a condition.
    assert!(get(&ts, "POST", "/graphql").condition().is_none());
    let set = TemplateSet::new(ts.clone());
    let plain = set.find("POST", "/graphql").unwrap();
    assert_eq!(set.operations(plain).count(), 2);
    // Operations have their own identity.
    let mut skeletons: Vec<String> = ts.iter().map(Template::skeleton).collect();
    let n = skeletons.len();
    skeletons.sort();
    skeletons.dedup();
    assert_eq!(skeletons.len(), n);
}

#[test]
fn raw_paths_find_the_most_specific_template() {
    let set = TemplateSet::learn(&[
        ep("GET", "/users/{int}", 50, 200, &[]),
        ep("GET", "/users/me", 50, 200, &[]),
        ep("GET", "/users/{int}/orders/{hex}", 40, 200, &[]),
        ep("GET", "/users/{int}/orders/latest", 10, 200, &[]),
        ep("GET", "/files/{word}/{word}", 10, 200, &[]),
        ep("GET", "/files/{word}/meta", 10, 200, &[]),
        ep("GET", "/", 10, 200, &[]),
        ep("POST", "/users/{int}", 5, 200, &[]),
    ]);
    let find = |m: &str, p: &str| set.find(m, p).map(|t| t.template.as_str());
    assert_eq!(
        find("GET", "/users/4711/orders/9f1c2a"),
        Some("/users/{id}/orders/{order_id}")
    );
    assert_eq!(
        find("GET", "/users/4711/orders/latest"),
        Some("/users/{id}/orders/latest")
    );
    assert_eq!(find("GET", "/users/me"), Some("/users/me"));
    assert_eq!(find("GET", "/users/42/"), Some("/users/{id}"));
    assert_eq!(find("GET", "/users/42?tab=1"), Some("/users/{id}"));
    assert_eq!(find("HEAD", "/users/42"), Some("/users/{id}"));
    assert_eq!(find("get", "/users/42"), Some("/users/{id}"));
    assert_eq!(find("POST", "/users/me"), Some("/users/{id}"));
    assert_eq!(find("GET", "/users%2fme"), None);
    assert_eq!(find("GET", "/users/m%65"), Some("/users/me"));
    // Literal beats parameter from the left.
    assert_eq!(find("GET", "/files/a/meta"), Some("/files/{slug}/meta"));
    assert_eq!(find("GET", "/files/a/b"), Some("/files/{slug}/{slug_2}"));
    assert_eq!(find("GET", "/"), Some("/"));
    assert_eq!(find("GET", "/users/1/2/3"), None);
    assert_eq!(find("DELETE", "/users/1"), None);
    let shape = |m: &str, s: &str| set.find_shape(m, s).map(|t| t.template.as_str());
    assert_eq!(
        shape("GET", "/users/{int}/orders/{hex}"),
        Some("/users/{id}/orders/{order_id}")
    );
    assert_eq!(shape("GET", "/users/{uuid}"), Some("/users/{id}"));
    assert_eq!(shape("GET", "/users/me"), Some("/users/me"));
    assert_eq!(shape("GET", "/nothing/{int}"), None);
}

#[test]
fn a_new_release_updates_templates_without_duplicating_them() {
    let v1 = learn(&[
        ep("GET", "/users/{int}", 50, 200, &["query.tab"]),
        ep("GET", "/users/{int}/orders/{int}", 40, 200, &[]),
        ep("GET", "/legacy/report", 10, 200, &[]),
        ep("GET", "/health", 10, 200, &[]),
    ]);
    // The second release: UUIDs instead of integers, a new query
    // parameter, a new endpoint, one gone.
    let v2 = learn(&[
        ep("GET", "/users/{uuid}", 50, 200, &["query.tab"]),
        ep(
            "GET",
            "/users/{uuid}/orders/{int}",
            40,
            200,
            &["query.fields"],
        ),
        ep("GET", "/health", 12, 200, &[]),
        ep("POST", "/users/{uuid}/orders", 5, 201, &["body:json.sku"]),
    ]);
    let r = reconcile(&v1, v2);
    let change = |name: &str| {
        r.iter()
            .filter(|(t, _)| t.name == name)
            .map(|(t, c)| (t.clone(), *c))
            .collect::<Vec<_>>()
    };
    let users = change("GET /users/{id}");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].1, Change::Changed);
    assert_eq!(users[0].0.params[0].kind, ParamKind::Uuid);
    let orders = change("GET /users/{id}/orders/{order_id}");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].1, Change::Changed);
    assert_eq!(change("GET /health")[0].1, Change::Same);
    assert_eq!(change("GET /health")[0].0.requests, 12);
    assert_eq!(change("GET /legacy/report")[0].1, Change::Gone);
    assert_eq!(change("POST /users/{id}/orders")[0].1, Change::New);
    assert_eq!(r.len(), 5);
    // A later release with the old kinds again is the same endpoint.
    let back: Vec<Template> = r
        .iter()
        .filter(|(_, c)| *c != Change::Gone)
        .map(|(t, _)| t.clone())
        .collect();
    let v3 = learn(&[ep("GET", "/users/{int}", 50, 200, &["query.tab"])]);
    let r3 = reconcile(&back, v3);
    assert_eq!(r3[0].1, Change::Changed);
    assert_eq!(r3[0].0.name, "GET /users/{id}");
    assert_eq!(r3.iter().filter(|(_, c)| *c == Change::Gone).count(), 3);
}

#[test]
fn untrusted_aggregates_do_not_panic() {
    let mut odd = ep(
        "get",
        "//a//{int}/{weird/}",
        u64::MAX,
        200,
        &["", "[\"", "a.{b"],
    );
    odd.points[0].length.buckets = vec![u64::MAX; 100];
    odd.points[0].chars = vec![u64::MAX; 1000];
    let mut again = odd.clone();
    again.method = String::new();
    let ts = learn(&[
        odd.clone(),
        odd,
        again,
        ep("GET", &"/x".repeat(500), 1, 200, &[]),
    ]);
    assert!(!ts.is_empty());
    let set = TemplateSet::new(ts);
    let _ = set.find("GET", "%%%/%");
    let _ = set.find_shape("GET", "{");
}

/// A held-out endpoint: its function, method, template, points and
/// content type.
type Row<'a> = (Function, &'a str, &'a str, Vec<&'a str>, Option<&'a str>);

/// Endpoints of made-up applications, written for this test: other
/// vocabularies and structures than the knowledge base's rows.
fn held_out() -> Vec<(Template, Function)> {
    use Function::*;
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const JSON: Option<&str> = Some("application/json");
    const MULTI: Option<&str> = Some("multipart/form-data");
    const SOAP: Option<&str> = Some("text/xml");
    let rows: Vec<Row<'_>> = vec![
        // An outdoor gear shop: a JSON API under /rest/v3 and HTML pages.
        (
            Login,
            "POST",
            "/rest/v3/auth/credentials",
            vec!["body:json.userEmail", "body:json.userPassword"],
            JSON,
        ),
        (Logout, "POST", "/rest/v3/auth/signoff", vec![], JSON),
        (
            Registration,
            "POST",
            "/rest/v3/members/signup",
            vec![
                "body:json.email",
                "body:json.password",
                "body:json.fullName",
            ],
            JSON,
        ),
        (
            PasswordReset,
            "POST",
            "/rest/v3/auth/forgotten-password",
            vec!["body:json.email"],
            JSON,
        ),
        (
            Search,
            "GET",
            "/rest/v3/catalog/search",
            vec!["query.terms", "query.page"],
            None,
        ),
        (ProductView, "GET", "/shop/gear/{slug}", vec![], None),
        (
            ProductView,
            "GET",
            "/rest/v3/catalog/products/{id:int}",
            vec![],
            None,
        ),
        (Cart, "GET", "/rest/v3/basket", vec![], None),
        (
            Cart,
            "POST",
            "/rest/v3/basket/lines",
            vec!["body:json.sku", "body:json.quantity"],
            JSON,
        ),
        (
            Checkout,
            "POST",
            "/rest/v3/orders/place",
            vec![
                "body:json.shippingAddress.zip",
                "body:json.payment.cardToken",
            ],
            JSON,
        ),
        (Profile, "GET", "/rest/v3/members/me", vec![], None),
        (
            Profile,
            "PUT",
            "/rest/v3/members/me/address",
            vec!["body:json.street", "body:json.city"],
            JSON,
        ),
        (
            Admin,
            "GET",
            "/rest/v3/admin/inventory",
            vec!["query.page"],
            None,
        ),
        (
            Upload,
            "POST",
            "/rest/v3/members/me/photo",
            vec!["body:multipart.photo"],
            MULTI,
        ),
        (
            Download,
            "GET",
            "/rest/v3/orders/{id:int}/invoice.pdf",
            vec![],
            None,
        ),
        (
            Static,
            "GET",
            "/static/fonts/opensans-regular.woff",
            vec![],
            None,
        ),
        (Static, "GET", "/img/hero-banner.webp", vec![], None),
        (
            ApiRead,
            "GET",
            "/rest/v3/stores",
            vec!["query.region"],
            None,
        ),
        (
            ApiWrite,
            "POST",
            "/rest/v3/product-questions",
            vec!["body:json.productId", "body:json.question"],
            JSON,
        ),
        // A clinic's patient portal: server-rendered forms.
        (
            Login,
            "POST",
            "/portal/login/",
            vec![
                "body:form.username",
                "body:form.password",
                "body:form.csrfmiddlewaretoken",
            ],
            FORM,
        ),
        (Logout, "GET", "/portal/logout/", vec![], None),
        (
            Registration,
            "POST",
            "/portal/patients/register/",
            vec![
                "body:form.first_name",
                "body:form.last_name",
                "body:form.email",
                "body:form.password1",
                "body:form.password2",
            ],
            FORM,
        ),
        (
            PasswordReset,
            "POST",
            "/portal/password-reset/",
            vec!["body:form.email"],
            FORM,
        ),
        (
            PasswordReset,
            "GET",
            "/portal/password-reset/confirm/{uid:token}/{token}/",
            vec![],
            None,
        ),
        (
            Search,
            "GET",
            "/portal/doctors/search",
            vec!["query.specialty", "query.city"],
            None,
        ),
        (Profile, "GET", "/portal/my-profile/", vec![], None),
        (
            Profile,
            "POST",
            "/portal/my-profile/edit/",
            vec!["body:form.phone", "body:form.address"],
            FORM,
        ),
        (
            ApiWrite,
            "POST",
            "/portal/appointments/book/",
            vec!["body:form.doctor", "body:form.slot"],
            FORM,
        ),
        (
            ApiRead,
            "GET",
            "/portal/appointments/{id:int}/",
            vec![],
            None,
        ),
        (
            Download,
            "GET",
            "/portal/lab-results/{id:int}/download",
            vec![],
            None,
        ),
        (
            Upload,
            "POST",
            "/portal/documents/upload/",
            vec!["body:multipart.document"],
            MULTI,
        ),
        (
            Admin,
            "GET",
            "/portal/admin/patients/",
            vec!["query.q"],
            None,
        ),
        (Static, "GET", "/portal/static/css/portal.css", vec![], None),
        (
            ApiWrite,
            "DELETE",
            "/portal/api/appointments/{id:int}",
            vec![],
            None,
        ),
        (
            ApiRead,
            "GET",
            "/portal/api/doctors/{id:int}/availability",
            vec!["query.date"],
            None,
        ),
        // An events and ticketing platform: GraphQL and a few REST routes.
        (
            Login,
            "POST",
            "/gql#mutation.authenticateUser",
            vec![
                "body:graphql.mutation.authenticateUser.{token}",
                "body:graphql.mutation.authenticateUser.jwt",
            ],
            JSON,
        ),
        (
            Logout,
            "POST",
            "/gql#mutation.logoutUser",
            vec!["body:graphql.mutation.logoutUser.success"],
            JSON,
        ),
        (
            Registration,
            "POST",
            "/gql#mutation.registerAttendee",
            vec![
                "body:graphql.mutation.registerAttendee.{token}",
                "body:graphql.mutation.registerAttendee.attendee.id",
            ],
            JSON,
        ),
        (
            Search,
            "POST",
            "/gql#query.searchEvents",
            vec![
                "body:graphql.query.searchEvents.{token}",
                "body:graphql.query.searchEvents.nodes.title",
            ],
            JSON,
        ),
        (
            Cart,
            "POST",
            "/gql#mutation.addTicketsToCart",
            vec!["body:graphql.mutation.addTicketsToCart.{token}"],
            JSON,
        ),
        (
            Checkout,
            "POST",
            "/gql#mutation.completeOrder",
            vec![
                "body:graphql.mutation.completeOrder.{token}",
                "body:graphql.mutation.completeOrder.order.total",
            ],
            JSON,
        ),
        (
            Profile,
            "POST",
            "/gql#query.myAccount",
            vec![
                "body:graphql.query.myAccount.email",
                "body:graphql.query.myAccount.displayName",
            ],
            JSON,
        ),
        (
            ApiRead,
            "POST",
            "/gql#query.venues",
            vec![
                "body:graphql.query.venues.name",
                "body:graphql.query.venues.city",
            ],
            JSON,
        ),
        (
            ApiWrite,
            "POST",
            "/gql#mutation.rateEvent",
            vec!["body:graphql.mutation.rateEvent.{token}"],
            JSON,
        ),
        (
            Download,
            "GET",
            "/e/{id:int}/tickets/{code:token}/download",
            vec![],
            None,
        ),
        (
            Upload,
            "POST",
            "/api/organizer/events/{id:int}/cover-image",
            vec!["body:multipart.image"],
            MULTI,
        ),
        (
            Admin,
            "GET",
            "/organizer/admin/payouts",
            vec!["query.status"],
            None,
        ),
        (Static, "GET", "/packs/js/application-8f3a.js", vec![], None),
        (
            PasswordReset,
            "POST",
            "/account/reset-link",
            vec!["body:json.email"],
            JSON,
        ),
        (ProductView, "GET", "/shop/tickets/{id:int}", vec![], None),
        // A bank: servlets, SOAP web services, some German.
        (
            Login,
            "POST",
            "/ebanking/authenticate.do",
            vec!["body:form.userId", "body:form.password"],
            FORM,
        ),
        (Logout, "GET", "/ebanking/logout.do", vec![], None),
        (
            Login,
            "POST",
            "/ws/SecurityService#action.LogonUser",
            vec![
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].LogonUser.user",
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].LogonUser.pin",
            ],
            SOAP,
        ),
        (
            ApiRead,
            "POST",
            "/ws/AccountService#action.GetAccountBalance",
            vec!["body:xml[\"soap:Envelope\"][\"soap:Body\"].GetAccountBalance.accountNumber"],
            SOAP,
        ),
        (
            ApiWrite,
            "POST",
            "/ws/AccountService#action.CreateStandingOrder",
            vec![
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].CreateStandingOrder.amount",
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].CreateStandingOrder.iban",
            ],
            SOAP,
        ),
        (
            Search,
            "GET",
            "/ebanking/transactions/search",
            vec!["query.from", "query.to", "query.amount"],
            None,
        ),
        (
            Download,
            "GET",
            "/ebanking/statements/{id:int}/download",
            vec![],
            None,
        ),
        (Profile, "GET", "/ebanking/profil", vec![], None),
        (
            Registration,
            "POST",
            "/ebanking/registrierung",
            vec!["body:form.vertragsnummer", "body:form.email"],
            FORM,
        ),
        (
            PasswordReset,
            "POST",
            "/ebanking/passwort-zuruecksetzen",
            vec!["body:form.benutzer", "body:form.email"],
            FORM,
        ),
        (Admin, "GET", "/ebanking/admin/audit", vec![], None),
        (
            ApiRead,
            "GET",
            "/ebanking/api/accounts/{id:int}/balance",
            vec![],
            None,
        ),
        (
            ApiWrite,
            "POST",
            "/ebanking/api/transfers",
            vec![
                "body:json.fromAccount",
                "body:json.toIban",
                "body:json.amount",
            ],
            JSON,
        ),
        (
            Static,
            "GET",
            "/ebanking/resources/js/jquery-3.6.0.min.js",
            vec![],
            None,
        ),
        (
            Upload,
            "POST",
            "/ebanking/documents",
            vec!["body:multipart.scan"],
            MULTI,
        ),
        // A French bookshop.
        (ProductView, "GET", "/livres/{slug}", vec![], None),
        (
            Cart,
            "POST",
            "/panier/articles",
            vec!["body:form.isbn", "body:form.quantite"],
            FORM,
        ),
        (
            Search,
            "GET",
            "/rechercher",
            vec!["query.titre", "query.auteur"],
            None,
        ),
        (
            Checkout,
            "POST",
            "/commande/valider",
            vec!["body:form.adresse", "body:form.mode_paiement"],
            FORM,
        ),
        (Profile, "GET", "/mon-compte/commandes", vec![], None),
        (
            Login,
            "POST",
            "/se-connecter",
            vec!["body:form.courriel", "body:form.mot_de_passe"],
            FORM,
        ),
        // A help desk on Rails with Devise: agents sign in, a staff
        // back office manages them.
        (Login, "GET", "/agents/sign_in", vec![], None),
        (
            Login,
            "POST",
            "/agents/sign_in",
            vec![
                "body:form.agent.email",
                "body:form.agent.password",
                "body:form.authenticity_token",
            ],
            FORM,
        ),
        (Logout, "DELETE", "/agents/sign_out", vec![], None),
        (PasswordReset, "GET", "/agents/password/new", vec![], None),
        (
            PasswordReset,
            "POST",
            "/agents/password",
            vec!["body:form.agent.email", "body:form.authenticity_token"],
            FORM,
        ),
        (Registration, "GET", "/registrations/new", vec![], None),
        (Profile, "GET", "/agents/edit", vec![], None),
        (
            Admin,
            "GET",
            "/staff/agents",
            vec!["query.page", "query.role"],
            None,
        ),
        (
            Admin,
            "PATCH",
            "/staff/agents/{id:int}",
            vec!["body:form.agent.role", "body:form.agent.active"],
            FORM,
        ),
        (
            Admin,
            "POST",
            "/staff/agents/{id:int}/suspend",
            vec![],
            FORM,
        ),
        (
            Admin,
            "POST",
            "/staff/billing/settings",
            vec!["body:form.plan", "body:form.seats"],
            FORM,
        ),
        (ApiRead, "GET", "/tickets/{id:int}", vec![], None),
        (
            ApiWrite,
            "POST",
            "/tickets/{id:int}/replies",
            vec!["body:form.reply.body"],
            FORM,
        ),
        (Static, "GET", "/healthz", vec![], None),
        // A fintech API on Spring Boot with a back office and a SOAP
        // service for partners.
        (
            Login,
            "POST",
            "/api/v2/auth/token",
            vec!["body:json.clientId", "body:json.secret"],
            JSON,
        ),
        (ApiRead, "GET", "/api/v2/wallets", vec![], None),
        (
            ApiRead,
            "GET",
            "/api/v2/wallets/{wallet_id:uuid}",
            vec![],
            None,
        ),
        (
            ApiRead,
            "GET",
            "/api/v2/wallets/{wallet_id:uuid}/movements",
            vec!["query.since"],
            None,
        ),
        (Profile, "GET", "/api/v2/customers/me", vec![], None),
        (Static, "GET", "/api/v2/version", vec![], None),
        (Static, "GET", "/status", vec![], None),
        (
            Admin,
            "GET",
            "/backoffice/customers/{customer_id:int}",
            vec![],
            None,
        ),
        (
            Admin,
            "POST",
            "/backoffice/customers/{customer_id:int}/lock",
            vec!["body:json.reason"],
            JSON,
        ),
        (
            Admin,
            "PUT",
            "/backoffice/limits",
            vec!["body:json.daily", "body:json.monthly"],
            JSON,
        ),
        (
            Static,
            "GET",
            "/partner/PaymentService",
            vec!["query.wsdl"],
            None,
        ),
        (
            ApiWrite,
            "POST",
            "/partner/PaymentService#action.InitiateTransfer",
            vec![
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].InitiateTransfer.amount",
                "body:xml[\"soap:Envelope\"][\"soap:Body\"].InitiateTransfer.creditor",
            ],
            SOAP,
        ),
        // A Laravel furniture shop with a control panel.
        (PasswordReset, "GET", "/password/reset", vec![], None),
        (
            PasswordReset,
            "POST",
            "/reset-password",
            vec![
                "body:form.token",
                "body:form.email",
                "body:form.password",
                "body:form.password_confirmation",
            ],
            FORM,
        ),
        (Profile, "GET", "/my/orders", vec!["query.page"], None),
        (Profile, "GET", "/user/orders/{id:int}", vec![], None),
        (
            Admin,
            "GET",
            "/control-panel/customers",
            vec!["query.search"],
            None,
        ),
        (
            Admin,
            "POST",
            "/control-panel/customers/{id:int}",
            vec!["body:form.name", "body:form.email", "body:form._token"],
            FORM,
        ),
        (
            Admin,
            "POST",
            "/control-panel/settings/payment",
            vec!["body:form.gateway", "body:form._token"],
            FORM,
        ),
        (
            ProductView,
            "GET",
            "/furniture/{category:slug}/{slug}",
            vec![],
            None,
        ),
        (
            Cart,
            "POST",
            "/cart/items",
            vec!["body:form.product_id", "body:form.qty", "body:form._token"],
            FORM,
        ),
        (Static, "GET", "/ping", vec![], None),
    ];
    rows.into_iter()
        .map(|(f, m, spec, points, ct)| (example(m, spec, &points, ct), f))
        .collect()
}

#[test]
fn business_functions_on_applications_the_model_never_saw() {
    let kb = knowledge_base();
    let held = held_out();
    // None of the held-out endpoints is a row of the knowledge base.
    for (t, _) in &held {
        assert!(
            !kb.iter().any(|e| e.template.method == t.method
                && e.template.template == t.template
                && e.template.operation == t.operation),
            "{} is in the knowledge base",
            t.name
        );
    }
    let model = FunctionModel::train(&nn::cpu());
    let got = model.classify_all(&held.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>());
    let mut right = 0;
    for ((t, want), (f, p)) in held.iter().zip(&got) {
        if f == want {
            right += 1;
            if *p < 0.5 {
                println!("unsure: {} -> {f} ({p:.2})", t.name);
            }
        } else {
            println!("miss: {} -> {f} ({p:.2}), want {want}", t.name);
        }
    }
    let accuracy = right as f64 / held.len() as f64;
    println!(
        "function accuracy on {} held-out endpoints: {accuracy:.3}",
        held.len()
    );
    assert!(accuracy >= 0.9, "accuracy {accuracy:.3}");
    // On its own knowledge base the model is nearly perfect.
    let kb_got = model.classify_all(&kb.iter().map(|e| e.template.clone()).collect::<Vec<_>>());
    let kb_right = kb
        .iter()
        .zip(&kb_got)
        .filter(|(e, (f, _))| e.function == *f)
        .count();
    println!("knowledge base fit: {kb_right}/{}", kb.len());
    assert!(kb_right * 100 >= kb.len() * 95);
    // Learned templates are classified too, with a confidence.
    let ts = learn(&[
        ep(
            "POST",
            "/api/auth/sign-in",
            10,
            200,
            &["body:json.email", "body:json.password"],
        ),
        ep("GET", "/assets/{hex}", 10, 200, &[]),
    ]);
    let (f, p) = model.classify(&ts[0]);
    assert_eq!(f, Function::Login, "{:?}", ts[0].template);
    assert!(p > 0.5 && p <= 1.0);
}
