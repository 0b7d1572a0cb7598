//! The `custodian` command: serve the API, migrate the register, verify the audit trail, load a demo.
#![allow(clippy::print_stdout)]

mod key_lock;
mod oidc;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use custodian_app::retention::SweepReport;
use custodian_app::{AppError, Custodian, SystemClock};
use custodian_store::{Register, StoreError};
use settings::{LogFormat, Overrides, Settings};

/// mimalloc for every allocation, SQLite's included: with glibc's allocator, reads on several
/// threads (the retention sweep's) spent a third of their time freeing memory another thread
/// allocated (`docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Custodian governs audio-visual recordings of the people health and social care organisations care for.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A configuration file (default: `custodian.toml` in the working folder, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data folder [env: CUSTODIAN_DATA_DIR] [default: ./custodian-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A database URL, `postgres://…` or `sqlite://…` [env: CUSTODIAN_DATABASE_URL] [default: SQLite in the data folder].
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Log format [env: CUSTODIAN_LOG_FORMAT] [default: pretty].
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (migrates the register first; creates the first administrator on first start).
    Serve {
        /// The address to listen on [env: CUSTODIAN_LISTEN] [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Bring the register's schema up to date.
    Migrate,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Synthetic demonstration data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// The media vault: verification, keys.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Destruction certificates.
    Certificate {
        #[command(subcommand)]
        command: CertificateCommand,
    },
    /// Retention and disposal.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Work out every recording's disposal state and give notice, once, of what has come due;
    /// `custodian serve` does this every hour. Exits 1 if the clock is earlier than the last sweep.
    Sweep,
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Decrypt every stored object and check it against its registered hash; report missing,
    /// corrupted and orphaned objects. Exits 1 if anything registered is missing or corrupted, or
    /// an orphaned object remains.
    Verify {
        /// Delete orphaned objects (failed uploads) and leftovers of destroyed recordings.
        #[arg(long)]
        remove: bool,
    },
    /// Rewrap every content key with a new key-encryption key (media is untouched). Stop the server first.
    RotateKey,
    /// Print a recording's content key as an age identity, for emergency recovery with `age -d -i`.
    ExportKey {
        /// The recording's id.
        recording: String,
    },
    /// Print the public key that signs destruction certificates (PEM).
    SigningKey,
}

