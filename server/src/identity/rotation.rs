//! Secret rotation without downtime. A mailbox may hold a next client secret
//! beside the one in use; every request to the token endpoint (code
//! redemption, refresh, client credentials) goes through a [`Plan`]:
//!
//! - normally the secret in use first, and the next one only when Microsoft
//!   refuses the first as wrong or expired (AADSTS7000215 / 7000222, both
//!   `invalid_client`);
//! - the next one first once the secret in use is within
//!   [`ROTATE_WITHIN_DAYS`] of the end date the admin recorded, falling back
//!   to the current one if Microsoft refuses the next.
//!
//! A next secret Microsoft accepts is promoted (audited, compare-and-set), and
//! nothing else changes: the connection, its status and the queued mail stay
//! as they are, so the rotation is invisible except in the audit log.
use super::credential::ClientCredential;
use super::errors::{Failure, OAuthError};
use super::exchange::{self, Tokens};
use super::Identity;
use crate::db::flows::Flow;
use crate::db::tenant_emails::{days_until, OpenedNextSecret, TenantEmail};
use crate::db::StoreError;
use zeroize::Zeroizing;

/// Move to the next secret this many days before the current one's end date.
pub const ROTATE_WITHIN_DAYS: i64 = 14;

/// AADSTS codes of a secret Microsoft will never accept again.
const SECRET_REFUSED: [u64; 2] = [7000215, 7000222];

/// One credential to try, and whether it is the next secret.
pub(crate) struct Attempt {
    pub credential: ClientCredential,
    next: Option<OpenedNextSecret>,
}

/// The credentials to present, in order, and why in that order.
pub(crate) struct Plan {
    pub attempts: Vec<Attempt>,
    /// Days left on the secret in use when the next one goes first.
    expiring_in: Option<i64>,
    /// The row's version the plan was read at: a promotion applies only to it.
    version: i32,
}

impl Plan {
    /// After attempt `index` was refused with `e`: is another worth making?
    pub fn try_another(&self, index: usize, e: &OAuthError) -> bool {
        if index + 1 >= self.attempts.len() {
            return false;
        }
        let is_next = self.attempts[index].next.is_some();
        if is_next {
            // The next secret went first and was refused: the current one
            // is still valid until its end date.
            e.error == "invalid_client"
        } else {
            e.error == "invalid_client" && e.aadsts().is_some_and(|c| SECRET_REFUSED.contains(&c))
        }
    }

    /// The refusal to report when every attempt was refused: the one of the
    /// secret in use (the next secret's is logged) — unless Microsoft got
    /// past the next secret and refused the grant itself (`invalid_grant`,
    /// consent…): that is the real problem, and no secret fixes it.
    pub fn reported<'a>(&self, refusals: &'a [OAuthError]) -> Option<&'a OAuthError> {
        let next = self.attempts.iter().position(|a| a.next.is_some());
        if let Some(e) = next.and_then(|i| refusals.get(i)) {
            if e.error != "invalid_client" {
                return Some(e);
            }
        }
        let current = self.attempts.iter().position(|a| a.next.is_none())?;
        refusals.get(current).or_else(|| refusals.last())
    }
}

impl Identity {
    /// The plan for `email`; `None` when no credential is stored at all.
    pub(crate) async fn rotation_plan(
        &self,
        email: &TenantEmail,
    ) -> Result<Option<Plan>, StoreError> {
        // Both in one read: a promotion by another instance is seen whole.
        let (current, next) = self.store.tenant_emails().both_secrets(&email.id).await?;
        let Some(value) = current else {
            return Ok(None);
        };
        let current = ClientCredential::stored(value, email);
        // The slot holds a secret: it follows a secret, not a certificate.
        let next = next.filter(|_| email.certificate.is_none());
        let today = self.store.now().date_naive();
        let left = days_until(email.settings.secret_expires_on, today);
        let next_outlives = match (&email.next_secret, email.settings.secret_expires_on) {
            (Some(n), Some(current_end)) => n.expires_on.is_none_or(|end| end > current_end),
            _ => false,
        };
        let expiring_in =
            left.filter(|d| *d <= ROTATE_WITHIN_DAYS && next_outlives && next.is_some());
        let current = Attempt {
            credential: current,
            next: None,
        };
        let attempts = match next {
            None => vec![current],
            Some(opened) => {
                let next = Attempt {
                    credential: ClientCredential::Secret(Zeroizing::new(opened.plain.to_string())),
                    next: Some(opened),
                };
                if expiring_in.is_some() {
                    vec![next, current]
                } else {
                    vec![current, next]
                }
            }
        };
        Ok(Some(Plan {
            attempts,
            expiring_in,
            version: email.version,
        }))
    }

    /// The same, by id (the callback has the flow, not the row).
    pub(crate) async fn rotation_plan_of(
        &self,
        email_id: &str,
    ) -> Result<Option<Plan>, StoreError> {
        match self.store.tenant_emails().get(email_id).await? {
            Some(email) => self.rotation_plan(&email).await,
            None => Ok(None),
        }
    }

