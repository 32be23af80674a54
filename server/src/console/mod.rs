//! The admin console's side of the server: implements the app's port
//! (`app::port::Backend`, one part per module here) by mapping each call to
//! storage (`db`) and domain calls (`mail`, `auth::password`) and their
//! results to the DTOs the browser sees. Inputs arrive validated by the
//! server functions; internal errors become reference ids in [`errors`].
mod admins;
mod alerts;
mod api_tokens;
mod errors;
mod folders;
mod inbox;
mod next_secret;
mod outbox;
mod round_trip;
mod tenant_emails;
mod tenants;

use crate::auth::failures::FailureSampler;
use crate::auth::throttle::SignInThrottle;
use crate::db::Store;
use crate::identity::Identity;
use crate::mail::graph::GraphClient;
use app::model::EditorContext;
use std::sync::Arc;
use tokio::sync::Notify;

/// Failed anonymous setups recorded at most once per address this often.
const SETUP_FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub struct Console {
    store: Store,
    /// Sign-in's throttle: password checks outside sign-in count against it too.
    throttle: Arc<SignInThrottle>,
    setup_failures: FailureSampler,
    /// Wakes the outbox workers right after an enqueue instead of at their next poll.
    outbox_wake: Arc<Notify>,
    /// Wakes the inbox sync at once (Sync now).
    inbox_wake: Arc<Notify>,
    /// Wakes the alert engine (a test alert is delivered at once).
    alert_wake: Arc<Notify>,
    /// Links in alerts point here.
    public_url: String,
    /// The pre-flight doctor asks Microsoft through it.
    identity: Arc<Identity>,
    /// Reads a mailbox's folders for the folder picker.
    graph: GraphClient,
    context: EditorContext,
}

impl Console {
    pub fn new(
        store: Store,
        context: EditorContext,
        throttle: Arc<SignInThrottle>,
        identity: Arc<Identity>,
        graph: GraphClient,
        public_url: &str,
    ) -> Self {
        Self {
            identity,
            graph,
            alert_wake: Arc::new(Notify::new()),
            public_url: public_url.trim_end_matches('/').to_string(),
            store,
            throttle,
            setup_failures: FailureSampler::new(SETUP_FAILURE_WINDOW),
            outbox_wake: Arc::new(Notify::new()),
            inbox_wake: Arc::new(Notify::new()),
            context,
        }
    }

    /// The outbox workers listen on this.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }

    /// The alert engine listens on this.
    pub fn alert_wake(&self) -> Arc<Notify> {
        self.alert_wake.clone()
    }

    /// The inbox sync listens on this.
    pub fn inbox_wake(&self) -> Arc<Notify> {
        self.inbox_wake.clone()
    }
}
