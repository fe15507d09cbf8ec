//! Decoders for HTTP header structures: cookies and Authorization schemes