#[derive(Subcommand)]
enum CertificateCommand {
    /// Check a destruction certificate's signature offline (no database needed). Exits 1 if it fails.
    Verify {
        /// The certificate (JSON, as the API returns it).
        file: PathBuf,
        /// The signing key (PEM) to trust; without it, the key named in the certificate is used.
        #[arg(long, value_name = "PEM")]
        public_key: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every event against its hash and the one before it; exits 1 and names the first bad event if any.
    Verify,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Load synthetic people, families, courses, sessions, consents, withdrawals and recordings.
    Load {
        /// How many people to create.
        #[arg(long, default_value_t = 300)]
        people: u32,
        /// Seed for the synthetic data, so a demo can be repeated.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("configuration: {0}")]
    Settings(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    InUse(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen: match &cli.command {
            Command::Serve { listen } => *listen,
            _ => None,
        },
        database_url: cli.database_url.clone(),
        log_format: cli.log_format,
    };
    let settings = match Settings::load(cli.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("custodian: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("custodian: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(%error, "failed");
            eprintln!("custodian: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.compact().init(),
    }
}

async fn open(settings: &Settings) -> Result<Custodian, CliError> {
    let location = settings.database()?;
    tracing::info!(database = %location, "opening the register");
    let register = Register::connect(&location).await?;
    register.migrate().await?;
    let custodian = Custodian::start(register, Arc::new(SystemClock), settings.vault()?).await?;
    match &settings.oidc {
        Some(oidc) => Ok(custodian.with_sso(custodian_app::sso::Sso::new(oidc.sso()?)?)),
        None => Ok(custodian),
    }
}

async fn run(command: Command, settings: Settings) -> Result<ExitCode, CliError> {
    match command {
        Command::Serve { .. } => serve(settings).await,
        Command::Migrate => {
            let custodian = open(&settings).await?;
            println!("The register at {} is up to date.", settings.database()?);
            custodian.register().close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let custodian = open(&settings).await?;
            let result = custodian.verify_audit_trail().await;
            custodian.register().close().await;
            match result {
                Ok(trail) => {
                    println!(
                        "The audit trail is intact: {} events checked; the last is event {} with hash {}.",
                        trail.events, trail.head.seq, trail.head.hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(AppError::AuditBroken(broken)) => {
                    println!(
                        "The audit trail is BROKEN at event {}: {}.",
                        broken.seq, broken.problem
                    );
                    Ok(ExitCode::from(1))
                }
                Err(other) => Err(other.into()),
            }
        }
        Command::Vault { command } => vault(command, &settings).await,
        Command::Certificate {
            command: CertificateCommand::Verify { file, public_key },
        } => verify_certificate(&file, public_key.as_deref()),
        Command::Retention {
            command: RetentionCommand::Sweep,
        } => {
            let custodian = open(&settings).await?;
            let result = custodian.sweep_retention().await;
            custodian.register().close().await;
            match result {
                Ok(SweepReport {
                    running_elsewhere_since: Some(since),
                    ..
                }) => {
                    println!(
                        "Another sweep has been running since {since}; this one left the work to it."
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Ok(report) => {
                    println!(
                        "Swept {} recordings: {} due now ({} newly noticed), {} due within 90 days, {} later, {} waiting for a trigger, {} under legal hold; {} states changed.",
                        report.recordings,
                        report.due_now,
                        report.noticed,
                        report.due_within_90_days,
                        report.later,
                        report.waiting,
                        report.held,
                        report.changed
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(AppError::Invalid(refused)) => {
                    println!("The sweep was refused: {refused}.");
                    Ok(ExitCode::from(1))
                }
                Err(other) => Err(other.into()),
            }
        }
        Command::Demo {
            command: DemoCommand::Load { people, seed },
        } => {
            let custodian = open(&settings).await?;
            let summary = custodian_demo::load(&custodian, people, seed).await?;
            custodian.register().close().await;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn vault(command: VaultCommand, settings: &Settings) -> Result<ExitCode, CliError> {
    let custodian = open(settings).await?;
    let code = match command {
        VaultCommand::Verify { remove } => {
            let report = custodian.verify_vault(remove).await?;
            println!(
                "Checked {} stored recordings in {}.",
                report.checked,
                custodian.vault().describe()
            );
            for id in &report.missing {
                println!("  MISSING    {id}: registered, but its object is not in storage");
            }
            for (id, problem) in &report.corrupted {
                println!("  CORRUPTED  {id}: {problem}");
            }
            for key in &report.orphaned {
                println!("  orphaned   {key}: in storage, unknown to the register");
            }
            for key in &report.leftover {
                println!(
                    "  leftover   {key}: its recording was destroyed; unreadable without its key"
                );
            }
            if report.removed > 0 {
                println!("Removed {} orphaned or leftover objects.", report.removed);
            } else if !report.orphaned.is_empty() {
                println!(
                    "Orphaned objects remain: `serve` removes those older than {} minutes, or run `custodian vault verify --remove`.",
                    custodian_app::media::ORPHANS_KEPT_FOR.whole_minutes()
                );
            }
            if report.is_sound() {
                println!("Every registered recording is present and intact.");
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        VaultCommand::RotateKey => {
            let _no_server = key_lock::for_rotation(&settings.data_dir)?;
            let count = custodian.rotate_key_encryption_key().await?;
            println!(
                "Rewrapped {count} content keys with a new key-encryption key; no media was touched. Back up the new key file."
            );
            ExitCode::SUCCESS
        }
        VaultCommand::ExportKey { recording } => {
            let id = recording
                .parse()
                .map_err(|_| CliError::Settings(format!("`{recording}` is not a recording id")))?;
            let key = custodian.export_content_key(id).await?;
            eprintln!(
                "This key decrypts the recording: keep it secret, and delete it when done. The export is audited."
            );
            print!("{key}");
            ExitCode::SUCCESS
        }
        VaultCommand::SigningKey => {
            print!("{}", custodian.vault().certificate_public_key()?);
            ExitCode::SUCCESS
        }
    };
    custodian.register().close().await;
    Ok(code)
}

fn verify_certificate(
    file: &std::path::Path,
    public_key: Option<&std::path::Path>,
) -> Result<ExitCode, CliError> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::Settings(format!("cannot read {}: {e}", path.display())))
    };
    let certificate: custodian_vault::certificate::Certificate = serde_json::from_str(&read(file)?)
        .map_err(|e| CliError::Settings(format!("{} is not a certificate: {e}", file.display())))?;
    let trusted = public_key.map(read).transpose()?;
    match custodian_vault::certificate::verify(&certificate, trusted.as_deref()) {
        Ok(destruction) => {
            println!(
                "The certificate is genuine{}.",
                if trusted.is_some() {
                    " and signed by the trusted key"
                } else {
                    " (signed by the key it names; pass --public-key to check whose)"
                }
            );
            println!("  recording        {}", destruction.recording_id);
            println!("  content SHA-256  {}", destruction.content_sha256);
            println!(
                "  size, type       {} bytes, {}",
                destruction.size, destruction.content_type
            );
            println!(
                "  destroyed        {} by {} ({})",
                destruction.destroyed_at, destruction.destroyed_by, destruction.destroyed_by_id
            );
            println!(
                "  under rule       {}: {}",
                destruction.rule, destruction.reason
            );
            println!(
                "  content key destroyed: {}",
                destruction.content_key_destroyed
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("The certificate is NOT valid: {error}.");
            Ok(ExitCode::from(1))
        }
    }
}

async fn serve(settings: Settings) -> Result<ExitCode, CliError> {
    let _keys_in_use = key_lock::while_serving(&settings.data_dir)?;
    let custodian = open(&settings).await?;
    let password = std::env::var("CUSTODIAN_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    if let Some(first) = custodian.ensure_administrator(password.as_deref()).await? {
        match first.one_time_password {
            Some(one_time) => println!(
                "\nThe first administrator account was created.\n  username: {}\n  one-time password: {}\nSign in and choose a new password; this one is shown only now.\n",
                first.username,
                one_time.expose()
            ),
            None => println!(
                "\nThe first administrator account `{}` was created with the password from CUSTODIAN_ADMIN_PASSWORD.\n",
                first.username
            ),
        }
    }
    if let Some(sso) = custodian.sso() {
        // Fetched now to find a misconfiguration early; a provider that is down is tried again
        // at the first single sign-on, and password sign-in works meanwhile.
        match sso.discover().await {
            Ok(_) => tracing::info!(issuer = sso.issuer(), "single sign-on is on"),
            Err(error) => tracing::warn!(%error, "single sign-on's provider did not answer"),
        }
    }
    let app = custodian_web::router(custodian_web::AppState::with_sign_in_limit(
        custodian.clone(),
        settings.sign_in_limit()?,
    ));
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| CliError::Listen {
            address: settings.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(CliError::Serve)?;
    tracing::info!(%address, backend = custodian.register().backend_name(), "serving");
    println!("Custodian is listening on http://{address} (API under /api/v1, health at /healthz).");
    let policy_refresher = tokio::spawn(refresh_access_policies(custodian.clone()));
    // With each connection's address, so sign-in attempts can be limited per client (ASVS 2.2.1).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let sweeper = tokio::spawn(sweep_periodically(custodian.clone()));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(CliError::Serve);
    sweeper.abort();
    policy_refresher.abort();
    served?;
    custodian.register().close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Every few seconds, takes up local access policies another server sharing the register has
/// changed (X6), so a change holds everywhere within `POLICY_REFRESH` of being made.
async fn refresh_access_policies(custodian: Custodian) {
    const POLICY_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);
    let mut ticks = tokio::time::interval(POLICY_REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = custodian.refresh_access_policies().await {
            tracing::error!(%error, "the access policies in the register could not be taken up; the ones in force are kept");
        }
    }
}

/// How often `serve` sweeps the register for recordings that came due (D2).
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Sweeps at start and then every [`SWEEP_EVERY`], removes objects interrupted uploads left, and
/// forgets grants long expired. A failed sweep is logged and tried again at the next tick:
/// nothing is lost, because a sweep is idempotent and notices are given once.
async fn sweep_periodically(custodian: Custodian) {
    let mut ticks = tokio::time::interval(SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match custodian.sweep_retention().await {
            Ok(SweepReport {
                running_elsewhere_since: Some(since),
                ..
            }) => tracing::info!(%since, "retention sweep left to another server's"),
            Ok(report) => tracing::info!(
                recordings = report.recordings,
                due_now = report.due_now,
                noticed = report.noticed,
                changed = report.changed,
                held = report.held,
                "retention sweep"
            ),
            Err(error) => tracing::error!(%error, "the retention sweep failed"),
        }
        match custodian.remove_orphans().await {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(removed = removed.len(), "orphaned objects removed");
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "orphaned objects could not be removed"),
        }
        match custodian.forget_expired_grants().await {
            Ok(forgotten) => tracing::info!(forgotten, "expired grants to use recordings"),
            Err(error) => tracing::error!(%error, "expired grants could not be forgotten"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish and the register closes cleanly.
async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
