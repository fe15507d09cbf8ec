//! `POST /soap/orders`: a SOAP 1.1 order import for business customers.
//!
//! The envelope is parsed with quick-xml. Document type declarations are refused with a fault,
//! and only the five predefined entities and character references are resolved: nothing is
//! ever expanded from a DTD.

use http::StatusCode;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::web::{self, AppError, AppResult, Resp};
use crate::{shop, App, Ctx};

const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SHOP_NS: &str = "urn:rampart-demo-shop:orders";
const MAX_DEPTH: usize = 32;
const MAX_ITEMS: usize = 100;
const MAX_TEXT: usize = 4096;

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// A SOAP fault. Client faults get 4xx statuses (500 is kept for server faults).
fn fault(status: StatusCode, code: &str, message: &str) -> Resp {
    web::xml(
        status,
        envelope(&format!(
            "<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{}</faultstring></soap:Fault>",
            escape(message)
        )),
    )
}

pub(crate) fn error(err: &AppError) -> Resp {
    let code = if err.status().is_server_error() {
        "Server"
    } else {
        "Client"
    };
    let resp = fault(err.status(), code, &err.message());
    match err {
        AppError::Unauthorized => web::with_header(
            resp,
            http::header::WWW_AUTHENTICATE,
            r#"Bearer realm="rampart-demo-shop""#,
        ),
        _ => resp,
    }
}

/// An order as read from the envelope.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ImportOrder {
    pub customer: String,
    pub items: Vec<(i64, i64)>,
    pub note: String,
}

fn local_name(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("malformed attribute: {err}"))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| format!("malformed attribute value: {err}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn int_attr(e: &BytesStart<'_>, name: &str, default: Option<i64>) -> Result<i64, String> {
    match attr(e, name)? {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("item attribute {name} must be an integer")),
        None => default.ok_or_else(|| format!("item is missing the {name} attribute")),
    }
}

