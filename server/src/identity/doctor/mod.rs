//! The pre-flight doctor: everything that must hold for a mailbox's mail to
//! flow, checked one by one with a plain verdict and the fix — authority
//! discovery, the redirect URI, the app's credentials (an app-only token
//! request, no user needed), the scopes required against those granted,
//! the token, the mailbox answering, and the clock. Read-only: it changes
//! no setting, connection or token (a refresh it causes is an ordinary one).
mod probes;
pub mod scopes;

use super::discovery;
use super::Identity;
use crate::db::connections::Connection;
use crate::db::tenant_emails::TenantEmail;
use crate::db::StoreError;
use app::model::doctor::{CheckOutcome, DoctorCheck, DoctorReport};
use probes::RedirectVerdict;

/// Clocks further apart than this break token lifetimes and signatures.
const MAX_SKEW_SECONDS: i64 = 300;

fn check(name: &str, outcome: CheckOutcome, detail: impl Into<String>) -> DoctorCheck {
    DoctorCheck {
        name: name.into(),
        outcome,
        detail: detail.into(),
        fix: None,
        copy: None,
    }
}

fn with_fix(mut c: DoctorCheck, fix: impl Into<String>) -> DoctorCheck {
    c.fix = Some(fix.into());
    c
}

/// A multi-tenant authority (`common`, `organizations`, `consumers`) names no
/// tenant: app-only requests need the connection's own tenant instead.
fn tenant_authority(authority: &str, connection: Option<&Connection>) -> Option<String> {
    let (base, last) = authority.rsplit_once('/')?;
    match last.to_ascii_lowercase().as_str() {
        "common" | "organizations" | "consumers" => connection.map(|c| format!("{base}/{}", c.tid)),
        _ => Some(authority.to_string()),
    }
}

impl Identity {
    /// The doctor's report for one mailbox; `None` when it does not exist.
    pub async fn doctor(&self, email_id: &str) -> Result<Option<DoctorReport>, StoreError> {
        let Some(email) = self.store.tenant_emails().get(email_id).await? else {
            return Ok(None);
        };
        let connection = self.store.connections().get(email_id).await?;
        let signs_in = email.settings.account_type.signs_in();
        let mut checks = vec![self.discovery_check(&email).await];
        if signs_in {
            checks.push(self.redirect_check(&email).await);
        }
        checks.extend(self.credentials_checks(&email, connection.as_ref()).await?);
        if signs_in {
            checks.push(scopes_check(&email, connection.as_ref()));
        } else {
            checks.push(check(
                "Permissions",
                CheckOutcome::Pass,
                format!(
                    "Application access: Tenant Mail asks for {}/.default, the application permissions granted to the app (Mail.ReadWrite and Mail.Send; the mailbox check below proves reading).",
                    self.graph_hosts.resource(email.settings.cloud)
                ),
            ));
        }
        checks.extend(
            self.token_and_mailbox_checks(&email, connection.as_ref())
                .await,
        );
        Ok(Some(DoctorReport {
            tenant_email_id: email.id.clone(),
            address: email.address().to_string(),
            checks,
        }))
    }

    async fn discovery_check(&self, email: &TenantEmail) -> DoctorCheck {
        const NAME: &str = "Authority discovery";
        let authority = email.settings.authority();
        match discovery::discover(&self.http, authority).await {
            Ok(d) => {
                // A tenant-specific authority must lead to that tenant's issuer.
                let segment = authority.rsplit('/').next().unwrap_or_default();
                let guid = uuid::Uuid::parse_str(segment).is_ok();
                if guid && !d.issuer.contains(segment) {
                    with_fix(
                        check(NAME, CheckOutcome::Fail, format!("{authority} answers with the issuer {}, which is another tenant.", d.issuer)),
                        "Check the Directory (tenant) ID in the Authentication Authority URL.",
                    )
                } else {
                    check(NAME, CheckOutcome::Pass, format!("{} answered; issuer {}.", discovery::discovery_url(authority), d.issuer))
                }
            }
            Err(f) => with_fix(
                check(NAME, CheckOutcome::Fail, f.explanation()),
                "Check the Authentication Authority URL (https://login.microsoftonline.com/<tenant id or domain>) and that this server can reach it.",
            ),
        }
    }

