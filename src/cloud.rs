//! `rampart cloud` (the cloud service and its operator commands) and
//! `rampart up` (a node and an embedded cloud in one process, on SQLite).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use rampart_cloud::{Cloud, CloudConfig, CloudHandle, RuleOrigin};
use rampart_proxy::{Node, NodeConfig};
use rampart_store::entity::Role;
use rampart_store::Store;

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
    /// Create a console user, or set an existing user's password and role.
    /// The password is read from the environment variable
    /// RAMPART_USER_PASSWORD, else from the first line of standard input.
    User {
        name: String,
        /// admin (reads and writes) or analyst (reads).
        #[arg(long, default_value = "analyst", value_parser = ["admin", "analyst"])]
        role: String,
    },
}

/// The password for `cloud user`: RAMPART_USER_PASSWORD, else a line of
/// standard input.
fn user_password() -> Result<String> {
    if let Ok(p) = std::env::var("RAMPART_USER_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let p = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !p.is_empty(),
        "no password: set RAMPART_USER_PASSWORD or pipe it in"
    );
    Ok(p)
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
        CloudCommand::User { name, role } => {
            let role = if role == "admin" {
                Role::Admin
            } else {
                Role::Analyst
            };
            let password = user_password()?;
            let store = ops.store();
            let u = match store.user_by_name(&name).await? {
                Some(u) => {
                    store.set_user_password(u.id, &password).await?;
                    store.set_user_role(u.id, role).await?
                }
                None => store.create_user(&name, &password, role).await?,
            };
            println!("user {} ({:?}, id {})", u.name, u.role, u.id);
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
    /// The password of the console's user `admin`, created on first start
    /// (and set to this on later ones). Without it, a random one is
    /// generated on first start, printed and written to
    /// DATA/console-admin.txt.
    #[arg(
        long,
        value_name = "PASS",
        env = "RAMPART_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
    /// Short intervals everywhere (telemetry windows, heartbeats, pack
    /// builds, learning runs) and the node trusting `X-Forwarded-For` from
    /// loopback: what the demo needs for its console to come alive within
    /// a minute. Not a flag of `rampart up`.
    #[arg(skip)]
    pub lively: bool,
}

/// The file a generated console password is written to, under the data
/// folder.
pub const ADMIN_PASSWORD_FILE: &str = "console-admin.txt";

/// The console's first user.
pub const ADMIN_USER: &str = "admin";

/// How the console's user `admin` signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminLogin {
    /// Created now with a random password, written to `file`.
    Generated { password: String, file: PathBuf },
    /// Its password is the one given (`--admin-password`).
    Given,
    /// It existed already and keeps its password; `file` is where a
    /// generated one was written, if that file is still there.
    Kept { file: Option<PathBuf> },
}

impl AdminLogin {
    /// One line for the banner.
    pub fn describe(&self) -> String {
        match self {
            AdminLogin::Generated { password, file } => format!(
                "user {ADMIN_USER}, password {password} (saved in {})",
                file.display()
            ),
            AdminLogin::Given => {
                format!("user {ADMIN_USER}, the password given (--admin-password)")
            }
            AdminLogin::Kept { file: Some(f) } => format!(
                "user {ADMIN_USER}, password unchanged (the generated one is in {})",
                f.display()
            ),
            AdminLogin::Kept { file: None } => {
                format!("user {ADMIN_USER}, password unchanged")
            }
        }
    }
}

/// A random password: 20 of 57 letters and digits (about 116 bits).
fn random_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut buf = [0u8; 32];
        getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // Rejection sampling: no bias towards the first letters.
        let limit = 256 - 256 % ALPHABET.len();
        for b in buf {
            if usize::from(b) < limit && out.len() < 20 {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

/// Writes `text` to `path`, readable by its owner only (on unix).
fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let _ = std::fs::remove_file(path);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Makes sure the console has its user `admin` (role admin): created on
/// first start with the given password or a random one (written to
/// DATA/console-admin.txt); on later starts its password is set to the
/// given one, or kept.
pub async fn ensure_admin(store: &Store, data: &Path, given: Option<&str>) -> Result<AdminLogin> {
    let given = given.filter(|p| !p.is_empty());
    let file = data.join(ADMIN_PASSWORD_FILE);
    let existing = store.user_by_name(ADMIN_USER).await?;
    match (existing, given) {
        (Some(u), Some(pw)) => {
            store.set_user_password(u.id, pw).await?;
            // A password generated earlier no longer works.
            let _ = std::fs::remove_file(&file);
            Ok(AdminLogin::Given)
        }
        (Some(_), None) => Ok(AdminLogin::Kept {
            file: file.exists().then_some(file),
        }),
        (None, Some(pw)) => {
            store.create_user(ADMIN_USER, pw, Role::Admin).await?;
            let _ = std::fs::remove_file(&file);
            Ok(AdminLogin::Given)
        }
        (None, None) => {
            let password = random_password()?;
            std::fs::create_dir_all(data)
                .with_context(|| format!("cannot create {}", data.display()))?;
            write_secret(&file, &format!("{password}\n"))?;
            store
                .create_user(ADMIN_USER, &password, Role::Admin)
                .await?;
            Ok(AdminLogin::Generated { password, file })
        }
    }
}

/// The demo's short intervals (`UpArgs::lively`).
mod lively {
    use std::time::Duration;

    /// The node's telemetry window.
    pub const FLUSH_SECS: u64 = 5;
    /// The node's heartbeat.
    pub const HEARTBEAT_SECS: u64 = 5;
    /// The application's pack builds.
    pub const PACK_SCHEDULE: Duration = Duration::from_secs(15);
    /// Learning runs.
    pub const LEARN_SECS: u64 = 20;
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
    admin: AdminLogin,
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
        if a.lively {
            ccfg.learning.interval_secs = lively::LEARN_SECS;
        }
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
        if a.lively {
            ops.set_pack_schedule(&a.app, lively::PACK_SCHEDULE).await?;
        }
        let admin = ensure_admin(ops.store(), &a.data, a.admin_password.as_deref()).await?;
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
        if a.lively {
            ncfg.telemetry.flush_seconds = lively::FLUSH_SECS;
            ncfg.cloud.heartbeat_seconds = lively::HEARTBEAT_SECS;
            // The demo's visitors and attackers come from loopback, each
            // with an address of its own in X-Forwarded-For.
            ncfg.trusted_proxies = vec!["127.0.0.1".into(), "::1".into()];
        }
        ncfg.validate()?;
        let engine = crate::builtin_engine(ncfg.engine()?)?;
        let node = Node::bind(ncfg, engine).await?;
        Ok(Up {
            node,
            cloud_addr,
            admin,
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

    /// How the console's user `admin` signs in.
    pub fn admin_login(&self) -> &AdminLogin {
        &self.admin
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
        "  console and cloud (embedded, SQLite): http://{}/",
        up.cloud_addr()
    );
    println!("    {}", up.admin_login().describe());
    if let Some(ad) = up.admin_addr() {
        println!("  node health:                          http://{ad}/healthz");
    }
    up.serve(crate::shutdown_signal()).await
}
