//! Change-notification subscriptions (Graph webhooks): what is subscribed, and the hook mail code
//! calls when a message enters, changes in or leaves a folder.
//!
//! Notifications are built under the state lock and handed to [`sender`] through a channel, so no
//! HTTP ever happens with the lock held. The request rules (resource, URLs, lifetime) are in
//! [`rules`]; the Graph endpoints in [`crate::graph::subscriptions`].

pub mod rules;
pub mod sender;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::ledger::NotificationAttempt;
use crate::model::{LifecycleEvent, SubscriptionView};
use crate::state::{Message, State};
use crate::timefmt;

#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: String,
    /// Owner of the watched mailbox.
    pub oid: String,
    /// The user whose delegated token created it; `None` when an app-only token did.
    pub creator: Option<String>,
    /// The tenant of the token that created it.
    pub tenant_id: String,
    /// The app whose token created it; only that app (and that user, if delegated) see it.
    pub client_id: String,
    pub resource: String,
    pub folder_id: String,
    /// Lower-cased, in the order given.
    pub change_types: Vec<String>,
    pub notification_url: String,
    pub lifecycle_url: Option<String>,
    pub expires_at: i64,
    pub client_state: Option<String>,
    /// Created with `Prefer: IdType="ImmutableId"`: notifications name messages by immutable id,
    /// as Graph does for such subscriptions.
    pub immutable_ids: bool,
    pub needs_reauthorization: bool,
}

impl Subscription {
    pub fn view(&self) -> SubscriptionView {
        SubscriptionView {
            id: self.id.clone(),
            user_oid: self.oid.clone(),
            client_id: self.client_id.clone(),
            creator_oid: self.creator.clone(),
            resource: self.resource.clone(),
            folder_id: self.folder_id.clone(),
            change_types: self.change_types.clone(),
            notification_url: self.notification_url.clone(),
            lifecycle_notification_url: self.lifecycle_url.clone(),
            expires_at: self.expires_at,
            expiration_date_time: timefmt::iso(self.expires_at),
            client_state: self.client_state.clone(),
            needs_reauthorization: self.needs_reauthorization,
        }
    }

    /// Graph shows a subscription only to the app that created it: to a delegated token of the
    /// user who created it (`user_oid`), or to an app-only token of its tenant (`None`).
    pub fn visible_to(&self, user_oid: Option<&str>, client_id: &str, tenant_id: &str) -> bool {
        self.client_id.eq_ignore_ascii_case(client_id)
            && match user_oid {
                Some(oid) => self.creator.as_deref() == Some(oid),
                None => self.tenant_id.eq_ignore_ascii_case(tenant_id),
            }
    }

    fn wants(&self, change: Change) -> bool {
        self.change_types.iter().any(|c| c == change.as_str())
    }
}

/// A POST to a subscriber's endpoint, built under the state lock and sent by [`sender::run`].
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub subscription_id: String,
    pub url: String,
    /// `created`/`updated`/`deleted`, or the lifecycle event: what the ledger calls it.
    pub kind: String,
    pub body: Value,
}

#[derive(Debug, Default)]
pub struct Webhooks {
    /// By id; ids are generated in increasing order, so this is creation order too.
    pub subscriptions: BTreeMap<String, Subscription>,
    /// Change notifications still to drop on purpose (control `drop_notifications`).
    pub drop_next: u32,
    /// Where notifications go to be sent; set when the stand-in starts.
    pub outbox: Option<UnboundedSender<Outgoing>>,
}

impl Webhooks {
    /// Forgets subscriptions past their expiration: Graph deletes them and never notifies
    /// through them again.
    pub fn prune(&mut self, now: i64) {
        self.subscriptions.retain(|_, s| s.expires_at > now);
    }

    fn send(&self, job: Outgoing) {
        match &self.outbox {
            Some(outbox) if outbox.send(job).is_ok() => {}
            _ => tracing::debug!("notification not sent: the stand-in is not running"),
        }
    }
}

