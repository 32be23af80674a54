//! Subscription tests' fixture: a stand-in, a mailbox token and a [`Receiver`] to notify.

use std::time::Duration;

use ms_stand_in::{Address, IncomingMail};
use serde_json::{json, Value};

use super::receiver::Receiver;
use super::{fixture, Fixture, MAILBOX};

pub const SOON: Duration = Duration::from_secs(2);
/// How long to wait before concluding that nothing more will arrive.
pub const QUIET: Duration = Duration::from_millis(400);
pub const STATE: &str = "secret-client-state";
/// One day after the manual clock's start.
pub const TOMORROW: &str = "2025-01-02T00:00:00Z";

pub struct Subs {
    pub f: Fixture,
    pub token: String,
    pub hooks: Receiver,
}

pub async fn subs() -> Subs {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    Subs {
        f,
        token,
        hooks: Receiver::start().await,
    }
}

impl Subs {
    pub fn body(&self, path: &str, resource: &str) -> Value {
        json!({
            "changeType": "created",
            "notificationUrl": self.hooks.url(path),
            "lifecycleNotificationUrl": self.hooks.url("/lifecycle"),
            "resource": resource,
            "expirationDateTime": TOMORROW,
            "clientState": STATE,
        })
    }

    pub async fn create(&self, body: Value) -> reqwest::Response {
        self.send(self.f.http.post(self.f.graph("/subscriptions")).json(&body))
            .await
    }

    /// Creates an inbox subscription notifying `path`; returns its id.
    pub async fn subscribe(&self, path: &str) -> String {
        let r = self
            .create(self.body(path, "me/mailFolders('inbox')/messages"))
            .await;
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        request.bearer_auth(&self.token).send().await.unwrap()
    }

    pub fn deliver(&self, subject: &str, folder: Option<&str>) -> String {
        self.f
            .stand_in
            .deliver(IncomingMail {
                to_user: MAILBOX.into(),
                folder: folder.map(str::to_owned),
                from: Address {
                    name: "Sender".into(),
                    address: "sender@example.org".into(),
                },
                subject: subject.into(),
                ..IncomingMail::default()
            })
            .unwrap()
    }

    /// The REST id of the newest message in `folder`.
    pub async fn newest_rest_id(&self, folder: &str) -> String {
        let url = self.f.graph(&format!("/me/mailFolders/{folder}/messages"));
        let list: Value = self.send(self.f.http.get(url)).await.json().await.unwrap();
        list["value"][0]["id"].as_str().unwrap().to_owned()
    }
}

pub async fn assert_graph_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}
