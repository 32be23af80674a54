//! A loopback stand-in for the Microsoft identity platform (v2.0) and Microsoft Graph mail (v1.0).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ms_stand_in::StartError> {
//! use ms_stand_in::{StandIn, StandInConfig};
//! let stand_in = StandIn::start(StandInConfig::default()).await?;
//! let authority = stand_in.authority("common"); // http://127.0.0.1:PORT/common
//! let graph = stand_in.graph_base();            // http://127.0.0.1:PORT/v1.0
//! # Ok(()) }
//! ```
//!
//! Everything is in memory; time comes from an injectable [`Clock`]. Control operations are on
//! [`Control`] (reachable from [`StandIn`] by deref) and over HTTP under `/_stand-in/…`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod clock;
pub mod control;
pub mod demo;
pub mod errors;
pub mod faults;
pub mod fixture;
pub mod graph;
pub mod identity;
pub mod ledger;
pub mod model;
pub mod server;
pub mod state;
pub mod test_certificate;
pub mod timefmt;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::Clock;
pub use control::{Control, ControlError};
pub use faults::{Fault, FaultSpec};
pub use ledger::{
    GraphRequest, Ledger, NotificationAttempt, SentMail, TokenRequest, ValidationRequest,
};
pub use model::*;

/// How to start a stand-in.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub clock: Clock,
    /// Registers the demo tenant, app and users (see [`demo`]).
    pub seed_demo: bool,
}

impl Default for StandInConfig {
    /// Port 0, a manual clock at 2025-01-01T00:00:00Z, empty directory.
    fn default() -> Self {
        Self {
            port: 0,
            clock: Clock::default(),
            seed_demo: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] identity::jwt::KeyError),
    #[error(transparent)]
    Seed(#[from] ControlError),
    #[error("cannot set up the HTTP client for notifications: {0}")]
    Http(#[from] reqwest::Error),
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    control: Control,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// Sends change notifications queued by mail operations (see [`webhooks::sender`]).
    notifier: JoinHandle<()>,
}

impl StandIn {
    /// Binds `127.0.0.1:{port}` and serves in the background on the current Tokio runtime.
    pub async fn start(config: StandInConfig) -> Result<Self, StartError> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: config.port,
            source,
        })?;
        // Subscribers are on loopback in tests: a proxy from the environment must not intercept
        // them, and Graph does not follow redirects from notification endpoints.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let (outbox, jobs) = tokio::sync::mpsc::unbounded_channel();
        let mut store = state::State::default();
        store.webhooks.outbox = Some(outbox);
        let shared = state::Shared {
            state: Arc::new(Mutex::new(store)),
            clock: config.clock,
            key: Arc::new(identity::jwt::SigningKey::embedded()?),
            base: format!("http://{addr}"),
            http,
        };
        let control = Control {
            shared: shared.clone(),
        };
        if config.seed_demo {
            demo::seed(&control)?;
        }
        let notifier = tokio::spawn(webhooks::sender::run(shared.clone(), jobs));
        let router = Router::new()
            .merge(identity::router())
            .merge(graph::router())
            .merge(control::router())
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                server::gate,
            ))
            .with_state(shared);
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, router, receiver));
        Ok(Self {
            control,
            addr,
            shutdown,
            task,
            notifier,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stands in for `https://login.microsoftonline.com`.
    pub fn login_base(&self) -> String {
        self.base_url()
    }

    /// `{login_base}/{tenant}`: the Authentication Authority URL.
    pub fn authority(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.base_url())
    }

    /// Stands in for `https://graph.microsoft.com/v1.0`.
    pub fn graph_base(&self) -> String {
        format!("{}/v1.0", self.base_url())
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting and closes open connections.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl std::ops::Deref for StandIn {
    type Target = Control;

    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
        self.notifier.abort();
    }
}
