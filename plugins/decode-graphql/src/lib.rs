//! GraphQL document decoder for Rampart: operations, fields, arguments,
//! variables, fragments.
//!
//! [`GraphqlDecoder`] (layer `graphql`) parses executable documents of the
//! October 2021 GraphQL specification, declared as `application/graphql`
//! or sniffed in values (a JSON `query` member, a `query` parameter). The
//! lexer and the parser are hand-written; selection sets, lists and
//! objects are parsed with explicit stacks bounded by `max_nesting`.
//!
//! # What it emits
//!
//! For `query Q($id: ID! = 4) @live { u: user(id: $id, f: {a: [1]}) { ...P ... on Admin { x } } }`:
//!
//! | point | kind | value |
//! |---|---|---|
//! | `graphql.query` | container | one per operation, keyed by its type; `{ ... }` is a `query` |
//! | `graphql.query["@name"]` | leaf | `Q` (named operations only) |
//! | `graphql.query["$id"]` | leaf | `ID!`: the type, without ignored tokens |
//! | `graphql.query["$id"]["@default"]` | leaf | `4`: the default value, like an argument |
//! | `graphql.query["#live"]` | container | a directive; its arguments as `@arg` below it |
//! | `graphql.query.user` | container | a field with a selection set, keyed by its name |
//! | `graphql.query.user["@alias"]` | leaf | `u` |
//! | `graphql.query.user["@id"]` | leaf | `$id`: variables as written with their `$` |
//! | `graphql.query.user["@f"].a[0]` | leaf | `1`: objects as members, lists as indexes |
//! | `graphql.query.user["..."]` | leaf | `P`: a fragment spread holds the fragment name |
//! | `graphql.query.user["... on Admin"]` | container | an inline fragment (`...` without a type) |
//! | `graphql.query.user["... on Admin"].x` | leaf | empty: a field without a selection set |
//!
//! - Fields are leaves with an empty value when they have no selection set
//!   (GraphQL's leaf fields), containers when they have one; arguments,
//!   an alias and directives hang below either.
//! - Argument values: strings and block strings decoded (escapes, block
//!   indentation), numbers, booleans, `null` and enum values as written.
//! - `fragment P on User @d { ... }` gives `graphql.fragment.P` (a
//!   container under one shared `fragment` container) with a leaf `@on`
//!   = `User`, its directives and its selections.
//! - An empty (or all-ignored) declared document emits nothing.
//!
//! # Findings (declared mode, except introspection)
//!
//! - `graphql.introspection` (score 10) on the first `__schema` or `__type`
//!   field: scanners use introspection to map an API. Also reported for a
//!   sniffed document, once it decoded completely.
//! - `graphql.invalid-escape` (score 20): an escape GraphQL does not know
//!   (kept literally) or a lone surrogate (decoded as U+FFFD); once.
//! - `graphql.invalid-utf8` (score 20): a string that is not UTF-8 (bytes
//!   kept); once.
//! - Syntax errors, truncation and type system definitions stop decoding
//!   with `DecodeError::Malformed("graphql.malformed")`, points kept.
//!
//! Speculatively, any defect but invalid UTF-8 means the value is not
//! GraphQL. Nesting (selection sets plus list and object values, and list
//! types) beyond `max_nesting` stops decoding with `Exhausted(Nesting)`.

mod graphql;
mod lexer;
mod parser;
mod strings;
mod values;

pub use graphql::GraphqlDecoder;

use rampart_plugin_api::{Origin, Registry, RegistryError};

/// Registers the decoders of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_decoder(GraphqlDecoder, Origin::Builtin)
}

// Loadable as a shared library: `cargo build -p rampart-decode-graphql --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [GraphqlDecoder],
    detectors: [],
}
