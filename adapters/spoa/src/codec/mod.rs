//! The Stream Processing Offload Protocol (SPOP 2.0, HAProxy's doc/SPOE.txt
//! section 3), written for this agent: varints, typed data, frames, the
//! HELLO handshake, NOTIFY messages, ACK actions and DISCONNECT.
//!
//! Every decoder reads through a bounds-checked [`Reader`]: a truncated
//! varint, a length past the end of the frame, an unknown data type or
//! scope is a [`DecodeError`] carrying the SPOP status to disconnect with,
//! never a panic and never an allocation sized by the peer.

pub mod data;
pub mod error;
pub mod frame;
pub mod hello;
pub mod varint;

pub use data::{Reader, TypedData};
pub use error::{DecodeError, Status};
pub use frame::{Action, Frame, Message, Scope};
pub use hello::{AgentHello, Disconnect, HaproxyHello};
