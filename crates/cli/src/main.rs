//! The `custodian` command: serve the API, migrate the register, verify the audit trail, load a demo.
#![allow(clippy::print_stdout)]

mod settings;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use custodian_app::{AppError, Custodian, SystemClock};
use custodian_store::{Register, StoreError};
use settings::{LogFormat, Overrides, Settings};

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
    Ok(Custodian::new(register, Arc::new(SystemClock))?)
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
        Command::Demo {
            command: DemoCommand::Load { people, seed },
        } => {
            let custodian = open(&settings).await?;
            let summary = custodian.load_demo(people, seed).await?;
            custodian.register().close().await;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(settings: Settings) -> Result<ExitCode, CliError> {
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
    let app = custodian_web::router(custodian_web::AppState {
        custodian: custodian.clone(),
    });
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| CliError::Listen {
            address: settings.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(CliError::Serve)?;
    tracing::info!(%address, backend = custodian.register().backend_name(), "serving");
    println!("Custodian is listening on http://{address} (API under /api/v1, health at /healthz).");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(CliError::Serve)?;
    custodian.register().close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
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
