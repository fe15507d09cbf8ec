//! Runs the lab's commands: bounded in time and output, with a cleared environment.
//!
//! The child gets its own process group, so that whatever it starts can be killed with it when
//! the time is up (or when something it left behind still holds the output pipes).

use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What a command printed (stdout and stderr together, in arrival order) and how it ended.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub text: String,
    /// The exit code, when the command exited by itself.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub truncated: bool,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

fn pump(mut pipe: impl Read, buf: &Arc<Mutex<Captured>>, cap: usize) {
    let mut chunk = [0u8; 4096];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let mut b = buf.lock().unwrap_or_else(PoisonError::into_inner);
                let room = cap.saturating_sub(b.bytes.len());
                if n > room {
                    b.truncated = true;
                }
                let take = n.min(room);
                b.bytes.extend_from_slice(&chunk[..take]);
                // Past the cap the rest is read and dropped, so the child never blocks on a full pipe.
            }
        }
    }
}

/// Kills the whole process group led by `child` (the child included), using the shell's `kill`
/// builtin when a shell is at hand, and the child itself in any case.
fn kill_tree(child: &mut Child, shell: Option<&Path>) {
    if let Some(shell) = shell {
        let pgid = child.id().to_string();
        let _ = Command::new(shell)
            .args(["-c", "kill -s KILL -- \"-$1\"", "lab-kill", &pgid])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// Runs `cmd` (environment, arguments and working directory already set) for at most `limit`,
/// keeping at most `cap` bytes of output. `shell` is used to kill the process group.
pub(crate) fn run(
    mut cmd: Command,
    limit: Duration,
    cap: usize,
    shell: Option<&Path>,
) -> io::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + limit;
    let captured = Arc::new(Mutex::new(Captured::default()));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut readers = 0;
    if let Some(out) = child.stdout.take() {
        let (buf, done) = (Arc::clone(&captured), done_tx.clone());
        std::thread::spawn(move || {
            pump(out, &buf, cap);
            let _ = done.send(());
        });
        readers += 1;
    }
    if let Some(err) = child.stderr.take() {
        let (buf, done) = (Arc::clone(&captured), done_tx.clone());
        std::thread::spawn(move || {
            pump(err, &buf, cap);
            let _ = done.send(());
        });
        readers += 1;
    }
    drop(done_tx);

    let mut output = Output::default();
    // Wait for the child itself.
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                output.code = status.code();
                break;
            }
            Ok(None) if Instant::now() >= deadline => {
                // Killed while it is still unreaped: its process group cannot have been reused.
                kill_tree(&mut child, shell);
                let _ = child.wait();
                output.timed_out = true;
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill_tree(&mut child, shell);
                let _ = child.wait();
                return Err(e);
            }
        }
    }
    // Then for the end of its output, which processes it left in the background may hold open
    // (their group lives on, so its id is still theirs and may be killed).
    let mut finished = 0;
    let mut wait_until = deadline;
    let mut killed = output.timed_out;
    if killed {
        wait_until = Instant::now() + Duration::from_secs(1);
    }
    while finished < readers {
        let wait = wait_until.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(wait) {
            Ok(()) => finished += 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if !killed => {
                kill_tree(&mut child, shell);
                output.timed_out = true;
                killed = true;
                // The pipes close once the group is gone; do not wait for ever if they do not.
                wait_until = Instant::now() + Duration::from_secs(1);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
        }
    }
    let captured = captured.lock().unwrap_or_else(PoisonError::into_inner);
    output.text = String::from_utf8_lossy(&captured.bytes).into_owned();
    output.truncated = captured.truncated;
    Ok(output)
}