/// What happened to a message, matched against a subscription's `changeType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Deleted,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// A message event in one folder of one mailbox.
#[derive(Clone, Copy, Debug)]
pub struct MessageEvent<'a> {
    pub oid: &'a str,
    pub folder_id: &'a str,
    pub change: Change,
    /// The message's REST id in that folder (a message that left keeps the id it had there).
    pub rest_id: &'a str,
    pub immutable_id: &'a str,
    pub change_seq: u64,
}

impl<'a> MessageEvent<'a> {
    /// `change` happened to `m` where it is now.
    pub fn new(oid: &'a str, m: &'a Message, change: Change) -> Self {
        Self {
            oid,
            folder_id: &m.folder_id,
            change,
            rest_id: &m.rest_id,
            immutable_id: &m.immutable_id,
            change_seq: m.change_seq,
        }
    }
}

/// Queues a notification for every live subscription on the event's folder that asked for its
/// kind of change (one notification per message). Expired subscriptions are dropped first.
pub fn message_changed(store: &mut State, event: &MessageEvent<'_>, now: i64) {
    store.webhooks.prune(now);
    let tenant = tenant_of(store, event.oid);
    let targets: Vec<Subscription> = store
        .webhooks
        .subscriptions
        .values()
        .filter(|s| s.oid == event.oid && s.folder_id == event.folder_id && s.wants(event.change))
        .cloned()
        .collect();
    for sub in targets {
        let id = if sub.immutable_ids {
            event.immutable_id
        } else {
            event.rest_id
        };
        let resource = format!("Users/{}/Messages/{id}", event.oid);
        let body = json!({ "value": [{
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": timefmt::iso(sub.expires_at),
            "changeType": event.change.as_str(),
            "resource": resource,
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Message",
                "@odata.id": resource,
                "@odata.etag": format!("W/\"{}\"", event.change_seq),
                "id": id,
            },
            "clientState": sub.client_state,
            "tenantId": tenant,
        }]});
        let job = Outgoing {
            subscription_id: sub.id.clone(),
            url: sub.notification_url.clone(),
            kind: event.change.as_str().to_owned(),
            body,
        };
        if store.webhooks.drop_next > 0 {
            store.webhooks.drop_next -= 1;
            store
                .ledger
                .notification_attempts
                .push(NotificationAttempt {
                    subscription_id: job.subscription_id,
                    url: job.url,
                    kind: job.kind,
                    status: 0,
                    dropped: true,
                    at: now,
                });
        } else {
            store.webhooks.send(job);
        }
    }
}

/// Applies lifecycle `event` to subscription `id` and posts it to the lifecycle URL, if the
/// subscription has one. `subscriptionRemoved` deletes the subscription; `reauthorizationRequired`
/// flags it until reauthorized or renewed. `None`: no such (live) subscription; `Some(sent)`.
pub fn lifecycle(store: &mut State, id: &str, event: LifecycleEvent, now: i64) -> Option<bool> {
    store.webhooks.prune(now);
    let sub = store.webhooks.subscriptions.get_mut(id)?;
    match event {
        LifecycleEvent::ReauthorizationRequired => sub.needs_reauthorization = true,
        LifecycleEvent::SubscriptionRemoved | LifecycleEvent::Missed => {}
    }
    let sub = sub.clone();
    if event == LifecycleEvent::SubscriptionRemoved {
        store.webhooks.subscriptions.remove(id);
    }
    let Some(url) = sub.lifecycle_url.clone() else {
        return Some(false);
    };
    let body = json!({ "value": [{
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": timefmt::iso(sub.expires_at),
        "tenantId": tenant_of(store, &sub.oid),
        "clientState": sub.client_state,
        "lifecycleEvent": event.as_str(),
    }]});
    store.webhooks.send(Outgoing {
        subscription_id: sub.id,
        url,
        kind: event.as_str().to_owned(),
        body,
    });
    Some(true)
}

fn tenant_of(store: &State, oid: &str) -> String {
    store
        .users
        .get(oid)
        .map(|u| u.tenant_id.clone())
        .unwrap_or_default()
}
