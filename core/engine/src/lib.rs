//! The Rampart engine: decode, detect, decide
