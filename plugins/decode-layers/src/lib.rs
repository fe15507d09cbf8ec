//! Transparent layers: base64, gzip, deflate, HTML entities, JavaScript escapes, JWT
