//! The agent over real TCP, driven by a SPOP client written with the
//! crate's own encoder: the handshake, pipelined NOTIFY/ACK with the
//! Rampart engine behind, and hostile frames answered by AGENT-DISCONNECT
//! with the right status, the agent serving on afterwards.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use rampart_spoa::codec::frame::{
    self, decode_actions, encode_messages, FLAG_FIN, TYPE_ACK, TYPE_AGENT_DISCONNECT,
    TYPE_AGENT_HELLO, TYPE_HAPROXY_DISCONNECT, TYPE_NOTIFY,
};
use rampart_spoa::codec::{
    Action, AgentHello, Disconnect, Frame, HaproxyHello, Message, Status, TypedData,
};
use rampart_spoa::headers;

struct Client {
    s: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).expect("connect");
        // Only so that a broken agent fails the test instead of hanging it.
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Client { s }
    }

    fn send(&mut self, f: &Frame) {
        self.s.write_all(&f.encode()).unwrap();
    }

    fn send_raw(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    /// The next frame; None when the agent closed the connection.
    fn recv(&mut self) -> Option<Frame> {
        let mut len = [0u8; 4];
        match self.s.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("read: {e}"),
        }
        let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
        self.s.read_exact(&mut buf).unwrap();
        Some(Frame::decode(Bytes::from(buf)).expect("agent frame"))
    }

    fn expect_closed(&mut self) {
        assert!(self.recv().is_none(), "the agent must close the connection");
    }

    fn hello_with(&mut self, h: &HaproxyHello) -> AgentHello {
        self.send(&h.to_frame());
        let f = self.recv().expect("AGENT-HELLO");
        assert_eq!(f.kind, TYPE_AGENT_HELLO);
        assert!(f.fin());
        AgentHello::decode(f.payload).unwrap()
    }

    fn hello(&mut self, max: u32) -> AgentHello {
        self.hello_with(&haproxy_hello(max))
    }

    /// The AGENT-DISCONNECT that must come next, then the close.
    fn expect_disconnect(&mut self) -> Disconnect {
        let f = self.recv().expect("AGENT-DISCONNECT");
        assert_eq!(f.kind, TYPE_AGENT_DISCONNECT);
        let d = Disconnect::decode(f.payload).unwrap();
        self.expect_closed();
        d
    }
}

fn haproxy_hello(max: u32) -> HaproxyHello {
    HaproxyHello {
        versions: vec!["2.0".into()],
        max_frame_size: max,
        capabilities: vec!["pipelining".into(), "async".into()],
        healthcheck: false,
        engine_id: Some(Bytes::from_static(b"test-engine")),
    }
}

fn s(v: &str) -> TypedData {
    TypedData::String(Bytes::copy_from_slice(v.as_bytes()))
}

/// A rampart-req message as the example spoe-rampart.conf sends it.
fn req(method: &str, path: &str, query: Option<&str>, body: &[u8]) -> Message {
    let cl = body.len().to_string();
    let mut h: Vec<(&[u8], &[u8])> = vec![(b"host", b"example.test"), (b"user-agent", b"t")];
    if !body.is_empty() {
        h.push((b"content-length", cl.as_bytes()));
    }
    let args: Vec<(&str, TypedData)> = vec![
        ("method", s(method)),
        ("path", s(path)),
        ("query", query.map_or(TypedData::Null, s)),
        ("ver", s("1.1")),
        (
            "headers",
            TypedData::Binary(Bytes::from(headers::encode(&h))),
        ),
        ("body", TypedData::Binary(Bytes::copy_from_slice(body))),
        ("ip", TypedData::Ipv4(Ipv4Addr::LOCALHOST)),
    ];
    Message {
        name: Bytes::from_static(b"rampart-req"),
        args: args
            .into_iter()
            .map(|(k, v)| (Bytes::copy_from_slice(k.as_bytes()), v))
            .collect(),
    }
}

