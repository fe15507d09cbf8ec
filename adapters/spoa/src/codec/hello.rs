//! The HELLO handshake and DISCONNECT frames (SPOE.txt 3.2.4 to 3.2.9).

use bytes::Bytes;

use super::data::TypedData;
use super::error::{DecodeError, Status};
use super::frame::{
    decode_kv_list, encode_kv_list, Frame, MIN_FRAME_SIZE, TYPE_AGENT_DISCONNECT, TYPE_AGENT_HELLO,
    TYPE_HAPROXY_DISCONNECT, TYPE_HAPROXY_HELLO,
};

/// The SPOP version this agent speaks.
pub const VERSION: &str = "2.0";
const MAJOR: u32 = 2;
/// What this agent announces: pipelining (several NOTIFY in flight on one
/// connection, each ACK on the connection of its NOTIFY). Not
/// "fragmentation" (a fragmented NOTIFY is refused with status 10) and not
/// "async".
pub const CAPABILITIES: &str = "pipelining";

/// What HAProxy announced in HAPROXY-HELLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaproxyHello {
    /// "supported-versions", split at commas, spaces removed.
    pub versions: Vec<String>,
    pub max_frame_size: u32,
    pub capabilities: Vec<String>,
    pub healthcheck: bool,
    pub engine_id: Option<Bytes>,
}

