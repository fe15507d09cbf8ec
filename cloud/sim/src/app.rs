//! The ground truth of an application: its endpoints with their business
//! function, parameters (request points, formats, value generators),
//! collections of objects and users.

use std::collections::HashSet;

use rampart_learn::{Function, ParamFormat};
use serde::{Deserialize, Serialize};

use crate::values::ValueGen;

/// The kind of application, which decides how its pages look (HTML or
/// JSON) and which vocabulary it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// A JSON REST API (`/api/v1/...`).
    RestApi,
    /// A server-rendered web shop with forms.
    WebShop,
    /// A server-rendered forum or blog.
    Forum,
    /// A server-rendered online bank.
    Bank,
    /// An administration console.
    AdminConsole,
    /// A SaaS JSON API with hash ids and version segments.
    SaasApi,
    /// The built-in demo shop.
    DemoShop,
}

impl Style {
    /// Every style [`crate::generate::generate`] produces.
    pub const GENERATED: [Style; 6] = [
        Style::RestApi,
        Style::WebShop,
        Style::Forum,
        Style::Bank,
        Style::AdminConsole,
        Style::SaasApi,
    ];
}

/// How an endpoint's request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// No body.
    None,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`.
    Json,
    /// `multipart/form-data` (uploads).
    Multipart,
    /// A SOAP 1.1 envelope, `text/xml`, with a `SOAPAction` header.
    Soap,
    /// A GraphQL request as JSON (`query`, `operationName`, `variables`).
    GraphQl,
}

impl BodyKind {
    /// The `Content-Type` of such a body (multipart without its boundary).
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            BodyKind::None => None,
            BodyKind::Form => Some("application/x-www-form-urlencoded"),
            BodyKind::Json | BodyKind::GraphQl => Some("application/json"),
            BodyKind::Multipart => Some("multipart/form-data"),
            BodyKind::Soap => Some("text/xml; charset=utf-8"),
        }
    }
}

/// What a path parameter looks like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// A decimal integer id.
    Int,
    /// A UUID.
    Uuid,
    /// Lowercase hex of this many digits (hashes, object ids).
    Hex(usize),
    /// A slug of words joined by `-`.
    Slug,
    /// A four-digit year.
    Year,
    /// A two-digit month.
    Month,
    /// A two-digit day of the month.
    Day,
    /// One of a fixed set (locales such as `en`, `de`).
    Choice(Vec<String>),
}

impl IdKind {
    /// Whether `seg` is syntactically a value of this kind.
    pub fn accepts(&self, seg: &str) -> bool {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match self {
            IdKind::Int => digits(seg) && seg.len() <= 18,
            IdKind::Uuid => {
                seg.len() == 36
                    && seg.bytes().enumerate().all(|(i, b)| match i {
                        8 | 13 | 18 | 23 => b == b'-',
                        _ => b.is_ascii_hexdigit(),
                    })
            }
            IdKind::Hex(n) => seg.len() == *n && seg.bytes().all(|b| b.is_ascii_hexdigit()),
            IdKind::Slug => {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }
            IdKind::Year => digits(seg) && seg.len() == 4,
            IdKind::Month => {
                digits(seg) && seg.len() == 2 && (1..=12).contains(&seg.parse().unwrap_or(0))
            }
            IdKind::Day => {
                digits(seg) && seg.len() == 2 && (1..=31).contains(&seg.parse().unwrap_or(0))
            }
            IdKind::Choice(xs) => xs.iter().any(|x| x == seg),
        }
    }
}

/// A parameter in the path (`{id}` in `/users/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathParam {
    /// The name in the template.
    pub name: String,
    /// What values look like.
    pub kind: IdKind,
    /// The collection whose objects it names; ids not in it get 404.
    /// `None`: any value of the kind is fine (locales, dates).
    pub collection: Option<String>,
    /// The id of the signed-in user (others' ids are forbidden).
    pub owner: bool,
}

