//! `rampart`: the command-line entry point.

#![forbid(unsafe_code)]

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use rampart_core::{Engine, EngineConfig};
use rampart_proxy::{Node, NodeConfig};
use rampart_types::Mode;

#[cfg(feature = "cloud")]
mod cloud;
#[cfg(feature = "cloud")]
mod demo_traffic;
#[cfg(feature = "cloud")]
mod learn;
mod rules;
#[cfg(feature = "cloud")]
mod scan;
mod spoa;

#[derive(Parser, Debug)]
#[command(
    name = "rampart",
    version,
    about = "Rampart: web application and API protection"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a reverse-proxy node in front of an application.
    Node(NodeArgs),
    /// Run as a HAProxy SPOE agent (SPOP): HAProxy asks for a verdict on each
    /// request and denies on it (examples/haproxy).
    Spoa(spoa::SpoaArgs),
    /// Show what the node sees in one raw HTTP/1.1 request: the request
    /// points, the findings and the verdict.
    Inspect(InspectArgs),
    /// Start the demo shop with a node in front of it (and, with the cloud
    /// built in, an embedded cloud with its web console and traffic of
    /// visitors and attackers), and print the URLs.
    Demo(DemoArgs),
    /// The cloud: serve it, or run an operator command (app, token, rule, packs).
    #[cfg(feature = "cloud")]
    Cloud(cloud::CloudArgs),
    /// A node in front of an application with an embedded cloud, in one
    /// process, on SQLite.
    #[cfg(feature = "cloud")]
    Up(cloud::UpArgs),
    /// The learners: `eval` measures them on simulated applications
    /// through a real node and cloud.
    #[cfg(feature = "cloud")]
    Learn(learn::LearnArgs),
    /// Verify vulnerabilities: probe a URL's parameters, or replay the
    /// attacks the cloud recorded, with safe, non-destructive strategies.
    #[cfg(feature = "cloud")]
    Scan(scan::ScanArgs),
    /// Rule tools: check, test, fmt, bench, pack, verify, keygen.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
}

#[derive(clap::Args, Debug)]
struct NodeArgs {
    /// node.toml; flags given here override it.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The application, e.g. http://127.0.0.1:8081.
    #[arg(long)]
    upstream: Option<String>,
    /// Filtration mode: block, monitor or off.
    #[arg(long)]
    mode: Option<String>,
    /// Health and metrics listener, e.g. 127.0.0.1:9090.
    #[arg(long)]
    admin: Option<SocketAddr>,
    /// Log format: text or json.
    #[arg(long)]
    log_format: Option<String>,
    #[command(flatten)]
    plugins: PluginArgs,
    #[command(flatten)]
    rules: RuleArgs,
    /// The cloud to report to and take rule packs from, e.g. http://127.0.0.1:7000.
    #[arg(long, value_name = "URL")]
    cloud: Option<String>,
    /// A one-time enrollment token, needed until the node has enrolled.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "RAMPART_CLOUD_TOKEN",
        hide_env_values = true
    )]
    cloud_token: Option<String>,
    /// The node's folder: identity, spool, last rule pack.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for an https:// cloud.
    #[arg(long, value_name = "PEM")]
    cloud_ca: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Default)]
struct RuleArgs {
    /// A rule file to enforce (repeatable; after those of node.toml).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// A signed rule pack, reinstalled whenever the file changes.
    #[arg(long, value_name = "FILE")]
    pack: Option<PathBuf>,
    /// A public key packs must be signed with (repeatable).
    #[arg(long = "pack-key", value_name = "PUB")]
    pack_key: Vec<PathBuf>,
    /// The rules' back-end: jit or interpreter.
    #[arg(long)]
    rules_backend: Option<String>,
}

#[derive(clap::Args, Debug, Default)]
struct PluginArgs {
    /// Load a plugin library (repeatable; after those of node.toml).
    #[arg(long = "plugin", value_name = "PATH")]
    plugin: Vec<PathBuf>,
    /// Use only the plugins given by --plugin (and node.toml), none built in.
    #[arg(long)]
    no_builtin_plugins: bool,
}

