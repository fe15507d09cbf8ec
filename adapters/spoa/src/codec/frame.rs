//! SPOP frames (SPOE.txt 3.2): the common header, KV-lists, messages and
//! actions.
//!
//! ```text
//! <FRAME-LENGTH:4 bytes> <FRAME-TYPE:1 byte> <FLAGS:4 bytes> <STREAM-ID:varint> <FRAME-ID:varint> <PAYLOAD>
//! KV-LIST          : [ <KV-NAME:string> <KV-VALUE:typed> ... ]
//! LIST-OF-MESSAGES : [ <MESSAGE-NAME:string> <NB-ARGS:1 byte> <KV-LIST> ... ]
//! LIST-OF-ACTIONS  : [ <ACTION-TYPE:1 byte> <NB-ARGS:1 byte> <ACTION-ARGS> ... ]
//! ```
//! Names (keys, messages, arguments, variables) are untyped strings: a varint
//! length and the bytes.

use bytes::Bytes;

use super::data::{put_bytes, Reader, TypedData};
use super::error::DecodeError;
use super::varint;

pub const TYPE_UNSET: u8 = 0;
pub const TYPE_HAPROXY_HELLO: u8 = 1;
pub const TYPE_HAPROXY_DISCONNECT: u8 = 2;
pub const TYPE_NOTIFY: u8 = 3;
pub const TYPE_AGENT_HELLO: u8 = 101;
pub const TYPE_AGENT_DISCONNECT: u8 = 102;
pub const TYPE_ACK: u8 = 103;

/// The last (or only) fragment of a payload.
pub const FLAG_FIN: u32 = 0x1;
/// The processing of the frame is cancelled.
pub const FLAG_ABORT: u32 = 0x2;

/// The smallest max-frame-size a peer may announce (SPOE.txt 3.2).
pub const MIN_FRAME_SIZE: u32 = 256;

/// One frame, without its length prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u32,
    pub stream_id: u64,
    pub frame_id: u64,
    pub payload: Bytes,
}

impl Frame {
    /// A frame with the FIN flag and stream/frame ids 0 (HELLO, DISCONNECT).
    pub fn control(kind: u8, payload: Vec<u8>) -> Frame {
        Frame {
            kind,
            flags: FLAG_FIN,
            stream_id: 0,
            frame_id: 0,
            payload: Bytes::from(payload),
        }
    }

    /// Reads the header of a frame's bytes (the length prefix already
    /// removed); the payload stays shared with `buf`.
    pub fn decode(buf: Bytes) -> Result<Frame, DecodeError> {
        let mut r = Reader::new(buf);
        let kind = r.u8()?;
        let flags = r.u32_be()?;
        let stream_id = r.varint()?;
        let frame_id = r.varint()?;
        let n = r.remaining();
        let payload = r.take(n)?;
        Ok(Frame {
            kind,
            flags,
            stream_id,
            frame_id,
            payload,
        })
    }

    /// The frame's size without the length prefix.
    pub fn encoded_len(&self) -> usize {
        1 + 4
            + varint::encoded_len(self.stream_id)
            + varint::encoded_len(self.frame_id)
            + self.payload.len()
    }

    /// The frame with its 4-byte length prefix, ready to write.
    pub fn encode(&self) -> Vec<u8> {
        let len = self.encoded_len();
        let mut out = Vec::with_capacity(4 + len);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(self.kind);
        out.extend_from_slice(&self.flags.to_be_bytes());
        varint::encode(self.stream_id, &mut out);
        varint::encode(self.frame_id, &mut out);
        out.extend_from_slice(&self.payload);
        out
    }

    pub fn fin(&self) -> bool {
        self.flags & FLAG_FIN != 0
    }

    pub fn abort(&self) -> bool {
        self.flags & FLAG_ABORT != 0
    }
}

/// A KV-LIST: keys and typed values in order.
pub type KvList = Vec<(Bytes, TypedData)>;

pub fn decode_kv_list(payload: Bytes) -> Result<KvList, DecodeError> {
    let mut r = Reader::new(payload);
    let mut out = Vec::new();
    while !r.is_empty() {
        let k = r.string()?;
        let v = r.typed()?;
        out.push((k, v));
    }
    Ok(out)
}

pub fn encode_kv_list(items: &[(&str, TypedData)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in items {
        put_bytes(k.as_bytes(), &mut out);
        v.encode(&mut out);
    }
    out
}

/// One message of a NOTIFY frame: its name and its arguments (an argument
/// declared without a name in the SPOE configuration has an empty name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub name: Bytes,
    pub args: KvList,
}

impl Message {
    /// The first argument with this name.
    pub fn arg(&self, name: &str) -> Option<&TypedData> {
        self.args
            .iter()
            .find(|(k, _)| k.as_ref() == name.as_bytes())
            .map(|(_, v)| v)
    }
}

pub fn decode_messages(payload: Bytes) -> Result<Vec<Message>, DecodeError> {
    let mut r = Reader::new(payload);
    let mut out = Vec::new();
    while !r.is_empty() {
        let name = r.string()?;
        let n = r.u8()?;
        let mut args = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let k = r.string()?;
            let v = r.typed()?;
            args.push((k, v));
        }
        out.push(Message { name, args });
    }
    Ok(out)
}

pub fn encode_messages(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        put_bytes(&m.name, &mut out);
        out.push(m.args.len() as u8);
        for (k, v) in &m.args {
            put_bytes(k, &mut out);
            v.encode(&mut out);
        }
    }
    out
}

/// Where a variable lives (SPOE.txt 3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Process = 0,
    Session = 1,
    Transaction = 2,
    Request = 3,
    Response = 4,
}

