//! Graph limits (4 concurrent per mailbox, request budget) and injected faults.

mod common;

use common::*;
use ms_stand_in::{Fault, FaultSpec, Limits};
use serde_json::{json, Value};

async fn token(f: &Fixture) -> String {
    f.tokens_for(MAILBOX).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn send_body(subject: &str) -> Value {
    json!({"message": {
        "subject": subject,
        "body": {"contentType": "Text", "content": "x"},
        "toRecipients": [{"emailAddress": {"address": "customer@example.org"}}],
    }})
}

#[tokio::test]
async fn fifth_concurrent_request_gets_429_mailbox_concurrency() {
    let f = fixture().await;
    let token = token(&f).await;
    f.stand_in.add_fault(FaultSpec {
        endpoint: "me".into(),
        count: 4,
        fault: Fault::Delay { millis: 1500 },
    });
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let http = f.http.clone();
        let url = f.graph("/me");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, retry, r.json::<Value>().await.unwrap())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let throttled: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert_eq!(throttled.len(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|r| r.0 == 200).count(), 4);
    let (_, retry, body) = throttled[0];
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "ApplicationThrottled");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("MailboxConcurrency"));
    assert_eq!(f.stand_in.ledger().concurrency_high_water[MAILBOX], 4);
    // Slots are released afterwards.
    let r = f
        .http
        .get(f.graph("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn request_budget_gives_429_too_many_requests_until_the_window_ends() {
    let f = fixture().await;
    let token = token(&f).await;
    f.stand_in.set_limits(Limits {
        request_budget: 3,
        window_seconds: 600,
        ..Limits::default()
    });
    for _ in 0..3 {
        let r = f
            .http
            .get(f.graph("/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = f
        .http
        .get(f.graph("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "600");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    f.stand_in.advance(std::time::Duration::from_secs(600));
    let r = f
        .http
        .get(f.graph("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn injected_429_and_503_on_send_mail_do_not_send() {
    let f = fixture().await;
    let token = token(&f).await;
    f.stand_in.add_fault(FaultSpec {
        endpoint: "sendMail".into(),
        count: 1,
        fault: Fault::TooManyRequests {
            retry_after: "2.5".into(),
        },
    });
    f.stand_in.add_fault(FaultSpec {
        endpoint: "sendMail".into(),
        count: 1,
        fault: Fault::ServiceUnavailable { retry_after: None },
    });
    let send = || {
        f.http
            .post(f.graph("/me/sendMail"))
            .bearer_auth(&token)
            .json(&send_body("s"))
            .send()
    };
    let r = send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2.5");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "TooManyRequests"
    );
    let r = send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_none());
    assert!(f.stand_in.ledger().sent.is_empty());
    assert_eq!(send().await.unwrap().status(), 202);
    assert_eq!(f.stand_in.ledger().sent[0].send_count, 1);
    assert!(f.stand_in.faults().is_empty());
}

#[tokio::test]
async fn dropped_connection_before_body_sends_nothing_after_body_sends() {
    let f = fixture().await;
    let token = token(&f).await;
    f.stand_in.add_fault(FaultSpec {
        endpoint: "sendMail".into(),
        count: 1,
        fault: Fault::DropBeforeBody,
    });
    let r = f
        .http
        .post(f.graph("/me/sendMail"))
        .bearer_auth(&token)
        .json(&send_body("a"))
        .send()
        .await;
    assert!(r.is_err(), "connection must drop: {r:?}");
    assert!(f.stand_in.ledger().sent.is_empty());

    f.stand_in.add_fault(FaultSpec {
        endpoint: "sendMail".into(),
        count: 1,
        fault: Fault::DropAfterBody,
    });
    let r = f
        .http
        .post(f.graph("/me/sendMail"))
        .bearer_auth(&token)
        .json(&send_body("b"))
        .send()
        .await;
    assert!(r.is_err(), "connection must drop: {r:?}");
    let ledger = f.stand_in.ledger();
    assert_eq!(
        ledger.sent.len(),
        1,
        "the mail went out although the client saw an error"
    );
    assert_eq!(ledger.sent[0].subject, "b");
}

#[tokio::test]
async fn token_endpoint_faults_use_entra_shape() {
    let f = fixture().await;
    let code = f.code_for(MAILBOX).await;
    f.stand_in.add_fault(FaultSpec {
        endpoint: "token".into(),
        count: 1,
        fault: Fault::ServiceUnavailable {
            retry_after: Some("3".into()),
        },
    });
    let r = f.redeem(&code).await;
    assert_eq!(r.headers()["retry-after"], "3");
    assert_entra_error(r, 503, "temporarily_unavailable", 90033).await;
    assert_eq!(
        f.redeem(&code).await.status(),
        200,
        "the code survived the failed attempt"
    );
}