/// A collection of objects (products, orders, ...) and the ids that exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// Its name (`products`).
    pub name: String,
    /// What its ids look like.
    pub kind: IdKind,
    /// The ids that exist. Empty for collections whose objects the
    /// simulator cannot know (orders created at run time in the demo shop).
    pub ids: Vec<String>,
}

/// Where a parameter travels in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loc {
    /// A query-string parameter.
    Query(String),
    /// A field of a url-encoded form body.
    Form(String),
    /// A member of a JSON body, by its path of object keys.
    Json(Vec<String>),
    /// A text part of a multipart body.
    Multipart(String),
    /// A file part of a multipart body; the parameter is its file name.
    File(String),
    /// A cookie.
    Cookie(String),
    /// A header, lower-case.
    Header(String),
    /// A GraphQL variable (`variables.name` of the JSON request).
    GraphQl(String),
    /// A child element of a SOAP operation's element.
    Soap {
        /// The operation element (`GetAccount`).
        op: String,
        /// The path below it: child elements separated by `/`, an attribute
        /// last as `@name` (`accountId`, `items/item/@sku`).
        field: String,
    },
}

/// A member step of a request-point path: `.name` for identifiers, else
/// `["name"]` with `"` and `\` escaped.
pub fn member(name: &str) -> String {
    let ident = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ident {
        format!(".{name}")
    } else {
        let mut s = String::from("[\"");
        for c in name.chars() {
            if c == '"' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push_str("\"]");
        s
    }
}

impl Loc {
    /// The request point as the node names it (spec/request-points.md):
    /// `query.page`, `body:json.user.email`, `header["x-api-key"]`.
    pub fn point(&self) -> String {
        match self {
            Loc::Query(n) => format!("query{}", member(n)),
            Loc::Form(n) => format!("body:form{}", member(n)),
            Loc::Json(path) => {
                let mut s = String::from("body:json");
                for p in path {
                    s.push_str(&member(p));
                }
                s
            }
            Loc::Multipart(n) => format!("body:multipart{}", member(n)),
            Loc::File(n) => format!("body:multipart{}{}", member(n), member("@filename")),
            Loc::Cookie(n) => format!("cookie{}", member(n)),
            Loc::Header(n) => format!("header{}", member(n)),
            Loc::GraphQl(n) => format!("body:json.variables{}", member(n)),
            Loc::Soap { op, field } => {
                let mut s = format!(
                    "body:xml{}{}{}",
                    member("soap:Envelope"),
                    member("soap:Body"),
                    member(op)
                );
                for step in field.split('/') {
                    s.push_str(&member(step));
                }
                s
            }
        }
    }
}

/// One parameter of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// The request point as the node names it ([`Loc::point`]).
    pub point: String,
    /// Where it travels.
    pub loc: Loc,
    /// The format of its values (the ground truth of the format learner).
    pub format: ParamFormat,
    /// Sent with every request (else about half of the time).
    pub required: bool,
    /// How values are drawn.
    pub gen: ValueGen,
}

impl ParamSpec {
    /// A parameter at `loc`.
    pub fn new(loc: Loc, format: ParamFormat, required: bool, gen: ValueGen) -> ParamSpec {
        ParamSpec {
            point: loc.point(),
            loc,
            format,
            required,
            gen,
        }
    }
}

/// One endpoint: a method, a path template and, for GraphQL and SOAP, an
/// operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSpec {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path in rule-language syntax: `/users/{id}/orders/{order_id}`.
    pub template: String,
    /// The template's parameters, in order of appearance.
    pub path_params: Vec<PathParam>,
    /// What it does for the business (the function learner's ground truth).
    pub function: Function,
    /// Its query, body, cookie and header parameters.
    pub params: Vec<ParamSpec>,
    /// How the request body is encoded.
    pub body: BodyKind,
    /// The GraphQL operation name or SOAP action, for endpoints that share
    /// one URL.
    pub operation: Option<String>,
    /// Needs a signed-in session (401 without).
    pub auth: bool,
    /// Needs an administrator's session (403 for other users).
    pub admin: bool,
    /// Answers with HTML (else JSON, or XML for SOAP).
    pub html: bool,
}

