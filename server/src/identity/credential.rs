//! How the app proves itself at the token endpoint: the client secret, or a
//! client assertion (RFC 7523) signed with the certificate's private key,
//! made fresh for each request (its `aud` is the very endpoint called).
use super::certificate;
use super::Identity;
use crate::db::tenant_emails::TenantEmail;
use crate::db::StoreError;
use chrono::{DateTime, Utc};
use oauth2::ClientSecret;
use zeroize::Zeroizing;

/// RFC 7523 §2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub enum ClientCredential {
    Secret(Zeroizing<String>),
    Certificate {
        key_pem: Zeroizing<String>,
        certificate_pem: String,
    },
}

impl std::fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientCredential::Secret(_) => "ClientCredential::Secret(<redacted>)",
            ClientCredential::Certificate { .. } => "ClientCredential::Certificate(<redacted>)",
        })
    }
}

impl ClientCredential {
    /// For the `oauth2` client: the secret, when it is one.
    pub fn secret(&self) -> Option<ClientSecret> {
        match self {
            ClientCredential::Secret(s) => Some(ClientSecret::new(s.to_string())),
            ClientCredential::Certificate { .. } => None,
        }
    }

    /// The form fields that authenticate a request to `token_url`: the
    /// secret, or `client_assertion_type` and a new `client_assertion`.
    pub fn form_fields(
        &self,
        client_id: &str,
        token_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(&'static str, Zeroizing<String>)>, String> {
        Ok(match self {
            ClientCredential::Secret(s) => vec![("client_secret", s.clone())],
            ClientCredential::Certificate {
                key_pem,
                certificate_pem,
            } => vec![
                (
                    "client_assertion_type",
                    Zeroizing::new(ASSERTION_TYPE.into()),
                ),
                (
                    "client_assertion",
                    Zeroizing::new(certificate::assertion(
                        key_pem,
                        certificate_pem,
                        client_id,
                        token_url,
                        now,
                    )?),
                ),
            ],
        })
    }

    /// Only the assertion fields (a secret travels through the `oauth2` client).
    pub fn assertion_fields(
        &self,
        client_id: &str,
        token_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(&'static str, String)>, String> {
        match self {
            ClientCredential::Secret(_) => Ok(Vec::new()),
            ClientCredential::Certificate { .. } => Ok(self
                .form_fields(client_id, token_url, now)?
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect()),
        }
    }

    /// What `client_secret` holds for `email`: the secret, or the private
    /// key of its certificate.
    pub fn stored(value: Zeroizing<String>, email: &TenantEmail) -> Self {
        match &email.certificate {
            None => ClientCredential::Secret(value),
            Some(c) => ClientCredential::Certificate {
                key_pem: value,
                certificate_pem: c.pem.clone(),
            },
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ClientCredential::Secret(_) => "secret",
            ClientCredential::Certificate { .. } => "certificate",
        }
    }
}

impl Identity {
    /// The mailbox's credential in use; `None` when none is stored yet.
    pub async fn credential(
        &self,
        email: &TenantEmail,
    ) -> Result<Option<ClientCredential>, StoreError> {
        let Some(sealed_value) = self.store.tenant_emails().client_secret(&email.id).await? else {
            return Ok(None);
        };
        Ok(Some(ClientCredential::stored(
            Zeroizing::new(sealed_value),
            email,
        )))
    }
}
