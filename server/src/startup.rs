//! Wiring: key → database (+ migrations) → secret check → backend → router.
//! Shared by `main` and the integration tests.
use crate::alerts::{AlertConfig, AlertEngine};
use crate::auth::AuthService;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, DatabaseKind};
use crate::console::Console;
use crate::db::tenant_emails::SealedSecretsError;
use crate::db::{Store, StoreError};
use crate::identity::Identity;
use crate::routes::assets::SiteAssets;
use crate::routes::health;
use crate::routes::host_api::{self, HostApiState};
use crate::routes::oauth_callback::{self, OAuthState};
use crate::secrets::KeyRing;
use crate::web_security::{csrf, headers, CspNonce, SecurityPolicy};
use app::model::EditorContext;
use app::port::SharedBackend;
use app::{shell, App, StylesheetHref};
use axum::http::request::Parts;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::Router;
use leptos::nonce::Nonce;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Key(#[from] crate::secrets::SecretError),
    #[error("database {url}: {source}")]
    Database { url: String, source: StoreError },
    #[error("stored secrets: {source}. Is {key_file} the key this database was written with?")]
    Secrets {
        source: Box<SealedSecretsError>,
        key_file: String,
    },
    #[error("{0}")]
    Identity(#[from] crate::identity::BuildError),
    #[error("alerts: {0}")]
    Alerts(String),
    #[error("mail: {0}")]
    Mail(Box<crate::mail::graph::GraphError>),
    #[error(
        "a key rotation was started and not finished ({next} exists): stored secrets may be \
         sealed under either key. Run `tenant-mail key rotate` to finish it, then start again"
    )]
    RotationInProgress { next: String },
}

pub struct Prepared {
    pub router: Router,
    /// Not running yet: `main` spawns it (tests drive it round by round).
    pub outbox: Arc<crate::mail::outbox::worker::Outbox>,
    pub inbox: Arc<crate::mail::inbox::sync::Inbox>,
    /// Not running yet either: `main` spawns it.
    pub alerts: Arc<AlertEngine>,
    pub auth: Arc<AuthService>,
    pub store: Store,
    /// The raw connection of `store`, for tests that inspect the database.
    pub db: DatabaseConnection,
    pub keys: Arc<KeyRing>,
    pub backend: SharedBackend,
    pub oauth: OAuthState,
    /// What wakes `inbox` at once: Sync now, and Graph's change notifications.
    pub inbox_wake: Arc<tokio::sync::Notify>,
}

/// Hides the password part of a database URL for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