/// A step of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A literal segment.
    Lit(&'a str),
    /// The path parameter with this index in [`EndpointSpec::path_params`].
    Param(usize),
}

impl EndpointSpec {
    /// A new endpoint with no parameters; `{name}` placeholders of the
    /// template are added with [`EndpointSpec::path`].
    pub fn new(method: &str, template: &str, function: Function) -> EndpointSpec {
        EndpointSpec {
            method: method.to_string(),
            template: template.to_string(),
            path_params: Vec::new(),
            function,
            params: Vec::new(),
            body: BodyKind::None,
            operation: None,
            auth: false,
            admin: false,
            html: false,
        }
    }

    /// Declares the template's next path parameter.
    pub fn path(mut self, name: &str, kind: IdKind, collection: Option<&str>) -> Self {
        self.path_params.push(PathParam {
            name: name.to_string(),
            kind,
            collection: collection.map(str::to_string),
            owner: false,
        });
        self
    }

    /// Adds a parameter.
    pub fn param(mut self, loc: Loc, format: ParamFormat, required: bool, gen: ValueGen) -> Self {
        self.params.push(ParamSpec::new(loc, format, required, gen));
        self
    }

    /// Sets the body encoding.
    pub fn body(mut self, body: BodyKind) -> Self {
        self.body = body;
        self
    }

    /// Marks the endpoint as needing a session.
    pub fn auth(mut self) -> Self {
        self.auth = true;
        self
    }

    /// Marks the endpoint as needing an administrator.
    pub fn admin(mut self) -> Self {
        self.auth = true;
        self.admin = true;
        self
    }

    /// Marks the endpoint as answering with HTML.
    pub fn html(mut self, html: bool) -> Self {
        self.html = html;
        self
    }

    /// Sets the GraphQL operation or SOAP action.
    pub fn operation(mut self, op: &str) -> Self {
        self.operation = Some(op.to_string());
        self
    }

    /// The template's segments (after the leading `/`).
    pub fn segments(&self) -> Vec<Seg<'_>> {
        let t = self.template.strip_prefix('/').unwrap_or(&self.template);
        if t.is_empty() {
            return Vec::new();
        }
        t.split('/')
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match self.path_params.iter().position(|p| p.name == name) {
                        Some(i) => Seg::Param(i),
                        None => Seg::Lit(s),
                    },
                    None => Seg::Lit(s),
                },
            )
            .collect()
    }

    /// The path with `values` for the path parameters, in order.
    pub fn fill(&self, values: &[String]) -> String {
        let mut out = String::new();
        for s in self.segments() {
            out.push('/');
            match s {
                Seg::Lit(l) => out.push_str(l),
                Seg::Param(i) => out.push_str(values.get(i).map_or("", String::as_str)),
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// The index of the path segment (`path[N]`) holding path parameter `i`.
    pub fn segment_of(&self, i: usize) -> Option<usize> {
        self.segments().iter().position(|s| *s == Seg::Param(i))
    }
}

/// A user of the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Numeric id (1-based).
    pub id: u64,
    /// Sign-in name.
    pub username: String,
    /// E-mail address (some applications sign in with it).
    pub email: String,
    /// The correct password.
    pub password: String,
    /// May use admin endpoints.
    pub admin: bool,
}

/// An application with its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    /// A name (the generator's seed and style for synthetic ones).
    pub name: String,
    /// The style.
    pub style: Style,
    /// The endpoints.
    pub endpoints: Vec<EndpointSpec>,
    /// Collections of objects named by path parameters.
    pub collections: Vec<Collection>,
    /// The users that exist.
    pub users: Vec<User>,
    /// The name of the session cookie set at sign-in.
    pub session_cookie: String,
    /// The format of session tokens.
    pub session_format: ParamFormat,
}

/// How a request maps onto an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An endpoint, with its path parameter values.
    Found(usize, Vec<String>),
    /// The path fits an endpoint but an object does not exist.
    UnknownObject(usize),
    /// The path fits endpoints, none with this method (their methods).
    MethodNotAllowed(Vec<String>),
    /// No endpoint has this path (or GraphQL/SOAP operation).
    NotFound,
}