    /// The code redeemed with each credential of the plan in turn (Microsoft
    /// authenticates the client before it looks at the code, so a refused
    /// secret leaves the code unspent); a next secret that works is promoted.
    pub(crate) async fn redeem_code(
        &self,
        flow: &Flow,
        plan: &Plan,
        code: &str,
        verifier: String,
    ) -> Result<Tokens, Failure> {
        let mut refusals = Vec::new();
        for (index, attempt) in plan.attempts.iter().enumerate() {
            let redeemed = exchange::redeem_code(
                &self.http,
                flow,
                &attempt.credential,
                code,
                verifier.clone(),
                self.store.now(),
            )
            .await;
            match redeemed {
                Err(Failure::Token(e)) => {
                    log_refused(&flow.tenant_email_id, plan, index, &e);
                    let again = plan.try_another(index, &e);
                    refusals.push(e);
                    if !again {
                        break;
                    }
                }
                Ok(tokens) => {
                    self.accepted(&flow.tenant_email_id, plan, index, refusals.first())
                        .await;
                    return Ok(tokens);
                }
                Err(other) => return Err(other),
            }
        }
        Err(match plan.reported(&refusals) {
            Some(e) => Failure::Token(e.clone()),
            None => Failure::NotConnectable("Enter and save the client secret first.".into()),
        })
    }

    /// Microsoft accepted attempt `index`: when it was the next secret, it
    /// becomes the one in use. `refused` is what the secret in use got, if it
    /// was tried. Best effort: a failed promotion is logged and retried on
    /// the next request (the slot is still there).
    pub(crate) async fn accepted(
        &self,
        email_id: &str,
        plan: &Plan,
        index: usize,
        refused: Option<&OAuthError>,
    ) {
        let Some(next) = plan.attempts.get(index).and_then(|a| a.next.as_ref()) else {
            return;
        };
        let why = match (refused.and_then(OAuthError::aadsts), plan.expiring_in) {
            (Some(code), _) => format!(
                "Microsoft refused the secret in use (AADSTS{code}); the next secret was accepted and is now in use"
            ),
            (None, Some(days)) if days >= 0 => format!(
                "the secret in use ends in {days} days; the next secret was accepted and is now in use"
            ),
            (None, Some(days)) => format!(
                "the secret in use ended {} days ago; the next secret was accepted and is now in use",
                -days
            ),
            (None, _) => "the next secret was accepted and is now in use".to_string(),
        };
        match self
            .store
            .tenant_emails()
            .promote_next_secret(email_id, next, plan.version, &why)
            .await
        {
            Ok(true) => {
                tracing::info!(tenant_email_id = %email_id, %why, "next client secret promoted");
                crate::telemetry::secret_rotated();
            }
            Ok(false) => {
                tracing::info!(tenant_email_id = %email_id, "next client secret changed meanwhile; not promoted")
            }
            Err(e) => {
                crate::reference::logged("rotation: promote the next secret", e);
            }
        }
    }
}

/// Logs a refusal of the next secret (the admin sees the current one's).
pub(crate) fn log_refused(email_id: &str, plan: &Plan, index: usize, e: &OAuthError) {
    if plan.attempts.get(index).is_some_and(|a| a.next.is_some()) {
        tracing::warn!(tenant_email_id = %email_id, error = %e.error, aadsts = ?e.aadsts(), "Microsoft refused the next client secret");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(error: &str, code: Option<u64>) -> OAuthError {
        OAuthError {
            error: error.into(),
            codes: code.into_iter().collect(),
            ..OAuthError::default()
        }
    }

    fn plan(next_first: bool) -> Plan {
        let secret = |s: &str| ClientCredential::Secret(Zeroizing::new(s.into()));
        let next = Attempt {
            credential: secret("next"),
            next: Some(OpenedNextSecret {
                plain: Zeroizing::new("next".into()),
                sealed: "sealed".into(),
            }),
        };
        let current = Attempt {
            credential: secret("current"),
            next: None,
        };
        Plan {
            attempts: if next_first {
                vec![next, current]
            } else {
                vec![current, next]
            },
            expiring_in: next_first.then_some(3),
            version: 1,
        }
    }

    #[test]
    fn the_next_secret_only_after_a_wrong_or_expired_one() {
        let p = plan(false);
        assert!(p.try_another(0, &refusal("invalid_client", Some(7000222))));
        assert!(p.try_another(0, &refusal("invalid_client", Some(7000215))));
        // Not the secret's fault: the next one would fare no better.
        assert!(!p.try_another(0, &refusal("invalid_grant", Some(70008))));
        assert!(!p.try_another(0, &refusal("invalid_client", Some(700016))));
        assert!(!p.try_another(1, &refusal("invalid_client", Some(7000222))));
    }

    #[test]
    fn an_early_next_secret_falls_back_to_the_current_one() {
        let p = plan(true);
        assert!(p.try_another(0, &refusal("invalid_client", Some(7000215))));
        assert!(!p.try_another(0, &refusal("invalid_grant", None)));
        let refusals = [
            refusal("invalid_client", Some(7000215)),
            refusal("invalid_client", Some(7000222)),
        ];
        assert_eq!(
            p.reported(&refusals).and_then(|e| e.aadsts()),
            Some(7000222)
        );
        let p = plan(false);
        assert_eq!(
            p.reported(&refusals).and_then(|e| e.aadsts()),
            Some(7000215)
        );
    }
}