pub async fn prepare(
    config: &Config,
    leptos_options: LeptosOptions,
) -> Result<Prepared, StartupError> {
    // The embedded default may make its own key; a PostgreSQL deployment has
    // several instances that must share one, so it must be provided.
    let create_key = config.database_kind == DatabaseKind::Sqlite;
    if crate::secrets::rotation::in_progress(&config.key_file) {
        return Err(StartupError::RotationInProgress {
            next: crate::secrets::rotation::next_path(&config.key_file)
                .display()
                .to_string(),
        });
    }
    let (keys, created) = KeyRing::load_or_create(&config.key_file, create_key)?;
    if created {
        tracing::warn!(
            key_file = %config.key_file.display(),
            key_id = keys.key_id(),
            "generated a new encryption key for secrets at rest; back it up: without it stored secrets cannot be read"
        );
    }
    let keys = Arc::new(keys);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Store::open(config, keys.clone(), clock)
        .await
        .map_err(|e| StartupError::Database {
            url: redact_url(&config.database_url),
            source: e,
        })?;
    let checked = store
        .tenant_emails()
        .verify_sealed_secrets()
        .await
        .map_err(|source| StartupError::Secrets {
            source: Box::new(source),
            key_file: config.key_file.display().to_string(),
        })?;
    tracing::info!(
        checked,
        key_id = keys.key_id(),
        "stored secrets open with the configured key"
    );

    let context = EditorContext {
        redirect_uri: config.redirect_uri(),
        authority_policy: config.authority_policy(),
        instant_arrival_unavailable: config.notification_url().err(),
    };
    let auth = Arc::new(AuthService::new(store.clone(), config));
    let identity = Arc::new(Identity::new(store.clone(), config)?);
    let graph = crate::mail::graph::GraphClient::new(store.clock().clone())
        .map_err(|e| StartupError::Mail(Box::new(e)))?;
    let console = Arc::new(Console::new(
        store.clone(),
        context,
        auth.throttle.clone(),
        identity.clone(),
        graph,
        &config.public_url,
    ));
    let backend: SharedBackend = console.clone();
    let host_api = HostApiState {
        store: store.clone(),
        outbox_wake: console.outbox_wake(),
        send_budget: host_api::SendBudget::default(),
        inbox_wake: console.inbox_wake(),
    };
    let oauth = OAuthState { identity };
    crate::identity::refresh::spawn_keep_alive(
        oauth.identity.clone(),
        std::time::Duration::from_secs(6 * 3600),
        i64::from(config.token_keepalive_days),
    );
    let (outbox, inbox) = build_mail(config, &store, &oauth, &console)?;
    let alerts = Arc::new(
        AlertEngine::new(
            store.clone(),
            AlertConfig::new(&config.public_url, config.alert_after_minutes),
            console.alert_wake(),
            console.outbox_wake(),
        )
        .map_err(|e| StartupError::Alerts(e.to_string()))?,
    );
    announce_setup_token(&store, config).await?;
    crate::auth::spawn_housekeeping(auth.clone());
    let security = SecurityPolicy::from_config(config);
    let router = router(
        backend.clone(),
        leptos_options,
        oauth.clone(),
        auth.clone(),
        config,
        security,
        host_api,
    );
    Ok(Prepared {
        inbox_wake: console.inbox_wake(),
        router,
        outbox,
        inbox,
        alerts,
        auth,
        db: store.connection().clone(),
        store,
        keys,
        backend,
        oauth,
    })
}

/// Sending and receiving share one set of per-mailbox Graph slots, so together
/// they stay within Microsoft's four concurrent requests per mailbox.
#[allow(clippy::type_complexity)]
fn build_mail(
    config: &Config,
    store: &Store,
    oauth: &OAuthState,
    console: &Console,
) -> Result<
    (
        Arc<crate::mail::outbox::worker::Outbox>,
        Arc<crate::mail::inbox::sync::Inbox>,
    ),
    StartupError,
> {
    use crate::mail::{graph::GraphClient, inbox::sync, outbox::worker, slots::MailboxSlots};
    let graph =
        GraphClient::new(store.clock().clone()).map_err(|e| StartupError::Mail(Box::new(e)))?;
    let slots = Arc::new(MailboxSlots::new(store));
    let outbox = Arc::new(worker::Outbox::new(
        store.clone(),
        oauth.identity.clone(),
        graph.clone(),
        slots.clone(),
        console.outbox_wake(),
        worker::OutboxConfig {
            lease: chrono::Duration::seconds(i64::from(config.outbox_lease_seconds)),
            ..worker::OutboxConfig::default()
        },
    ));
    let inbox = Arc::new(sync::Inbox::new(
        store.clone(),
        oauth.identity.clone(),
        graph,
        slots,
        console.inbox_wake(),
        sync::InboxConfig {
            notification_url: config.notification_url().ok(),
            ..sync::InboxConfig::default()
        },
    ));
    Ok((outbox, inbox))
}

/// Until the first admin exists, print a one-time setup token (see `auth::setup`).
async fn announce_setup_token(store: &Store, config: &Config) -> Result<(), StartupError> {
    let token =
        store
            .setup_tokens()
            .issue_if_needed()
            .await
            .map_err(|e| StartupError::Database {
                url: redact_url(&config.database_url),
                source: e,
            })?;
    if let Some(token) = token {
        // Deliberately in the log: reading it proves access to the server.
        tracing::warn!(
            setup_url = %format!("{}/setup", config.public_url),
            setup_token = %token,
            "no admin account exists yet: open the setup page and enter this one-time token (valid 24 hours), or run `tenant-mail admin create --username <name>`"
        );
    }
    Ok(())
}

