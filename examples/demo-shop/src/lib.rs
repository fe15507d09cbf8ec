//! Rampart's demo application: a small shop with HTML pages, a JSON API, GraphQL and SOAP, on SQLite