fn notify(sid: u64, fid: u64, messages: &[Message]) -> Frame {
    Frame {
        kind: TYPE_NOTIFY,
        flags: FLAG_FIN,
        stream_id: sid,
        frame_id: fid,
        payload: Bytes::from(encode_messages(messages)),
    }
}

/// The ACK's variables by name (all in scope txn).
fn vars(ack: &Frame) -> HashMap<String, TypedData> {
    assert_eq!(ack.kind, TYPE_ACK);
    decode_actions(ack.payload.clone())
        .unwrap()
        .into_iter()
        .map(|a| match a {
            Action::SetVar { scope, name, value } => {
                assert_eq!(scope, frame::Scope::Transaction);
                (String::from_utf8(name.to_vec()).unwrap(), value)
            }
            other => panic!("unexpected action {other:?}"),
        })
        .collect()
}

fn action(ack: &Frame) -> u64 {
    vars(ack)["action"].as_u64().unwrap()
}

#[test]
fn handshake_negotiates_version_size_and_capabilities() {
    let a = common::agent(common::guard("block"), None);
    let mut c = Client::connect(a.addr);
    let h = c.hello(16380);
    assert_eq!(h.version, "2.0");
    assert_eq!(h.max_frame_size, 16380);
    assert_eq!(h.capabilities, "pipelining");
    // HAProxy closes: the agent answers with status 0 and closes.
    c.send(&Disconnect::new(Status::Normal, "normal").haproxy_frame());
    assert_eq!(c.expect_disconnect().status, 0);

    // A larger HAProxy frame size is cut to the agent's own.
    let mut c = Client::connect(a.addr);
    let h = c.hello(u32::MAX);
    assert!(h.max_frame_size < u32::MAX);
    assert!(h.max_frame_size as usize > common::BODY_LIMIT);

    // A health check: AGENT-HELLO, then the agent closes.
    let mut c = Client::connect(a.addr);
    let hc = HaproxyHello {
        healthcheck: true,
        ..haproxy_hello(16380)
    };
    c.hello_with(&hc);
    c.expect_closed();
}

#[test]
fn pipelined_notifies_are_answered_by_stream_and_frame_id() {
    let a = common::agent(common::guard("block"), None);
    let mut c = Client::connect(a.addr);
    let max = c.hello(1 << 20).max_frame_size;
    assert_eq!(
        max as usize,
        common::BODY_LIMIT + rampart_spoa::FRAME_HEADROOM
    );
    let attack = "q=1'%20union%20select%20password%20from%20users--";
    let big = vec![b'a'; 50_000];
    let mut expected = HashMap::new();
    // Twenty requests in flight before the first ACK is read.
    for i in 0..20u64 {
        let (m, want) = match i % 4 {
            0 => (req("GET", "/search", Some(attack), b""), 1),
            1 => (req("GET", "/search", Some("q=running+shoes"), b""), 0),
            2 => (
                req("POST", "/comment", None, b"text=<script>alert(1)</script>"),
                1,
            ),
            _ => (req("POST", "/upload", None, &big), 0),
        };
        let (sid, fid) = (1000 + i, i % 3 + 1);
        c.send(&notify(sid, fid, &[m]));
        expected.insert((sid, fid), want);
    }
    for _ in 0..20 {
        let ack = c.recv().expect("ACK");
        let want = expected
            .remove(&(ack.stream_id, ack.frame_id))
            .expect("an ACK for a NOTIFY that was sent, once");
        let v = vars(&ack);
        assert_eq!(v["action"].as_u64(), Some(want), "{v:?}");
        assert!(v["request_id"].as_bytes().is_some_and(|b| !b.is_empty()));
        if want == 1 {
            assert_eq!(v["status"].as_u64(), Some(403));
            assert_eq!(v["reason"].as_bytes().unwrap().as_ref(), b"blocked");
            assert!(v.contains_key("class") && v.contains_key("rule") && v.contains_key("page"));
            let page = v["page"].as_bytes().unwrap();
            assert!(!page.contains(&b'\n'), "the page is on one line");
        }
    }
    assert!(expected.is_empty());
}

