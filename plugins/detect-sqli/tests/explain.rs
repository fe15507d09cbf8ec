//! `SQLI_EXPLAIN='value' cargo test -p rampart-detect-sqli --test explain -- --ignored --nocapture`
//! prints how a value is read (tokens and evidence per context).

#[test]
#[ignore]
fn explain() {
    let v = std::env::var("SQLI_EXPLAIN").unwrap_or_default();
    for line in v.split('\n') {
        println!("== {line}");
        println!("{}", rampart_detect_sqli::explain(line.as_bytes()));
        let a = rampart_detect_sqli::analyze(line.as_bytes());
        println!("score {}", a.map_or(0, |a| a.score()));
    }
}

/// `SQLI_SCORE_FILE=path cargo test -p rampart-detect-sqli --test explain -- --ignored --nocapture`
/// prints the score and top rule of every line of a file.
#[test]
#[ignore]
fn score_file() {
    let Some(p) = std::env::var_os("SQLI_SCORE_FILE") else {
        return;
    };
    let text = std::fs::read(p).unwrap_or_default();
    for line in text.split(|&c| c == b'\n') {
        let a = rampart_detect_sqli::analyze(line);
        let (score, rule) = a.map_or((0, ""), |a| {
            let top = a.reports().next().map_or("", |r| r.0.name());
            (a.score(), top)
        });
        println!("{score:3} {rule:16} {}", String::from_utf8_lossy(line));
    }
}
