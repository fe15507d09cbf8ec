//! One SPOP connection from HAProxy: the HELLO handshake, then NOTIFY frames
//! answered by ACK frames, several in flight at once (pipelining), until a
//! DISCONNECT, an error or the agent's shutdown.
//!
//! The reading loop only decodes frames. Each NOTIFY becomes a task that
//! waits for a worker slot, runs the [`Handler`] on tokio's blocking pool
//! and hands its ACK to the connection's writer task, so a slow inspection
//! never stalls the codec or the other requests of the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Semaphore};
use tracing::{debug, error, warn};

use crate::codec::frame::{
    decode_messages, encode_actions, FLAG_FIN, TYPE_ACK, TYPE_AGENT_HELLO, TYPE_HAPROXY_DISCONNECT,
    TYPE_HAPROXY_HELLO, TYPE_NOTIFY, TYPE_UNSET,
};
use crate::codec::{Action, DecodeError, Disconnect, Frame, HaproxyHello, Status};
use crate::server::{AgentConfig, Handler};

/// NOTIFY payloads up to this size are inspected on the runtime's own
/// thread; larger ones (big bodies) on the blocking pool, so that they do
/// not hold up the other connections of that thread.
const INLINE_NOTIFY: usize = 64 << 10;

/// The smallest frame: type, flags, a one-byte stream id and frame id.
const MIN_FRAME: u32 = 7;
/// The largest HAPROXY-HELLO accepted before the frame size is negotiated.
const MAX_HELLO: u32 = 64 * 1024;

/// Why reading a frame stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection between frames.
    Closed,
    Io(std::io::Error),
    /// The rest of a frame did not arrive in time.
    Timeout,
    /// The frame is too big or malformed: disconnect with its status.
    Frame(DecodeError),
}

/// Reads one frame of at most `max` bytes. Waiting for the first byte has
/// no time limit (HAProxy keeps idle connections open); the rest of the
/// frame must follow within `frame_timeout`.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
    max: u32,
    frame_timeout: Duration,
) -> Result<Frame, ReadError> {
    let mut len = [0u8; 4];
    match rd.read(&mut len[..1]).await {
        Ok(0) => return Err(ReadError::Closed),
        Ok(_) => {}
        Err(e) => return Err(ReadError::Io(e)),
    }
    let rest = async {
        rd.read_exact(&mut len[1..]).await?;
        let n = u32::from_be_bytes(len);
        if n > max {
            return Ok(Err(DecodeError::new(Status::TooBig, "frame is too big")));
        }
        if n < MIN_FRAME {
            return Ok(Err(DecodeError::invalid("frame shorter than its header")));
        }
        let mut buf = vec![0u8; n as usize];
        rd.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(Ok(buf))
    };
    match tokio::time::timeout(frame_timeout, rest).await {
        Err(_) => Err(ReadError::Timeout),
        Ok(Err(e)) => Err(ReadError::Io(e)),
        Ok(Ok(Err(e))) => Err(ReadError::Frame(e)),
        Ok(Ok(Ok(buf))) => Frame::decode(Bytes::from(buf)).map_err(ReadError::Frame),
    }
}

/// The ACK for a NOTIFY, cut to `max` bytes: actions are dropped from the
/// end (the handler puts the verdict first) until the frame fits.
pub(crate) fn ack_frame(stream_id: u64, frame_id: u64, actions: &[Action], max: u32) -> Frame {
    let mut n = actions.len();
    loop {
        let f = Frame {
            kind: TYPE_ACK,
            flags: FLAG_FIN,
            stream_id,
            frame_id,
            payload: Bytes::from(encode_actions(&actions[..n])),
        };
        if n == 0 || f.encoded_len() <= max as usize {
            return f;
        }
        n -= 1;
    }
}

/// What the writer task sends: a frame, or the last frame before closing.
enum Out {
    Frame(Vec<u8>),
    Last(Vec<u8>),
}

async fn writer(wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Out>) {
    let mut wr = BufWriter::new(wr);
    'outer: while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Write what is queued, then flush once.
        while let Some(o) = next.take() {
            let (bytes, last) = match o {
                Out::Frame(b) => (b, false),
                Out::Last(b) => (b, true),
            };
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
            if last {
                break 'outer;
            }
            next = rx.try_recv().ok();
        }
        if wr.flush().await.is_err() {
            return;
        }
    }
    let _ = wr.flush().await;
    let _ = wr.shutdown().await;
}