#[derive(clap::Args, Debug)]
struct InspectArgs {
    /// File holding one raw HTTP/1.1 request; stdin when absent or `-`.
    file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// node.toml whose engine settings (limits, policy) to use.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Filtration mode for the verdict (default: block).
    #[arg(long)]
    mode: Option<String>,
    /// Rule files to evaluate too (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    #[command(flatten)]
    plugins: PluginArgs,
}

#[derive(clap::Args, Debug)]
struct DemoArgs {
    /// Where the node listens (the URL to open).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the demo shop itself listens.
    #[arg(long, default_value = "127.0.0.1:8081")]
    shop_listen: SocketAddr,
    /// Health and metrics listener of the node.
    #[arg(long, default_value = "127.0.0.1:9090")]
    admin: SocketAddr,
    /// Folder for the demo's files: the shop's database, the cloud's and
    /// the node's folders, the console's generated password.
    #[arg(long, default_value = "data/demo")]
    data: PathBuf,
    /// Filtration mode of the node.
    #[arg(long, default_value = "block")]
    mode: String,
    /// Where the embedded cloud listens: the web console, its REST API
    /// (/api/v1), its metrics (/metrics) and the node protocol.
    #[cfg(feature = "cloud")]
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9000")]
    console: SocketAddr,
    /// The password of the console's user `admin` (default: a random one,
    /// generated on first start, printed and written to
    /// DATA/console-admin.txt).
    #[cfg(feature = "cloud")]
    #[arg(
        long,
        value_name = "PASS",
        env = "RAMPART_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    admin_password: Option<String>,
    /// Built-in traffic through the node: visitors browsing the shop and an
    /// attack every ~10 s, so that the console shows a living system.
    #[cfg(feature = "cloud")]
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
    traffic: String,
}

/// The process's log: `text` or `json` on standard error.
pub(crate) fn init_logging(format: &str) {
    // Standard error cannot fail to open.
    let _ = rampart_embed::init_logging(format, None);
}

