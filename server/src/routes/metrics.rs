//! `GET /metrics`: the Prometheus (OpenMetrics text) view of this instance,
//! for a scraper holding the bearer token from `metrics_token`. Off (404)
//! until a token is configured; a missing or wrong token gets 401. The
//! outbox gauges are counted from the database at scrape time, so every
//! instance reports the same queue.
use crate::db::Store;
use app::model::mail::OutboxState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::fmt::Write;

pub const PATH: &str = "/metrics";
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone)]
struct Metrics {
    store: Store,
    /// SHA-256 (hex) of the configured token.
    token_sha256: Option<String>,
}

pub fn routes<S: Clone + Send + Sync + 'static>(
    store: Store,
    token_sha256: Option<String>,
) -> Router<S> {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Metrics {
            store,
            token_sha256,
        })
}

async fn metrics(State(m): State<Metrics>, headers: HeaderMap) -> Response {
    let Some(expected) = &m.token_sha256 else {
        return (
            StatusCode::NOT_FOUND,
            "Metrics are off: set metrics_token (TENANT_MAIL_METRICS_TOKEN) to turn them on.",
        )
            .into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| crate::hashing::sha256_hex(t.trim()));
    // Hashes are compared, so the time taken says nothing about the token.
    if presented.as_deref() != Some(expected.as_str()) {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            "A bearer token (metrics_token) is required.",
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    let counts = match m.store.outbox().count_by_state().await {
        Ok(c) => c,
        Err(e) => return super::internal_error("metrics: outbox counts", e),
    };
    let text = gauges(&counts).and_then(|extra| crate::telemetry::encode(&extra));
    match text {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => super::internal_error("metrics: encoding", e),
    }
}

/// The outbox by state, every state present (0 when none).
fn gauges(counts: &[(String, i64)]) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    writeln!(
        text,
        "# HELP tenant_mail_outbox_messages Outbox messages by state, all instances."
    )?;
    writeln!(text, "# TYPE tenant_mail_outbox_messages gauge")?;
    for state in OutboxState::ALL.map(OutboxState::code) {
        let n = counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n);
        writeln!(text, "tenant_mail_outbox_messages{{state=\"{state}\"}} {n}")?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_state_is_reported() {
        let text = super::gauges(&[("sent".into(), 3), ("failed".into(), 1)]).unwrap();
        assert!(
            text.contains("tenant_mail_outbox_messages{state=\"sent\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("tenant_mail_outbox_messages{state=\"queued\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("tenant_mail_outbox_messages{state=\"failed\"} 1\n"),
            "{text}"
        );
    }
}