/// A comma-separated list, each item without its spaces, empty items dropped.
fn split_list(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .split(',')
        .map(|s| {
            s.chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

impl HaproxyHello {
    pub fn decode(payload: Bytes) -> Result<HaproxyHello, DecodeError> {
        let mut versions = None;
        let mut max_frame_size = None;
        let mut capabilities = None;
        let mut healthcheck = false;
        let mut engine_id = None;
        for (k, v) in decode_kv_list(payload)? {
            match (k.as_ref(), v) {
                (b"supported-versions", TypedData::String(s)) => versions = Some(split_list(&s)),
                (b"max-frame-size", v) => {
                    let n = v.as_u64().ok_or(DecodeError::new(
                        Status::NoFrameSize,
                        "max-frame-size is not an integer",
                    ))?;
                    max_frame_size = Some(u32::try_from(n).unwrap_or(u32::MAX));
                }
                (b"capabilities", TypedData::String(s)) => capabilities = Some(split_list(&s)),
                (b"healthcheck", TypedData::Bool(b)) => healthcheck = b,
                (b"engine-id", TypedData::String(s)) => engine_id = Some(s),
                // Unknown items (and known ones of an unexpected type) are ignored.
                _ => {}
            }
        }
        Ok(HaproxyHello {
            versions: versions.ok_or(DecodeError::new(
                Status::NoVersion,
                "no supported-versions in HAPROXY-HELLO",
            ))?,
            max_frame_size: max_frame_size.ok_or(DecodeError::new(
                Status::NoFrameSize,
                "no max-frame-size in HAPROXY-HELLO",
            ))?,
            capabilities: capabilities.ok_or(DecodeError::new(
                Status::NoCapabilities,
                "no capabilities in HAPROXY-HELLO",
            ))?,
            healthcheck,
            engine_id,
        })
    }

    /// The HAPROXY-HELLO frame (what HAProxy sends; used by the tests).
    pub fn to_frame(&self) -> Frame {
        let mut items = vec![
            (
                "supported-versions",
                TypedData::String(Bytes::from(self.versions.join(","))),
            ),
            ("max-frame-size", TypedData::Uint32(self.max_frame_size)),
            (
                "capabilities",
                TypedData::String(Bytes::from(self.capabilities.join(","))),
            ),
        ];
        if self.healthcheck {
            items.push(("healthcheck", TypedData::Bool(true)));
        }
        if let Some(e) = &self.engine_id {
            items.push(("engine-id", TypedData::String(e.clone())));
        }
        Frame::control(TYPE_HAPROXY_HELLO, encode_kv_list(&items))
    }

    /// Whether HAProxy speaks a 2.x version of SPOP ("2.0, 1.5" qualifies).
    fn speaks_v2(&self) -> bool {
        self.versions.iter().any(|v| {
            v.split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .is_some_and(|m| m == MAJOR)
        })
    }

    /// The agent's answer: version 2.0, the smaller of both frame sizes and
    /// this agent's capabilities; or the status to disconnect with.
    pub fn negotiate(&self, agent_max_frame_size: u32) -> Result<AgentHello, DecodeError> {
        if !self.speaks_v2() {
            return Err(DecodeError::new(
                Status::BadVersion,
                "HAProxy supports no SPOP 2.x version",
            ));
        }
        if self.max_frame_size < MIN_FRAME_SIZE {
            return Err(DecodeError::new(
                Status::BadFrameSize,
                "max-frame-size below 256",
            ));
        }
        Ok(AgentHello {
            version: VERSION.to_string(),
            max_frame_size: self
                .max_frame_size
                .min(agent_max_frame_size.max(MIN_FRAME_SIZE)),
            capabilities: CAPABILITIES.to_string(),
        })
    }
}

/// The agent's half of the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentHello {
    pub version: String,
    pub max_frame_size: u32,
    pub capabilities: String,
}

impl AgentHello {
    pub fn to_frame(&self) -> Frame {
        Frame::control(
            TYPE_AGENT_HELLO,
            encode_kv_list(&[
                (
                    "version",
                    TypedData::String(Bytes::from(self.version.clone())),
                ),
                ("max-frame-size", TypedData::Uint32(self.max_frame_size)),
                (
                    "capabilities",
                    TypedData::String(Bytes::from(self.capabilities.clone())),
                ),
            ]),
        )
    }

    /// Reads an AGENT-HELLO payload (the tests check the agent's answer).
    pub fn decode(payload: Bytes) -> Result<AgentHello, DecodeError> {
        let mut version = None;
        let mut max_frame_size = None;
        let mut capabilities = None;
        for (k, v) in decode_kv_list(payload)? {
            match (k.as_ref(), v) {
                (b"version", TypedData::String(s)) => {
                    version = Some(String::from_utf8_lossy(&s).into_owned())
                }
                (b"max-frame-size", v) => {
                    max_frame_size = v.as_u64().and_then(|n| u32::try_from(n).ok())
                }
                (b"capabilities", TypedData::String(s)) => {
                    capabilities = Some(String::from_utf8_lossy(&s).into_owned())
                }
                _ => {}
            }
        }
        Ok(AgentHello {
            version: version.ok_or(DecodeError::new(Status::NoVersion, "no version"))?,
            max_frame_size: max_frame_size
                .ok_or(DecodeError::new(Status::NoFrameSize, "no max-frame-size"))?,
            capabilities: capabilities
                .ok_or(DecodeError::new(Status::NoCapabilities, "no capabilities"))?,
        })
    }
}

/// A DISCONNECT frame's payload, from either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    pub status: u32,
    pub message: String,
}

impl Disconnect {
    pub fn new(status: Status, message: impl Into<String>) -> Disconnect {
        Disconnect {
            status: status.code(),
            message: message.into(),
        }
    }

    pub fn decode(payload: Bytes) -> Result<Disconnect, DecodeError> {
        let mut status = None;
        let mut message = String::new();
        for (k, v) in decode_kv_list(payload)? {
            match (k.as_ref(), v) {
                (b"status-code", v) => status = v.as_u64(),
                (b"message", TypedData::String(s)) => {
                    message = String::from_utf8_lossy(&s).into_owned()
                }
                _ => {}
            }
        }
        let status = status.ok_or(DecodeError::invalid("DISCONNECT without status-code"))?;
        Ok(Disconnect {
            status: u32::try_from(status).unwrap_or(u32::MAX),
            message,
        })
    }

    fn payload(&self) -> Vec<u8> {
        // The message is cut so that the frame stays far below the smallest
        // frame size a peer may announce.
        let mut m = self.message.as_bytes();
        if m.len() > 200 {
            m = &m[..200];
        }
        encode_kv_list(&[
            ("status-code", TypedData::Uint32(self.status)),
            ("message", TypedData::String(Bytes::copy_from_slice(m))),
        ])
    }

    pub fn agent_frame(&self) -> Frame {
        Frame::control(TYPE_AGENT_DISCONNECT, self.payload())
    }

    pub fn haproxy_frame(&self) -> Frame {
        Frame::control(TYPE_HAPROXY_DISCONNECT, self.payload())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(versions: &str, size: u32, caps: &str) -> HaproxyHello {
        HaproxyHello {
            versions: split_list(versions.as_bytes()),
            max_frame_size: size,
            capabilities: split_list(caps.as_bytes()),
            healthcheck: false,
            engine_id: None,
        }
    }

    #[test]
    fn hello_round_trip_and_negotiation() {
        let h = HaproxyHello {
            engine_id: Some(Bytes::from_static(b"engine")),
            healthcheck: true,
            ..hello(" 2.0 , 1.5", 16380, "pipelining, async")
        };
        assert_eq!(h.versions, ["2.0", "1.5"]);
        assert_eq!(h.capabilities, ["pipelining", "async"]);
        let back = HaproxyHello::decode(h.to_frame().payload).unwrap();
        assert_eq!(back, h);
        let a = h.negotiate(1 << 20).unwrap();
        assert_eq!(a.version, "2.0");
        assert_eq!(a.max_frame_size, 16380);
        assert_eq!(a.capabilities, "pipelining");
        assert_eq!(AgentHello::decode(a.to_frame().payload).unwrap(), a);
        // The agent's own limit wins when smaller.
        assert_eq!(h.negotiate(4096).unwrap().max_frame_size, 4096);
    }

    #[test]
    fn bad_hellos_give_the_right_status() {
        assert_eq!(
            hello("1.0", 16380, "")
                .negotiate(1 << 20)
                .unwrap_err()
                .status,
            Status::BadVersion
        );
        assert_eq!(
            hello("2.0", 255, "").negotiate(1 << 20).unwrap_err().status,
            Status::BadFrameSize
        );
        let missing = |items: &[(&str, TypedData)]| {
            HaproxyHello::decode(Bytes::from(encode_kv_list(items)))
                .unwrap_err()
                .status
        };
        let v = || {
            (
                "supported-versions",
                TypedData::String(Bytes::from_static(b"2.0")),
            )
        };
        let m = || ("max-frame-size", TypedData::Uint32(1000));
        let c = || ("capabilities", TypedData::String(Bytes::new()));
        assert_eq!(missing(&[m(), c()]), Status::NoVersion);
        assert_eq!(missing(&[v(), c()]), Status::NoFrameSize);
        assert_eq!(missing(&[v(), m()]), Status::NoCapabilities);
        assert!(HaproxyHello::decode(Bytes::from(encode_kv_list(&[v(), m(), c()]))).is_ok());
    }

    #[test]
    fn disconnect_round_trip() {
        let d = Disconnect::new(Status::TooBig, "frame is too big");
        assert_eq!(Disconnect::decode(d.agent_frame().payload).unwrap(), d);
        let long = Disconnect::new(Status::Invalid, "x".repeat(10_000));
        assert!(long.agent_frame().encoded_len() < MIN_FRAME_SIZE as usize);
    }
}