#[test]
fn body_policy_follows_declared_and_received_lengths() {
    let a = common::agent(common::guard("block"), None);
    let mut c = Client::connect(a.addr);
    c.hello(1 << 20);
    let limit = common::BODY_LIMIT;
    // Exactly the limit passes.
    c.send(&notify(
        1,
        1,
        &[req("POST", "/u", None, &vec![b'a'; limit])],
    ));
    assert_eq!(action(&c.recv().unwrap()), 0);
    // More than the limit arrived (a chunked body in a large buffer): 413.
    c.send(&notify(
        2,
        1,
        &[req("POST", "/u", None, &vec![b'a'; limit + 1])],
    ));
    let v = vars(&c.recv().unwrap());
    assert_eq!(
        (v["action"].as_u64(), v["status"].as_u64()),
        (Some(1), Some(413))
    );
    assert_eq!(v["reason"].as_bytes().unwrap().as_ref(), b"body_too_large");
    // Declared larger than the limit, HAProxy's buffer sent a part: 413.
    let mut m = req("POST", "/u", None, &vec![b'a'; 1000]);
    m.args[4].1 = TypedData::Binary(Bytes::from(headers::encode(&[(
        b"content-length",
        b"1000000",
    )])));
    c.send(&notify(3, 1, &[m]));
    assert_eq!(vars(&c.recv().unwrap())["status"].as_u64(), Some(413));
    // Monitor mode through the message's own argument: passes.
    let mut m = req("POST", "/u", None, b"x=<script>alert(1)</script>");
    m.args.push((Bytes::from_static(b"mode"), s("monitor")));
    c.send(&notify(4, 1, &[m]));
    assert_eq!(action(&c.recv().unwrap()), 2);
}

#[test]
fn monitor_mode_passes_attacks() {
    let a = common::agent(common::guard("block"), Some(rampart_spoa::Mode::Monitor));
    let mut c = Client::connect(a.addr);
    c.hello(1 << 20);
    c.send(&notify(
        7,
        9,
        &[req("GET", "/", Some("q=<script>alert(1)</script>"), b"")],
    ));
    let ack = c.recv().unwrap();
    assert_eq!((ack.stream_id, ack.frame_id), (7, 9));
    assert_eq!(action(&ack), 2);
}

#[test]
fn unreadable_messages_and_other_messages() {
    let a = common::agent(common::guard("block"), None);
    let mut c = Client::connect(a.addr);
    c.hello(1 << 20);
    // A message the agent does not know: an ACK without actions.
    let other = Message {
        name: Bytes::from_static(b"something-else"),
        args: vec![(Bytes::from_static(b"a"), TypedData::Bool(true))],
    };
    c.send(&notify(1, 1, &[other]));
    let ack = c.recv().unwrap();
    assert!(vars(&ack).is_empty());
    // rampart-req without its headers: on_plugin_error = open passes it,
    // reason inspection_failed.
    let mut m = req("GET", "/", None, b"");
    m.args.retain(|(k, _)| k.as_ref() != b"headers");
    c.send(&notify(2, 1, &[m]));
    let v = vars(&c.recv().unwrap());
    assert_eq!(v["action"].as_u64(), Some(0));
    assert_eq!(
        v["reason"].as_bytes().unwrap().as_ref(),
        b"inspection_failed"
    );
}

#[test]
fn unreadable_messages_fail_closed_when_configured() {
    let g = common::guard_with("block", |c| {
        c.policy.on_plugin_error = rampart_core::PluginFailure::Closed;
    });
    let a = common::agent(g, None);
    let mut c = Client::connect(a.addr);
    c.hello(1 << 20);
    let mut m = req("GET", "/", None, b"");
    m.args.retain(|(k, _)| k.as_ref() != b"method");
    c.send(&notify(1, 1, &[m]));
    let v = vars(&c.recv().unwrap());
    assert_eq!(v["action"].as_u64(), Some(1));
    assert_eq!(v["status"].as_u64(), Some(503));
    let page = String::from_utf8(v["page"].as_bytes().unwrap().to_vec()).unwrap();
    assert!(page.contains("inspection_failed"), "{page}");
    // A readable request is inspected as usual.
    c.send(&notify(2, 1, &[req("GET", "/ok", None, b"")]));
    assert_eq!(action(&c.recv().unwrap()), 0);
}

