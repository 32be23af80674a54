//! `alert_state`: the conditions raised now, and recording a change to them
//! together with its deliveries.
use super::super::audit::{self, Event};
use super::super::entities::{alert_delivery, alert_destination, alert_state, tenant_email};
use super::{Alerts, DestinationKind, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::HashMap;

/// A condition raised now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedState {
    pub tenant_email_id: String,
    pub condition: String,
    pub level: String,
    pub since: DateTime<Utc>,
    pub title: String,
    pub detail: String,
    pub fix: String,
}

/// A raised condition with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub tenant_id: String,
    pub tenant_name: String,
    pub address: String,
    pub state: RaisedState,
}

/// One change to record: a condition raised (`before` is `None`), its level
/// changed, or cleared (`after` is `None`). `event` is the alert to deliver,
/// as JSON; `summary` its one-line form for the audit log.
#[derive(Debug, Clone)]
pub struct Change {
    pub tenant_email_id: String,
    pub address: String,
    pub condition: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub title: String,
    pub detail: String,
    pub fix: String,
    pub event: String,
    pub summary: String,
}

impl Alerts<'_> {
    /// Every raised condition.
    pub async fn raised(&self) -> Result<Vec<RaisedState>, StoreError> {
        Ok(alert_state::Entity::find()
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(|m| RaisedState {
                tenant_email_id: m.tenant_email_id,
                condition: m.condition,
                level: m.level,
                since: m.since,
                title: m.title,
                detail: m.detail,
                fix: m.fix,
            })
            .collect())
    }

    /// The raised conditions with their mailbox and tenant, oldest first.
    pub async fn attention(&self) -> Result<Vec<Attention>, StoreError> {
        let db = &self.0.conn;
        let raised = self.raised().await?;
        if raised.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = raised.iter().map(|r| r.tenant_email_id.clone()).collect();
        let emails: HashMap<String, (String, String)> = tenant_email::Entity::find()
            .select_only()
            .column(tenant_email::Column::Id)
            .column(tenant_email::Column::TenantId)
            .column(tenant_email::Column::Address)
            .filter(tenant_email::Column::Id.is_in(ids))
            .into_tuple::<(String, String, String)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, tenant, address)| (id, (tenant, address)))
            .collect();
        let tenants = super::tenant_names(db).await?;
        let mut out: Vec<Attention> = raised
            .into_iter()
            .filter_map(|state| {
                let (tenant_id, address) = emails.get(&state.tenant_email_id)?.clone();
                Some(Attention {
                    tenant_name: tenants.get(&tenant_id).cloned().unwrap_or_default(),
                    tenant_id,
                    address,
                    state,
                })
            })
            .collect();
        out.sort_by_key(|a| a.state.since);
        Ok(out)
    }

    /// Records each change with a delivery to every destination, in one
    /// transaction per change. A change whose `before` no longer matches
    /// (another instance recorded it first) is skipped: each is delivered
    /// once. An email destination is skipped for alerts about its own sender
    /// mailbox (it could not send them); the other destinations still get
    /// them. Returns how many changes were recorded.
    pub async fn record(&self, changes: &[Change]) -> Result<usize, StoreError> {
        let mut recorded = 0;
        for change in changes {
            let now = self.0.now();
            let txn = self.0.conn.begin().await?;
            if !write_state(&txn, change, now).await? {
                continue;
            }
            let destinations = alert_destination::Entity::find().all(&txn).await?;
            for d in destinations {
                let own_sender = d.kind == DestinationKind::Email.code()
                    && d.sender_email_id.as_deref() == Some(change.tenant_email_id.as_str());
                if own_sender {
                    continue;
                }
                insert_delivery(&txn, &d.id, &change.event, now).await?;
            }
            let action = match (&change.before, &change.after) {
                (None, _) => "alert.raised",
                (Some(_), Some(_)) => "alert.changed",
                (Some(_), None) => "alert.recovered",
            };
            audit::insert(
                &txn,
                now,
                &audit::system(),
                Event::new(action)
                    .target("tenant_email", &change.tenant_email_id, &change.address)
                    .detail(change.summary.clone()),
            )
            .await?;
            txn.commit().await?;
            recorded += 1;
        }
        Ok(recorded)
    }

    /// Alerts for one destination only (what is already open, for a
    /// destination just added), in one transaction.
    pub async fn queue_for(
        &self,
        destination_id: &str,
        events: &[String],
    ) -> Result<(), StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        for event in events {
            insert_delivery(&txn, destination_id, event, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// A test alert for one destination (the "Send test alert" button).
    pub async fn queue_test(
        &self,
        actor: &app::port::Actor,
        destination_id: &str,
        event: &str,
    ) -> Result<bool, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let Some(d) = alert_destination::Entity::find_by_id(destination_id.to_string())
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        insert_delivery(&txn, &d.id, event, now).await?;
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("alert.test")
                .target("alert_destination", &d.id, &d.name)
                .detail(format!("{} to {}", d.kind, d.target)),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}

pub(super) async fn insert_delivery<C: ConnectionTrait>(
    conn: &C,
    destination_id: &str,
    event: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    alert_delivery::Entity::insert(alert_delivery::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        destination_id: Set(destination_id.to_string()),
        event: Set(event.to_string()),
        state: Set(super::deliveries::PENDING.to_string()),
        batch_id: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        delivered_at: Set(None),
        last_error: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The state write, guarded by what it replaces. False when another writer
/// got there first.
async fn write_state(
    txn: &DatabaseTransaction,
    change: &Change,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    use alert_state::Column;
    let rows = match (&change.before, &change.after) {
        (None, Some(level)) => {
            alert_state::Entity::insert(alert_state::ActiveModel {
                tenant_email_id: Set(change.tenant_email_id.clone()),
                condition: Set(change.condition.clone()),
                level: Set(level.clone()),
                since: Set(now),
                title: Set(change.title.clone()),
                detail: Set(change.detail.clone()),
                fix: Set(change.fix.clone()),
            })
            .on_conflict(
                OnConflict::columns([Column::TenantEmailId, Column::Condition])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?
        }
        (Some(before), Some(level)) => {
            alert_state::Entity::update_many()
                .col_expr(Column::Level, Expr::value(level.clone()))
                .col_expr(Column::Title, Expr::value(change.title.clone()))
                .col_expr(Column::Detail, Expr::value(change.detail.clone()))
                .col_expr(Column::Fix, Expr::value(change.fix.clone()))
                .filter(Column::TenantEmailId.eq(&change.tenant_email_id))
                .filter(Column::Condition.eq(&change.condition))
                .filter(Column::Level.eq(before))
                .exec(txn)
                .await?
                .rows_affected
        }
        (Some(before), None) => {
            alert_state::Entity::delete_many()
                .filter(Column::TenantEmailId.eq(&change.tenant_email_id))
                .filter(Column::Condition.eq(&change.condition))
                .filter(Column::Level.eq(before))
                .exec(txn)
                .await?
                .rows_affected
        }
        (None, None) => 0,
    };
    Ok(rows == 1)
}
