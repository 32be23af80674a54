//! The audit log: an append-only table (the database refuses UPDATE and
//! DELETE) mirrored as structured log events under the `audit` target.
//! Records name what happened and to what — never a secret's value.
mod query;

pub use query::list;

use crate::db::entities::audit_event;
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, DbErr, Set};

/// One thing worth recording. Build with [`Event::new`] and the `target`/`detail` helpers.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub success: bool,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub target_label: Option<String>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(action: &'static str) -> Self {
        Self {
            action,
            success: true,
            target_type: None,
            target_id: None,
            target_label: None,
            detail: None,
        }
    }
    pub fn failed(mut self) -> Self {
        self.success = false;
        self
    }
    pub fn target(mut self, kind: &'static str, id: &str, label: &str) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_string());
        self.target_label = Some(label.chars().take(320).collect());
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The actor for work nobody clicked (token refresh, keep-alive).
pub fn system() -> Actor {
    Actor {
        username: "system".into(),
        ..Actor::default()
    }
}

fn actor_name(actor: &Actor) -> String {
    if actor.username.is_empty() {
        "anonymous".into()
    } else {
        actor.username.clone()
    }
}

/// Writes the event on `conn` (pass the transaction of the change it
/// describes, so both commit or neither) and logs it.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    at: DateTime<Utc>,
    actor: &Actor,
    event: Event,
) -> Result<(), DbErr> {
    let outcome = if event.success { "success" } else { "failure" };
    tracing::info!(
        target: "audit",
        action = event.action,
        outcome,
        actor = %actor_name(actor),
        admin_id = actor.admin_id.as_deref().unwrap_or(""),
        request_id = actor.request_id.as_deref().unwrap_or(""),
        ip = actor.ip.as_deref().unwrap_or(""),
        target_type = event.target_type.unwrap_or(""),
        target_id = event.target_id.as_deref().unwrap_or(""),
        target = event.target_label.as_deref().unwrap_or(""),
        detail = event.detail.as_deref().unwrap_or(""),
        "audit"
    );
    audit_event::ActiveModel {
        id: NotSet,
        at: Set(at),
        actor: Set(actor_name(actor).chars().take(64).collect()),
        actor_admin_id: Set(actor.admin_id.clone()),
        request_id: Set(actor.request_id.clone()),
        ip: Set(actor.ip.clone()),
        action: Set(event.action.to_string()),
        outcome: Set(outcome.to_string()),
        target_type: Set(event.target_type.map(str::to_string)),
        target_id: Set(event.target_id),
        target_label: Set(event.target_label),
        detail: Set(event.detail),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

/// For events outside any transaction (failed sign-ins, background work): a
/// failure to write is logged with an id rather than failing the caller.
pub async fn record_best_effort<C: ConnectionTrait>(
    conn: &C,
    at: DateTime<Utc>,
    actor: &Actor,
    event: Event,
) {
    let action = event.action;
    if let Err(e) = record(conn, at, actor, event).await {
        let id = app::api::error_id();
        tracing::error!(error_id = %id, error = %e, action, "cannot write audit event");
    }
}
