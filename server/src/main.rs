//! config → tracing → key + database + migrations → router → serve.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![recursion_limit = "256"]
use axum::serve::ListenerExt;
use clap::Parser;
use server::config::{Cli, Command, Config, KeyCommand, LogFormat};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before the runtime's threads exist: the allocator's thresholds are
    // process-wide (see `memory`).
    server::memory::fix_thresholds();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(start()),
        Err(e) => {
            eprintln!("tenant-mail: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.clone();
    let config = match Config::load(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tenant-mail: {e}");
            return ExitCode::from(2);
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level));
    match config.log_format {
        // Colour codes only on a terminal: log files get plain text.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        // One object per line, the event's fields at the top level.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    // Reads FAILPOINTS in test builds only (see `server::failpoints`): a
    // production build never looks at the variable.
    let _failpoints = fail::has_failpoints().then(fail::FailScenario::setup);
    let done = match command {
        Some(Command::Admin { action }) => Some(server::cli::admin(&config, action).await),
        Some(Command::Key {
            action: KeyCommand::Rotate,
        }) => Some(server::cli::rotate_key(&config).await),
        Some(Command::Doctor) => match server::cli::doctor(&config).await {
            Ok(true) => Some(Ok(())),
            Ok(false) => {
                eprintln!("tenant-mail doctor: some checks failed (see FAIL above)");
                return ExitCode::FAILURE;
            }
            Err(e) => Some(Err(e)),
        },
        None => None,
    };
    if let Some(done) = done {
        return match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tenant-mail: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("start-up failed: {e}");
            eprintln!("tenant-mail: start-up failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("the site settings: {0}")]
    Site(#[from] leptos::config::errors::LeptosConfigError),
    #[error(transparent)]
    Startup(#[from] server::startup::StartupError),
    #[error("cannot listen on {addr} (TENANT_MAIL_BIND): {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("serving stopped: {0}")]
    Serve(std::io::Error),
}

async fn run(config: Config) -> Result<(), RunError> {
    let mut leptos_options = leptos::config::get_configuration(None)?.leptos_options;
    leptos_options.site_addr = config.bind;
    let prepared = server::startup::prepare(&config, leptos_options).await?;
    prepared.outbox.clone().spawn();
    prepared.inbox.clone().spawn();
    prepared.alerts.clone().spawn();
    server::memory::spawn_trim();
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| RunError::Bind {
            addr: config.bind,
            source,
        })?
        // Small responses would otherwise wait on Nagle's algorithm (~40 ms).
        .tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY failed");
            }
        });
    tracing::info!(bind = %config.bind, "listening");
    // A plain line for a person at a terminal; a JSON log stays JSON only.
    if config.log_format == LogFormat::Text {
        println!(
            "Tenant Mail is running at {}/admin/tenants",
            config.public_url
        );
    }
    // The peer address feeds sign-in throttling and the audit log.
    axum::serve(
        listener,
        prepared
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(RunError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
