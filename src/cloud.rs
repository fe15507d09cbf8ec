//! `rampart cloud` (the cloud service and its operator commands) and
//! `rampart up` (a node and an embedded cloud in one process, on SQLite).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use rampart_cloud::{Cloud, CloudConfig, CloudHandle, RuleOrigin};
use rampart_proxy::{Node, NodeConfig};

#[derive(clap::Args, Debug)]
pub struct CloudArgs {
    #[command(subcommand)]
    command: Option<CloudCommand>,
    /// cloud.toml; flags given here override it.
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8700).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Database URL: sqlite://PATH?mode=rwc or postgres://... (default: SQLite under --data).
    #[arg(long, global = true, env = "RAMPART_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// The cloud's folder: the signing key, the SQLite database.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Serve TLS with this certificate chain (PEM); with --tls-key.
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum CloudCommand {
    /// Create an application.
    App { name: String },
    /// Print a one-time enrollment token for a node of an application.
    Token {
        #[arg(long)]
        app: String,
        /// Validity in hours.
        #[arg(long, default_value_t = 24)]
        hours: u64,
    },
    /// Store a custom rule (a file holding one rule) for an application.
    Rule {
        #[arg(long)]
        app: String,
        /// The rule's id (as written in the file).
        #[arg(long)]
        id: String,
        file: PathBuf,
    },
    /// Build and publish every application's rule pack now.
    Packs,
}

fn cloud_config(a: &CloudArgs) -> Result<CloudConfig> {
    let mut c = match &a.config {
        Some(p) => CloudConfig::from_file(p)?,
        None => CloudConfig::default(),
    };
    if let Some(l) = a.listen {
        c.listen = l;
    }
    if let Some(d) = &a.database {
        c.database = Some(d.clone());
    }
    if let Some(d) = &a.data {
        c.data_dir = d.clone();
    }
    if let Some(p) = &a.tls_cert {
        c.tls_cert = Some(p.clone());
    }
    if let Some(p) = &a.tls_key {
        c.tls_key = Some(p.clone());
    }
    c.validate()?;
    Ok(c)
}

pub async fn run(a: CloudArgs) -> Result<i32> {
    let cfg = cloud_config(&a)?;
    let Some(cmd) = a.command else {
        crate::init_logging("text");
        let cloud = Cloud::bind(cfg).await?;
        tracing::info!(listen = %cloud.local_addr()?, "rampart cloud serving");
        cloud.serve(crate::shutdown_signal()).await?;
        return Ok(0);
    };
    let ops = CloudHandle::open(cfg).await?;
    match cmd {
        CloudCommand::App { name } => {
            let app = ops.create_application(&name).await?;
            println!("application {} (id {})", app.name, app.id);
        }
        CloudCommand::Token { app, hours } => {
            let t = ops
                .create_enrollment_token(&app, Duration::from_secs(hours * 3600))
                .await?;
            println!("{t}");
        }
        CloudCommand::Rule { app, id, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match ops.put_rule(&app, &id, &text, RuleOrigin::Custom).await {
                Ok(r) => println!("rule {} stored ({:?})", r.rule_id, r.state),
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(1);
                }
            }
        }
        CloudCommand::Packs => {
            for b in ops.build_packs_now().await? {
                println!("{b:?}");
            }
        }
    }
    Ok(0)
}

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Where the node listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The application.
    #[arg(long)]
    pub upstream: String,
    /// Folder for the cloud's database and key and the node's identity,
    /// spool and pack.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Filtration mode: block, monitor or off.
    #[arg(long, default_value = "block")]
    pub mode: String,
    /// The node's health and metrics listener.
    #[arg(long)]
    pub admin: Option<SocketAddr>,
    /// Where the embedded cloud listens (loopback; an ephemeral port by
    /// default).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub cloud_listen: SocketAddr,
    /// The application's name in the cloud.
    #[arg(long, default_value = "default")]
    pub app: String,
    /// Verify the attacks the node sees by replaying them safely against
    /// this base URL (the application's staging copy, or the application
    /// itself): confirmed vulnerabilities become incidents. Off unless
    /// given.
    #[arg(long, value_name = "URL")]
    pub scan_target: Option<String>,
}

