//! Synthetic applications of several styles, and the ground truth of the
//! built-in demo shop.
//!
//! Labelling conventions (the ground truth the learners are measured on):
//! the business function wins over the encoding: a JSON `GET
//! /api/products/{id}` is `product_view`, `POST /api/cart` is `cart`, `GET
//! /api/me` is `profile`. `api_read` and `api_write` are reads and writes of
//! business objects no other function covers (projects, tickets, forum
//! threads, bank accounts, reviews), whether JSON or HTML. A shop's home
//! page lists products (`product_view`); other home pages and assets are
//! `static`. Order histories belong to `profile`; paying for an order or a
//! basket is `checkout`.

use rampart_learn::{Function, ParamFormat};

use crate::app::{App, BodyKind, Collection, EndpointSpec, IdKind, Loc, Style, User};
use crate::rng::{hash_str, Rng};
use crate::values::{self, ValueGen};

use BodyKind as B;
use Function as F;
use ParamFormat as P;

const LOGIN_WEB: &[&str] = &[
    "/login",
    "/signin",
    "/sign-in",
    "/account/login",
    "/auth/login",
    "/users/sign_in",
    "/session/new",
    "/user/login",
    "/customer/account/login",
];
const LOGOUT_WEB: &[&str] = &[
    "/logout",
    "/signout",
    "/sign-out",
    "/account/logout",
    "/auth/logout",
    "/users/sign_out",
    "/session/end",
    "/user/logout",
];
const REGISTER_WEB: &[&str] = &[
    "/register",
    "/signup",
    "/sign-up",
    "/account/register",
    "/join",
    "/users/new",
    "/account/create",
    "/customer/account/create",
];
const RESET_WEB: &[&str] = &[
    "/password/reset",
    "/forgot-password",
    "/account/recover",
    "/password/forgot",
    "/reset-password",
    "/users/password/new",
    "/account/forgot",
];
const SEARCH_WEB: &[&str] = &[
    "/search",
    "/find",
    "/s",
    "/catalog/search",
    "/shop/search",
    "/query",
];
const PRODUCTS: &[&str] = &[
    "products", "product", "items", "p", "catalog", "shop", "article", "goods",
];
const CATEGORY: &[&str] = &["category", "c", "categories", "collections", "department"];
const CART: &[&str] = &["cart", "basket", "bag", "trolley", "shopping-cart"];
const CHECKOUT_WEB: &[&str] = &[
    "/checkout",
    "/order/confirm",
    "/purchase",
    "/checkout/payment",
    "/order/place",
    "/buy",
];
const ACCOUNT: &[&str] = &[
    "/account",
    "/profile",
    "/me",
    "/my-account",
    "/user/profile",
    "/settings/profile",
    "/account/settings",
];
const STATIC: &[&str] = &[
    "/static/css/main.css",
    "/assets/app.js",
    "/favicon.ico",
    "/css/site.css",
    "/js/bundle.min.js",
    "/images/logo.png",
    "/static/js/vendor.js",
    "/assets/fonts/inter.woff2",
    "/robots.txt",
    "/manifest.json",
    "/static/img/hero.jpg",
    "/assets/styles.css",
];
const API_PREFIX: &[&str] = &["/api", "/api/v1", "/api/v2", "/rest/v1", "/v1", "/api/v3"];
const API_LOGIN: &[&str] = &[
    "auth/login",
    "auth/token",
    "sessions",
    "login",
    "oauth/token",
    "token",
    "auth/signin",
];
const API_LOGOUT: &[&str] = &["auth/logout", "logout", "auth/revoke", "sessions/logout"];
const API_REGISTER: &[&str] = &[
    "auth/register",
    "signup",
    "accounts",
    "register",
    "auth/signup",
];
const API_RESET: &[&str] = &[
    "auth/password/reset",
    "password/forgot",
    "auth/recover",
    "password-resets",
];
const API_ME: &[&str] = &["me", "users/me", "account", "profile", "user"];
const RESOURCES: &[(&str, &str)] = &[
    ("users", "user_id"),
    ("orders", "order_id"),
    ("invoices", "invoice_id"),
    ("projects", "project_id"),
    ("tickets", "ticket_id"),
    ("customers", "customer_id"),
    ("payments", "payment_id"),
    ("subscriptions", "subscription_id"),
    ("teams", "team_id"),
    ("documents", "document_id"),
    ("devices", "device_id"),
    ("tasks", "task_id"),
    ("messages", "message_id"),
    ("notes", "note_id"),
    ("events", "event_id"),
    ("shipments", "shipment_id"),
    ("contacts", "contact_id"),
    ("bookings", "booking_id"),
    ("reports", "report_id"),
    ("webhooks", "webhook_id"),
    ("comments", "comment_id"),
    ("members", "member_id"),
    ("purchases", "purchase_id"),
    ("campaigns", "campaign_id"),
    ("vehicles", "vehicle_id"),
    ("assets", "asset_id"),
];
const LOCALES: &[&str] = &["en", "de", "fr", "es", "it", "nl", "pl", "pt"];
const SESSION_COOKIES: &[&str] = &[
    "session",
    "sid",
    "sessionid",
    "JSESSIONID",
    "connect.sid",
    "_app_session",
    "PHPSESSID",
    "auth_token",
];

/// A field of request bodies: names (synonyms), format and generator.
type Field = (&'static [&'static str], ParamFormat, fn() -> ValueGen);

fn fmt() -> ValueGen {
    ValueGen::Format
}
fn status_gen() -> ValueGen {
    choice(&["open", "pending", "closed", "active", "archived"])
}
fn priority_gen() -> ValueGen {
    choice(&["low", "normal", "high", "urgent"])
}
fn currency_gen() -> ValueGen {
    choice(&["EUR", "USD", "GBP", "CHF"])
}
fn qty_gen() -> ValueGen {
    ValueGen::Int(1, 10)
}
fn amount_gen() -> ValueGen {
    ValueGen::Decimal(1.0, 2500.0, 2)
}
fn date_gen() -> ValueGen {
    ValueGen::Date
}
fn ref_gen() -> ValueGen {
    ValueGen::Int(1, 5000)
}
fn hex_gen() -> ValueGen {
    ValueGen::Hex(40)
}
fn b64_gen() -> ValueGen {
    ValueGen::Base64(24)
}
fn address_gen() -> ValueGen {
    ValueGen::Address
}

const FIELDS: &[Field] = &[
    (
        &["title", "subject", "summary", "headline"],
        P::FreeText,
        fmt,
    ),
    (
        &["description", "notes", "comment", "body", "details"],
        P::FreeText,
        fmt,
    ),
    (
        &["email", "contact_email", "assignee_email", "billing_email"],
        P::Email,
        fmt,
    ),
    (
        &["phone", "mobile", "phone_number", "contact_phone"],
        P::Phone,
        fmt,
    ),
    (
        &["amount", "price", "total", "unit_price"],
        P::Decimal,
        amount_gen,
    ),
    (&["quantity", "qty", "count", "seats"], P::Integer, qty_gen),
    (&["status", "state"], P::Enumeration, status_gen),
    (&["priority", "severity"], P::Enumeration, priority_gen),
    (&["currency"], P::Enumeration, currency_gen),
    (
        &["due_date", "start_date", "birth_date", "valid_until"],
        P::DateTime,
        date_gen,
    ),
    (
        &["created_at", "scheduled_at", "updated_since", "timestamp"],
        P::DateTime,
        fmt,
    ),
    (
        &[
            "website",
            "callback_url",
            "homepage",
            "image_url",
            "return_url",
        ],
        P::Url,
        fmt,
    ),
    (&["ip_address", "client_ip", "last_ip"], P::Ip, fmt),
    (
        &["is_active", "enabled", "public", "archived", "notify"],
        P::Boolean,
        fmt,
    ),
    (
        &["metadata", "settings", "attributes", "extra"],
        P::Json,
        fmt,
    ),
    (
        &["owner_id", "account_id", "parent_id", "category_id"],
        P::Integer,
        ref_gen,
    ),
    (
        &["contact_name", "full_name", "recipient", "customer_name"],
        P::Name,
        fmt,
    ),
    (
        &["external_id", "reference", "correlation_id"],
        P::Uuid,
        fmt,
    ),
    (&["checksum", "sha1", "commit"], P::Hex, hex_gen),
    (&["signature", "nonce", "secret"], P::Base64, b64_gen),
    (&["content_html", "body_html", "template"], P::Html, fmt),
    (&["payload_xml", "export_xml"], P::Xml, fmt),
    (&["path", "file_path", "location"], P::FilePath, fmt),
    (
        &["address", "shipping_address", "street"],
        P::FreeText,
        address_gen,
    ),
    (&["card_number", "pan"], P::Card, fmt),
];

fn choice(xs: &[&str]) -> ValueGen {
    ValueGen::Choice(xs.iter().map(|s| s.to_string()).collect())
}