/// Leptos makes its own random nonce for each render (`provide_contexts` calls
/// `provide_nonce`); this runs after that and replaces it with the nonce the
/// headers layer put into the request, so the `<script nonce>` Leptos renders
/// is the one in the response's Content-Security-Policy.
fn provide_request_nonce() {
    let nonce = use_context::<Parts>().and_then(|p| p.extensions.get::<CspNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(Nonce::from_value(nonce.as_arc()));
    }
}

/// Leptos's list of the app's routes, made once per process. Making it runs
/// the app with resource loading switched off process-wide (Leptos's
/// `SuppressResourceLoad`, a global flag): a page rendered by another router
/// at that moment has its resources wait forever (leptos issue #4773). So no
/// second router — a test's, or a second instance in one process — makes it
/// again while another one serves.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route, and the fallback, sit inside the same layers, outermost first:
/// security headers (and the CSP nonce) → CSRF check → API status fix-up.
pub fn router(
    backend: SharedBackend,
    leptos_options: LeptosOptions,
    oauth: OAuthState,
    auth: Arc<AuthService>,
    config: &Config,
    security: SecurityPolicy,
    host_api: HostApiState,
) -> Router {
    // The page links hashed asset names only when this build has them.
    let assets = Arc::new(SiteAssets::discover(&leptos_options));
    let leptos_options = assets.page_options(leptos_options);
    let routes = route_list();
    // The host API's connection is the one the readiness check pings.
    let ready = host_api.store.clone();
    let files = host_api.store.clone();
    let metrics_store = host_api.store.clone();
    let notifications = crate::routes::graph_notifications::Notifications {
        store: host_api.store.clone(),
        wake: host_api.inbox_wake.clone(),
    };
    let context_backend = backend.clone();
    let security = security.with_static_dir(&leptos_options.site_pkg_dir);
    let pkg = format!("/{}", leptos_options.site_pkg_dir.trim_matches('/'));
    let stylesheet = StylesheetHref(assets.stylesheet_href().into());
    let page_stylesheet = stylesheet.clone();
    let provide_error_page_context = move || {
        provide_request_nonce();
        provide_context(stylesheet.clone());
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(move || health::readyz(ready.clone())))
        .merge(oauth_callback::routes(oauth))
        .merge(crate::auth::routes::routes(auth.clone()))
        .merge(host_api::routes(host_api))
        .merge(crate::routes::received_files::routes(files))
        .merge(crate::routes::graph_notifications::routes(notifications))
        .merge(crate::routes::metrics::routes(
            metrics_store,
            config.metrics_token.as_ref().map(|t| {
                use secrecy::ExposeSecret;
                crate::hashing::sha256_hex(t.expose_secret())
            }),
        ))
        .merge(crate::routes::audit_export::routes(
            auth.store.clone(),
            security.origin.clone(),
        ))
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || {
                provide_context(context_backend.clone());
                provide_context(page_stylesheet.clone());
                provide_request_nonce();
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        // The 404 page is rendered with the shell too, hydration script included.
        .nest_service(&pkg, assets.router())
        .fallback(leptos_axum::file_and_error_handler_with_context(
            provide_error_page_context,
            shell,
        ))
        .layer(from_fn(crate::routes::api_status::fix_status))
        // Innermost first: the sign-in gate needs the session; a cross-site
        // request is refused before any session is touched; every answer
        // (refusals included) gets the security headers and a request id.
        .layer(from_fn_with_state(auth.clone(), crate::auth::gate::gate))
        .layer(crate::auth::session_layer(config, auth.sessions.clone()))
        .layer(from_fn_with_state(security.clone(), csrf::protect))
        // Before any other work: an oversized body costs nothing but the refusal.
        .layer(from_fn(crate::web_security::body_limit::enforce))
        .layer(crate::web_security::panics::layer())
        .layer(from_fn_with_state(security, headers::apply))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
        .layer(from_fn(own_request_id))
        .with_state(leptos_options)
}

/// The request id goes into the append-only audit log, so the server makes
/// every one itself: an id sent by the client is dropped, not kept.
async fn own_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request.headers_mut().remove("x-request-id");
    next.run(request).await
}
