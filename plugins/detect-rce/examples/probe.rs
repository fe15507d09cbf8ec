//! Prints what the detectors of this crate report for each line of stdin
//! (a development aid: `cargo run -p rampart-detect-rce --example probe`).

use std::io::BufRead;

use rampart_detect_rce::probe;

fn main() {
    let stdin = std::io::stdin();
    for line in stdin.lock().split(b'\n') {
        let Ok(line) = line else { break };
        let found = probe(&line);
        println!("{:<60} {}", String::from_utf8_lossy(&line), found);
    }
}
