//! Outgoing HTTP to subscribers: the validation handshake when a subscription is created, and
//! notifications, retried when the endpoint does not answer 2xx in time. Every request is
//! recorded in the ledger. Nothing here runs with the state lock held across an `.await`.

use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Outgoing;
use crate::ledger::{NotificationAttempt, ValidationRequest};
use crate::state::Shared;

/// How long an endpoint has to answer a validation request (Graph: 10 seconds).
pub const VALIDATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an endpoint has to answer a notification (Graph: 3 seconds) before it is retried.
pub const NOTIFICATION_TIMEOUT: Duration = Duration::from_secs(3);
/// Retries after the first attempt. Graph keeps retrying for hours; tests need an end.
pub const RETRIES: u32 = 3;
pub const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Sends each queued notification from its own task, so a slow endpoint delays no other.
pub async fn run(shared: Shared, mut jobs: UnboundedReceiver<Outgoing>) {
    while let Some(job) = jobs.recv().await {
        tokio::spawn(deliver(shared.clone(), job));
    }
}

async fn deliver(shared: Shared, job: Outgoing) {
    for attempt in 0..=RETRIES {
        if attempt > 0 {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        let status = match shared
            .http
            .post(&job.url)
            .json(&job.body)
            .timeout(NOTIFICATION_TIMEOUT)
            .send()
            .await
        {
            Ok(response) => response.status().as_u16(),
            Err(e) => {
                tracing::debug!("notification to {} failed: {e}", job.url);
                0
            }
        };
        let at = shared.now();
        shared
            .lock()
            .ledger
            .notification_attempts
            .push(NotificationAttempt {
                subscription_id: job.subscription_id.clone(),
                url: job.url.clone(),
                kind: job.kind.clone(),
                status,
                dropped: false,
                at,
            });
        if (200..300).contains(&status) {
            return;
        }
    }
}

/// Graph's validation handshake: `POST {url}?validationToken=…` with an empty `text/plain` body;
/// the endpoint must answer 200, `text/plain`, with the token, within 10 seconds.
pub async fn validate(shared: &Shared, url: &str) -> bool {
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    );
    let answer = shared
        .http
        .post(url)
        .query(&[("validationToken", token.as_str())])
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body("")
        .timeout(VALIDATION_TIMEOUT)
        .send()
        .await;
    let (status, ok) = match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            let plain = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/plain"));
            let echoed = response.text().await.is_ok_and(|body| body == token);
            (status, status == 200 && plain && echoed)
        }
        Err(e) => {
            tracing::debug!("validation request to {url} failed: {e}");
            (0, false)
        }
    };
    let at = shared.now();
    shared
        .lock()
        .ledger
        .validation_requests
        .push(ValidationRequest {
            url: url.to_owned(),
            status,
            ok,
            at,
        });
    ok
}
