//! `alert_destination`, `alert_state`, `alert_delivery`: where alerts go,
//! which conditions are raised now, and what is still to deliver.
//!
//! The alert engine (`crate::alerts`) reads the mailboxes' facts
//! ([`facts`]), decides what changed and hands the changes to [`Alerts::record`],
//! which writes the new state and a delivery per destination in one
//! transaction: a decided alert is never lost, and a condition write guarded
//! by the level it replaces makes two instances deciding at once record it once.
mod deliveries;
mod facts;
mod states;

pub use deliveries::{Batch, Outcome};
pub use facts::{MailboxFacts, Thresholds};
pub use states::{Attention, Change, RaisedState};

use super::audit::{self, Event};
use super::entities::{alert_destination, tenant_email};
use super::{Saved, Store, StoreError};
use crate::secrets::Binding;
use app::port::Actor;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

const SECRET_COLUMN: &str = "secret";

fn secret_binding(row_id: &str) -> Binding<'_> {
    Binding {
        table: "alert_destination",
        column: SECRET_COLUMN,
        row_id,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    Email,
    Webhook,
}

impl DestinationKind {
    pub fn code(self) -> &'static str {
        match self {
            DestinationKind::Email => "email",
            DestinationKind::Webhook => "webhook",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "email" => Some(DestinationKind::Email),
            "webhook" => Some(DestinationKind::Webhook),
            _ => None,
        }
    }
}

/// A destination as the rest of the server sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub id: String,
    pub kind: DestinationKind,
    pub name: String,
    /// Comma-separated addresses, or the webhook URL.
    pub target: String,
    pub sender_email_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_delivery_at: Option<DateTime<Utc>>,
    pub last_delivery_ok: Option<bool>,
    pub last_delivery_detail: Option<String>,
}

fn from_row(m: alert_destination::Model) -> Result<Destination, StoreError> {
    Ok(Destination {
        kind: DestinationKind::from_code(&m.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("alert destination kind {:?}", m.kind)))?,
        id: m.id,
        name: m.name,
        target: m.target,
        sender_email_id: m.sender_email_id,
        created_at: m.created_at,
        created_by: m.created_by,
        last_delivery_at: m.last_delivery_at,
        last_delivery_ok: m.last_delivery_ok,
        last_delivery_detail: m.last_delivery_detail,
    })
}

/// A destination to create. `secret` (webhooks) is sealed before it is stored.
pub struct NewDestination<'a> {
    pub kind: DestinationKind,
    pub name: &'a str,
    pub target: &'a str,
    pub sender_email_id: Option<&'a str>,
    pub secret: Option<&'a str>,
}

pub struct Alerts<'a>(&'a Store);

/// Every tenant's name by id (alerts name the tenant).
async fn tenant_names(
    db: &sea_orm::DatabaseConnection,
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    Ok(super::entities::tenant::Entity::find()
        .select_only()
        .column(super::entities::tenant::Column::Id)
        .column(super::entities::tenant::Column::Name)
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

impl Store {
    pub fn alerts(&self) -> Alerts<'_> {
        Alerts(self)
    }
}

impl Alerts<'_> {
    /// Every destination, oldest first.
    pub async fn destinations(&self) -> Result<Vec<Destination>, StoreError> {
        alert_destination::Entity::find()
            .order_by_asc(alert_destination::Column::CreatedAt)
            .order_by_asc(alert_destination::Column::Id)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    pub async fn destination(&self, id: &str) -> Result<Option<Destination>, StoreError> {
        alert_destination::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row)
            .transpose()
    }

    /// The webhook's signing secret in plaintext, to sign a delivery.
    pub async fn webhook_secret(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = alert_destination::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?;
        match row.and_then(|r| r.secret) {
            Some(sealed) => Ok(Some(self.0.keys.open(&sealed, &secret_binding(id))?)),
            None => Ok(None),
        }
    }

    /// `Missing` when the chosen sender mailbox does not exist.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewDestination<'_>,
    ) -> Result<Saved<Destination>, StoreError> {
        let now = self.0.now();
        let id = uuid::Uuid::new_v4().to_string();
        let secret = match new.secret {
            Some(s) => Some(self.0.keys.seal(s, &secret_binding(&id))?),
            None => None,
        };
        let txn = self.0.conn.begin().await?;
        let mut sender_label = String::new();
        if let Some(sender) = new.sender_email_id {
            match tenant_email::Entity::find_by_id(sender.to_string())
                .one(&txn)
                .await?
            {
                Some(m) => sender_label = format!(", sent through {}", m.address),
                None => return Ok(Saved::Missing),
            }
        }
        let model = alert_destination::ActiveModel {
            id: Set(id.clone()),
            kind: Set(new.kind.code().to_string()),
            name: Set(new.name.to_string()),
            target: Set(new.target.to_string()),
            sender_email_id: Set(new.sender_email_id.map(str::to_string)),
            secret: Set(secret),
            created_at: Set(now),
            created_by: Set(actor.username.clone()),
            last_delivery_at: Set(None),
            last_delivery_ok: Set(None),
            last_delivery_detail: Set(None),
            lease_owner: Set(None),
            lease_until: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("alert_destination.created")
                .target("alert_destination", &id, new.name)
                .detail(format!(
                    "{} to {}{sender_label}",
                    new.kind.code(),
                    new.target
                )),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(from_row(model)?))
    }

    /// Key rotation: re-seals webhook secrets under the sealing key (compare
    /// and set, as for every other sealed column).
    pub(super) async fn reseal(&self, r: &mut super::rekey::Resealed) -> Result<(), StoreError> {
        let rows: Vec<(String, Option<String>)> = alert_destination::Entity::find()
            .select_only()
            .column(alert_destination::Column::Id)
            .column(alert_destination::Column::Secret)
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        for (id, sealed) in rows {
            let Some(sealed) = sealed else { continue };
            let Some(new) = super::rekey::resealed(&self.0.keys, &sealed, &secret_binding(&id))?
            else {
                continue;
            };
            let written = alert_destination::Entity::update_many()
                .col_expr(alert_destination::Column::Secret, Expr::value(new))
                .filter(alert_destination::Column::Id.eq(&id))
                .filter(alert_destination::Column::Secret.eq(&sealed))
                .exec(&self.0.conn)
                .await?;
            super::rekey::count(
                written.rows_affected,
                &mut r.webhook_secrets,
                &mut r.changed_meanwhile,
            );
        }
        Ok(())
    }

    /// Webhook secrets not sealed under the sealing key.
    pub(super) async fn sealed_elsewhere(&self) -> Result<usize, StoreError> {
        let secrets: Vec<Option<String>> = alert_destination::Entity::find()
            .select_only()
            .column(alert_destination::Column::Secret)
            .into_tuple()
            .all(&self.0.conn)
            .await?;
        Ok(secrets
            .iter()
            .flatten()
            .filter(|s| !self.0.keys.is_current(s))
            .count())
    }

    /// Deletes a destination with its undelivered alerts.
    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<Saved<()>, StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        let Some(row) = alert_destination::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await?
        else {
            return Ok(Saved::Missing);
        };
        alert_destination::Entity::delete_by_id(id.to_string())
            .exec(&txn)
            .await?;
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("alert_destination.deleted")
                .target("alert_destination", id, &row.name)
                .detail(format!("{} to {}", row.kind, row.target)),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(()))
    }
}
