//! What the alert engine judges each mailbox by, read in a handful of
//! grouped queries (not one per mailbox): its connection, its secret's end
//! date, its outbox and its inbox sync.
use super::super::entities::{inbox_sync, mailbox_connection, outbox_message, tenant_email};
use super::{Alerts, StoreError};
use app::model::mail::OutboxState;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// How long before a stuck outbox or inbox counts as a condition.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// A message queued longer than this is a backlog.
    pub outbox_backlog: chrono::Duration,
    /// A failed message counts this long after it failed.
    pub outbox_failed_window: chrono::Duration,
    /// An inbox whose sync fails and last succeeded longer ago than this.
    pub inbox_failing: chrono::Duration,
}

/// One mailbox as the alert engine sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxFacts {
    pub tenant_id: String,
    pub tenant_name: String,
    pub tenant_email_id: String,
    pub address: String,
    /// `ConnectionStatus` code.
    pub connection_status: String,
    /// The connection's last failure, explained (AADSTS codes in words).
    pub connection_error: Option<String>,
    pub secret_expires_on: Option<NaiveDate>,
    /// A next secret is stored (it takes over before the current one ends).
    pub has_next_secret: bool,
    pub next_secret_expires_on: Option<NaiveDate>,
    /// When the credential is a certificate: its end date (the secret's
    /// date is then of a secret no longer used).
    pub certificate_expires_on: Option<NaiveDate>,
    pub outbox_held: u64,
    pub outbox_failed_recently: u64,
    pub outbox_backlog: u64,
    /// The inbox sync's last error, when it has failed for longer than the threshold.
    pub inbox_error: Option<String>,
}

fn counts(rows: Vec<(String, i64)>) -> HashMap<String, u64> {
    rows.into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect()
}

impl Alerts<'_> {
    /// Every mailbox's facts, by tenant and address.
    pub async fn facts(&self, limits: Thresholds) -> Result<Vec<MailboxFacts>, StoreError> {
        let db = &self.0.conn;
        let now = self.0.now();
        let tenants = super::tenant_names(db).await?;
        let errors: HashMap<String, Option<String>> = mailbox_connection::Entity::find()
            .select_only()
            .column(mailbox_connection::Column::TenantEmailId)
            .column(mailbox_connection::Column::LastError)
            .into_tuple::<(String, Option<String>)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let outbox_count = |state: OutboxState| {
            outbox_message::Entity::find()
                .select_only()
                .column(outbox_message::Column::TenantEmailId)
                .column_as(outbox_message::Column::Id.count(), "n")
                .filter(outbox_message::Column::State.eq(state.code()))
                .group_by(outbox_message::Column::TenantEmailId)
        };
        let held = counts(outbox_count(OutboxState::Held).into_tuple().all(db).await?);
        let failed = counts(
            outbox_count(OutboxState::Failed)
                .filter(outbox_message::Column::UpdatedAt.gt(now - limits.outbox_failed_window))
                .into_tuple()
                .all(db)
                .await?,
        );
        let backlog = counts(
            outbox_count(OutboxState::Queued)
                .filter(outbox_message::Column::CreatedAt.lt(now - limits.outbox_backlog))
                .into_tuple()
                .all(db)
                .await?,
        );
        let inbox: HashMap<String, (Option<String>, Option<DateTime<Utc>>)> =
            inbox_sync::Entity::find()
                .filter(inbox_sync::Column::LastError.is_not_null())
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.tenant_email_id, (s.last_error, s.last_sync_at)))
                .collect();
        let emails = tenant_email::Entity::find().all(db).await?;
        let mut facts: Vec<MailboxFacts> = emails
            .into_iter()
            .map(|e| {
                // Failing since the last success longer than the threshold;
                // one that never succeeded has nothing to wait for.
                let inbox_error = inbox.get(&e.id).and_then(|(error, last_ok)| {
                    last_ok
                        .is_none_or(|t| now - t > limits.inbox_failing)
                        .then(|| error.clone())
                        .flatten()
                });
                MailboxFacts {
                    tenant_name: tenants.get(&e.tenant_id).cloned().unwrap_or_default(),
                    tenant_id: e.tenant_id,
                    address: e.address,
                    connection_status: e.connection_status,
                    connection_error: errors.get(&e.id).cloned().flatten(),
                    secret_expires_on: e.secret_expires_on,
                    has_next_secret: e.next_client_secret.is_some(),
                    next_secret_expires_on: e.next_secret_expires_on,
                    certificate_expires_on: (e.credential == "certificate")
                        .then(|| e.certificate_expires_at.map(|t| t.date_naive()))
                        .flatten(),
                    outbox_held: held.get(&e.id).copied().unwrap_or(0),
                    outbox_failed_recently: failed.get(&e.id).copied().unwrap_or(0),
                    outbox_backlog: backlog.get(&e.id).copied().unwrap_or(0),
                    inbox_error,
                    tenant_email_id: e.id,
                }
            })
            .collect();
        facts.sort_by(|a, b| {
            (&a.tenant_name, &a.address, &a.tenant_email_id).cmp(&(
                &b.tenant_name,
                &b.address,
                &b.tenant_email_id,
            ))
        });
        Ok(facts)
    }
}