impl App {
    /// The collection named `name`.
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// The ids of the collection named `name` (empty when unknown).
    pub fn objects(&self, name: &str) -> &[String] {
        self.collection(name).map_or(&[], |c| c.ids.as_slice())
    }

    /// Indexes of the endpoints with this function.
    pub fn with_function(&self, f: Function) -> Vec<usize> {
        (0..self.endpoints.len())
            .filter(|&i| self.endpoints[i].function == f)
            .collect()
    }

    /// The user signing in as `name` (user name or e-mail).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.username == name || u.email.eq_ignore_ascii_case(name))
    }

    /// Maps a request onto an endpoint: the path (without query), the
    /// method and the GraphQL operation name or SOAP action, if any.
    /// Among templates that fit, the one with the most literal segments
    /// wins; object ids are checked against the collections.
    pub fn route(&self, method: &str, path: &str, op: Option<&str>) -> Route {
        self.route_with(method, path, op, None)
    }

    /// [`App::route`] with the object check done against `sets` when given
    /// (one set of ids per collection, in the order of
    /// [`App::collections`]), else against the collections' lists.
    pub fn route_with(
        &self,
        method: &str,
        path: &str,
        op: Option<&str>,
        sets: Option<&[HashSet<String>]>,
    ) -> Route {
        let segs: Vec<&str> = {
            let p = path.strip_prefix('/').unwrap_or(path);
            let p = p.strip_suffix('/').unwrap_or(p);
            if p.is_empty() {
                Vec::new()
            } else {
                p.split('/').collect()
            }
        };
        let mut best: Option<usize> = None;
        let mut fits: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, ep) in self.endpoints.iter().enumerate() {
            let t = ep.segments();
            if t.len() != segs.len() {
                continue;
            }
            let mut lits = 0;
            let mut values = vec![String::new(); ep.path_params.len()];
            let ok = t.iter().zip(&segs).all(|(s, v)| match s {
                Seg::Lit(l) => {
                    lits += 1;
                    l == v
                }
                Seg::Param(k) => {
                    let ok = ep.path_params[*k].kind.accepts(v);
                    values[*k] = (*v).to_string();
                    ok
                }
            });
            if !ok {
                continue;
            }
            match best {
                Some(b) if b > lits => continue,
                Some(b) if b < lits => fits.clear(),
                _ => {}
            }
            best = Some(lits);
            fits.push((i, values));
        }
        if fits.is_empty() {
            return Route::NotFound;
        }
        let same_method: Vec<&(usize, Vec<String>)> = fits
            .iter()
            .filter(|(i, _)| self.endpoints[*i].method.eq_ignore_ascii_case(method))
            .collect();
        if same_method.is_empty() {
            let mut allow: Vec<String> = fits
                .iter()
                .map(|(i, _)| self.endpoints[*i].method.clone())
                .collect();
            allow.sort();
            allow.dedup();
            return Route::MethodNotAllowed(allow);
        }
        let chosen = same_method.iter().find(|(i, _)| {
            let e = &self.endpoints[*i];
            match (&e.operation, op) {
                (None, _) => true,
                (Some(o), Some(q)) => o == q,
                (Some(_), None) => false,
            }
        });
        let Some((i, values)) = chosen else {
            return Route::NotFound;
        };
        let ep = &self.endpoints[*i];
        for (k, p) in ep.path_params.iter().enumerate() {
            let Some(c) = &p.collection else { continue };
            let v = &values[k];
            let exists = match sets {
                Some(sets) => self
                    .collections
                    .iter()
                    .position(|x| &x.name == c)
                    .and_then(|ci| sets.get(ci))
                    .is_some_and(|s| s.contains(v)),
                None => self.objects(c).iter().any(|x| x == v),
            };
            if !exists {
                return Route::UnknownObject(*i);
            }
        }
        Route::Found(*i, values.clone())
    }
}
