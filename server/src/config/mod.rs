//! Typed configuration: defaults → optional TOML file → environment
//! (`TENANT_MAIL_*`) → command line. `tenant-mail --help` lists every setting.
//! Invalid values stop start-up with a message naming the setting.
mod clouds;
mod microsoft;
pub use clouds::GraphHosts;
mod commands;
mod log_format;
mod proxies;

pub use commands::{AdminCommand, Command, KeyCommand};
pub use log_format::LogFormat;
pub use proxies::parse_proxies;

use clap::Parser;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_BIND: &str = "127.0.0.1:3000";
pub const DEFAULT_PUBLIC_URL: &str = "http://localhost:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tenant-mail.db?mode=rwc";
pub const DEFAULT_KEY_FILE: &str = "data/secret.key";
pub const DEFAULT_LOG_LEVEL: &str = "info";
mod notifications;
pub use notifications::{is_graph_notifications, NOTIFICATIONS_PATH};

pub const CALLBACK_PATH: &str = "/core/oauth2/validated";
/// The host-application API's path prefix: bearer tokens, no admin session,
/// no browser CSRF check (see `auth::gate` and `web_security::csrf`).
pub const HOST_API_PREFIX: &str = "/v1/";
/// The host API's request-body limit: attachments travel as base64 inside
/// the JSON (35 MB of attachments is about 47 MB encoded).
pub const HOST_API_MAX_BODY: usize = 50 * 1024 * 1024;

pub fn is_host_api(path: &str) -> bool {
    path.starts_with(HOST_API_PREFIX)
}
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.microsoft.com/v1.0";
pub const DEFAULT_TOKEN_KEEPALIVE_DAYS: u32 = 30;
pub const DEFAULT_SESSION_IDLE_MINUTES: u32 = 30;
pub const DEFAULT_SESSION_ABSOLUTE_HOURS: u32 = 12;
pub const DEFAULT_OUTBOX_LEASE_SECONDS: u32 = 300;
pub const DEFAULT_ALERT_AFTER_MINUTES: u32 = 15;

