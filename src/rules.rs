//! `rampart rules ...`: the rule language's tools. Check files, run rule
//! unit tests, format, build and verify signed rule packs, make keys.
//! The language itself is `rampart-dsl` (`spec/rule-language.md`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use rampart_dsl::loader::fold;
use rampart_dsl::pack::{self, keys, Pack, TrustedKeys};
use rampart_dsl::{compile, FsLoader};

mod bench;
mod cases;

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Check rule files: every problem, shown with the source line and a
    /// caret. Exit status 1 when a file has errors.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run rule unit tests: requests and the verdicts expected of the rules.
    Test {
        /// The rule file (its includes are read too).
        file: PathBuf,
        /// The cases (YAML; see examples/rules/cases.yaml).
        #[arg(long)]
        cases: PathBuf,
    },
    /// Rewrite rule files in the canonical layout (comments kept).
    Fmt {
        /// Change nothing; exit 1 when a file is not formatted.
        #[arg(long)]
        check: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Build a signed rule pack from rule files (and what they include).
    Pack {
        /// The file holding the signing key: a 32-byte ed25519 seed in hex or
        /// base64 (`rampart rules keygen` writes one).
        #[arg(long)]
        key: PathBuf,
        /// The pack version; a node refuses a pack not newer than its own.
        #[arg(long)]
        version: u64,
        /// Where to write the pack.
        #[arg(long)]
        out: PathBuf,
        /// The application the rules protect.
        #[arg(long, default_value = "default")]
        app: String,
        /// The entry files: compiled together, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Verify a rule pack as a node would: signature, content, rules.
    Verify {
        /// A file holding a trusted public key, in hex or base64 (repeatable).
        #[arg(long = "pubkey", required = true)]
        pubkeys: Vec<PathBuf>,
        /// Refuse a pack for another application.
        #[arg(long)]
        app: Option<String>,
        pack: PathBuf,
    },
    /// Time the interpreter against the JIT on traffic generated from the
    /// rules, and check that both give the same outcomes.
    Bench(bench::BenchArgs),
    /// Make an ed25519 key pair: PREFIX.key (secret seed) and PREFIX.pub.
    Keygen {
        /// Path prefix of the two files.
        #[arg(long)]
        out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
}

/// Runs a `rules` command; returns the exit status.
pub fn run(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::Check { files } => Ok(check(&files)),
        RulesCommand::Test { file, cases } => cases::run(&file, &cases),
        RulesCommand::Fmt { check, files } => fmt(&files, check),
        RulesCommand::Pack {
            key,
            version,
            out,
            app,
            files,
        } => make_pack(&key, version, &out, &app, &files),
        RulesCommand::Verify { pubkeys, app, pack } => verify(&pubkeys, app.as_deref(), &pack),
        RulesCommand::Keygen { out, force } => keygen(&out, force),
        RulesCommand::Bench(a) => bench::run(&a),
    }
}

fn check(files: &[PathBuf]) -> i32 {
    let mut failed = 0;
    for f in files {
        let name = f.to_string_lossy();
        match compile(&name, &mut FsLoader::default()) {
            Ok(p) => println!("{name}: ok, {} rules", p.rules.len()),
            Err(d) => {
                failed += 1;
                eprint!("{}", d.render());
                let n = d.list.len();
                eprintln!("{name}: {n} error{}", plural(n));
            }
        }
    }
    i32::from(failed > 0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn fmt(files: &[PathBuf], check_only: bool) -> Result<i32> {
    let mut status = 0;
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let out = match rampart_dsl::fmt::format_source(&f.to_string_lossy(), &text) {
            Ok(o) => o,
            Err(e) => {
                eprint!("{e}");
                eprintln!("{}: not formatted", f.display());
                status = 1;
                continue;
            }
        };
        if out == text {
            continue;
        }
        if check_only {
            println!("{}: not formatted", f.display());
            status = 1;
        } else {
            std::fs::write(f, out).with_context(|| format!("cannot write {}", f.display()))?;
            println!("{}: formatted", f.display());
        }
    }
    Ok(status)
}

fn read_text(p: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read the {what} {}", p.display()))
}

fn make_pack(key: &Path, version: u64, out: &Path, app: &str, files: &[PathBuf]) -> Result<i32> {
    let signing = keys::read_signing_key(&read_text(key, "key")?)?;
    // Read and check every entry with its includes, from disk.
    let mut loader = FsLoader::default();
    let mut failed = false;
    let mut entries = Vec::new();
    for f in files {
        if let Err(d) = compile(&f.to_string_lossy(), &mut loader) {
            eprint!("{}", d.render());
            failed = true;
        }
        entries.push(fold(f));
    }
    if failed {
        eprintln!("no pack written: the rules have errors");
        return Ok(1);
    }
    // Names inside the pack: relative to the folder that holds them all.
    let cwd = std::env::current_dir()?;
    let abs: Vec<PathBuf> = loader
        .read
        .iter()
        .map(|(p, _)| fold(&cwd.join(p)))
        .collect();
    let base = common_dir(&abs);
    let name_of = |p: &Path| -> String {
        let rel = fold(&cwd.join(p));
        let rel = rel.strip_prefix(&base).unwrap_or(&rel);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    };
    let pack_files: Vec<(String, String)> = loader
        .read
        .iter()
        .map(|(p, text)| (name_of(p), text.clone()))
        .collect();
    let entry_names: Vec<String> = entries.iter().map(|e| name_of(e)).collect();
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut p = Pack::build(app, version, created, entry_names, pack_files)?;
    p.sign(&signing);
    std::fs::write(out, p.to_bytes()).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "{}: application {} version {}, {} rules in {} files, digest sha256:{}, signed by {}",
        out.display(),
        p.manifest.application,
        p.manifest.version,
        p.manifest.rules,
        p.manifest.files.len(),
        keys::hex(&p.digest()),
        keys::KeyId::of(&signing.verifying_key()),
    );
    Ok(0)
}

/// The deepest folder holding every path.
fn common_dir(paths: &[PathBuf]) -> PathBuf {
    let mut base: Option<PathBuf> = None;
    for p in paths {
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        base = Some(match base {
            None => dir,
            Some(b) => {
                let mut common = PathBuf::new();
                for (x, y) in b.components().zip(dir.components()) {
                    if x != y {
                        break;
                    }
                    common.push(x.as_os_str());
                }
                common
            }
        });
    }
    base.unwrap_or_default()
}

fn verify(pubkeys: &[PathBuf], app: Option<&str>, path: &Path) -> Result<i32> {
    let mut keys_ = Vec::new();
    for k in pubkeys {
        keys_.push(keys::read_verifying_key(&read_text(k, "public key")?)?);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match Pack::open(&bytes, &TrustedKeys::new(keys_), app) {
        Ok((p, key, prog)) => {
            let m = &p.manifest;
            println!("{}: verified", path.display());
            println!("  application  {}", m.application);
            println!("  version      {}", m.version);
            println!("  created      {}", pack::rfc3339(m.created));
            println!("  rules        {}", prog.rules.len());
            println!("  entries      {}", m.entries.join(", "));
            println!("  files        {}", m.files.len());
            println!("  digest       sha256:{}", keys::hex(&p.digest()));
            println!("  signed by    {key}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("{}: refused: {e}", path.display());
            Ok(1)
        }
    }
}

fn keygen(out: &Path, force: bool) -> Result<i32> {
    let secret = out.with_extension("key");
    let public = out.with_extension("pub");
    for p in [&secret, &public] {
        if p.exists() && !force {
            bail!("{} exists (--force replaces it)", p.display());
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key = keys::signing_key(&seed);
    write_secret(&secret, &format!("{}\n", keys::hex(&seed)))?;
    std::fs::write(
        &public,
        format!("{}\n", keys::hex(key.verifying_key().as_bytes())),
    )
    .with_context(|| format!("cannot write {}", public.display()))?;
    println!(
        "secret key {} (keep it off the nodes), public key {} (key id {})",
        secret.display(),
        public.display(),
        keys::KeyId::of(&key.verifying_key())
    );
    Ok(0)
}

/// Writes a file only its owner can read.
fn write_secret(p: &Path, text: &str) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(p)
        .with_context(|| format!("cannot write {}", p.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
