//! Near-instant arrival: a receiving mailbox set to `notify` keeps a Graph
//! change-notification subscription on its folder, so Microsoft posts to
//! Tenant Mail when mail arrives and that mailbox's sync starts at once.
//! The delta sync stays the one way mail is stored, so a notification lost or
//! repeated changes nothing but timing: the next poll catches up, once.
//!
//! Kept here, inside a sync that holds the mailbox's lease, so one instance
//! at a time creates, renews or removes it. A failure is recorded (shown on
//! the Inbox page) and polling carries on.
use super::sync::Inbox;
use crate::db::subscriptions::{NewSubscription, Subscription};
use crate::db::tenant_emails::TenantEmail;
use crate::identity::AccessToken;
use crate::mail::graph::GraphError;
use app::model::inbox::Arrival;
use base64::Engine;
use chrono::Duration;
use rand::RngCore;

/// Asked-for lifetime: within the 4,230 minutes Graph documented before
/// allowing 10,080 for messages, so any tenant accepts it.
pub const LIFETIME_MINUTES: i64 = 4_200;
/// Renewed once less than this is left (a mailbox checked once a day still
/// renews in time).
pub const RENEW_WITHIN_HOURS: i64 = 36;
/// After a failed attempt to subscribe, the next one waits this long.
pub const RETRY_AFTER_MINUTES: i64 = 15;

/// A fresh `clientState`: 256 random bits (Graph allows 128 characters).
fn new_client_state() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Inbox {
    /// Makes the mailbox's subscription what its settings ask for.
    pub(super) async fn keep_subscription(&self, email: &TenantEmail, token: &AccessToken) {
        let id = email.id.as_str();
        let folder = email.settings.receiving.folder.as_str();
        let wanted = match (
            &self.config.notification_url,
            email.settings.receiving.arrival,
        ) {
            (Some(url), Arrival::Notify) if email.settings.direction.receives() => {
                Some(url.as_str())
            }
            _ => None,
        };
        let current = match self.store.subscriptions().get(id).await {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!(tenant_email_id = id, error = %e, "inbox: cannot read the mailbox's subscription");
                return;
            }
        };
        let Some(url) = wanted else {
            if let Some(old) = current {
                self.drop_subscription(id, token, &old).await;
            }
            return;
        };
        let now = self.store.now();
        match current {
            Some(s)
                if s.subscription_id.is_some()
                    && s.folder == folder
                    && s.notification_url == url =>
            {
                let due = s.needs_reauth
                    || s.expires_at
                        .is_none_or(|t| t - now < Duration::hours(RENEW_WITHIN_HOURS));
                if due {
                    self.renew(email, token, &s, url).await;
                }
            }
            // An earlier attempt failed: try again, but not on every poll.
            Some(s) if s.subscription_id.is_none() => {
                let waited = self
                    .store
                    .subscriptions()
                    .attempted_at(id)
                    .await
                    .ok()
                    .flatten()
                    .is_none_or(|at| now - at >= Duration::minutes(RETRY_AFTER_MINUTES));
                if waited {
                    self.subscribe(email, token, url).await;
                }
            }
            // Another folder or URL since: replace it.
            Some(s) => {
                self.drop_subscription(id, token, &s).await;
                self.subscribe(email, token, url).await;
            }
            None => self.subscribe(email, token, url).await,
        }
    }

    async fn renew(&self, email: &TenantEmail, token: &AccessToken, s: &Subscription, url: &str) {
        let id = email.id.as_str();
        let Some(sid) = s.subscription_id.as_deref() else {
            return;
        };
        let until = self.store.now() + Duration::minutes(LIFETIME_MINUTES);
        match self
            .call(id, |g| g.renew_subscription(token, sid, until))
            .await
        {
            Ok(expires) => {
                if let Err(e) = self.store.subscriptions().renewed(id, expires).await {
                    tracing::warn!(tenant_email_id = id, error = %e, "inbox: cannot record the renewed subscription");
                }
            }
            // Gone at Microsoft (expired, or removed): make a new one.
            Err(GraphError::Rejected { status: 404, .. }) => {
                self.subscribe(email, token, url).await
            }
            Err(e) => {
                let why = format!(
                    "Renewing the notification subscription failed: {}",
                    e.describe()
                );
                tracing::warn!(tenant_email_id = id, reason = %why, "inbox: subscription not renewed");
                let _ = self.store.subscriptions().failed(id, &why).await;
            }
        }
    }

    async fn subscribe(&self, email: &TenantEmail, token: &AccessToken, url: &str) {
        let id = email.id.as_str();
        let folder = email.settings.receiving.folder.as_str();
        // A crash between Graph making a subscription and it being recorded
        // leaves one nobody can verify: remove those first.
        if let Ok(found) = self
            .call(id, |g| g.subscriptions_to(token, folder, url))
            .await
        {
            for sid in found {
                let known = self.store.subscriptions().by_subscription_id(&sid).await;
                if matches!(known, Ok(None)) {
                    let _ = self.call(id, |g| g.unsubscribe(token, &sid)).await;
                }
            }
        }
        let secret = new_client_state();
        let until = self.store.now() + Duration::minutes(LIFETIME_MINUTES);
        let made = self
            .call(id, |g| g.subscribe(token, folder, url, &secret, until))
            .await;
        let hash = crate::hashing::sha256_hex(&secret);
        let (subscription_id, expires_at, error) = match &made {
            Ok(s) => (Some(s.id.as_str()), Some(s.expires_at), None),
            Err(e) => (
                None,
                None,
                Some(format!(
                    "Microsoft did not accept the notification subscription: {}",
                    e.describe()
                )),
            ),
        };
        if let Some(why) = &error {
            tracing::warn!(tenant_email_id = id, reason = %why, "inbox: no notification subscription; polling only");
        } else {
            tracing::info!(
                tenant_email_id = id,
                "inbox: notification subscription made"
            );
        }
        let saved = self
            .store
            .subscriptions()
            .save(NewSubscription {
                tenant_email_id: id,
                subscription_id,
                folder,
                notification_url: url,
                client_state_hash: &hash,
                expires_at,
                error: error.as_deref(),
            })
            .await;
        if let Err(e) = saved {
            // Unrecorded, it cannot be verified: remove it rather than leave it.
            tracing::warn!(tenant_email_id = id, error = %e, "inbox: cannot record the subscription; removing it");
            if let Ok(s) = made {
                let _ = self.call(id, |g| g.unsubscribe(token, &s.id)).await;
            }
        }
    }

    async fn drop_subscription(&self, id: &str, token: &AccessToken, s: &Subscription) {
        if let Some(sid) = s.subscription_id.as_deref() {
            if let Err(e) = self.call(id, |g| g.unsubscribe(token, sid)).await {
                // It expires on its own within days; its notifications are
                // ignored once its row is gone.
                tracing::info!(tenant_email_id = id, error = %e.describe(), "inbox: could not delete an unwanted subscription");
            }
        }
        if let Err(e) = self.store.subscriptions().delete(id).await {
            tracing::warn!(tenant_email_id = id, error = %e, "inbox: cannot forget the subscription");
        }
    }
}