pub(crate) fn builtin_engine(cfg: EngineConfig) -> Result<Engine> {
    rampart_embed::engine(cfg, true, &[])
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn node_config(a: &NodeArgs) -> Result<NodeConfig> {
    let mut c = match &a.config {
        Some(p) => NodeConfig::load(p)?,
        None => NodeConfig::default(),
    };
    if let Some(l) = a.listen {
        c.listen = l;
    }
    if let Some(u) = &a.upstream {
        c.upstream = u.clone();
    }
    if let Some(m) = &a.mode {
        c.mode = m.clone();
    }
    if let Some(ad) = a.admin {
        c.admin_listen = Some(ad);
    }
    if let Some(f) = &a.log_format {
        c.log_format = f.clone();
    }
    c.plugins.extend(a.plugins.plugin.iter().cloned());
    c.rules.files.extend(a.rules.rules.iter().cloned());
    if let Some(p) = &a.rules.pack {
        c.rules.pack = Some(p.clone());
    }
    c.rules.pack_keys.extend(a.rules.pack_key.iter().cloned());
    if let Some(b) = &a.rules.rules_backend {
        c.rules.backend = b.clone();
    }
    if let Some(u) = &a.cloud {
        c.cloud.url = u.clone();
    }
    if let Some(t) = &a.cloud_token {
        c.cloud.token = t.clone();
    }
    if let Some(d) = &a.data {
        c.cloud.data_dir = d.clone();
    }
    if let Some(ca) = &a.cloud_ca {
        c.cloud.ca_file = Some(ca.clone());
    }
    if a.plugins.no_builtin_plugins {
        c.builtin_plugins = false;
    }
    if a.config.is_none() && a.upstream.is_none() {
        bail!("rampart node needs --upstream URL (or --config node.toml)");
    }
    c.validate()?;
    Ok(c)
}

async fn run_node(a: NodeArgs) -> Result<()> {
    let c = node_config(&a)?;
    rampart_embed::init_logging(&c.log_format, c.log_file.as_deref())?;
    let engine = rampart_embed::engine(c.engine()?, c.builtin_plugins, &c.plugins)?;
    let node = Node::bind(c, engine).await?;
    node.serve(shutdown_signal()).await
}

/// The largest request `rampart inspect` reads.
const MAX_REQUEST: u64 = 64 << 20;

fn run_inspect(a: InspectArgs) -> Result<()> {
    let mut raw = Vec::new();
    match &a.file {
        Some(p) if p.as_os_str() != "-" => {
            raw = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        }
        _ => {
            // Bounded: at most MAX_REQUEST bytes are read.
            #[allow(clippy::disallowed_methods)]
            std::io::stdin()
                .take(MAX_REQUEST + 1)
                .read_to_end(&mut raw)?;
        }
    }
    if raw.len() as u64 > MAX_REQUEST {
        bail!("the request is larger than {} MiB", MAX_REQUEST >> 20);
    }
    let (mut cfg, mut builtin, mut libraries) = match &a.config {
        Some(p) => {
            let n = NodeConfig::load(p)?;
            (n.engine()?, n.builtin_plugins, n.plugins)
        }
        None => (EngineConfig::default(), true, Vec::new()),
    };
    libraries.extend(a.plugins.plugin.iter().cloned());
    builtin &= !a.plugins.no_builtin_plugins;
    if let Some(m) = &a.mode {
        cfg.mode = Mode::parse(m)
            .with_context(|| format!("mode {m:?}: expected block, monitor or off"))?;
    }
    let mut engine = rampart_embed::engine(cfg, builtin, &libraries)?;
    if !a.rules.is_empty() {
        let prog = rampart_dsl::compile_files(&a.rules).map_err(|d| {
            anyhow::anyhow!("the rule files do not compile:\n{}", d.render().trim_end())
        })?;
        let eval = rampart_core::Backend::Interpreter
            .compile(prog)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        engine = engine.with_rules(rampart_core::RuleSet::new(eval));
    }
    let req = rampart_core::http1::parse_request(&raw)?;
    let ins = engine.inspect(&req);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ins.to_json())?);
    } else {
        print!("{}", ins.to_text());
    }
    Ok(())
}

/// The demo's node: with an embedded cloud (`rampart up`) when the binary
/// has the cloud, else a node alone.
#[cfg(feature = "cloud")]
async fn demo_node(a: &DemoArgs, shop: SocketAddr) -> Result<()> {
    // The shop serves its deliberately vulnerable lab only on loopback.
    let lab = shop.ip().is_loopback();
    let args = cloud::UpArgs {
        listen: a.listen,
        upstream: format!("http://{shop}"),
        data: a.data.clone(),
        mode: a.mode.clone(),
        admin: Some(a.admin),
        cloud_listen: a.console,
        app: "demo".into(),
        // The cloud verifies the attacks it hears of against the shop
        // itself (its lab is deliberately vulnerable, on loopback only).
        scan_target: lab.then(|| format!("http://{shop}")),
        admin_password: a.admin_password.clone(),
        lively: true,
    };
    let up = cloud::Up::start(&args).await?;
    let node = up.node_addr()?;
    demo_urls(a, node, shop, up.admin_addr());
    let console = up.cloud_addr();
    println!("  console (embedded cloud, SQLite):     http://{console}/");
    println!("    {}", up.admin_login().describe());
    println!("  cloud metrics:                        http://{console}/metrics");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let traffic = (a.traffic == "on").then(|| {
        println!(
            "  demo traffic: visitors browse the shop, an attack every ~{} s (--traffic off: none)",
            demo_traffic::ATTACK_EVERY.as_secs()
        );
        tokio::spawn(demo_traffic::run(reachable(node), lab, stop_rx))
    });
    println!("Ctrl-C stops.");
    let res = up
        .serve(async move {
            shutdown_signal().await;
            // The traffic stops first, so that the node drains quickly.
            let _ = stop_tx.send(true);
        })
        .await;
    if let Some(t) = traffic {
        t.abort();
        let _ = t.await;
    }
    res
}

