//! `audit_event`: the append-only audit log (the database refuses UPDATE and
//! DELETE), mirrored as structured log events under the `audit` target.
//! Records name what happened and to what — never a secret's value. Changes
//! made by other storage modules write their event in their own transaction
//! (see [`insert`]), so the change and its record commit together.
use super::entities::audit_event;
use super::{Store, StoreError};
use app::model::admin::{AuditEntryView, AuditFilter, AuditPage};
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

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

/// Writes the event on `conn` (the transaction of the change it describes)
/// and logs it.
pub(super) async fn insert<C: ConnectionTrait>(
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

/// The audit log through the store.
pub struct AuditLog<'a>(&'a Store);

impl Store {
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog(self)
    }
}

impl AuditLog<'_> {
    /// Records an event on its own (not part of another change).
    pub async fn record(&self, actor: &Actor, event: Event) -> Result<(), StoreError> {
        Ok(insert(&self.0.conn, self.0.now(), actor, event).await?)
    }

    /// For events beside the main work (failed sign-ins, background work): a
    /// failure to write is logged with a reference id rather than failing the caller.
    pub async fn record_best_effort(&self, actor: &Actor, event: Event) {
        let action = event.action;
        if let Err(e) = self.record(actor, event).await {
            let id = app::api::error_id();
            tracing::error!(error_id = %id, error = %e, action, "cannot write audit event");
        }
    }

    /// Newest first, filtered, paged by id (stable while new events arrive).
    pub async fn list(&self, filter: &AuditFilter, limit: u64) -> Result<AuditPage, StoreError> {
        // One extra row tells whether an older page exists.
        let mut rows = audit_event::Entity::find()
            .filter(condition(filter))
            .order_by_desc(audit_event::Column::Id)
            .limit(limit + 1)
            .all(&self.0.conn)
            .await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_before_id = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(AuditPage {
            entries: rows.into_iter().map(view).collect(),
            next_before_id,
        })
    }

    /// The id of the newest entry (0 when there is none).
    pub async fn newest_id(&self) -> Result<i64, StoreError> {
        let newest: Option<i64> = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::Id)
            .order_by_desc(audit_event::Column::Id)
            .limit(1)
            .into_tuple()
            .one(&self.0.conn)
            .await?;
        Ok(newest.unwrap_or(0))
    }
}

/// `%` and `_` typed by the admin are literal, not wildcards.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn condition(filter: &AuditFilter) -> Condition {
    let mut cond = Condition::all();
    let action = filter.action.trim();
    if !action.is_empty() {
        cond = cond.add(
            Expr::col(audit_event::Column::Action)
                .like(LikeExpr::new(format!("{}%", like_literal(action))).escape('\\')),
        );
    }
    let actor = filter.actor.trim();
    if !actor.is_empty() {
        cond = cond.add(audit_event::Column::Actor.eq(actor.to_lowercase()));
    }
    let text = filter.text.trim().to_lowercase();
    if !text.is_empty() {
        let pattern = format!("%{}%", like_literal(&text));
        let lower_like = |column: audit_event::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        cond = cond.add(
            Condition::any()
                .add(lower_like(audit_event::Column::TargetLabel))
                .add(lower_like(audit_event::Column::Detail)),
        );
    }
    if filter.failures_only {
        cond = cond.add(audit_event::Column::Outcome.eq("failure"));
    }
    if let Some(before) = filter.before_id {
        cond = cond.add(audit_event::Column::Id.lt(before));
    }
    cond
}

fn view(r: audit_event::Model) -> AuditEntryView {
    // A target whose name was unknown when recorded is shown by its id.
    let label = r.target_label.filter(|l| !l.is_empty()).or(r.target_id);
    let target = match (r.target_type, label) {
        (Some(kind), Some(label)) => Some(format!("{kind}: {label}")),
        (Some(kind), None) => Some(kind),
        (None, label) => label,
    };
    AuditEntryView {
        id: r.id,
        at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        actor: r.actor,
        request_id: r.request_id,
        ip: r.ip,
        action: r.action,
        outcome: r.outcome,
        target,
        detail: r.detail,
    }
}
