//! `graph_subscription`: each receiving mailbox's Graph change-notification
//! subscription (near-instant arrival). Written only by the mailbox's sync,
//! which holds its lease; read by the notification endpoint, which finds a
//! subscription by the id Graph puts in each notification.
use super::entities::graph_subscription;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub tenant_email_id: String,
    /// `None` while the last attempt to subscribe failed.
    pub subscription_id: Option<String>,
    /// The folder it watches (the mailbox's receive folder when made).
    pub folder: String,
    pub notification_url: String,
    /// SHA-256 (hex) of the `clientState` every notification must carry.
    pub client_state_hash: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Graph said `reauthorizationRequired`: renewed at the next sync.
    pub needs_reauth: bool,
    pub last_notified_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

fn from_row(m: graph_subscription::Model) -> Subscription {
    Subscription {
        tenant_email_id: m.tenant_email_id,
        subscription_id: m.subscription_id,
        folder: m.folder,
        notification_url: m.notification_url,
        client_state_hash: m.client_state_hash,
        expires_at: m.expires_at,
        needs_reauth: m.needs_reauth,
        last_notified_at: m.last_notified_at,
        last_error: m.last_error,
    }
}

/// What a new subscription (or a failed attempt at one) records.
pub struct NewSubscription<'a> {
    pub tenant_email_id: &'a str,
    pub subscription_id: Option<&'a str>,
    pub folder: &'a str,
    pub notification_url: &'a str,
    pub client_state_hash: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub error: Option<&'a str>,
}

pub struct Subscriptions<'a>(&'a Store);

impl Store {
    pub fn subscriptions(&self) -> Subscriptions<'_> {
        Subscriptions(self)
    }
}

impl Subscriptions<'_> {
    pub async fn get(&self, tenant_email_id: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(
            graph_subscription::Entity::find_by_id(tenant_email_id.to_string())
                .one(&self.0.conn)
                .await?
                .map(from_row),
        )
    }

    /// The subscription a notification names.
    pub async fn by_subscription_id(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(graph_subscription::Entity::find()
            .filter(graph_subscription::Column::SubscriptionId.eq(id))
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    /// Replaces whatever the mailbox had with `new`.
    pub async fn save(&self, new: NewSubscription<'_>) -> Result<(), StoreError> {
        let now = self.0.now();
        let txn = self.0.conn.begin().await?;
        graph_subscription::Entity::delete_by_id(new.tenant_email_id.to_string())
            .exec(&txn)
            .await?;
        graph_subscription::ActiveModel {
            tenant_email_id: Set(new.tenant_email_id.to_string()),
            subscription_id: Set(new.subscription_id.map(str::to_string)),
            folder: Set(new.folder.to_string()),
            notification_url: Set(new.notification_url.to_string()),
            client_state_hash: Set(new.client_state_hash.to_string()),
            expires_at: Set(new.expires_at),
            needs_reauth: Set(false),
            created_at: Set(now),
            last_notified_at: Set(None),
            last_error: Set(new.error.map(str::to_string)),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// When the row was last written anew (a subscription made, or an
    /// attempt that failed).
    pub async fn attempted_at(
        &self,
        tenant_email_id: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(
            graph_subscription::Entity::find_by_id(tenant_email_id.to_string())
                .one(&self.0.conn)
                .await?
                .map(|m| m.created_at),
        )
    }

    /// Renewed (or reauthorized) until `expires_at`.
    pub async fn renewed(
        &self,
        tenant_email_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        graph_subscription::Entity::update_many()
            .col_expr(
                graph_subscription::Column::ExpiresAt,
                Expr::value(expires_at),
            )
            .col_expr(graph_subscription::Column::NeedsReauth, Expr::value(false))
            .col_expr(
                graph_subscription::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(graph_subscription::Column::TenantEmailId.eq(tenant_email_id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    /// A renewal failed; the subscription stays until it expires.
    pub async fn failed(&self, tenant_email_id: &str, error: &str) -> Result<(), StoreError> {
        graph_subscription::Entity::update_many()
            .col_expr(graph_subscription::Column::LastError, Expr::value(error))
            .filter(graph_subscription::Column::TenantEmailId.eq(tenant_email_id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    /// Graph asked for reauthorization (lifecycle notification).
    pub async fn needs_reauth(&self, subscription_id: &str) -> Result<(), StoreError> {
        graph_subscription::Entity::update_many()
            .col_expr(graph_subscription::Column::NeedsReauth, Expr::value(true))
            .filter(graph_subscription::Column::SubscriptionId.eq(subscription_id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    /// A genuine notification arrived.
    pub async fn notified(&self, subscription_id: &str) -> Result<(), StoreError> {
        graph_subscription::Entity::update_many()
            .col_expr(
                graph_subscription::Column::LastNotifiedAt,
                Expr::value(self.0.now()),
            )
            .filter(graph_subscription::Column::SubscriptionId.eq(subscription_id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    /// Graph removed it (`subscriptionRemoved`): the next sync makes a new one.
    pub async fn forget(&self, subscription_id: &str) -> Result<(), StoreError> {
        graph_subscription::Entity::delete_many()
            .filter(graph_subscription::Column::SubscriptionId.eq(subscription_id))
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }

    pub async fn delete(&self, tenant_email_id: &str) -> Result<(), StoreError> {
        graph_subscription::Entity::delete_by_id(tenant_email_id.to_string())
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }
}
