//! A webhook endpoint for subscription tests, on 127.0.0.1:0: it echoes validation tokens and
//! records every notification it gets, by path. Some paths misbehave on purpose:
//! `/wrong` echoes the wrong text, `/missing` answers 404 to validation, and `/flaky` validates
//! but answers notifications with 500.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

#[derive(Clone, Default)]
pub struct Receiver {
    pub base: String,
    validations: Arc<Mutex<Vec<String>>>,
    notifications: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Self {
            base: format!("http://{}", listener.local_addr().unwrap()),
            ..Self::default()
        };
        let app = Router::new()
            .fallback(endpoint)
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Paths that got a validation request, in order.
    pub fn validations(&self) -> Vec<String> {
        self.validations.lock().unwrap().clone()
    }

    /// Notification bodies received at `path`.
    pub fn at(&self, path: &str) -> Vec<Value> {
        self.notifications
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Waits up to `within` until `path` has received `count` notifications.
    pub async fn wait_for(&self, path: &str, count: usize, within: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.at(path);
            if got.len() >= count || start.elapsed() > within {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn endpoint(
    State(r): State<Receiver>,
    uri: Uri,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let token = serde_urlencoded::from_str::<Vec<(String, String)>>(&query.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "validationToken")
        .map(|(_, v)| v);
    if let Some(token) = token {
        assert!(body.is_empty());
        r.validations.lock().unwrap().push(path.clone());
        return match path.as_str() {
            "/wrong" => ([(header::CONTENT_TYPE, "text/plain")], "not the token").into_response(),
            "/missing" => StatusCode::NOT_FOUND.into_response(),
            _ => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token).into_response(),
        };
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    r.notifications.lock().unwrap().push((path.clone(), value));
    if path == "/flaky" {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    } else {
        StatusCode::ACCEPTED.into_response()
    }
}