impl Scope {
    fn from_byte(b: u8) -> Result<Scope, DecodeError> {
        Ok(match b {
            0 => Scope::Process,
            1 => Scope::Session,
            2 => Scope::Transaction,
            3 => Scope::Request,
            4 => Scope::Response,
            _ => return Err(DecodeError::invalid("unknown variable scope")),
        })
    }
}

const ACTION_SET_VAR: u8 = 1;
const ACTION_UNSET_VAR: u8 = 2;

/// An action of an ACK frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    SetVar {
        scope: Scope,
        name: Bytes,
        value: TypedData,
    },
    UnsetVar {
        scope: Scope,
        name: Bytes,
    },
}

impl Action {
    /// `set-var` in the transaction scope.
    pub fn set_txn(name: &'static str, value: TypedData) -> Action {
        Action::SetVar {
            scope: Scope::Transaction,
            name: Bytes::from_static(name.as_bytes()),
            value,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Action::SetVar { scope, name, value } => {
                out.extend_from_slice(&[ACTION_SET_VAR, 3, *scope as u8]);
                put_bytes(name, out);
                value.encode(out);
            }
            Action::UnsetVar { scope, name } => {
                out.extend_from_slice(&[ACTION_UNSET_VAR, 2, *scope as u8]);
                put_bytes(name, out);
            }
        }
    }
}

pub fn encode_actions(actions: &[Action]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in actions {
        a.encode(&mut out);
    }
    out
}

/// Reads a LIST-OF-ACTIONS (what HAProxy does with an ACK; the tests use it
/// to check the agent's answers).
pub fn decode_actions(payload: Bytes) -> Result<Vec<Action>, DecodeError> {
    let mut r = Reader::new(payload);
    let mut out = Vec::new();
    while !r.is_empty() {
        let kind = r.u8()?;
        let nb = r.u8()?;
        match (kind, nb) {
            (ACTION_SET_VAR, 3) => {
                let scope = Scope::from_byte(r.u8()?)?;
                let name = r.string()?;
                let value = r.typed()?;
                out.push(Action::SetVar { scope, name, value });
            }
            (ACTION_UNSET_VAR, 2) => {
                let scope = Scope::from_byte(r.u8()?)?;
                let name = r.string()?;
                out.push(Action::UnsetVar { scope, name });
            }
            _ => return Err(DecodeError::invalid("unknown action")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip() {
        let f = Frame {
            kind: TYPE_NOTIFY,
            flags: FLAG_FIN,
            stream_id: 12345,
            frame_id: 7,
            payload: Bytes::from_static(b"payload"),
        };
        let wire = f.encode();
        let len = u32::from_be_bytes([wire[0], wire[1], wire[2], wire[3]]) as usize;
        assert_eq!(len, wire.len() - 4);
        assert_eq!(len, f.encoded_len());
        assert_eq!(Frame::decode(Bytes::from(wire[4..].to_vec())).unwrap(), f);
    }

    #[test]
    fn truncated_headers_are_errors() {
        let f = Frame::control(TYPE_AGENT_HELLO, vec![]).encode();
        for cut in 4..f.len() {
            assert!(
                Frame::decode(Bytes::from(f[4..cut].to_vec())).is_err(),
                "{cut}"
            );
        }
        assert!(Frame::decode(Bytes::from(f[4..].to_vec())).is_ok());
    }

    #[test]
    fn messages_round_trip() {
        let m = vec![
            Message {
                name: Bytes::from_static(b"rampart-req"),
                args: vec![
                    (
                        Bytes::from_static(b"method"),
                        TypedData::String(Bytes::from_static(b"POST")),
                    ),
                    (Bytes::new(), TypedData::Null),
                ],
            },
            Message {
                name: Bytes::from_static(b"other"),
                args: vec![],
            },
        ];
        assert_eq!(
            decode_messages(Bytes::from(encode_messages(&m))).unwrap(),
            m
        );
        assert_eq!(
            m[0].arg("method").and_then(TypedData::as_bytes).unwrap(),
            "POST"
        );
    }

    #[test]
    fn messages_with_missing_args_are_errors() {
        // "m", 2 args declared, only one present.
        let mut p = Vec::new();
        put_bytes(b"m", &mut p);
        p.push(2);
        put_bytes(b"a", &mut p);
        TypedData::Null.encode(&mut p);
        assert!(decode_messages(Bytes::from(p)).is_err());
    }

    #[test]
    fn actions_round_trip() {
        let a = vec![
            Action::set_txn("action", TypedData::Uint32(1)),
            Action::UnsetVar {
                scope: Scope::Session,
                name: Bytes::from_static(b"x"),
            },
        ];
        assert_eq!(decode_actions(Bytes::from(encode_actions(&a))).unwrap(), a);
        // set-var with a wrong argument count.
        assert!(decode_actions(Bytes::from_static(&[1, 2, 2, 1, b'a'])).is_err());
        // Bad scope.
        assert!(decode_actions(Bytes::from_static(&[1, 3, 9, 1, b'a', 0])).is_err());
    }

    #[test]
    fn kv_list_round_trip() {
        let items = [
            ("version", TypedData::String(Bytes::from_static(b"2.0"))),
            ("max-frame-size", TypedData::Uint32(16380)),
        ];
        let got = decode_kv_list(Bytes::from(encode_kv_list(&items))).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, TypedData::Uint32(16380));
        // A key without a value.
        let mut p = Vec::new();
        put_bytes(b"k", &mut p);
        assert!(decode_kv_list(Bytes::from(p)).is_err());
    }
}