/// The application's name in the cloud, created when missing.
async fn ensure_app(ops: &CloudHandle, app: &str) -> Result<()> {
    if ops.application(app).await.is_err() {
        ops.create_application(app).await?;
    }
    Ok(())
}

/// An embedded cloud and a node in front of the application, bound and
/// ready to serve.
pub struct Up {
    node: Node,
    cloud_addr: SocketAddr,
    cloud_stop: tokio::sync::oneshot::Sender<()>,
    cloud_task: tokio::task::JoinHandle<rampart_cloud::Result<()>>,
}

impl Up {
    /// Starts the cloud (serving at once: the node enrolls with it), then
    /// binds the node.
    pub async fn start(a: &UpArgs) -> Result<Up> {
        let cloud_dir = a.data.join("cloud");
        let node_dir = a.data.join("node");
        let mut ccfg = CloudConfig {
            listen: a.cloud_listen,
            data_dir: cloud_dir,
            ..CloudConfig::default()
        };
        if let Some(base) = &a.scan_target {
            ccfg.scanning.targets.push(rampart_cloud::ScanTarget {
                application: a.app.clone(),
                base: base.trim_end_matches('/').to_owned(),
            });
        }
        let cloud = Cloud::bind(ccfg).await?;
        let cloud_addr = cloud.local_addr()?;
        let ops = cloud.handle();
        ensure_app(&ops, &a.app).await?;
        let token = if enrolled(&node_dir) {
            String::new()
        } else {
            ops.create_enrollment_token(&a.app, Duration::from_secs(600))
                .await?
        };
        let (cloud_stop, cloud_rx) = tokio::sync::oneshot::channel::<()>();
        let cloud_task = tokio::spawn(cloud.serve(async move {
            let _ = cloud_rx.await;
        }));
        let mut ncfg = NodeConfig {
            listen: a.listen,
            upstream: a.upstream.clone(),
            admin_listen: a.admin,
            mode: a.mode.clone(),
            ..NodeConfig::default()
        };
        ncfg.cloud.url = format!("http://{cloud_addr}");
        ncfg.cloud.token = token;
        ncfg.cloud.name = "local".into();
        // The embedded cloud is on this host: nothing the node reports
        // leaves the premises, so path words and member names need no
        // k-anonymity (with it, an endpoint only one client used stays
        // `{word}`, and its attacks could not be verified).
        ncfg.telemetry.k_anonymity = 1;
        ncfg.cloud.data_dir = node_dir;
        ncfg.validate()?;
        let engine = crate::builtin_engine(ncfg.engine()?)?;
        let node = Node::bind(ncfg, engine).await?;
        Ok(Up {
            node,
            cloud_addr,
            cloud_stop,
            cloud_task,
        })
    }

    pub fn node_addr(&self) -> std::io::Result<SocketAddr> {
        self.node.local_addr()
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.node.admin_addr()
    }

    pub fn cloud_addr(&self) -> SocketAddr {
        self.cloud_addr
    }

    /// Serves until `shutdown`; the node stops first, so that it hands its
    /// last metrics to the cloud.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send) -> Result<()> {
        let res = self.node.serve(shutdown).await;
        let _ = self.cloud_stop.send(());
        if let Ok(Err(e)) = self.cloud_task.await {
            tracing::warn!(error = %e, "the cloud stopped with an error");
        }
        res
    }
}

fn enrolled(node_dir: &Path) -> bool {
    node_dir.join("node.json").exists()
}

pub async fn run_up(a: UpArgs) -> Result<()> {
    crate::init_logging("text");
    if a.upstream.is_empty() {
        bail!("rampart up needs --upstream URL");
    }
    let up = Up::start(&a).await?;
    println!(
        "Rampart is running: a node in front of {} with an embedded cloud.",
        a.upstream
    );
    println!(
        "  protected application:                http://{}/",
        up.node_addr()?
    );
    println!(
        "  cloud (embedded, SQLite):             http://{}/",
        up.cloud_addr()
    );
    if let Some(ad) = up.admin_addr() {
        println!("  node health:                          http://{ad}/healthz");
    }
    up.serve(crate::shutdown_signal()).await
}