    async fn redirect_check(&self, email: &TenantEmail) -> DoctorCheck {
        const NAME: &str = "Redirect URI";
        let s = &email.settings;
        let url = super::client::join_endpoint(s.authority(), &s.authorization_endpoint);
        let mut c = match probes::authorize(&self.http, &url, &s.application_id, &self.redirect_uri).await {
            RedirectVerdict::Accepted => check(NAME, CheckOutcome::Pass, format!("Microsoft accepts {} for this app.", self.redirect_uri)),
            RedirectVerdict::Refused(code) => with_fix(
                check(NAME, CheckOutcome::Fail, format!(
                    "Microsoft refused the sign-in request: {} (AADSTS{code})",
                    super::errors::aadsts_explanation(code).unwrap_or("see Microsoft's error code")
                )),
                "In Microsoft Entra → App registrations → this app → Authentication, add a Web platform redirect URI exactly as below (and check the Application ID).",
            ),
            RedirectVerdict::Unreachable(why) => with_fix(
                check(NAME, CheckOutcome::Fail, format!("The authorization endpoint {url} cannot be reached: {why}")),
                "Check the Authorization endpoint and the Authentication Authority URL.",
            ),
        };
        c.copy = Some(self.redirect_uri.clone());
        c
    }

    /// The app's credentials, and the clock read from the same answer.
    async fn credentials_checks(
        &self,
        email: &TenantEmail,
        connection: Option<&Connection>,
    ) -> Result<Vec<DoctorCheck>, StoreError> {
        const NAME: &str = "Application ID and secret";
        const CLOCK: &str = "Clock";
        let Some(credential) = self.credential(email).await? else {
            return Ok(vec![
                with_fix(
                    check(NAME, CheckOutcome::Fail, "No client secret or certificate is stored."),
                    "Enter the secret (or create a certificate) on the OAuth2 Configuration tab and save.",
                ),
                check(
                    CLOCK,
                    CheckOutcome::Skip,
                    "Needs an answer from the token endpoint.",
                ),
            ]);
        };
        let s = &email.settings;
        let Some(authority) = tenant_authority(s.authority(), connection) else {
            return Ok(vec![
                check(NAME, CheckOutcome::Skip, "The authority (common / organizations) names no tenant, and the mailbox is not connected yet: the secret is proved at the first Click to Authenticate."),
                check(CLOCK, CheckOutcome::Skip, "Needs an answer from the token endpoint."),
            ]);
        };
        let resource = self.graph_hosts.resource(s.cloud);
        let verdict = probes::client_credentials(
            &self.http,
            &authority,
            &s.token_endpoint,
            &s.application_id,
            &credential,
            &resource,
            self.store.now(),
        )
        .await;
        let verdict = match verdict {
            Ok(v) => v,
            Err(why) => {
                return Ok(vec![
                    with_fix(
                        check(
                            NAME,
                            CheckOutcome::Fail,
                            format!("The token endpoint cannot be reached: {why}"),
                        ),
                        "Check the Token endpoint and the Authentication Authority URL.",
                    ),
                    check(
                        CLOCK,
                        CheckOutcome::Skip,
                        "Needs an answer from the token endpoint.",
                    ),
                ])
            }
        };
        let credentials = match &verdict.result {
            Ok(()) => check(NAME, CheckOutcome::Pass, "Microsoft accepts the Application ID and secret (an app-only token request succeeded)."),
            Err(e) => with_fix(
                check(NAME, CheckOutcome::Fail, super::errors::Failure::Token(e.clone()).explanation()),
                "Create a new client secret in Microsoft Entra (Certificates & secrets), copy its Value (not its ID) into Secret key, and save.",
            ),
        };
        let clock = match verdict.server_time {
            None => check(
                CLOCK,
                CheckOutcome::Skip,
                "The token endpoint sent no Date header.",
            ),
            Some(theirs) => {
                let skew = (self.store.now() - theirs).num_seconds();
                if skew.abs() > MAX_SKEW_SECONDS {
                    with_fix(
                        check(CLOCK, CheckOutcome::Fail, format!("This server's clock is {skew} s off Microsoft's.")),
                        "Synchronise the server's clock (NTP): tokens and signatures fail beyond a few minutes.",
                    )
                } else {
                    check(
                        CLOCK,
                        CheckOutcome::Pass,
                        format!("Within {} s of Microsoft's clock.", skew.abs().max(1)),
                    )
                }
            }
        };
        let mut checks = vec![credentials, clock];
        checks.extend(self.next_secret_check(email, &authority, &resource).await?);
        Ok(checks)
    }

