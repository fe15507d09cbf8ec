//! `rampart spoa`: Rampart as a HAProxy SPOE agent (adapters/spoa).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use rampart_spoa::{Guard, Mode, NodeConfig};

#[derive(clap::Args, Debug)]
pub(crate) struct SpoaArgs {
    /// Address HAProxy's SPOE filter connects to (the `server` line of the
    /// agents' backend).
    #[arg(long, default_value = "127.0.0.1:12345")]
    listen: SocketAddr,
    /// node.toml: engine, rules, rule pack, cloud, log (the defaults when
    /// absent; `listen`, `upstream` and `admin_listen` are not used).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Filtration mode, overriding node.toml: block, monitor or off. A
    /// `mode` argument in the SPOE message overrides both.
    #[arg(long)]
    mode: Option<String>,
}

pub(crate) fn run(args: SpoaArgs) -> Result<()> {
    let mode = match args.mode.as_deref() {
        Some(m) => Some(
            Mode::parse(m)
                .with_context(|| format!("mode {m:?}: expected block, monitor or off"))?,
        ),
        None => None,
    };
    // The guard starts its own thread (pack reloads, cloud sync,
    // telemetry) before the agent's runtime.
    let guard = match &args.config {
        Some(p) => Guard::from_file(p, "haproxy")
            .with_context(|| format!("cannot start with {}", p.display()))?,
        None => Guard::new(NodeConfig::default(), "haproxy")?,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let agent = rampart_spoa::bind(guard, args.listen, mode)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        agent.serve(crate::shutdown_signal()).await;
        Ok::<_, anyhow::Error>(())
    })?;
    // Dropping the runtime drops the last handle on the guard, which
    // flushes telemetry and stops its thread.
    drop(runtime);
    Ok(())
}
