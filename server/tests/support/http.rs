//! Talking to Tenant Mail over HTTP like a browser or an API client.
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// The public origin every test config uses (see `db::config`).
pub const ORIGIN: &str = "http://localhost:3000";

/// Serves a router on a free loopback port, with the peer address known (as `main` does).
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    format!("http://{addr}")
}

/// A browser-like client: keeps cookies, does not follow redirects, and sends
/// the app's own Origin like a same-origin page would.
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        reqwest::header::HeaderValue::from_static(ORIGIN),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A stalled answer fails the test with its URL instead of holding CI.
        .timeout(std::time::Duration::from_secs(120))
        .default_headers(headers)
        .build()
        .unwrap()
}

/// An answer read whole: status, headers and body text.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn of(response: reqwest::Response) -> Reply {
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// From an in-process (`oneshot`) call.
    pub async fn of_axum(response: axum::response::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Calls the server function `f` with a JSON body.
pub async fn call(
    client: &reqwest::Client,
    base: &str,
    f: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = client
        .post(format!("{base}/api/{f}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let reply = Reply::of(r).await;
    (reply.status, reply.json())
}
