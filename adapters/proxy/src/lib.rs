//! The Rampart reverse-proxy node
