//! The crate's one integration-test binary: table tests (`testdata/*.json`)
//! and hostile inputs.

#[path = "all/budget.rs"]
mod budget;
#[path = "all/hostile.rs"]
mod hostile;

use rampart_decode_xml::XmlDecoder;
use rampart_plugin_api::testing::check_table;

fn table(name: &str) {
    check_table(
        &XmlDecoder,
        format!("{}/testdata/{name}.json", env!("CARGO_MANIFEST_DIR")),
    );
}

#[test]
fn table_elements() {
    table("elements");
}

#[test]
fn table_attributes() {
    table("attributes");
}

#[test]
fn table_soap() {
    table("soap");
}

#[test]
fn table_doctype() {
    table("doctype");
}

#[test]
fn table_malformed() {
    table("malformed");
}

#[test]
fn table_speculative() {
    table("speculative");
}