#[test]
fn an_ack_fits_the_smallest_frame_size() {
    let a = common::agent(common::guard("block"), None);
    let mut c = Client::connect(a.addr);
    assert_eq!(c.hello(256).max_frame_size, 256);
    let m = req("GET", "/", Some("q=<script>alert(1)</script>"), b"");
    c.send(&notify(5, 1, &[m]));
    let ack = c.recv().unwrap();
    assert!(ack.encoded_len() <= 256, "{}", ack.encoded_len());
    // The verdict comes first and survives the cut.
    assert_eq!(action(&ack), 1);
    // A frame over the negotiated size: status 3.
    let big = req("POST", "/", None, &[b'a'; 300]);
    c.send(&notify(6, 1, &[big]));
    assert_eq!(c.expect_disconnect().status, Status::TooBig.code());
}

/// Sends a HELLO (when `hello`), then `bytes`, and returns the status of the
/// AGENT-DISCONNECT the agent must answer.
fn disconnect_status(addr: SocketAddr, hello: bool, bytes: &[u8]) -> u32 {
    let mut c = Client::connect(addr);
    if hello {
        c.hello(16380);
    }
    c.send_raw(bytes);
    c.expect_disconnect().status
}

/// A frame's wire bytes from a type, flags and payload.
fn raw(kind: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
    Frame {
        kind,
        flags,
        stream_id: 1,
        frame_id: 1,
        payload: Bytes::copy_from_slice(payload),
    }
    .encode()
}

#[test]
fn hostile_frames_get_the_right_disconnect_status() {
    let a = common::agent(common::guard("block"), None);
    let code = |s: Status| s.code();

    // Before the handshake.
    assert_eq!(
        disconnect_status(a.addr, false, &raw(TYPE_NOTIFY, FLAG_FIN, b"")),
        code(Status::Invalid)
    );
    let v1 = HaproxyHello {
        versions: vec!["1.0".into()],
        ..haproxy_hello(16380)
    };
    assert_eq!(
        disconnect_status(a.addr, false, &v1.to_frame().encode()),
        code(Status::BadVersion)
    );
    let no_size = Frame::control(
        frame::TYPE_HAPROXY_HELLO,
        frame::encode_kv_list(&[("supported-versions", s("2.0")), ("capabilities", s(""))]),
    );
    assert_eq!(
        disconnect_status(a.addr, false, &no_size.encode()),
        code(Status::NoFrameSize)
    );
    assert_eq!(
        disconnect_status(a.addr, false, &haproxy_hello(100).to_frame().encode()),
        code(Status::BadFrameSize)
    );
    // A length prefix of 4 GiB.
    assert_eq!(
        disconnect_status(a.addr, false, &[0xFF, 0xFF, 0xFF, 0xFF]),
        code(Status::TooBig)
    );

    // After the handshake.
    // Shorter than a frame header.
    assert_eq!(
        disconnect_status(a.addr, true, &[0, 0, 0, 3, 3, 0, 0]),
        code(Status::Invalid)
    );
    // A truncated varint in the frame header.
    assert_eq!(
        disconnect_status(
            a.addr,
            true,
            &[0, 0, 0, 7, TYPE_NOTIFY, 0, 0, 0, 1, 0xF5, 0xFF]
        ),
        code(Status::Invalid)
    );
    // A message whose argument has an unknown data type.
    let mut p = Vec::new();
    rampart_spoa::codec::data::put_bytes(b"rampart-req", &mut p);
    p.push(1);
    rampart_spoa::codec::data::put_bytes(b"method", &mut p);
    p.push(0x0C);
    assert_eq!(
        disconnect_status(a.addr, true, &raw(TYPE_NOTIFY, FLAG_FIN, &p)),
        code(Status::Invalid)
    );
    // A string whose length runs past the frame.
    let mut p = Vec::new();
    rampart_spoa::codec::data::put_bytes(b"rampart-req", &mut p);
    p.push(1);
    rampart_spoa::codec::data::put_bytes(b"body", &mut p);
    p.push(0x09);
    rampart_spoa::codec::varint::encode(1 << 40, &mut p);
    assert_eq!(
        disconnect_status(a.addr, true, &raw(TYPE_NOTIFY, FLAG_FIN, &p)),
        code(Status::Invalid)
    );
    // A fragmented NOTIFY (no FIN) and a lone fragment: fragmentation was
    // not announced.
    let m = encode_messages(&[req("GET", "/", None, b"")]);
    assert_eq!(
        disconnect_status(a.addr, true, &raw(TYPE_NOTIFY, 0, &m)),
        code(Status::FragmentationUnsupported)
    );
    assert_eq!(
        disconnect_status(a.addr, true, &raw(frame::TYPE_UNSET, FLAG_FIN, &m)),
        code(Status::FragmentationUnsupported)
    );
    // A second HELLO, and an agent's frame type from HAProxy.
    assert_eq!(
        disconnect_status(a.addr, true, &haproxy_hello(16380).to_frame().encode()),
        code(Status::Invalid)
    );
    assert_eq!(
        disconnect_status(a.addr, true, &raw(TYPE_ACK, FLAG_FIN, b"")),
        code(Status::Invalid)
    );

    // An unknown frame type is skipped; the connection goes on.
    let mut c = Client::connect(a.addr);
    c.hello(16380);
    c.send_raw(&raw(50, FLAG_FIN, b"whatever"));
    c.send(&notify(3, 4, &[req("GET", "/ok", None, b"")]));
    let ack = c.recv().unwrap();
    assert_eq!((ack.stream_id, ack.frame_id, action(&ack)), (3, 4, 0));
    c.send(&Disconnect::new(Status::Normal, "bye").haproxy_frame());
    let d = c.expect_disconnect();
    assert_eq!(d.status, 0);
    // HAProxy's own DISCONNECT may also come first.
    let mut c = Client::connect(a.addr);
    c.send(&Disconnect::new(Status::Io, "x").haproxy_frame());
    assert_eq!(c.expect_disconnect().status, 0);
    assert_eq!(TYPE_HAPROXY_DISCONNECT, 2);
}

