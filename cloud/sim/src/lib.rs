//! Rampart traffic simulator.
