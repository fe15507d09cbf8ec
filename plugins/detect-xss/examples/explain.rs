//! Prints the rules and scores for each line of stdin (or each argument):
//! `cargo run -p rampart-detect-xss --example explain -- '<svg onload=alert(1)>'`.
//! With `--hex`, each stdin line is the value in hexadecimal and the
//! output is `rule:score` pairs, one line per value.

use std::io::BufRead;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--hex") {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let r = rampart_detect_xss::explain(&unhex(line.trim()));
            let parts: Vec<String> = r.iter().map(|(n, s)| format!("{n}:{s}")).collect();
            println!("{}", parts.join(" "));
        }
    } else if args.is_empty() {
        for line in std::io::stdin().lock().split(b'\n') {
            let Ok(line) = line else { break };
            let r = rampart_detect_xss::explain(&line);
            println!("{:?}\t{}", r, String::from_utf8_lossy(&line));
        }
    } else {
        for a in args {
            let r = rampart_detect_xss::explain(a.as_bytes());
            println!("{r:?}\t{a}");
        }
    }
}