#[derive(Debug, Parser, Default)]
#[command(
    name = "tenant-mail",
    version,
    about = "Tenant Mail: Microsoft 365 mailboxes for your application, through Microsoft Graph."
)]
pub struct Cli {
    /// TOML file with any of the settings below (keys: bind, public_url, database_url, key_file, log_level, log_format, extra_authority_host, graph_base_url, cloud_stand_ins, token_keepalive_days, session_idle_minutes, session_absolute_hours, outbox_lease_seconds, alert_after_minutes, trusted_proxies, metrics_token).
    #[arg(long, env = "TENANT_MAIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, env = "TENANT_MAIL_BIND")]
    pub bind: Option<String>,
    /// Public URL admins use; the OAuth2 redirect URI is built from it (never from the Host header) [default: http://localhost:3000].
    #[arg(long, env = "TENANT_MAIL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Database: sqlite://path?mode=rwc (embedded) or postgres://user@host:port/db [default: sqlite://data/tenant-mail.db?mode=rwc].
    #[arg(long, env = "TENANT_MAIL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// File holding the 32-byte key that encrypts secrets at rest (base64). Created on first run for SQLite [default: data/secret.key].
    #[arg(long, env = "TENANT_MAIL_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Log filter, e.g. info or tenant_mail=debug,info [default: info].
    #[arg(long, env = "TENANT_MAIL_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Log lines as `text` or `json` (one object per line, for log collectors) [default: text].
    #[arg(long, env = "TENANT_MAIL_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Extra accepted OAuth2 authority host[:port] (tests and demo mode point at a local Microsoft stand-in). Unset in production.
    #[arg(long, env = "TENANT_MAIL_EXTRA_AUTHORITY_HOST")]
    pub extra_authority_host: Option<String>,
    /// Microsoft Graph base URL (tests and demo mode point it at a local stand-in) [default: https://graph.microsoft.com/v1.0].
    #[arg(long, env = "TENANT_MAIL_GRAPH_BASE_URL")]
    pub graph_base_url: Option<String>,
    /// Loopback stand-ins for the national clouds, e.g. us_gov=127.0.0.1:5002,china=127.0.0.1:5003 (tests only). Unset in production.
    #[arg(long, env = "TENANT_MAIL_CLOUD_STAND_INS")]
    pub cloud_stand_ins: Option<String>,
    /// Refresh a mailbox's tokens when unused for this many days (1–80), so Microsoft's 90-day inactivity expiry never ends a connection [default: 30].
    #[arg(long, env = "TENANT_MAIL_TOKEN_KEEPALIVE_DAYS")]
    pub token_keepalive_days: Option<u32>,
    /// Sign an admin out after this many minutes without a request (5–1440) [default: 30].
    #[arg(long, env = "TENANT_MAIL_SESSION_IDLE_MINUTES")]
    pub session_idle_minutes: Option<u32>,
    /// Sign an admin out this many hours after signing in, active or not (1–168) [default: 12].
    #[arg(long, env = "TENANT_MAIL_SESSION_ABSOLUTE_HOURS")]
    pub session_absolute_hours: Option<u32>,
    /// How long a worker owns a message it is sending (10–3600 s). After a crash, another worker (or the restarted one) takes the message over once this has passed [default: 300].
    #[arg(long, env = "TENANT_MAIL_OUTBOX_LEASE_SECONDS")]
    pub outbox_lease_seconds: Option<u32>,
    /// Alert when mail has been queued, or receiving has failed, for this many minutes (1–1440) [default: 15].
    #[arg(long, env = "TENANT_MAIL_ALERT_AFTER_MINUTES")]
    pub alert_after_minutes: Option<u32>,
    /// Reverse proxies whose X-Forwarded-For is believed, as addresses or CIDR ranges, comma-separated (e.g. 127.0.0.1,10.0.0.0/8). Used for sign-in throttling and the audit log; without it every request is attributed to its TCP peer [default: none].
    #[arg(long, env = "TENANT_MAIL_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Bearer token for GET /metrics (at least 32 characters; set it in the environment or the TOML file, not on the command line). Unset: /metrics answers 404 [default: none].
    #[arg(long, env = "TENANT_MAIL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The same settings as read from the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    key_file: Option<PathBuf>,
    log_level: Option<String>,
    log_format: Option<LogFormat>,
    extra_authority_host: Option<String>,
    graph_base_url: Option<String>,
    cloud_stand_ins: Option<String>,
    token_keepalive_days: Option<u32>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    outbox_lease_seconds: Option<u32>,
    alert_after_minutes: Option<u32>,
    trusted_proxies: Option<String>,
    metrics_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// Validated configuration. The encryption key lives in `key_file`; the one
/// secret held here, the metrics token, is redacted when printed.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Without a trailing slash.
    pub public_url: String,
    pub database_url: String,
    pub database_kind: DatabaseKind,
    pub key_file: PathBuf,
    pub log_level: String,
    pub log_format: LogFormat,
    pub extra_authority_host: Option<String>,
    /// Without a trailing slash, e.g. `https://graph.microsoft.com/v1.0`.
    pub graph_base_url: String,
    /// Stand-ins for the national clouds (see `clouds.rs`).
    pub cloud_stand_ins: Vec<app::model::cloud::CloudStandIn>,
    pub token_keepalive_days: u32,
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    pub outbox_lease_seconds: u32,
    /// A backlog or a failing sync older than this raises an alert.
    pub alert_after_minutes: u32,
    /// Proxies whose `X-Forwarded-For` names the client (empty: none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The `/metrics` bearer token (redacted in `Debug`; routes keep only its hash).
    pub metrics_token: Option<secrecy::SecretString>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {setting} (env {env}): {reason}")]
    Invalid {
        setting: &'static str,
        env: &'static str,
        reason: String,
    },
    #[error("cannot read configuration file {path}: {reason}")]
    File { path: String, reason: String },
}

fn invalid(setting: &'static str, env: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        env,
        reason: reason.into(),
    }
}

