//! The plugins linked into the rampart binary by default