/// An operation: its name, function and variables.
type Op = (
    &'static str,
    Function,
    Vec<(&'static str, ParamFormat, ValueGen)>,
);

/// Builds one application.
struct Builder {
    rng: Rng,
    seed: u64,
    style: Style,
    eps: Vec<EndpointSpec>,
    collections: Vec<Collection>,
    html: bool,
    /// Sign in with the e-mail address rather than a user name.
    email_login: bool,
    /// Cookies every browser carries (name, format, generator).
    cookies: Vec<(String, ParamFormat, ValueGen)>,
}

impl Builder {
    fn new(seed: u64, style: Style) -> Builder {
        let mut rng = Rng::new(seed);
        let html = matches!(
            style,
            Style::WebShop | Style::Forum | Style::Bank | Style::AdminConsole
        );
        let email_login = rng.chance(0.5);
        let mut cookies = Vec::new();
        if html {
            if rng.chance(0.5) {
                cookies.push((
                    "theme".into(),
                    P::Enumeration,
                    choice(&["light", "dark", "auto"]),
                ));
            }
            if rng.chance(0.4) {
                let name = *rng.pick(&["lang", "locale", "language"]);
                cookies.push((
                    name.into(),
                    P::Enumeration,
                    choice(&["en", "de", "fr", "es"]),
                ));
            }
            if rng.chance(0.3) {
                let name = *rng.pick(&["cookie_consent", "consent", "gdpr_accepted"]);
                cookies.push((name.into(), P::Boolean, choice(&["true", "false"])));
            }
            if rng.chance(0.3) {
                let name = *rng.pick(&["visitor_id", "device_id", "_vid"]);
                cookies.push((name.into(), P::Uuid, ValueGen::Format));
            }
        }
        Builder {
            rng,
            seed,
            style,
            eps: Vec::new(),
            collections: Vec::new(),
            html,
            email_login,
            cookies,
        }
    }

    /// Adds a collection of `lo..=hi` objects and returns its name.
    fn collection_n(&mut self, name: &str, kind: IdKind, lo: i64, hi: i64) -> String {
        let n = self.rng.range(lo, hi) as usize;
        self.collection(name, kind, n)
    }

    /// Adds a collection of `count` objects and returns its name.
    fn collection(&mut self, name: &str, kind: IdKind, count: usize) -> String {
        if self.collections.iter().any(|c| c.name == name) {
            return name.to_string();
        }
        let mut r = Rng::new(hash_str(self.seed, name));
        let base = *r.pick(&[1i64, 1, 1, 100, 1000, 10_000]);
        let mut ids: Vec<String> = Vec::with_capacity(count);
        let mut seen = std::collections::HashSet::new();
        let mut k = 0i64;
        while ids.len() < count && k < (count as i64) * 20 + 20 {
            let id = match &kind {
                IdKind::Int => (base + k).to_string(),
                IdKind::Uuid => values::uuid(&mut r),
                IdKind::Hex(n) => {
                    let mut s = String::new();
                    while s.len() < *n {
                        s.push_str(&format!("{:016x}", r.next_u64()));
                    }
                    s.truncate(*n);
                    s
                }
                IdKind::Slug => values::slug(&mut r),
                _ => k.to_string(),
            };
            k += 1;
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        }
        self.collections.push(Collection {
            name: name.to_string(),
            kind,
            ids,
        });
        name.to_string()
    }

    fn collection_kind(&self, name: &str) -> Option<IdKind> {
        self.collections
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.kind.clone())
    }

    fn push(&mut self, mut ep: EndpointSpec) {
        if self.eps.iter().any(|e| {
            e.method == ep.method && e.template == ep.template && e.operation == ep.operation
        }) {
            return;
        }
        if ep.html {
            for (name, format, gen) in &self.cookies {
                ep = ep.param(Loc::Cookie(name.clone()), *format, false, gen.clone());
            }
        }
        self.eps.push(ep);
    }

    fn web(&self, method: &str, template: &str, f: Function) -> EndpointSpec {
        EndpointSpec::new(method, template, f).html(self.html)
    }

    fn form_or_json(&self) -> BodyKind {
        if self.html {
            B::Form
        } else {
            B::Json
        }
    }

    /// A body parameter at `name` in the encoding of `body`.
    fn loc(body: BodyKind, name: &str) -> Loc {
        match body {
            B::Json => Loc::Json(vec![name.to_string()]),
            B::Multipart => Loc::Multipart(name.to_string()),
            B::GraphQl => Loc::GraphQl(name.to_string()),
            _ => Loc::Form(name.to_string()),
        }
    }

    fn login_id(&self, body: BodyKind, ep: EndpointSpec) -> EndpointSpec {
        if self.email_login {
            let name = if self.style == Style::Bank {
                "login_email"
            } else {
                "email"
            };
            ep.param(Self::loc(body, name), P::Email, true, ValueGen::LoginEmail)
        } else {
            let name = ["username", "user", "login", "user_name"][(self.seed % 4) as usize];
            ep.param(Self::loc(body, name), P::Name, true, ValueGen::Username)
        }
    }

    /// Sign-in, sign-out, registration and password reset pages.
    fn web_auth(&mut self) {
        let body = B::Form;
        let login = *self.rng.pick(LOGIN_WEB);
        {
            let ep = self.web("GET", login, F::Login).param(
                Loc::Query(
                    self.rng
                        .pick(&["next", "return_to", "redirect"])
                        .to_string(),
                ),
                P::Url,
                false,
                ValueGen::Format,
            );
            self.push(ep);
        }
        let mut post = self.login_id(body, self.web("POST", login, F::Login).body(body));
        let pw = *self.rng.pick(&["password", "pass", "pwd"]);
        post = post.param(Loc::Form(pw.into()), P::FreeText, true, ValueGen::Password);
        if self.rng.chance(0.5) {
            post = post.param(
                Loc::Form("remember_me".into()),
                P::Boolean,
                false,
                choice(&["on", "true"]),
            );
        }
        if self.rng.chance(0.5) {
            let n = *self
                .rng
                .pick(&["csrf_token", "_csrf", "authenticity_token", "_token"]);
            post = post.param(Loc::Form(n.into()), P::Hex, true, ValueGen::Hex(32));
        }
        if self.style == Style::Bank {
            post = post.param(
                Loc::Form("otp".into()),
                P::Integer,
                false,
                ValueGen::Int(100_000, 999_999),
            );
        }
        {
            let ep = post;
            self.push(ep);
        }
        let logout = *self.rng.pick(LOGOUT_WEB);
        let m = if self.rng.chance(0.5) { "POST" } else { "GET" };
        {
            let ep = self.web(m, logout, F::Logout).auth();
            self.push(ep);
        }
        if self.rng.chance(0.8) && self.style != Style::AdminConsole {
            let reg = *self.rng.pick(REGISTER_WEB);
            {
                let ep = self.web("GET", reg, F::Registration);
                self.push(ep);
            }
            let mut ep = self
                .web("POST", reg, F::Registration)
                .body(body)
                .param(Loc::Form("email".into()), P::Email, true, ValueGen::Format)
                .param(Loc::Form(pw.into()), P::FreeText, true, ValueGen::Password);
            if !self.email_login {
                ep = ep.param(
                    Loc::Form("username".into()),
                    P::Name,
                    true,
                    ValueGen::Username,
                );
            }
            if self.rng.chance(0.6) {
                ep = ep.param(
                    Loc::Form("full_name".into()),
                    P::Name,
                    false,
                    ValueGen::Format,
                );
            }
            if self.rng.chance(0.4) {
                ep = ep.param(Loc::Form("phone".into()), P::Phone, false, ValueGen::Format);
            }
            if self.rng.chance(0.3) {
                ep = ep.param(
                    Loc::Form("birth_date".into()),
                    P::DateTime,
                    false,
                    ValueGen::Date,
                );
            }
            {
                self.push(ep);
            }
        }
        if self.rng.chance(0.7) {
            let reset = *self.rng.pick(RESET_WEB);
            {
                let ep = self.web("POST", reset, F::PasswordReset).body(body).param(
                    Loc::Form("email".into()),
                    P::Email,
                    true,
                    ValueGen::Format,
                );
                self.push(ep);
            }
        }
    }

    /// Sign-in and friends of a JSON API under `prefix`.
    fn api_auth(&mut self, prefix: &str) {
        let body = B::Json;
        let login = format!("{prefix}/{}", self.rng.pick(API_LOGIN));
        let mut ep = self.login_id(body, EndpointSpec::new("POST", &login, F::Login).body(body));
        ep = ep.param(
            Loc::Json(vec!["password".into()]),
            P::FreeText,
            true,
            ValueGen::Password,
        );
        if self.rng.chance(0.3) {
            ep = ep.param(
                Loc::Json(vec!["grant_type".into()]),
                P::Enumeration,
                true,
                choice(&["password"]),
            );
        }
        if self.rng.chance(0.3) {
            ep = ep.param(
                Loc::Json(vec!["device".into(), "id".into()]),
                P::Uuid,
                false,
                ValueGen::Format,
            );
        }
        {
            self.push(ep);
        }
        if self.rng.chance(0.7) {
            let p = format!("{prefix}/{}", self.rng.pick(API_LOGOUT));
            {
                let ep = EndpointSpec::new("POST", &p, F::Logout).auth();
                self.push(ep);
            }
        }
        if self.rng.chance(0.6) {
            let p = format!("{prefix}/{}", self.rng.pick(API_REGISTER));
            let mut ep = EndpointSpec::new("POST", &p, F::Registration)
                .body(body)
                .param(
                    Loc::Json(vec!["email".into()]),
                    P::Email,
                    true,
                    ValueGen::Format,
                )
                .param(
                    Loc::Json(vec!["password".into()]),
                    P::FreeText,
                    true,
                    ValueGen::Password,
                );
            if self.rng.chance(0.5) {
                ep = ep.param(
                    Loc::Json(vec!["name".into()]),
                    P::Name,
                    false,
                    ValueGen::Format,
                );
            }
            if self.rng.chance(0.3) {
                ep = ep.param(
                    Loc::Json(vec!["profile".into(), "phone".into()]),
                    P::Phone,
                    false,
                    ValueGen::Format,
                );
            }
            {
                self.push(ep);
            }
        }
        if self.rng.chance(0.5) {
            let p = format!("{prefix}/{}", self.rng.pick(API_RESET));
            {
                let ep = EndpointSpec::new("POST", &p, F::PasswordReset)
                    .body(body)
                    .param(
                        Loc::Json(vec!["email".into()]),
                        P::Email,
                        true,
                        ValueGen::Format,
                    );
                self.push(ep);
            }
        }
    }

    fn statics(&mut self, n: usize) {
        let mut files: Vec<&str> = STATIC.to_vec();
        self.rng.shuffle(&mut files);
        for f in files.into_iter().take(n) {
            let ep = EndpointSpec::new("GET", f, F::Static);
            {
                self.push(ep);
            }
        }
    }

    fn pick_fields(&mut self, n: usize) -> Vec<(String, ParamFormat, ValueGen)> {
        let mut idx: Vec<usize> = (0..FIELDS.len()).collect();
        self.rng.shuffle(&mut idx);
        idx.into_iter()
            .take(n)
            .map(|i| {
                let (names, format, gen) = FIELDS[i];
                (self.rng.pick(names).to_string(), format, gen())
            })
            .collect()
    }

    fn id_kind(&mut self) -> IdKind {
        match self.style {
            Style::SaasApi => {
                if self.rng.chance(0.6) {
                    IdKind::Hex(*self.rng.pick(&[24usize, 32, 12]))
                } else {
                    IdKind::Uuid
                }
            }
            Style::RestApi => {
                if self.rng.chance(0.6) {
                    IdKind::Int
                } else {
                    IdKind::Uuid
                }
            }
            _ => IdKind::Int,
        }
    }

    /// A REST resource under `prefix`: list, read, create, update, delete,
    /// nested under `parent` (its name, id parameter and id kind) if given.
    fn resource(
        &mut self,
        prefix: &str,
        name: &str,
        id_name: &str,
        parent: Option<(&str, &str, IdKind)>,
    ) {
        let kind = self.id_kind();
        let count = self.rng.range(20, 400) as usize;
        let coll = self.collection(name, kind.clone(), count);
        let (base, mut proto) = match &parent {
            Some((pname, pid, pkind)) => (
                format!("{prefix}/{pname}/{{{pid}}}/{name}"),
                vec![(pid.to_string(), pkind.clone(), pname.to_string())],
            ),
            None => (format!("{prefix}/{name}"), Vec::new()),
        };
        let with_path = |mut ep: EndpointSpec, extra: &[(String, IdKind, String)]| {
            for (n, k, c) in extra {
                ep = ep.path(n, k.clone(), Some(c));
            }
            ep
        };
        let html = self.html;
        // List.
        let mut list = with_path(
            EndpointSpec::new("GET", &base, F::ApiRead).html(html),
            &proto,
        )
        .auth();
        let page = *self.rng.pick(&["page", "offset", "cursor_page", "p"]);
        list = list.param(
            Loc::Query(page.into()),
            P::Integer,
            false,
            ValueGen::Int(1, 40),
        );
        let limit = *self.rng.pick(&["limit", "per_page", "page_size", "size"]);
        list = list.param(
            Loc::Query(limit.into()),
            P::Integer,
            false,
            choice(&["10", "20", "25", "50", "100"]),
        );
        if self.rng.chance(0.5) {
            list = list.param(
                Loc::Query("sort".into()),
                P::Enumeration,
                false,
                choice(&["created_at", "-created_at", "name", "updated_at"]),
            );
        }
        if self.rng.chance(0.4) {
            list = list.param(
                Loc::Query("status".into()),
                P::Enumeration,
                false,
                status_gen(),
            );
        }
        if self.rng.chance(0.3) {
            let n = *self.rng.pick(&["since", "updated_after", "from"]);
            list = list.param(Loc::Query(n.into()), P::DateTime, false, ValueGen::Format);
        }
        {
            let ep = list;
            self.push(ep);
        }
        let fields = {
            let n = self.rng.range(2, 6) as usize;
            self.pick_fields(n)
        };
        let body = self.form_or_json();
        let wrap = self.rng.chance(0.3);
        let singular = name.strip_suffix('s').unwrap_or(name).to_string();
        let field_loc = |n: &str| -> Loc {
            match body {
                B::Json if wrap => Loc::Json(vec![singular.clone(), n.to_string()]),
                B::Json => Loc::Json(vec![n.to_string()]),
                _ => Loc::Form(n.to_string()),
            }
        };
        // Create.
        if self.rng.chance(0.85) {
            let mut ep = with_path(
                EndpointSpec::new("POST", &base, F::ApiWrite).html(html),
                &proto,
            )
            .body(body)
            .auth();
            for (i, (n, f, g)) in fields.iter().enumerate() {
                ep = ep.param(field_loc(n), *f, i < 2, g.clone());
            }
            {
                self.push(ep);
            }
        }
        let item = format!("{base}/{{{id_name}}}");
        proto.push((id_name.to_string(), kind, coll));
        // Read.
        let mut ep = with_path(
            EndpointSpec::new("GET", &item, F::ApiRead).html(html),
            &proto,
        )
        .auth();
        if self.rng.chance(0.3) {
            let n = *self.rng.pick(&["expand", "include", "fields"]);
            ep = ep.param(
                Loc::Query(n.into()),
                P::Enumeration,
                false,
                choice(&["owner", "items", "all", "summary"]),
            );
        }
        {
            self.push(ep);
        }
        // Update.
        if self.rng.chance(0.7) {
            let m = *self.rng.pick(&["PUT", "PATCH", "POST"]);
            let mut ep = with_path(EndpointSpec::new(m, &item, F::ApiWrite).html(html), &proto)
                .body(body)
                .auth();
            for (n, f, g) in fields.iter().take(3) {
                ep = ep.param(field_loc(n), *f, false, g.clone());
            }
            {
                self.push(ep);
            }
        }
        // Delete.
        if !html && self.rng.chance(0.5) {
            let ep = with_path(EndpointSpec::new("DELETE", &item, F::ApiWrite), &proto).auth();
            {
                self.push(ep);
            }
        }
    }

    fn api_resources(&mut self, prefix: &str, n: usize) {
        let mut pool: Vec<(&str, &str)> = RESOURCES.to_vec();
        self.rng.shuffle(&mut pool);
        let mut parents: Vec<(String, String, IdKind)> = Vec::new();
        for (name, id) in pool.into_iter().take(n) {
            let nested = !parents.is_empty() && self.rng.chance(0.3);
            if nested {
                let (pn, pid, pk) = parents[self.rng.index(parents.len())].clone();
                self.resource(prefix, name, id, Some((&pn, &pid, pk)));
            } else {
                self.resource(prefix, name, id, None);
                if let Some(c) = self.collections.iter().find(|c| c.name == name) {
                    parents.push((name.to_string(), id.to_string(), c.kind.clone()));
                }
            }
        }
    }

    /// File upload and download.
    fn files(&mut self, prefix: &str) {
        let up = format!(
            "{prefix}/{}",
            self.rng.pick(&[
                "upload",
                "files",
                "uploads",
                "attachments",
                "media",
                "documents/import"
            ])
        );
        let part = *self.rng.pick(&["file", "upload", "attachment", "document"]);
        let mut ep = EndpointSpec::new("POST", &up, F::Upload)
            .html(self.html)
            .body(B::Multipart)
            .auth()
            .param(Loc::File(part.into()), P::FilePath, true, ValueGen::Format);
        if self.rng.chance(0.5) {
            ep = ep.param(
                Loc::Multipart("description".into()),
                P::FreeText,
                false,
                ValueGen::Format,
            );
        }
        if self.rng.chance(0.3) {
            ep = ep.param(
                Loc::Multipart("folder_id".into()),
                P::Integer,
                false,
                ValueGen::Int(1, 50),
            );
        }
        {
            self.push(ep);
        }
        let kind = self.id_kind();
        let coll = self.collection_n("files", kind.clone(), 10, 200);
        let seg = *self
            .rng
            .pick(&["files", "downloads", "attachments", "documents"]);
        let tail = *self.rng.pick(&["download", "raw", "content"]);
        let t = format!("{prefix}/{seg}/{{file_id}}/{tail}");
        let ep = EndpointSpec::new("GET", &t, F::Download)
            .path("file_id", kind, Some(&coll))
            .auth();
        {
            self.push(ep);
        }
        if self.rng.chance(0.5) {
            let t = format!(
                "{prefix}/{}",
                self.rng.pick(&["export", "reports/export", "download"])
            );
            let ep = EndpointSpec::new("GET", &t, F::Download)
                .auth()
                .param(
                    Loc::Query("format".into()),
                    P::Enumeration,
                    true,
                    choice(&["csv", "pdf", "xlsx"]),
                )
                .param(
                    Loc::Query("from".into()),
                    P::DateTime,
                    false,
                    ValueGen::Date,
                );
            {
                self.push(ep);
            }
        }
    }

    fn web_shop(&mut self) {
        let locale = self.rng.chance(0.4);
        let lp = if locale { "/{locale}" } else { "" };
        let loc_param = |ep: EndpointSpec| -> EndpointSpec {
            if locale {
                ep.path(
                    "locale",
                    IdKind::Choice(LOCALES[..4].iter().map(|s| s.to_string()).collect()),
                    None,
                )
            } else {
                ep
            }
        };
        let home = if locale {
            "/{locale}".to_string()
        } else {
            "/".to_string()
        };
        {
            let ep = loc_param(self.web("GET", &home, F::ProductView));
            self.push(ep);
        }
        let products = *self.rng.pick(PRODUCTS);
        let slug_ids = self.rng.chance(0.6);
        let kind = if slug_ids { IdKind::Slug } else { IdKind::Int };
        let coll = self.collection_n("products", kind.clone(), 40, 600);
        let t = format!("{lp}/{products}/{{product}}");
        let mut ep =
            loc_param(self.web("GET", &t, F::ProductView)).path("product", kind, Some(&coll));
        if self.rng.chance(0.4) {
            ep = ep.param(
                Loc::Query("variant".into()),
                P::Integer,
                false,
                ValueGen::Int(1, 12),
            );
        }
        if self.rng.chance(0.3) {
            ep = ep.param(
                Loc::Query("utm_source".into()),
                P::Enumeration,
                false,
                choice(&["newsletter", "google", "facebook"]),
            );
        }
        {
            self.push(ep);
        }
        let cat = self.collection_n("categories", IdKind::Slug, 5, 25);
        let t = format!("{lp}/{}/{{category}}", self.rng.pick(CATEGORY));
        let ep = loc_param(self.web("GET", &t, F::ProductView))
            .path("category", IdKind::Slug, Some(&cat))
            .param(
                Loc::Query("page".into()),
                P::Integer,
                false,
                ValueGen::Int(1, 20),
            )
            .param(
                Loc::Query("sort".into()),
                P::Enumeration,
                false,
                choice(&["price_asc", "price_desc", "newest", "popular"]),
            )
            .param(
                Loc::Query("min_price".into()),
                P::Decimal,
                false,
                ValueGen::Decimal(1.0, 100.0, 2),
            );
        {
            self.push(ep);
        }
        let search = format!("{lp}{}", self.rng.pick(SEARCH_WEB));
        let q = *self.rng.pick(&["q", "query", "search", "term", "keywords"]);
        let ep = loc_param(self.web("GET", &search, F::Search))
            .param(Loc::Query(q.into()), P::FreeText, true, ValueGen::Search)
            .param(
                Loc::Query("page".into()),
                P::Integer,
                false,
                ValueGen::Int(1, 10),
            );
        {
            self.push(ep);
        }
        let cart = *self.rng.pick(CART);
        {
            let ep = self.web("GET", &format!("/{cart}"), F::Cart);
            self.push(ep);
        }
        let add = format!("/{cart}/{}", self.rng.pick(&["add", "items", "update"]));
        let pid = *self.rng.pick(&["product_id", "item_id", "sku_id"]);
        {
            let ep = self
                .web("POST", &add, F::Cart)
                .body(B::Form)
                .param(
                    Loc::Form(pid.into()),
                    P::Integer,
                    true,
                    ValueGen::Int(1, 600),
                )
                .param(
                    Loc::Form("qty".into()),
                    P::Integer,
                    false,
                    ValueGen::Int(1, 5),
                );
            self.push(ep);
        }
        if self.rng.chance(0.6) {
            let rm = format!("/{cart}/{}", self.rng.pick(&["remove", "delete"]));
            {
                let ep = self.web("POST", &rm, F::Cart).body(B::Form).param(
                    Loc::Form(pid.into()),
                    P::Integer,
                    true,
                    ValueGen::Int(1, 600),
                );
                self.push(ep);
            }
        }
        let co = *self.rng.pick(CHECKOUT_WEB);
        {
            let ep = self.web("GET", co, F::Checkout).auth();
            self.push(ep);
        }
        let mut ep = self
            .web("POST", co, F::Checkout)
            .body(B::Form)
            .auth()
            .param(
                Loc::Form("full_name".into()),
                P::Name,
                true,
                ValueGen::Format,
            )
            .param(
                Loc::Form("address".into()),
                P::FreeText,
                true,
                ValueGen::Address,
            )
            .param(
                Loc::Form("card_number".into()),
                P::Card,
                true,
                ValueGen::Format,
            )
            .param(
                Loc::Form("expiry".into()),
                P::DateTime,
                true,
                ValueGen::Expiry,
            )
            .param(Loc::Form("cvv".into()), P::Integer, true, ValueGen::Cvv);
        if self.rng.chance(0.5) {
            ep = ep.param(Loc::Form("phone".into()), P::Phone, false, ValueGen::Format);
        }
        if self.rng.chance(0.4) {
            ep = ep.param(
                Loc::Form("coupon".into()),
                P::Enumeration,
                false,
                choice(&["SUMMER10", "WELCOME5", "FREESHIP"]),
            );
        }
        if self.rng.chance(0.3) {
            ep = ep.param(
                Loc::Form("gift_message".into()),
                P::FreeText,
                false,
                ValueGen::Format,
            );
        }
        {
            self.push(ep);
        }
        self.web_auth();
        self.web_account();
        if self.rng.chance(0.5) {
            let orders = self.collection_n("orders", IdKind::Int, 50, 400);
            let t = format!(
                "{}/{{order_id}}",
                self.rng.pick(&["/account/orders", "/orders", "/my/orders"])
            );
            {
                let ep = self
                    .web("GET", &t, F::Profile)
                    .path("order_id", IdKind::Int, Some(&orders))
                    .auth();
                self.push(ep);
            }
        }
        if self.rng.chance(0.4) {
            // Reviews: a write of content other than cart and account.
            let t = format!("/{products}/{{product}}/reviews");
            let kind = self.collection_kind("products").unwrap_or(IdKind::Int);
            {
                let ep = self
                    .web("POST", &t, F::ApiWrite)
                    .path("product", kind, Some("products"))
                    .body(B::Form)
                    .auth()
                    .param(
                        Loc::Form("rating".into()),
                        P::Integer,
                        true,
                        ValueGen::Int(1, 5),
                    )
                    .param(
                        Loc::Form("text".into()),
                        P::FreeText,
                        true,
                        ValueGen::Format,
                    );
                self.push(ep);
            }
        }
        let n = self.rng.range(1, 4) as usize;
        self.statics(n);
    }

    fn web_account(&mut self) {
        let acc = *self.rng.pick(ACCOUNT);
        {
            let ep = self.web("GET", acc, F::Profile).auth();
            self.push(ep);
        }
        let mut ep = self
            .web("POST", acc, F::Profile)
            .body(B::Form)
            .auth()
            .param(Loc::Form("name".into()), P::Name, true, ValueGen::Format)
            .param(Loc::Form("email".into()), P::Email, true, ValueGen::Format);
        if self.rng.chance(0.5) {
            ep = ep.param(Loc::Form("phone".into()), P::Phone, false, ValueGen::Format);
        }
        if self.rng.chance(0.4) {
            ep = ep.param(
                Loc::Form("newsletter".into()),
                P::Boolean,
                false,
                choice(&["on", "off"]),
            );
        }
        if self.rng.chance(0.3) {
            ep = ep.param(
                Loc::Form("bio".into()),
                P::FreeText,
                false,
                ValueGen::Format,
            );
        }
        if self.rng.chance(0.3) {
            ep = ep.param(Loc::Form("website".into()), P::Url, false, ValueGen::Format);
        }
        {
            self.push(ep);
        }
    }

    fn forum(&mut self) {
        {
            let ep = self.web("GET", "/", F::Static);
            self.push(ep);
        }
        let blog = self.rng.chance(0.5);
        if blog {
            let seg = *self.rng.pick(&["blog", "news", "posts", "articles"]);
            let coll = self.collection_n("posts", IdKind::Slug, 30, 300);
            let t = format!("/{seg}/{{year}}/{{month}}/{{day}}/{{slug}}");
            {
                let ep = self
                    .web("GET", &t, F::ApiRead)
                    .path("year", IdKind::Year, None)
                    .path("month", IdKind::Month, None)
                    .path("day", IdKind::Day, None)
                    .path("slug", IdKind::Slug, Some(&coll));
                self.push(ep);
            }
            let t = format!("/{seg}/{{year}}/{{month}}/{{day}}/{{slug}}/comments");
            {
                let ep = self
                    .web("POST", &t, F::ApiWrite)
                    .path("year", IdKind::Year, None)
                    .path("month", IdKind::Month, None)
                    .path("day", IdKind::Day, None)
                    .path("slug", IdKind::Slug, Some(&coll))
                    .body(B::Form)
                    .auth()
                    .param(
                        Loc::Form("comment".into()),
                        P::FreeText,
                        true,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Form("author_url".into()),
                        P::Url,
                        false,
                        ValueGen::Format,
                    );
                self.push(ep);
            }
            let t = format!("/{seg}/tag/{{tag}}");
            let tags = self.collection("tags", IdKind::Slug, 15);
            {
                let ep = self
                    .web("GET", &t, F::ApiRead)
                    .path("tag", IdKind::Slug, Some(&tags));
                self.push(ep);
            }
        }
        let board = *self.rng.pick(&["forum", "boards", "community", "f", "c"]);
        let boards = self.collection_n("boards", IdKind::Slug, 4, 20);
        let threads = self.collection_n("threads", IdKind::Int, 100, 900);
        let thread = *self.rng.pick(&["t", "threads", "topic", "discussion"]);
        {
            let ep = self
                .web("GET", &format!("/{board}/{{board}}"), F::ApiRead)
                .path("board", IdKind::Slug, Some(&boards))
                .param(
                    Loc::Query("page".into()),
                    P::Integer,
                    false,
                    ValueGen::Int(1, 30),
                );
            self.push(ep);
        }
        let t = format!("/{thread}/{{thread_id}}");
        {
            let ep = self
                .web("GET", &t, F::ApiRead)
                .path("thread_id", IdKind::Int, Some(&threads))
                .param(
                    Loc::Query("page".into()),
                    P::Integer,
                    false,
                    ValueGen::Int(1, 12),
                );
            self.push(ep);
        }
        let t = format!(
            "/{thread}/{{thread_id}}/{}",
            self.rng.pick(&["reply", "posts", "replies"])
        );
        let mut ep = self
            .web("POST", &t, F::ApiWrite)
            .path("thread_id", IdKind::Int, Some(&threads))
            .body(B::Form)
            .auth()
            .param(
                Loc::Form("message".into()),
                P::FreeText,
                true,
                ValueGen::Format,
            );
        if self.rng.chance(0.4) {
            ep = ep.param(
                Loc::Form("message_html".into()),
                P::Html,
                false,
                ValueGen::Format,
            );
        }
        {
            self.push(ep);
        }
        let t = format!("/{board}/{{board}}/new");
        {
            let ep = self
                .web("POST", &t, F::ApiWrite)
                .path("board", IdKind::Slug, Some(&boards))
                .body(B::Form)
                .auth()
                .param(
                    Loc::Form("title".into()),
                    P::FreeText,
                    true,
                    ValueGen::Format,
                )
                .param(
                    Loc::Form("body".into()),
                    P::FreeText,
                    true,
                    ValueGen::Format,
                );
            self.push(ep);
        }
        let search = *self.rng.pick(SEARCH_WEB);
        {
            let ep = self
                .web("GET", search, F::Search)
                .param(Loc::Query("q".into()), P::FreeText, true, ValueGen::Search)
                .param(
                    Loc::Query("author".into()),
                    P::Name,
                    false,
                    ValueGen::Username,
                )
                .param(
                    Loc::Query("before".into()),
                    P::DateTime,
                    false,
                    ValueGen::Date,
                );
            self.push(ep);
        }
        self.web_auth();
        self.web_account();
        if self.rng.chance(0.5) {
            {
                let ep = self
                    .web("POST", "/account/avatar", F::Upload)
                    .body(B::Multipart)
                    .auth()
                    .param(
                        Loc::File("avatar".into()),
                        P::FilePath,
                        true,
                        ValueGen::Format,
                    );
                self.push(ep);
            }
        }
        let n = self.rng.range(1, 3) as usize;
        self.statics(n);
    }

    fn bank(&mut self) {
        {
            let ep = self.web("GET", "/", F::Static);
            self.push(ep);
        }
        self.web_auth();
        let acc = *self
            .rng
            .pick(&["accounts", "konten", "my/accounts", "banking/accounts"]);
        let accounts = self.collection_n("accounts", IdKind::Int, 100, 2000);
        {
            let ep = self.web("GET", &format!("/{acc}"), F::ApiRead).auth();
            self.push(ep);
        }
        {
            let ep = self
                .web("GET", &format!("/{acc}/{{account_id}}"), F::ApiRead)
                .path("account_id", IdKind::Int, Some(&accounts))
                .auth();
            self.push(ep);
        }
        {
            let ep = self
                .web(
                    "GET",
                    &format!("/{acc}/{{account_id}}/transactions"),
                    F::ApiRead,
                )
                .path("account_id", IdKind::Int, Some(&accounts))
                .auth()
                .param(
                    Loc::Query("from".into()),
                    P::DateTime,
                    false,
                    ValueGen::Date,
                )
                .param(Loc::Query("to".into()), P::DateTime, false, ValueGen::Date)
                .param(
                    Loc::Query("min_amount".into()),
                    P::Decimal,
                    false,
                    ValueGen::Decimal(0.0, 500.0, 2),
                );
            self.push(ep);
        }
        let tr = *self
            .rng
            .pick(&["transfers", "payments/new", "transfer", "remittance"]);
        {
            let ep = self
                .web("POST", &format!("/{tr}"), F::ApiWrite)
                .body(B::Form)
                .auth()
                .param(
                    Loc::Form("from_account".into()),
                    P::Integer,
                    true,
                    ValueGen::Int(1, 2000),
                )
                .param(
                    Loc::Form("iban".into()),
                    P::Enumeration,
                    true,
                    choice(&[
                        "DE89370400440532013000",
                        "FR1420041010050500013M02606",
                        "GB29NWBK60161331926819",
                    ]),
                )
                .param(
                    Loc::Form("recipient".into()),
                    P::Name,
                    true,
                    ValueGen::Format,
                )
                .param(
                    Loc::Form("amount".into()),
                    P::Decimal,
                    true,
                    ValueGen::Decimal(1.0, 3000.0, 2),
                )
                .param(
                    Loc::Form("reference".into()),
                    P::FreeText,
                    false,
                    ValueGen::Format,
                )
                .param(
                    Loc::Form("execute_on".into()),
                    P::DateTime,
                    false,
                    ValueGen::Date,
                );
            self.push(ep);
        }
        {
            let ep = self
                .web(
                    "GET",
                    &format!("/{acc}/{{account_id}}/statements"),
                    F::Download,
                )
                .path("account_id", IdKind::Int, Some(&accounts))
                .auth()
                .param(
                    Loc::Query("month".into()),
                    P::DateTime,
                    true,
                    ValueGen::Date,
                )
                .param(
                    Loc::Query("format".into()),
                    P::Enumeration,
                    false,
                    choice(&["pdf", "csv", "mt940"]),
                );
            self.push(ep);
        }
        if self.rng.chance(0.6) {
            {
                let ep = self
                    .web("POST", "/payees", F::ApiWrite)
                    .body(B::Form)
                    .auth()
                    .param(Loc::Form("name".into()), P::Name, true, ValueGen::Format)
                    .param(Loc::Form("email".into()), P::Email, false, ValueGen::Format)
                    .param(Loc::Form("phone".into()), P::Phone, false, ValueGen::Format);
                self.push(ep);
            }
        }
        if self.rng.chance(0.5) {
            {
                let ep = self
                    .web("POST", "/cards/activate", F::ApiWrite)
                    .body(B::Form)
                    .auth()
                    .param(
                        Loc::Form("card_number".into()),
                        P::Card,
                        true,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Form("pin_hash".into()),
                        P::Hex,
                        true,
                        ValueGen::Hex(64),
                    );
                self.push(ep);
            }
        }
        self.web_account();
        if self.rng.chance(0.4) {
            self.files("");
        }
        let n = self.rng.range(1, 3) as usize;
        self.statics(n);
    }

    fn admin_console(&mut self) {
        let root = *self
            .rng
            .pick(&["/admin", "/backoffice", "/manage", "/console", "/staff"]);
        {
            let ep = self.web("GET", root, F::Admin).admin();
            self.push(ep);
        }
        self.web_auth();
        let users = self.collection_n("users", IdKind::Int, 50, 1000);
        let u = *self
            .rng
            .pick(&["users", "accounts", "members", "customers"]);
        {
            let ep = self
                .web("GET", &format!("{root}/{u}"), F::Admin)
                .admin()
                .param(Loc::Query("q".into()), P::FreeText, false, ValueGen::Search)
                .param(
                    Loc::Query("role".into()),
                    P::Enumeration,
                    false,
                    choice(&["admin", "editor", "viewer"]),
                )
                .param(
                    Loc::Query("page".into()),
                    P::Integer,
                    false,
                    ValueGen::Int(1, 40),
                );
            self.push(ep);
        }
        {
            let ep = self
                .web("GET", &format!("{root}/{u}/{{user_id}}"), F::Admin)
                .admin()
                .path("user_id", IdKind::Int, Some(&users));
            self.push(ep);
        }
        {
            let ep = self
                .web("POST", &format!("{root}/{u}/{{user_id}}"), F::Admin)
                .admin()
                .path("user_id", IdKind::Int, Some(&users))
                .body(B::Form)
                .param(Loc::Form("email".into()), P::Email, true, ValueGen::Format)
                .param(
                    Loc::Form("role".into()),
                    P::Enumeration,
                    true,
                    choice(&["admin", "editor", "viewer"]),
                )
                .param(
                    Loc::Form("active".into()),
                    P::Boolean,
                    false,
                    choice(&["true", "false"]),
                );
            self.push(ep);
        }
        {
            let w = *self.rng.pick(&["disable", "lock", "reset-mfa"]);
            let ep = self
                .web("POST", &format!("{root}/{u}/{{user_id}}/{}", w), F::Admin)
                .admin()
                .path("user_id", IdKind::Int, Some(&users));
            self.push(ep);
        }
        {
            let w = *self.rng.pick(&["audit", "audit-log", "logs", "events"]);
            let ep = self
                .web("GET", &format!("{root}/{}", w), F::Admin)
                .admin()
                .param(
                    Loc::Query("from".into()),
                    P::DateTime,
                    false,
                    ValueGen::Format,
                )
                .param(Loc::Query("ip".into()), P::Ip, false, ValueGen::Format)
                .param(
                    Loc::Query("actor".into()),
                    P::Email,
                    false,
                    ValueGen::Format,
                );
            self.push(ep);
        }
        {
            let ep = self
                .web("POST", &format!("{root}/settings"), F::Admin)
                .admin()
                .body(B::Form)
                .param(
                    Loc::Form("site_name".into()),
                    P::FreeText,
                    true,
                    ValueGen::Format,
                )
                .param(
                    Loc::Form("smtp_host".into()),
                    P::Ip,
                    false,
                    ValueGen::Format,
                )
                .param(
                    Loc::Form("webhook_url".into()),
                    P::Url,
                    false,
                    ValueGen::Format,
                )
                .param(Loc::Form("config".into()), P::Json, false, ValueGen::Format);
            self.push(ep);
        }
        {
            let ep = self
                .web("GET", &format!("{root}/reports/export"), F::Download)
                .admin()
                .param(
                    Loc::Query("format".into()),
                    P::Enumeration,
                    true,
                    choice(&["csv", "xlsx"]),
                )
                .param(
                    Loc::Query("from".into()),
                    P::DateTime,
                    false,
                    ValueGen::Date,
                );
            self.push(ep);
        }
        {
            let ep = self
                .web("POST", &format!("{root}/import"), F::Upload)
                .admin()
                .body(B::Multipart)
                .param(
                    Loc::File("file".into()),
                    P::FilePath,
                    true,
                    ValueGen::Format,
                )
                .param(
                    Loc::Multipart("dry_run".into()),
                    P::Boolean,
                    false,
                    choice(&["true", "false"]),
                );
            self.push(ep);
        }
        if self.rng.chance(0.5) {
            self.web_account();
        }
        let n = self.rng.range(1, 3) as usize;
        self.statics(n);
    }

    fn rest_api(&mut self, saas: bool) {
        let prefix = if saas {
            self.rng
                .pick(&["/v1", "/v2", "/v3", "/api/2024-01", "/v1beta"])
                .to_string()
        } else {
            self.rng.pick(API_PREFIX).to_string()
        };
        self.api_auth(&prefix);
        let me = format!("{prefix}/{}", self.rng.pick(API_ME));
        {
            let ep = EndpointSpec::new("GET", &me, F::Profile).auth();
            self.push(ep);
        }
        if self.rng.chance(0.6) {
            {
                let ep = EndpointSpec::new("PATCH", &me, F::Profile)
                    .auth()
                    .body(B::Json)
                    .param(
                        Loc::Json(vec!["name".into()]),
                        P::Name,
                        false,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Json(vec!["phone".into()]),
                        P::Phone,
                        false,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Json(vec!["avatar_url".into()]),
                        P::Url,
                        false,
                        ValueGen::Format,
                    );
                self.push(ep);
            }
        }
        let n = self.rng.range(2, 5) as usize;
        self.api_resources(&prefix, n);
        if self.rng.chance(0.5) {
            let s = format!("{prefix}/search");
            {
                let ep = EndpointSpec::new("GET", &s, F::Search)
                    .auth()
                    .param(Loc::Query("q".into()), P::FreeText, true, ValueGen::Search)
                    .param(
                        Loc::Query("type".into()),
                        P::Enumeration,
                        false,
                        choice(&["all", "users", "documents"]),
                    );
                self.push(ep);
            }
        }
        if !saas && self.rng.chance(0.5) {
            // A shop-like API.
            let kind = self.id_kind();
            let coll = self.collection_n("products", kind.clone(), 30, 300);
            let p = format!(
                "{prefix}/{}",
                self.rng.pick(&["products", "items", "catalog/items"])
            );
            {
                let ep = EndpointSpec::new("GET", &p, F::Search)
                    .param(Loc::Query("q".into()), P::FreeText, false, ValueGen::Search)
                    .param(
                        Loc::Query("category".into()),
                        P::Enumeration,
                        false,
                        choice(&["books", "toys", "garden"]),
                    )
                    .param(
                        Loc::Query("limit".into()),
                        P::Integer,
                        false,
                        ValueGen::Int(10, 50),
                    );
                self.push(ep);
            }
            {
                let ep = EndpointSpec::new("GET", &format!("{p}/{{product_id}}"), F::ProductView)
                    .path("product_id", kind, Some(&coll));
                self.push(ep);
            }
            let c = format!(
                "{prefix}/{}",
                self.rng.pick(&["cart", "basket", "cart/items"])
            );
            {
                let ep = EndpointSpec::new("GET", &c, F::Cart).auth();
                self.push(ep);
            }
            {
                let ep = EndpointSpec::new("POST", &c, F::Cart)
                    .auth()
                    .body(B::Json)
                    .param(
                        Loc::Json(vec!["product_id".into()]),
                        P::Integer,
                        true,
                        ValueGen::Int(1, 300),
                    )
                    .param(
                        Loc::Json(vec!["quantity".into()]),
                        P::Integer,
                        false,
                        qty_gen(),
                    );
                self.push(ep);
            }
            let co = format!(
                "{prefix}/{}",
                self.rng
                    .pick(&["checkout", "orders/checkout", "payments/intent"])
            );
            {
                let ep = EndpointSpec::new("POST", &co, F::Checkout)
                    .auth()
                    .body(B::Json)
                    .param(
                        Loc::Json(vec!["payment".into(), "card_number".into()]),
                        P::Card,
                        true,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Json(vec!["payment".into(), "expiry".into()]),
                        P::DateTime,
                        true,
                        ValueGen::Expiry,
                    )
                    .param(
                        Loc::Json(vec!["shipping".into(), "name".into()]),
                        P::Name,
                        true,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Json(vec!["shipping".into(), "address".into()]),
                        P::FreeText,
                        true,
                        ValueGen::Address,
                    );
                self.push(ep);
            }
        }
        if saas {
            let ws = format!("{prefix}/webhooks/test");
            {
                let ep = EndpointSpec::new("POST", &ws, F::ApiWrite)
                    .auth()
                    .body(B::Json)
                    .param(
                        Loc::Json(vec!["url".into()]),
                        P::Url,
                        true,
                        ValueGen::Format,
                    )
                    .param(
                        Loc::Json(vec!["secret".into()]),
                        P::Hex,
                        true,
                        ValueGen::Hex(40),
                    )
                    .param(
                        Loc::Json(vec!["payload".into()]),
                        P::Json,
                        false,
                        ValueGen::Format,
                    );
                self.push(ep);
            }
        }
        if self.rng.chance(0.6) {
            self.files(&prefix);
        }
        if self.rng.chance(0.4) {
            let p = format!(
                "{prefix}/admin/{}",
                self.rng.pick(&["users", "stats", "jobs", "tenants"])
            );
            {
                let ep = EndpointSpec::new("GET", &p, F::Admin).admin().param(
                    Loc::Query("page".into()),
                    P::Integer,
                    false,
                    ValueGen::Int(1, 20),
                );
                self.push(ep);
            }
        }
        if self.rng.chance(0.5) {
            let p = format!("{prefix}/health");
            {
                let ep = EndpointSpec::new("GET", &p, F::Static);
                self.push(ep);
            }
        }
        if saas {
            // API keys on every call but sign-in and sign-up.
            let key = *self.rng.pick(&["x-api-key", "x-client-key", "x-app-token"]);
            let hex = self.rng.chance(0.5);
            for ep in &mut self.eps {
                if ep.function != F::Login && ep.function != F::Registration {
                    let (f, g) = if hex {
                        (P::Hex, ValueGen::Hex(32))
                    } else {
                        (P::Base64, ValueGen::Base64(30))
                    };
                    *ep = ep.clone().param(Loc::Header(key.into()), f, true, g);
                }
            }
        }
    }

    fn graphql(&mut self) {
        let url = *self
            .rng
            .pick(&["/graphql", "/api/graphql", "/gql", "/v1/graphql"]);
        let ops: Vec<Op> = vec![
            (
                *self
                    .rng
                    .pick(&["SearchProducts", "products", "Catalog", "FindItems"]),
                F::Search,
                vec![
                    ("search", P::FreeText, ValueGen::Search),
                    ("first", P::Integer, ValueGen::Int(5, 50)),
                ],
            ),
            (
                *self
                    .rng
                    .pick(&["ProductDetails", "product", "GetProduct", "Item"]),
                F::ProductView,
                vec![("id", P::Integer, ValueGen::Int(1, 200))],
            ),
            (
                *self.rng.pick(&["Me", "Viewer", "CurrentUser", "myProfile"]),
                F::Profile,
                vec![],
            ),
            (
                *self
                    .rng
                    .pick(&["AddToCart", "addItem", "CartAdd", "addToBasket"]),
                F::Cart,
                vec![
                    ("productId", P::Integer, ValueGen::Int(1, 200)),
                    ("quantity", P::Integer, qty_gen()),
                ],
            ),
            (
                *self
                    .rng
                    .pick(&["CreateComment", "postReview", "AddNote", "SubmitFeedback"]),
                F::ApiWrite,
                vec![
                    ("text", P::FreeText, ValueGen::Format),
                    ("rating", P::Integer, ValueGen::Int(1, 5)),
                ],
            ),
            (
                *self
                    .rng
                    .pick(&["Orders", "orderHistory", "ListOrders", "MyOrders"]),
                F::Profile,
                vec![("since", P::DateTime, ValueGen::Format)],
            ),
        ];
        let n = self.rng.range(3, ops.len() as i64) as usize;
        for (op, f, vars) in ops.into_iter().take(n) {
            let mut ep = EndpointSpec::new("POST", url, f)
                .body(B::GraphQl)
                .operation(op);
            if matches!(f, F::Profile | F::Cart | F::ApiWrite) {
                ep = ep.auth();
            }
            for (i, (v, fm, g)) in vars.into_iter().enumerate() {
                ep = ep.param(Loc::GraphQl(v.into()), fm, i == 0, g);
            }
            {
                self.push(ep);
            }
        }
    }

    fn soap(&mut self) {
        let url = *self.rng.pick(&[
            "/soap/orders",
            "/ws/AccountService",
            "/services/CustomerService",
            "/soap/v1/billing",
        ]);
        let ops: Vec<Op> = vec![
            (
                *self
                    .rng
                    .pick(&["GetAccount", "GetCustomer", "FetchAccount"]),
                F::ApiRead,
                vec![("accountId", P::Integer, ValueGen::Int(1, 5000))],
            ),
            (
                *self
                    .rng
                    .pick(&["UpdateCustomer", "ModifyAccount", "SetContact"]),
                F::ApiWrite,
                vec![
                    ("customerId", P::Integer, ValueGen::Int(1, 5000)),
                    ("email", P::Email, ValueGen::Format),
                    ("phone", P::Phone, ValueGen::Format),
                ],
            ),
            (
                *self
                    .rng
                    .pick(&["SubmitOrder", "PlaceOrder", "CreateInvoicePayment"]),
                F::Checkout,
                vec![
                    ("customerId", P::Integer, ValueGen::Int(1, 5000)),
                    ("amount", P::Decimal, ValueGen::Decimal(1.0, 900.0, 2)),
                    ("cardNumber", P::Card, ValueGen::Format),
                ],
            ),
            (
                *self
                    .rng
                    .pick(&["FindCustomers", "SearchAccounts", "LookupCustomer"]),
                F::Search,
                vec![
                    ("query", P::FreeText, ValueGen::Search),
                    ("maxResults", P::Integer, ValueGen::Int(5, 50)),
                ],
            ),
        ];
        let n = self.rng.range(2, ops.len() as i64) as usize;
        for (op, f, vars) in ops.into_iter().take(n) {
            let mut ep = EndpointSpec::new("POST", url, f)
                .body(B::Soap)
                .operation(op)
                .auth();
            for (v, fm, g) in vars {
                ep = ep.param(
                    Loc::Soap {
                        op: op.to_string(),
                        field: v.to_string(),
                    },
                    fm,
                    true,
                    g,
                );
            }
            {
                self.push(ep);
            }
        }
    }

    fn users(&mut self) -> Vec<User> {
        let n = self.rng.range(8, 40) as usize;
        let mut users: Vec<User> = Vec::new();
        while users.len() < n {
            let username = values::username(&mut self.rng);
            if users.iter().any(|u| u.username == username) {
                continue;
            }
            let email = format!(
                "{}@{}",
                username.replace('_', "."),
                self.rng.pick(&["example.com", "mail.test", "corp.example"])
            );
            let password = ValueGen::Password.value(P::FreeText, &mut self.rng);
            users.push(User {
                id: users.len() as u64 + 1,
                username,
                email,
                password,
                admin: users.len() < 2,
            });
        }
        users
    }
}

