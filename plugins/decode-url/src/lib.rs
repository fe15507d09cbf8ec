//! Decoders for URL paths, query strings and form bodies, and the double-encoding layer