impl Config {
    /// Layers the file under the command line/environment and validates.
    pub fn load(cli: Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let pick = |a: Option<String>, b: Option<String>, default: &str| {
            a.or(b).unwrap_or_else(|| default.to_string())
        };
        let bind_text = pick(cli.bind, file.bind, DEFAULT_BIND);
        let public_url = pick(cli.public_url, file.public_url, DEFAULT_PUBLIC_URL);
        let database_url = pick(cli.database_url, file.database_url, DEFAULT_DATABASE_URL);
        let key_file = cli
            .key_file
            .or(file.key_file)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_KEY_FILE));
        let log_level = pick(cli.log_level, file.log_level, DEFAULT_LOG_LEVEL);
        let extra_authority_host = cli
            .extra_authority_host
            .or(file.extra_authority_host)
            .filter(|h| !h.trim().is_empty());

        let graph_base_url = pick(
            cli.graph_base_url,
            file.graph_base_url,
            DEFAULT_GRAPH_BASE_URL,
        );

        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            invalid(
                "bind",
                "TENANT_MAIL_BIND",
                format!("{bind_text:?} is not an address like 127.0.0.1:3000"),
            )
        })?;
        let public_url = validate_public_url(&public_url)?;
        let database_kind = if database_url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            DatabaseKind::Postgres
        } else {
            return Err(invalid(
                "database_url",
                "TENANT_MAIL_DATABASE_URL",
                "must start with sqlite: or postgres://",
            ));
        };
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|e| invalid("log_level", "TENANT_MAIL_LOG_LEVEL", e.to_string()))?;
        if let Some(host) = &extra_authority_host {
            let ok = !host.contains(['/', '@', '?', '#', ' ']) && !host.is_empty();
            if !ok {
                return Err(invalid(
                    "extra_authority_host",
                    "TENANT_MAIL_EXTRA_AUTHORITY_HOST",
                    "must be host or host:port, e.g. 127.0.0.1:5001",
                ));
            }
        }
        let graph_base_url = validate_graph_base_url(&graph_base_url)?;
        let cloud_stand_ins =
            clouds::parse_stand_ins(cli.cloud_stand_ins.or(file.cloud_stand_ins).as_deref())
                .map_err(|why| invalid("cloud_stand_ins", "TENANT_MAIL_CLOUD_STAND_INS", why))?;
        let token_keepalive_days = cli
            .token_keepalive_days
            .or(file.token_keepalive_days)
            .unwrap_or(DEFAULT_TOKEN_KEEPALIVE_DAYS);
        if !(1..=80).contains(&token_keepalive_days) {
            return Err(invalid(
                "token_keepalive_days",
                "TENANT_MAIL_TOKEN_KEEPALIVE_DAYS",
                "must be between 1 and 80 (Microsoft ends refresh tokens unused for 90 days)",
            ));
        }
        let session_idle_minutes = cli
            .session_idle_minutes
            .or(file.session_idle_minutes)
            .unwrap_or(DEFAULT_SESSION_IDLE_MINUTES);
        if !(5..=1440).contains(&session_idle_minutes) {
            return Err(invalid(
                "session_idle_minutes",
                "TENANT_MAIL_SESSION_IDLE_MINUTES",
                "must be between 5 and 1440",
            ));
        }
        let session_absolute_hours = cli
            .session_absolute_hours
            .or(file.session_absolute_hours)
            .unwrap_or(DEFAULT_SESSION_ABSOLUTE_HOURS);
        if !(1..=168).contains(&session_absolute_hours) {
            return Err(invalid(
                "session_absolute_hours",
                "TENANT_MAIL_SESSION_ABSOLUTE_HOURS",
                "must be between 1 and 168",
            ));
        }
        let outbox_lease_seconds = cli
            .outbox_lease_seconds
            .or(file.outbox_lease_seconds)
            .unwrap_or(DEFAULT_OUTBOX_LEASE_SECONDS);
        if !(10..=3600).contains(&outbox_lease_seconds) {
            return Err(invalid(
                "outbox_lease_seconds",
                "TENANT_MAIL_OUTBOX_LEASE_SECONDS",
                "must be between 10 and 3600",
            ));
        }
        let alert_after_minutes = cli
            .alert_after_minutes
            .or(file.alert_after_minutes)
            .unwrap_or(DEFAULT_ALERT_AFTER_MINUTES);
        if !(1..=1440).contains(&alert_after_minutes) {
            return Err(invalid(
                "alert_after_minutes",
                "TENANT_MAIL_ALERT_AFTER_MINUTES",
                "must be between 1 and 1440",
            ));
        }
        let trusted_proxies = cli
            .trusted_proxies
            .or(file.trusted_proxies)
            .map(|t| parse_proxies(&t))
            .transpose()
            .map_err(|e| invalid("trusted_proxies", "TENANT_MAIL_TRUSTED_PROXIES", e))?
            .unwrap_or_default();
        let metrics_token = match cli.metrics_token.or(file.metrics_token) {
            Some(t) if t.trim().chars().count() < 32 => {
                return Err(invalid(
                    "metrics_token",
                    "TENANT_MAIL_METRICS_TOKEN",
                    "must be at least 32 characters",
                ))
            }
            Some(t) => Some(secrecy::SecretString::from(t.trim().to_string())),
            None => None,
        };
        Ok(Self {
            metrics_token,
            trusted_proxies,
            session_idle_minutes,
            session_absolute_hours,
            outbox_lease_seconds,
            alert_after_minutes,
            bind,
            public_url,
            database_url,
            database_kind,
            key_file,
            log_level,
            log_format: cli.log_format.or(file.log_format).unwrap_or_default(),
            extra_authority_host,
            graph_base_url,
            cloud_stand_ins,
            token_keepalive_days,
        })
    }

    /// `<public URL>/core/oauth2/validated`, byte-identical wherever it is used.
    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.public_url)
    }
}

fn validate_public_url(value: &str) -> Result<String, ConfigError> {
    validate_base_url(value, "public_url", "TENANT_MAIL_PUBLIC_URL")
}

fn validate_graph_base_url(value: &str) -> Result<String, ConfigError> {
    validate_base_url(value, "graph_base_url", "TENANT_MAIL_GRAPH_BASE_URL")
}

/// https (http only on a loopback host: local use, the stand-in), no query,
/// fragment or user name; returned without a trailing slash.
fn validate_base_url(
    value: &str,
    setting: &'static str,
    env: &'static str,
) -> Result<String, ConfigError> {
    let err = |reason: &str| invalid(setting, env, format!("{value:?}: {reason}"));
    let parsed = url::Url::parse(value).map_err(|e| err(&e.to_string()))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    match parsed.scheme() {
        "https" => {}
        "http" if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => {}
        "http" => return Err(err("http is only allowed for a loopback host; use https")),
        _ => return Err(err("must start with https://")),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(err("must not contain a query, fragment or user name"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests;