/// A synthetic application of one of [`Style::GENERATED`], deterministic
/// per seed, with 6 to 40 endpoints; some carry GraphQL operations and SOAP
/// actions besides.
pub fn generate(seed: u64) -> App {
    let style =
        Style::GENERATED[(crate::rng::mix(seed ^ 0x51) % Style::GENERATED.len() as u64) as usize];
    let mut b = Builder::new(seed, style);
    match style {
        Style::RestApi => b.rest_api(false),
        Style::SaasApi => b.rest_api(true),
        Style::WebShop => b.web_shop(),
        Style::Forum => b.forum(),
        Style::Bank => b.bank(),
        Style::AdminConsole | Style::DemoShop => b.admin_console(),
    }
    if b.rng.chance(0.3) {
        b.graphql();
    }
    if b.rng.chance(0.2) {
        b.soap();
    }
    // Some applications also expose a small API beside their pages.
    if b.html && b.eps.len() < 20 && b.rng.chance(0.5) {
        let prefix = b.rng.pick(API_PREFIX).to_string();
        b.html = false;
        let n = b.rng.range(1, 2) as usize;
        b.api_resources(&prefix, n);
        b.html = true;
    }
    if b.eps.len() > 40 {
        b.eps.truncate(40);
    }
    while b.eps.len() < 6 {
        let n = b.eps.len();
        b.statics(n + 1);
    }
    let users = b.users();
    let session_cookie = b.rng.pick(SESSION_COOKIES).to_string();
    let session_format = *b.rng.pick(&[P::Hex, P::Hex, P::Base64, P::Uuid]);
    // Collections nobody names are dropped.
    let used: Vec<String> = b
        .eps
        .iter()
        .flat_map(|e| e.path_params.iter().filter_map(|p| p.collection.clone()))
        .collect();
    b.collections.retain(|c| used.contains(&c.name));
    App {
        name: format!("{}-{seed}", style_name(style)),
        style,
        endpoints: b.eps,
        collections: b.collections,
        users,
        session_cookie,
        session_format,
    }
}

