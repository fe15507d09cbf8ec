//! `rampart-conformance`: the adapters' conformance suite.
//!
//! ```text
//! rampart-conformance prepare --dir W --backend 127.0.0.1:18080
//! # start the server under test with W/node-block.toml on one port and
//! # W/node-monitor.toml on another, both proxying to 127.0.0.1:18080
//! rampart-conformance run --dir W --backend-listen 127.0.0.1:18080 \
//!     --block 127.0.0.1:18081 --monitor 127.0.0.1:18082 --adapter nginx
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rampart_conformance::backend::Echo;
use rampart_conformance::{cases, prepare, run, Files, Targets};

#[derive(Parser, Debug)]
#[command(
    name = "rampart-conformance",
    about = "The conformance suite every Rampart adapter passes against its real server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the suite's node.toml files (block, monitor) and rules into DIR.
    Prepare {
        #[arg(long)]
        dir: PathBuf,
        /// Where `run` will serve the echo backend (the servers' upstream).
        #[arg(long)]
        backend: SocketAddr,
    },
    /// Serve the echo backend and run every case against the server(s).
    Run {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        backend_listen: SocketAddr,
        /// The server under test in block mode.
        #[arg(long)]
        block: Option<SocketAddr>,
        /// The server under test in monitor mode.
        #[arg(long)]
        monitor: Option<SocketAddr>,
        /// The adapter's name in the report.
        #[arg(long, default_value = "adapter")]
        adapter: String,
    },
    /// Serve only the echo backend, until interrupted (for other replays
    /// through the server under test, such as the GoTestWAF corpus).
    Backend {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// List the cases.
    Cases,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Prepare { dir, backend } => {
            let f = prepare(&dir, backend)?;
            println!("{}", f.block_config.display());
            println!("{}", f.monitor_config.display());
            Ok(())
        }
        Command::Backend { listen } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let echo = Echo::start(listen).await?;
                println!("echo backend on {}", echo.addr());
                tokio::signal::ctrl_c().await?;
                anyhow::Ok(())
            })
        }
        Command::Cases => {
            for c in cases::all() {
                println!("{:<30} {:<16} {:?}: {}", c.id, c.part, c.expect, c.what);
            }
            Ok(())
        }
        Command::Run {
            dir,
            backend_listen,
            block,
            monitor,
            adapter,
        } => {
            anyhow::ensure!(
                block.is_some() || monitor.is_some(),
                "give --block and/or --monitor"
            );
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let report = rt.block_on(async {
                let echo = Echo::start(backend_listen).await?;
                let targets = Targets {
                    adapter,
                    block,
                    monitor,
                    files: Files::in_dir(&dir.canonicalize()?),
                    log_wait: rampart_conformance::LOG_WAIT,
                };
                anyhow::Ok(run(&targets, &echo).await)
            })?;
            print!("{}", report.render());
            if !report.ok() {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
