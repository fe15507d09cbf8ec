//! multipart/form-data and multipart/mixed decoder