    /// The stored next secret, tried the same way: an admin learns it is
    /// wrong now, not on the day the rotation needs it.
    async fn next_secret_check(
        &self,
        email: &TenantEmail,
        authority: &str,
        resource: &str,
    ) -> Result<Option<DoctorCheck>, StoreError> {
        const NAME: &str = "Next secret";
        if email.certificate.is_some() {
            return Ok(None);
        }
        let Some(next) = self
            .store
            .tenant_emails()
            .next_client_secret(&email.id)
            .await?
        else {
            return Ok(None);
        };
        let s = &email.settings;
        let credential = super::credential::ClientCredential::Secret(next.plain.clone());
        let verdict = probes::client_credentials(
            &self.http,
            authority,
            &s.token_endpoint,
            &s.application_id,
            &credential,
            resource,
            self.store.now(),
        )
        .await;
        Ok(Some(match verdict.map(|v| v.result) {
            Ok(Ok(())) => check(
                NAME,
                CheckOutcome::Pass,
                format!(
                    "Microsoft accepts the next secret too: it takes over when the secret in use is refused or within {} days of its end date.",
                    super::rotation::ROTATE_WITHIN_DAYS
                ),
            ),
            Ok(Err(e)) => with_fix(
                check(NAME, CheckOutcome::Fail, super::errors::Failure::Token(e).explanation()),
                "Store the next secret's Value again (Azure → App registrations → Certificates & secrets), or remove it: a refused next secret is never used.",
            ),
            Err(why) => check(
                NAME,
                CheckOutcome::Skip,
                format!("The token endpoint cannot be reached: {why}"),
            ),
        }))
    }

    async fn token_and_mailbox_checks(
        &self,
        email: &TenantEmail,
        connection: Option<&Connection>,
    ) -> Vec<DoctorCheck> {
        const TOKEN: &str = "Token";
        const MAILBOX: &str = "Mailbox answers";
        let signs_in = email.settings.account_type.signs_in();
        if connection.is_none() {
            return vec![
                with_fix(
                    check(TOKEN, CheckOutcome::Fail, "Not connected."),
                    if signs_in {
                        "Click to Authenticate and sign in as the mailbox."
                    } else {
                        "Click Check access."
                    },
                ),
                check(MAILBOX, CheckOutcome::Skip, "Needs a token."),
            ];
        }
        let token = match self.access_token(&email.id).await {
            Ok(t) => t,
            Err(e) => {
                return vec![
                    with_fix(check(TOKEN, CheckOutcome::Fail, e.to_string()), "Follow the reason above; a re-authentication (Click to RE Authenticate) fixes an expired or revoked grant."),
                    check(MAILBOX, CheckOutcome::Skip, "Needs a token."),
                ]
            }
        };
        let valid = check(
            TOKEN,
            CheckOutcome::Pass,
            format!(
                "A valid access token is at hand (until {}); it is refreshed when due.",
                token.expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
        );
        if !signs_in {
            let mailbox = match self.read_inbox(&token.graph, &token.token, email).await {
                Ok(()) => check(
                    MAILBOX,
                    CheckOutcome::Pass,
                    format!("The app reads {} through Graph.", email.address()),
                ),
                Err((said, fix)) => with_fix(check(MAILBOX, CheckOutcome::Fail, said), fix),
            };
            return vec![valid, mailbox];
        }
        let mailbox = match super::me::me(&self.http, token.graph.base.as_str(), &token.token).await
        {
            Ok(me) => check(
                MAILBOX,
                CheckOutcome::Pass,
                format!(
                    "Microsoft Graph answers as {}.",
                    me.user_principal_name.or(me.mail).unwrap_or(me.id)
                ),
            ),
            Err(f) => with_fix(
                check(MAILBOX, CheckOutcome::Fail, f.explanation()),
                "Check that the account has an Exchange Online mailbox and a licence.",
            ),
        };
        vec![valid, mailbox]
    }
}

fn scopes_check(email: &TenantEmail, connection: Option<&Connection>) -> DoctorCheck {
    const NAME: &str = "Scopes";
    let s = &email.settings;
    let need = scopes::required(s);
    let configured_missing = scopes::missing(&need, &s.scopes);
    let granted = connection.map(|c| c.scopes.as_str());
    let mut detail = format!(
        "Required for {}: {}. Configured: {}.",
        s.direction.label(),
        need.join(" "),
        s.scopes
    );
    if let Some(g) = granted {
        detail.push_str(&format!(" Granted at the last sign-in: {g}."));
    }
    let granted_missing = granted
        .map(|g| scopes::missing_from_grant(&need, g))
        .unwrap_or_default();
    if !configured_missing.is_empty() {
        return with_fix(
            check(NAME, CheckOutcome::Fail, detail),
            format!("Add {} to Scopes on the OAuth2 Configuration tab, save, and Click to RE Authenticate.", configured_missing.join(" ")),
        );
    }
    if !granted_missing.is_empty() {
        return with_fix(
            check(NAME, CheckOutcome::Fail, detail),
            format!("The last sign-in did not grant {}: Click to RE Authenticate (an administrator may have to consent).", granted_missing.join(" ")),
        );
    }
    check(NAME, CheckOutcome::Pass, detail)
}