/// Reads an `importOrder` request. Errors are messages for a client fault.
pub(crate) fn parse(xml: &str) -> Result<ImportOrder, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut order = ImportOrder::default();
    let mut seen_root = false;
    let mut seen_import = false;
    // Text of the element being collected (customer or note).
    let mut text = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        if matches!(event, Event::Start(_) | Event::Empty(_)) && stack.len() >= MAX_DEPTH {
            return Err("document is nested too deeply".into());
        }
        let path: Vec<&str> = stack.iter().map(String::as_str).collect();
        match event {
            Event::Eof => break,
            Event::DocType(_) => return Err("document type declarations are not allowed".into()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local_name(e);
                let empty = matches!(event, Event::Empty(_));
                match (path.as_slice(), name.as_str()) {
                    ([], "Envelope") => seen_root = true,
                    ([], other) => {
                        return Err(format!("expected a SOAP Envelope, found <{other}>"))
                    }
                    (["Envelope"], "Header" | "Body") => {}
                    (["Envelope"], other) => {
                        return Err(format!("unexpected <{other}> in the Envelope"))
                    }
                    (["Envelope", "Body"], "importOrder") => {
                        if seen_import {
                            return Err("only one importOrder per request".into());
                        }
                        seen_import = true;
                    }
                    (["Envelope", "Body"], other) => {
                        return Err(format!("unknown operation <{other}>"))
                    }
                    (["Envelope", "Body", "importOrder", "items"], "item") => {
                        if order.items.len() >= MAX_ITEMS {
                            return Err(format!("at most {MAX_ITEMS} items per order"));
                        }
                        order
                            .items
                            .push((int_attr(e, "sku", None)?, int_attr(e, "qty", Some(1))?));
                    }
                    (["Envelope", "Body", "importOrder", "items"], other) => {
                        return Err(format!("unexpected <{other}> in items"))
                    }
                    (["Envelope", "Body", "importOrder"], "customer" | "note") => text.clear(),
                    _ => {}
                }
                if !empty {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                match path.as_slice() {
                    ["Envelope", "Body", "importOrder", "customer"] => {
                        order.customer = text.trim().to_owned()
                    }
                    ["Envelope", "Body", "importOrder", "note"] => {
                        order.note = text.trim().to_owned()
                    }
                    _ => {}
                }
                stack.pop();
            }
            Event::Text(t) => {
                if collecting(&path) {
                    text.push_str(&t.xml10_content());
                } else if stack.is_empty() && !t.trim().is_empty() {
                    return Err("text outside the Envelope".into());
                }
            }
            Event::CData(c) => {
                if collecting(&path) {
                    text.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match resolve_predefined_entity(&r) {
                        Some(s) => s.to_owned(),
                        None => return Err(format!("undefined entity &{};", &*r)),
                    },
                    Err(e) => return Err(format!("bad character reference: {e}")),
                };
                if collecting(&path) {
                    text.push_str(&resolved);
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        if text.len() > MAX_TEXT {
            return Err("text too long".into());
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "unexpected end of document inside <{}>",
            stack.join("><")
        ));
    }
    if !seen_root {
        return Err("empty document".into());
    }
    if !seen_import {
        return Err("the Body must contain an importOrder element".into());
    }
    Ok(order)
}

fn collecting(path: &[&str]) -> bool {
    matches!(
        path,
        ["Envelope", "Body", "importOrder", "customer" | "note"]
    )
}

pub(crate) async fn import_order(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    match web::media_type(&ctx.headers).as_deref() {
        Some("text/xml" | "application/soap+xml") => {}
        _ => return Err(AppError::UnsupportedMediaType("text/xml")),
    }
    let action = ctx
        .headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let action = action.trim().trim_matches('"');
    let action = action.rsplit(['/', '#']).next().unwrap_or_default();
    if action != "importOrder" {
        return Err(AppError::bad(format!(
            "unknown SOAPAction {action:?}; expected importOrder"
        )));
    }
    let user_id = ctx.require_user()?.id;
    let xml =
        std::str::from_utf8(&ctx.body).map_err(|_| AppError::bad("the envelope must be UTF-8"))?;
    let order = parse(xml).map_err(AppError::BadRequest)?;
    let (id, total) = app
        .db(move |c| shop::import_order(c, user_id, &order.customer, &order.items, &order.note))
        .await?;
    let body = format!(
        r#"<importOrderResponse xmlns="{SHOP_NS}"><orderId>{id}</orderId><status>accepted</status><total currency="USD">{}</total></importOrderResponse>"#,
        crate::db::money(total)
    );
    Ok(web::xml(StatusCode::OK, envelope(&body)))
}

const WSDL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:rampart-demo-shop:orders"
  targetNamespace="urn:rampart-demo-shop:orders" name="OrderImport">
  <types>
    <xs:schema targetNamespace="urn:rampart-demo-shop:orders" elementFormDefault="qualified">
      <xs:element name="importOrder">
        <xs:complexType><xs:sequence>
          <xs:element name="customer" type="xs:string"/>
          <xs:element name="items"><xs:complexType><xs:sequence>
            <xs:element name="item" maxOccurs="100"><xs:complexType>
              <xs:attribute name="sku" type="xs:int" use="required"/>
              <xs:attribute name="qty" type="xs:int" default="1"/>
            </xs:complexType></xs:element>
          </xs:sequence></xs:complexType></xs:element>
          <xs:element name="note" type="xs:string" minOccurs="0"/>
        </xs:sequence></xs:complexType>
      </xs:element>
      <xs:element name="importOrderResponse">
        <xs:complexType><xs:sequence>
          <xs:element name="orderId" type="xs:long"/>
          <xs:element name="status" type="xs:string"/>
          <xs:element name="total" type="xs:decimal"/>
        </xs:sequence></xs:complexType>
      </xs:element>
    </xs:schema>
  </types>
  <message name="importOrderRequest"><part name="parameters" element="tns:importOrder"/></message>
  <message name="importOrderResponse"><part name="parameters" element="tns:importOrderResponse"/></message>
  <portType name="OrderImportPort">
    <operation name="importOrder"><input message="tns:importOrderRequest"/><output message="tns:importOrderResponse"/></operation>
  </portType>
  <binding name="OrderImportBinding" type="tns:OrderImportPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="importOrder"><soap:operation soapAction="importOrder"/>
      <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output>
    </operation>
  </binding>
  <service name="OrderImportService">
    <port name="OrderImportPort" binding="tns:OrderImportBinding"><soap:address location="/soap/orders"/></port>
  </service>
</definitions>
"#;

/// `GET /soap/orders?wsdl` describes the service; a plain GET is not allowed.
pub(crate) fn wsdl(ctx: &Ctx) -> AppResult<Resp> {
    let params = ctx.query()?;
    if params.get("wsdl").is_some() || params.get("WSDL").is_some() {
        Ok(web::xml(StatusCode::OK, WSDL.to_owned()))
    } else {
        Err(AppError::MethodNotAllowed("POST"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header/>
  <soap:Body>
    <importOrder xmlns="urn:rampart-demo-shop:orders">
      <customer>ACME &amp; Sons &#x263A;</customer>
      <items><item sku="3" qty="2"/><item sku="5"></item></items>
      <note><![CDATA[leave at <door>]]> please</note>
    </importOrder>
  </soap:Body>
</soap:Envelope>"#;

    #[test]
    fn parses_an_order() {
        let order = parse(OK).unwrap();
        assert_eq!(order.customer, "ACME & Sons ☺");
        assert_eq!(order.items, vec![(3, 2), (5, 1)]);
        assert_eq!(order.note, "leave at <door> please");
    }

    #[test]
    fn refuses_bad_documents() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="x"><soap:Body><importOrder><customer>&e;</customer></importOrder></soap:Body></soap:Envelope>"#;
        assert!(parse(xxe).unwrap_err().contains("document type"));
        let undefined =
            "<Envelope><Body><importOrder><customer>&e;</customer></importOrder></Body></Envelope>";
        assert!(parse(undefined).unwrap_err().contains("undefined entity"));
        for bad in [
            "",
            "<",
            "<Envelope>",
            "<Envelope><Body></Envelope>",
            "<Other/>",
            "<Envelope><Body/></Envelope>",
            "<Envelope><Body><deleteAll/></Body></Envelope>",
            "<Envelope><Body><importOrder><items><item qty='1'/></items></importOrder></Body></Envelope>",
            "<Envelope><Body><importOrder><items><item sku='x'/></items></importOrder></Body></Envelope>",
            "<Envelope><Body><importOrder><items><item sku='1' sku='2'/></items></importOrder></Body></Envelope>",
            "<Envelope><Body><importOrder><customer>&#xD800;</customer></importOrder></Body></Envelope>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        let deep = format!(
            "<Envelope><Header>{}</Header></Envelope>",
            "<a>".repeat(100)
        );
        assert!(parse(&deep).is_err());
    }
}