fn style_name(s: Style) -> &'static str {
    match s {
        Style::RestApi => "rest-api",
        Style::WebShop => "web-shop",
        Style::Forum => "forum",
        Style::Bank => "bank",
        Style::AdminConsole => "admin-console",
        Style::SaasApi => "saas-api",
        Style::DemoShop => "demo-shop",
    }
}

/// The ground truth of the built-in demo shop (examples/demo-shop): its
/// routes, parameters, 24 products, users `alice`, `bob` and `admin`
/// (ids 1 to 3) and its session cookie `session` (64 hex digits). Orders
/// are created at run time, so their collection is empty.
pub fn demo_shop() -> App {
    let sort = || choice(&["relevance", "price_asc", "price_desc", "name", "rating"]);
    let cats = || {
        choice(&[
            "Books",
            "Electronics",
            "Outdoors",
            "Home & Kitchen",
            "Clothing",
            "Toys",
        ])
    };
    let web = |m: &str, t: &str, f: Function| EndpointSpec::new(m, t, f).html(true);
    let json = |n: &str| Loc::Json(vec![n.to_string()]);
    let form = |n: &str| Loc::Form(n.to_string());
    let q = |n: &str| Loc::Query(n.to_string());
    let products = Collection {
        name: "products".into(),
        kind: IdKind::Int,
        ids: (1..=24).map(|i: i64| i.to_string()).collect(),
    };
    let orders = Collection {
        name: "orders".into(),
        kind: IdKind::Int,
        ids: Vec::new(),
    };
    let users_c = Collection {
        name: "users".into(),
        kind: IdKind::Int,
        ids: (1..=3).map(|i: i64| i.to_string()).collect(),
    };
    let user_ep = |m: &str| {
        let mut e = EndpointSpec::new(m, "/api/users/{id}", F::Profile)
            .path("id", IdKind::Int, Some("users"))
            .auth();
        e.path_params[0].owner = true;
        e
    };
    let endpoints = vec![
        web("GET", "/", F::ProductView),
        web("GET", "/search", F::Search)
            .param(q("q"), P::FreeText, false, ValueGen::Search)
            .param(q("category"), P::Enumeration, false, cats())
            .param(q("sort"), P::Enumeration, false, sort())
            .param(q("page"), P::Integer, false, ValueGen::Int(1, 3)),
        web("GET", "/products/{id}", F::ProductView).path("id", IdKind::Int, Some("products")),
        web("POST", "/products/{id}/reviews", F::ApiWrite)
            .path("id", IdKind::Int, Some("products"))
            .body(B::Form)
            .auth()
            .param(form("rating"), P::Integer, true, ValueGen::Int(1, 5))
            .param(form("text"), P::FreeText, true, ValueGen::Format),
        web("GET", "/login", F::Login).param(
            q("next"),
            P::FilePath,
            false,
            choice(&["/cart", "/orders", "/profile", "/checkout"]),
        ),
        web("POST", "/login", F::Login)
            .body(B::Form)
            .param(form("username"), P::Name, true, ValueGen::Username)
            .param(form("password"), P::FreeText, true, ValueGen::Password)
            .param(
                form("next"),
                P::FilePath,
                false,
                choice(&["/cart", "/orders", "/profile"]),
            ),
        web("POST", "/logout", F::Logout).auth(),
        web("GET", "/register", F::Registration),
        web("POST", "/register", F::Registration)
            .body(B::Form)
            .param(form("username"), P::Name, true, ValueGen::Username)
            .param(form("email"), P::Email, true, ValueGen::Format)
            .param(form("password"), P::FreeText, true, ValueGen::Password)
            .param(form("name"), P::Name, true, ValueGen::Format),
        web("GET", "/cart", F::Cart).auth(),
        web("POST", "/cart/add", F::Cart)
            .body(B::Form)
            .auth()
            .param(form("product_id"), P::Integer, true, ValueGen::Int(1, 24))
            .param(form("qty"), P::Integer, false, ValueGen::Int(1, 3)),
        web("POST", "/cart/remove", F::Cart)
            .body(B::Form)
            .auth()
            .param(form("product_id"), P::Integer, true, ValueGen::Int(1, 24)),
        web("GET", "/checkout", F::Checkout).auth(),
        web("POST", "/checkout", F::Checkout)
            .body(B::Form)
            .auth()
            .param(form("name"), P::Name, true, ValueGen::Format)
            .param(form("address"), P::FreeText, true, ValueGen::Address)
            .param(form("card_number"), P::Card, true, ValueGen::Format)
            .param(form("expiry"), P::DateTime, true, ValueGen::Expiry)
            .param(form("cvv"), P::Integer, true, ValueGen::Cvv),
        web("GET", "/orders", F::Profile).auth(),
        web("GET", "/orders/{id}", F::Profile)
            .path("id", IdKind::Int, Some("orders"))
            .auth(),
        web("GET", "/profile", F::Profile).auth().param(
            q("saved"),
            P::Integer,
            false,
            choice(&["1"]),
        ),
        web("POST", "/profile", F::Profile)
            .body(B::Form)
            .auth()
            .param(form("name"), P::Name, true, ValueGen::Format)
            .param(form("email"), P::Email, true, ValueGen::Format)
            .param(form("bio"), P::FreeText, false, ValueGen::Format),
        EndpointSpec::new("GET", "/download", F::Download).param(
            q("file"),
            P::FilePath,
            true,
            choice(&["invoice-sample.pdf", "catalog.csv", "terms.txt"]),
        ),
        EndpointSpec::new("GET", "/static/app.css", F::Static),
        EndpointSpec::new("GET", "/api/health", F::Static),
        EndpointSpec::new("GET", "/api/products", F::Search)
            .param(q("q"), P::FreeText, false, ValueGen::Search)
            .param(q("category"), P::Enumeration, false, cats())
            .param(q("sort"), P::Enumeration, false, sort())
            .param(q("limit"), P::Integer, false, ValueGen::Int(5, 50))
            .param(q("offset"), P::Integer, false, ValueGen::Int(0, 20)),
        EndpointSpec::new("GET", "/api/products/{id}", F::ProductView).path(
            "id",
            IdKind::Int,
            Some("products"),
        ),
        EndpointSpec::new("POST", "/api/login", F::Login)
            .body(B::Json)
            .param(json("username"), P::Name, true, ValueGen::Username)
            .param(json("password"), P::FreeText, true, ValueGen::Password),
        EndpointSpec::new("POST", "/api/register", F::Registration)
            .body(B::Json)
            .param(json("username"), P::Name, true, ValueGen::Username)
            .param(json("email"), P::Email, true, ValueGen::Format)
            .param(json("password"), P::FreeText, true, ValueGen::Password)
            .param(json("name"), P::Name, false, ValueGen::Format),
        EndpointSpec::new("GET", "/api/cart", F::Cart).auth(),
        EndpointSpec::new("POST", "/api/cart", F::Cart)
            .body(B::Json)
            .auth()
            .param(json("product_id"), P::Integer, true, ValueGen::Int(1, 24))
            .param(json("qty"), P::Integer, false, ValueGen::Int(1, 3)),
        EndpointSpec::new("POST", "/api/checkout", F::Checkout)
            .body(B::Json)
            .auth()
            .param(json("name"), P::Name, true, ValueGen::Format)
            .param(json("address"), P::FreeText, true, ValueGen::Address)
            .param(json("card_number"), P::Card, true, ValueGen::Format)
            .param(json("expiry"), P::DateTime, true, ValueGen::Expiry)
            .param(json("cvv"), P::Integer, true, ValueGen::Cvv),
        EndpointSpec::new("GET", "/api/orders", F::Profile).auth(),
        user_ep("GET"),
        user_ep("PUT")
            .body(B::Json)
            .param(json("name"), P::Name, false, ValueGen::Format)
            .param(json("email"), P::Email, false, ValueGen::Format)
            .param(json("bio"), P::FreeText, false, ValueGen::Format),
        EndpointSpec::new("POST", "/graphql", F::Search)
            .body(B::GraphQl)
            .operation("Products")
            .param(
                Loc::GraphQl("search".into()),
                P::FreeText,
                true,
                ValueGen::Search,
            )
            .param(
                Loc::GraphQl("limit".into()),
                P::Integer,
                false,
                ValueGen::Int(1, 20),
            ),
        EndpointSpec::new("POST", "/graphql", F::ProductView)
            .body(B::GraphQl)
            .operation("Product")
            .param(
                Loc::GraphQl("id".into()),
                P::Integer,
                true,
                ValueGen::Int(1, 24),
            ),
        EndpointSpec::new("POST", "/graphql", F::Profile)
            .body(B::GraphQl)
            .operation("Me")
            .auth(),
        EndpointSpec::new("POST", "/graphql", F::Cart)
            .body(B::GraphQl)
            .operation("AddToCart")
            .auth()
            .param(
                Loc::GraphQl("productId".into()),
                P::Integer,
                true,
                ValueGen::Int(1, 24),
            )
            .param(
                Loc::GraphQl("qty".into()),
                P::Integer,
                false,
                ValueGen::Int(1, 3),
            ),
        EndpointSpec::new("GET", "/soap/orders", F::Static),
        EndpointSpec::new("POST", "/soap/orders", F::Checkout)
            .body(B::Soap)
            .operation("importOrder")
            .auth()
            .param(
                Loc::Soap {
                    op: "importOrder".into(),
                    field: "customer".into(),
                },
                P::Name,
                true,
                ValueGen::Format,
            )
            .param(
                Loc::Soap {
                    op: "importOrder".into(),
                    field: "items/item/@sku".into(),
                },
                P::Integer,
                true,
                ValueGen::Int(1, 24),
            )
            .param(
                Loc::Soap {
                    op: "importOrder".into(),
                    field: "items/item/@qty".into(),
                },
                P::Integer,
                true,
                ValueGen::Int(1, 3),
            )
            .param(
                Loc::Soap {
                    op: "importOrder".into(),
                    field: "note".into(),
                },
                P::FreeText,
                false,
                ValueGen::Format,
            ),
    ];
    let users = [
        ("alice", "alice-password", false),
        ("bob", "bob-password", false),
        ("admin", "admin-password", true),
    ]
    .iter()
    .enumerate()
    .map(|(i, (u, p, a))| User {
        id: i as u64 + 1,
        username: u.to_string(),
        email: format!("{u}@example.com"),
        password: p.to_string(),
        admin: *a,
    })
    .collect();
    App {
        name: "demo-shop".into(),
        style: Style::DemoShop,
        endpoints,
        collections: vec![products, orders, users_c],
        users,
        session_cookie: "session".into(),
        session_format: P::Hex,
    }
}
