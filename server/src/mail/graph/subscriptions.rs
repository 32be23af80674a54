//! Change-notification subscriptions on a mailbox folder's messages
//! (`POST /subscriptions`, renewed with `PATCH`, removed with `DELETE`):
//! Microsoft then posts to Tenant Mail when mail arrives, instead of waiting
//! for the next poll.
use super::{read_json, GraphClient, GraphError};
use crate::identity::AccessToken;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::json;

/// A subscription as Graph confirmed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

fn expiry(body: &serde_json::Value, asked: DateTime<Utc>) -> DateTime<Utc> {
    // Graph may shorten what was asked for; its answer is what counts.
    body["expirationDateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(asked)
}

/// The messages of `folder` (a well-known name or an id), as Graph names them.
fn resource(token: &AccessToken, folder: &str) -> String {
    format!(
        "{}/mailFolders('{}')/messages",
        token.graph.mailbox_segments().join("/"),
        folder.replace('\'', "''")
    )
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl GraphClient {
    /// `POST /subscriptions` for messages created in `folder` (a well-known
    /// name or an id), with lifecycle notifications to the same URL. Graph
    /// first checks the URL answers its validation request.
    pub async fn subscribe(
        &self,
        token: &AccessToken,
        folder: &str,
        notification_url: &str,
        client_state: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Subscribed, GraphError> {
        let body = json!({
            "changeType": "created",
            "notificationUrl": notification_url,
            "lifecycleNotificationUrl": notification_url,
            "resource": resource(token, folder),
            "expirationDateTime": iso(expires_at),
            "clientState": client_state,
        });
        let request = self.request(Method::POST, &["subscriptions"], token)?;
        let answer = read_json(self.execute(request.json(&body)).await?).await?;
        let id = answer["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| GraphError::Internal("Graph made a subscription without an id".into()))?
            .to_owned();
        Ok(Subscribed {
            id,
            expires_at: expiry(&answer, expires_at),
        })
    }

    /// `PATCH /subscriptions/{id}` with a new expiry (also what Graph wants
    /// after `reauthorizationRequired`).
    pub async fn renew_subscription(
        &self,
        token: &AccessToken,
        id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, GraphError> {
        let request = self.request(Method::PATCH, &["subscriptions", id], token)?;
        let body = json!({ "expirationDateTime": iso(expires_at) });
        let answer = read_json(self.execute(request.json(&body)).await?).await?;
        Ok(expiry(&answer, expires_at))
    }

    /// `DELETE /subscriptions/{id}`; one already gone counts as deleted.
    pub async fn unsubscribe(&self, token: &AccessToken, id: &str) -> Result<(), GraphError> {
        let request = self.request(Method::DELETE, &["subscriptions", id], token)?;
        match self.execute(request).await {
            Ok(_) | Err(GraphError::Rejected { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The ids of this app's subscriptions (for the signed-in mailbox) on
    /// `folder`'s messages that post to `notification_url`: what a crash
    /// between Graph making one and Tenant Mail recording it may have left.
    pub async fn subscriptions_to(
        &self,
        token: &AccessToken,
        folder: &str,
        notification_url: &str,
    ) -> Result<Vec<String>, GraphError> {
        let resource = resource(token, folder);
        let request = self.request(Method::GET, &["subscriptions"], token)?;
        let answer = read_json(self.execute(request).await?).await?;
        Ok(answer["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["notificationUrl"].as_str() == Some(notification_url))
            .filter(|s| {
                s["resource"]
                    .as_str()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&resource))
            })
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect())
    }
}
