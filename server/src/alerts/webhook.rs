//! Webhook deliveries: the batch's alerts as one JSON POST, signed the way
//! Stripe and GitHub sign theirs, so a receiver can tell it came from this
//! server and is fresh:
//!
//! `Tenant-Mail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//!
//! `Tenant-Mail-Delivery` carries the batch id, the same on every retry, so
//! a receiver that saw it already can drop the copy.
use super::event::AlertEvent;
use crate::db::alerts::Outcome;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "tenant-mail-signature";
pub const DELIVERY_HEADER: &str = "tenant-mail-delivery";
/// A receiver's answer is read up to this much, then dropped.
const MAX_ANSWER: usize = 64 * 1024;

#[derive(serde::Serialize)]
struct Body<'a> {
    delivery_id: &'a str,
    alerts: &'a [AlertEvent],
}

/// `t=…,v1=…` for `body` signed with `secret` at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Posts the batch; a 2xx answer is a delivery, anything else a retry.
pub async fn deliver(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    batch_id: &str,
    events: &[AlertEvent],
    now: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    let body = match serde_json::to_vec(&Body {
        delivery_id: batch_id,
        alerts: events,
    }) {
        Ok(b) => b,
        Err(e) => return Outcome::Retry(format!("cannot encode the alerts: {e}")),
    };
    let answer = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(secret, now.timestamp(), &body))
        .header(DELIVERY_HEADER, batch_id)
        .body(body)
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = response.status();
            // Read (a little of) the answer so the connection can be reused.
            let _ = crate::capped::read(response, MAX_ANSWER).await;
            if status.is_success() {
                Outcome::Delivered(format!("HTTP {}", status.as_u16()))
            } else {
                Outcome::Retry(format!("the webhook answered HTTP {}", status.as_u16()))
            }
        }
        Err(e) if e.is_timeout() => Outcome::Retry("the webhook did not answer in time".into()),
        Err(e) if e.is_connect() => Outcome::Retry("cannot connect to the webhook URL".into()),
        Err(_) => Outcome::Retry("the request to the webhook failed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231-style check: recomputed independently with the hmac crate's verifier.
        let sig = signature("whsec_test", 1_700_000_000, b"{\"a\":1}");
        let hex = sig.strip_prefix("t=1700000000,v1=").unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        assert!(mac.verify_slice(&bytes).is_ok());
        assert_ne!(sig, signature("other", 1_700_000_000, b"{\"a\":1}"));
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, b"{\"a\":1}"));
    }
}