/// An address to connect to: loopback for a listener on all interfaces.
#[cfg(feature = "cloud")]
fn reachable(a: SocketAddr) -> SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match a.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), a.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), a.port())
        }
        _ => a,
    }
}

fn demo_urls(a: &DemoArgs, node: SocketAddr, shop: SocketAddr, admin: Option<SocketAddr>) {
    println!("Rampart demo is running.");
    println!(
        "  shop, protected by Rampart ({} mode): http://{node}/",
        a.mode
    );
    println!("  shop, direct (unprotected):          http://{shop}/");
    if let Some(ad) = admin {
        println!("  node health:                          http://{ad}/healthz");
        println!("  node metrics:                         http://{ad}/metrics");
        println!("  what the node reports:                http://{ad}/telemetry");
    }
    println!("  see what the node sees: printf 'GET /search?q=shoes HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | rampart inspect");
}

#[cfg(not(feature = "cloud"))]
async fn demo_node(a: &DemoArgs, shop: SocketAddr) -> Result<()> {
    let cfg = NodeConfig {
        listen: a.listen,
        upstream: format!("http://{shop}"),
        admin_listen: Some(a.admin),
        mode: a.mode.clone(),
        ..NodeConfig::default()
    };
    let engine = builtin_engine(cfg.engine()?)?;
    let node = Node::bind(cfg, engine).await?;
    demo_urls(a, node.local_addr()?, shop, node.admin_addr());
    println!("Ctrl-C stops.");
    node.serve(shutdown_signal()).await
}

async fn run_demo(a: DemoArgs) -> Result<()> {
    init_logging("text");
    std::fs::create_dir_all(&a.data)
        .with_context(|| format!("cannot create {}", a.data.display()))?;
    let shop_listener = tokio::net::TcpListener::bind(a.shop_listen)
        .await
        .with_context(|| format!("cannot listen on {} (demo shop)", a.shop_listen))?;
    let shop_addr = shop_listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shop_cfg = rampart_demo_shop::ShopConfig {
        db_path: Some(a.data.join("shop.sqlite")),
        files_dir: Some(a.data.join("files")),
        // The deliberately vulnerable lab (/lab/), for the scanner to
        // confirm, only where no one else can reach it.
        lab: a.shop_listen.ip().is_loopback(),
    };
    let mut rx = stop_rx.clone();
    let shop = tokio::spawn(rampart_demo_shop::serve(
        shop_listener,
        shop_cfg,
        async move {
            let _ = rx.changed().await;
        },
    ));
    let res = demo_node(&a, shop_addr).await;
    let _ = stop_tx.send(true);
    let _ = shop.await;
    res
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect(a) => run_inspect(a),
        Command::Node(a) => tokio::runtime::Runtime::new()?.block_on(run_node(a)),
        Command::Spoa(a) => spoa::run(a),
        Command::Demo(a) => tokio::runtime::Runtime::new()?.block_on(run_demo(a)),
        #[cfg(feature = "cloud")]
        Command::Cloud(a) => match tokio::runtime::Runtime::new()?.block_on(cloud::run(a))? {
            0 => Ok(()),
            code => std::process::exit(code),
        },
        #[cfg(feature = "cloud")]
        Command::Up(a) => tokio::runtime::Runtime::new()?.block_on(cloud::run_up(a)),
        #[cfg(feature = "cloud")]
        Command::Learn(a) => match learn::run(a)? {
            0 => Ok(()),
            code => std::process::exit(code),
        },
        #[cfg(feature = "cloud")]
        Command::Scan(a) => match tokio::runtime::Runtime::new()?.block_on(scan::run(a))? {
            0 => Ok(()),
            code => std::process::exit(code),
        },
        Command::Rules { command } => match rules::run(command)? {
            0 => Ok(()),
            code => std::process::exit(code),
        },
    }
}