/// A tiny deterministic generator (no dependency, same frames every run).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_and_cut_frames_never_bring_the_agent_down() {
    let a = common::agent(common::guard("block"), None);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let good = notify(1, 1, &[req("POST", "/x", Some("a=b"), b"c=d")]).encode();
    for round in 0..200 {
        let mut c = Client::connect(a.addr);
        c.hello(16380);
        let bytes = match round % 3 {
            // A valid NOTIFY with random bytes flipped (length kept).
            0 => {
                let mut b = good.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let i = 4 + (rng.next() as usize) % (b.len() - 4);
                    b[i] = rng.next() as u8;
                }
                b
            }
            // Random payload behind a correct length and header.
            1 => {
                let n = (rng.next() % 200) as usize;
                let p: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                raw(TYPE_NOTIFY, FLAG_FIN, &p)
            }
            // A valid frame cut short, then the connection closed.
            _ => {
                let cut = 1 + (rng.next() as usize) % (good.len() - 1);
                good[..cut].to_vec()
            }
        };
        c.send_raw(&bytes);
        if round % 3 == 2 {
            let _ = c.s.shutdown(std::net::Shutdown::Write);
        }
        // Whatever came back is an ACK or an AGENT-DISCONNECT; the read
        // ends with a close or the next frame.
        if let Some(f) = c.recv() {
            assert!(
                f.kind == TYPE_ACK || f.kind == TYPE_AGENT_DISCONNECT,
                "{f:?}"
            );
        }
    }
    // The agent still answers.
    let mut c = Client::connect(a.addr);
    c.hello(16380);
    c.send(&notify(9, 9, &[req("GET", "/", None, b"")]));
    assert_eq!(action(&c.recv().unwrap()), 0);
}