/// After the last frame: reads and drops what the peer still sends (a
/// little, briefly) so that closing with unread bytes does not reset the
/// connection before the peer has read our AGENT-DISCONNECT.
async fn linger<R: AsyncRead + Unpin>(rd: &mut R) {
    let mut buf = [0u8; 8192];
    let mut total = 0usize;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(n) = rd.read(&mut buf).await {
            total += n;
            if n == 0 || total > 1 << 20 {
                break;
            }
        }
    })
    .await;
}

/// Writes an AGENT-DISCONNECT and closes (used before the writer task runs).
async fn refuse<R: AsyncRead + Unpin>(
    rd: &mut R,
    mut wr: OwnedWriteHalf,
    peer: SocketAddr,
    status: Status,
    what: &str,
) {
    if status == Status::Normal {
        debug!(%peer, "SPOP connection closed");
    } else {
        warn!(%peer, status = status.code(), error = what, "SPOP connection refused");
    }
    let frame = Disconnect::new(status, what).agent_frame().encode();
    let _ = wr.write_all(&frame).await;
    let _ = wr.shutdown().await;
    linger(rd).await;
}

/// Serves one connection until it ends.
pub(crate) async fn serve<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    cfg: Arc<AgentConfig>,
    workers: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::with_capacity(64 * 1024, rd);

    // The HELLO handshake.
    let hello_max = cfg.max_frame_size.min(MAX_HELLO);
    let first = match tokio::time::timeout(
        cfg.hello_timeout,
        read_frame(&mut rd, hello_max, cfg.frame_timeout),
    )
    .await
    {
        Err(_) | Ok(Err(ReadError::Timeout)) => {
            return refuse(
                &mut rd,
                wr,
                peer,
                Status::Timeout,
                "no HAPROXY-HELLO in time",
            )
            .await
        }
        Ok(Err(ReadError::Closed)) => return,
        Ok(Err(ReadError::Io(e))) => {
            debug!(%peer, error = %e, "SPOP connection lost before HELLO");
            return;
        }
        Ok(Err(ReadError::Frame(e))) => return refuse(&mut rd, wr, peer, e.status, e.what).await,
        Ok(Ok(f)) => f,
    };
    let max = match first.kind {
        TYPE_HAPROXY_HELLO => {
            if !first.fin() {
                return refuse(
                    &mut rd,
                    wr,
                    peer,
                    Status::FragmentationUnsupported,
                    "fragmented HAPROXY-HELLO",
                )
                .await;
            }
            let hello = match HaproxyHello::decode(first.payload) {
                Ok(h) => h,
                Err(e) => return refuse(&mut rd, wr, peer, e.status, e.what).await,
            };
            let agent = match hello.negotiate(cfg.max_frame_size) {
                Ok(a) => a,
                Err(e) => return refuse(&mut rd, wr, peer, e.status, e.what).await,
            };
            if wr.write_all(&agent.to_frame().encode()).await.is_err() {
                return;
            }
            if hello.healthcheck {
                let _ = wr.shutdown().await;
                return;
            }
            debug!(%peer, max_frame_size = agent.max_frame_size, capabilities = ?hello.capabilities, "SPOP connection ready");
            agent.max_frame_size
        }
        TYPE_HAPROXY_DISCONNECT => {
            return refuse(&mut rd, wr, peer, Status::Normal, "normal").await
        }
        _ => return refuse(&mut rd, wr, peer, Status::Invalid, "expected HAPROXY-HELLO").await,
    };

    // NOTIFY / ACK until the end.
    let (tx, rx) = mpsc::channel::<Out>(cfg.max_in_flight.max(1) + 1);
    let writer = tokio::spawn(writer(wr, rx));
    let in_flight = Arc::new(Semaphore::new(cfg.max_in_flight.max(1)));
    let end: Option<(Status, &'static str)> = loop {
        let frame = tokio::select! {
            r = read_frame(&mut rd, max, cfg.frame_timeout) => r,
            _ = stop.wait_for(|s| *s) => break Some((Status::Normal, "agent shutting down")),
        };
        let f = match frame {
            Ok(f) => f,
            Err(ReadError::Closed) => break None,
            Err(ReadError::Io(e)) => {
                debug!(%peer, error = %e, "SPOP connection lost");
                break None;
            }
            Err(ReadError::Timeout) => break Some((Status::Timeout, "frame incomplete in time")),
            Err(ReadError::Frame(e)) => break Some((e.status, e.what)),
        };
        match f.kind {
            TYPE_NOTIFY => {
                if !f.fin() {
                    break Some((
                        Status::FragmentationUnsupported,
                        "fragmented NOTIFY (fragmentation was not announced)",
                    ));
                }
                // ABORT on an unfragmented payload may be ignored (SPOE.txt 3.2).
                let inline = f.payload.len() <= INLINE_NOTIFY;
                let messages = match decode_messages(f.payload) {
                    Ok(m) => m,
                    Err(e) => break Some((e.status, e.what)),
                };
                let permit = tokio::select! {
                    p = in_flight.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break Some((Status::ResourceAllocation, "no slot")),
                    },
                    _ = stop.wait_for(|s| *s) => break Some((Status::Normal, "agent shutting down")),
                };
                let (tx, handler, workers) = (tx.clone(), handler.clone(), workers.clone());
                let (sid, fid) = (f.stream_id, f.frame_id);
                tokio::spawn(async move {
                    let _permit = permit;
                    let actions = if inline {
                        // A small request costs the engine tens of microseconds:
                        // a hand-off to the blocking pool would cost more
                        // (thread wake-ups) than it saves.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            handler.notify(&messages)
                        }))
                        .unwrap_or_else(|_| {
                            error!(%peer, stream_id = sid, "the verdict handler failed; ACK without actions");
                            Vec::new()
                        })
                    } else {
                        match workers.acquire_owned().await {
                            Ok(worker) => {
                                let run = tokio::task::spawn_blocking(move || {
                                    let _worker = worker;
                                    handler.notify(&messages)
                                });
                                match run.await {
                                    Ok(a) => a,
                                    Err(e) => {
                                        error!(%peer, stream_id = sid, error = %e, "the verdict handler failed; ACK without actions");
                                        Vec::new()
                                    }
                                }
                            }
                            Err(_) => Vec::new(),
                        }
                    };
                    let ack = ack_frame(sid, fid, &actions, max).encode();
                    let _ = tx.send(Out::Frame(ack)).await;
                });
            }
            TYPE_HAPROXY_DISCONNECT => {
                match Disconnect::decode(f.payload) {
                    Ok(d) if d.status == 0 => debug!(%peer, "HAProxy closed the SPOP connection"),
                    Ok(d) => {
                        warn!(%peer, status = d.status, message = %d.message, "HAProxy disconnected with an error")
                    }
                    Err(e) => debug!(%peer, error = %e, "malformed HAPROXY-DISCONNECT"),
                }
                break Some((Status::Normal, "normal"));
            }
            TYPE_UNSET => {
                break Some((
                    Status::FragmentationUnsupported,
                    "fragment received (fragmentation was not announced)",
                ))
            }
            TYPE_HAPROXY_HELLO | TYPE_AGENT_HELLO..=TYPE_ACK => {
                break Some((Status::Invalid, "unexpected frame type"))
            }
            // Unknown frames may be silently skipped (SPOE.txt 3.2.2).
            kind => debug!(%peer, kind, "unknown SPOP frame skipped"),
        }
    };
    if let Some((status, what)) = end {
        if status == Status::Normal && what == "agent shutting down" {
            // Let the requests in flight get their ACK first.
            let all = u32::try_from(cfg.max_in_flight.max(1)).unwrap_or(u32::MAX);
            let _ = tokio::time::timeout(cfg.shutdown_grace, in_flight.acquire_many(all)).await;
        }
        if status != Status::Normal {
            warn!(%peer, status = status.code(), error = what, "SPOP connection closed by the agent");
        }
        let frame = Disconnect::new(status, what).agent_frame().encode();
        let _ = tx.send(Out::Last(frame)).await;
        drop(tx);
        let _ = writer.await;
        linger(&mut rd).await;
        return;
    }
    drop(tx);
    let _ = writer.await;
}
