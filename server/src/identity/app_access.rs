//! "Check access" for an application mailbox (client credentials, no one
//! signs in): get an app-only token for `{Graph}/.default`, read the
//! mailbox's Inbox through `/users/{address}`, and when both work, record
//! the connection (an access token, no refresh token) so the outbox and the
//! inbox use it. Every step is a line with its verdict and fix; an Exchange
//! application access policy that keeps the app away from this mailbox is
//! told apart from a missing permission.
use super::errors::OAuthError;
use super::graph_target::GraphTarget;
use super::refresh::{Answer, Grant, TokenEndpoint};
use super::Identity;
use crate::db::connections::{Connect, NewConnection};
use crate::db::tenant_emails::TenantEmail;
use crate::db::StoreError;
use app::model::doctor::{CheckOutcome, DoctorCheck, DoctorReport};
use app::model::AccountType;
use app::port::Actor;

const TOKEN: &str = "App-only token";
const MAILBOX: &str = "Reading the mailbox";
const SENDING: &str = "Sending";
const CONNECTED: &str = "Connection";
const MAX_BODY: usize = 64 * 1024;

fn line(name: &str, outcome: CheckOutcome, detail: impl Into<String>) -> DoctorCheck {
    DoctorCheck {
        name: name.into(),
        outcome,
        detail: detail.into(),
        fix: None,
        copy: None,
    }
}

fn fix(mut c: DoctorCheck, fix: impl Into<String>) -> DoctorCheck {
    c.fix = Some(fix.into());
    c
}

fn token_refused(e: &OAuthError) -> String {
    let base = e
        .aadsts()
        .and_then(super::errors::aadsts_explanation)
        .map(str::to_string)
        .unwrap_or_else(|| {
            e.description
                .clone()
                .unwrap_or_else(|| format!("Microsoft answered {}.", e.error))
        });
    match e.aadsts() {
        Some(code) => format!("{base} (AADSTS{code})"),
        None => base,
    }
}

/// Graph's refusal of the read, in the admin's terms.
fn read_refused(
    status: u16,
    code: &str,
    message: &str,
    address: &str,
    client_id: &str,
) -> (String, String) {
    let said = format!("Graph answered HTTP {status} {code}: {message}");
    let fix = match (status, code) {
        (403, _) if message.contains("OData is disabled") => format!(
            "An Exchange application access policy keeps this app away from {address}. Add the mailbox to the policy's mail-enabled security group (Test-ApplicationAccessPolicy -Identity {address} -AppId {client_id} shows the verdict; a change takes up to an hour to apply)."
        ),
        (403, _) => "Give the app registration the Microsoft Graph application permissions Mail.ReadWrite and Mail.Send (API permissions → Application permissions) and grant admin consent.".to_string(),
        (401, _) => "Graph did not accept the token: check that the Cloud matches the tenant's, and the Application ID.".to_string(),
        (404, _) => format!("Check the address: Graph knows no mailbox {address} in this tenant (it must be an Exchange Online mailbox of the tenant in the authority)."),
        _ => "Try again; if it persists, Microsoft's service health may say more.".to_string(),
    };
    (said, fix)
}

impl Identity {
    /// Runs the check for an application mailbox and, when the app may read
    /// it, connects it. `None` when the tenant email does not exist.
    pub async fn check_app_access(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<Option<DoctorReport>, StoreError> {
        let Some(email) = self.store.tenant_emails().get(email_id).await? else {
            return Ok(None);
        };
        if email.tenant_id != tenant_id {
            return Ok(None);
        }
        let checks = self.app_checks(actor, &email).await?;
        Ok(Some(DoctorReport {
            tenant_email_id: email.id.clone(),
            address: email.address().to_string(),
            checks,
        }))
    }

    async fn app_checks(
        &self,
        actor: &Actor,
        email: &TenantEmail,
    ) -> Result<Vec<DoctorCheck>, StoreError> {
        let s = &email.settings;
        if s.account_type != AccountType::Microsoft365App {
            return Ok(vec![line(
                TOKEN,
                CheckOutcome::Skip,
                "This mailbox signs in at Microsoft: use Click to Authenticate.",
            )]);
        }
        let Some(plan) = self.rotation_plan(email).await? else {
            return Ok(vec![fix(
                line(
                    TOKEN,
                    CheckOutcome::Fail,
                    "No client secret or certificate is stored.",
                ),
                "Enter the secret (or create a certificate) on the OAuth2 Configuration tab.",
            )]);
        };
        let resource = self.graph_hosts.resource(s.cloud);
        let scope = format!("{resource}/.default");
        let answer = self
            .call_with_plan(
                &TokenEndpoint::of_settings(email),
                &Grant::ClientCredentials(scope.clone()),
                &plan,
            )
            .await;
        let (access, expires_in) = match answer {
            Answer::Tokens {
                access, expires_in, ..
            } => (access, expires_in.unwrap_or(3600).min(86_400)),
            Answer::Refused(e) => {
                tracing::warn!(tenant_email_id = %email.id, error = %e.error, aadsts = ?e.aadsts(), "check access: app-only token refused");
                return Ok(vec![
                    fix(
                        line(TOKEN, CheckOutcome::Fail, token_refused(&e)),
                        "Fix the Application ID, secret or authority (the tenant itself, not common) on the OAuth2 Configuration tab.",
                    ),
                    line(MAILBOX, CheckOutcome::Skip, "Needs a token."),
                ]);
            }
            Answer::Unreachable(why) => {
                return Ok(vec![
                    line(
                        TOKEN,
                        CheckOutcome::Fail,
                        format!("The token endpoint could not be reached: {why}."),
                    ),
                    line(MAILBOX, CheckOutcome::Skip, "Needs a token."),
                ])
            }
        };
        let mut checks = vec![line(
            TOKEN,
            CheckOutcome::Pass,
            format!("Microsoft issued an app-only token for {scope} (valid {} minutes; Tenant Mail renews it before it expires).", expires_in / 60),
        )];
        let target = match self.graph_target(s) {
            Ok(t) => t,
            Err(e) => {
                let id = crate::reference::logged("check access: Graph target", e);
                checks.push(line(
                    MAILBOX,
                    CheckOutcome::Fail,
                    format!("Internal error {id}."),
                ));
                return Ok(checks);
            }
        };
        if let Err((said, how)) = self.read_inbox(&target, &access, email).await {
            checks.push(fix(line(MAILBOX, CheckOutcome::Fail, said), how));
            return Ok(checks);
        }
        checks.push(line(
            MAILBOX,
            CheckOutcome::Pass,
            format!(
                "The app reads {} through Graph's /users/{}.",
                email.address(),
                email.address()
            ),
        ));
        checks.push(line(
            SENDING,
            CheckOutcome::Warn,
            "Not provable without sending: Send test email proves it (the app needs the Mail.Send application permission). Mail goes out as this mailbox, its copy in this mailbox's Sent Items.",
        ));
        checks.push(
            self.record_app_connection(actor, email, access, expires_in, &scope)
                .await?,
        );
        Ok(checks)
    }

    /// `GET /users/{address}/mailFolders/inbox?$select=id`: the least a
    /// receiving or sending mailbox needs (Mail.Read or Mail.ReadWrite).
    pub(crate) async fn read_inbox(
        &self,
        target: &GraphTarget,
        token: &str,
        email: &TenantEmail,
    ) -> Result<(), (String, String)> {
        let mut url = target.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(target.mailbox_segments())
                .extend(["mailFolders", "inbox"]);
        }
        url.set_query(Some("$select=id"));
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| {
                (
                    format!(
                        "Microsoft Graph could not be reached ({}).",
                        super::discovery::error_kind(&e)
                    ),
                    "Check the server's network access to Microsoft Graph.".to_string(),
                )
            })?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(());
        }
        let body = crate::capped::read(response, MAX_BODY)
            .await
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let code = json["error"]["code"].as_str().unwrap_or_default();
        let message = json["error"]["message"].as_str().unwrap_or_default();
        tracing::warn!(tenant_email_id = %email.id, status, code, "check access: Graph refused the read");
        Err(read_refused(
            status,
            code,
            message,
            email.address(),
            &email.settings.application_id,
        ))
    }

    async fn record_app_connection(
        &self,
        actor: &Actor,
        email: &TenantEmail,
        access: String,
        expires_in: u64,
        scope: &str,
    ) -> Result<DoctorCheck, StoreError> {
        let s = &email.settings;
        let authority = s.authority().to_string();
        // Pinned only when the authority names the tenant by id: a domain is
        // not the tenant id a later sign-in's token carries.
        let tenant = authority
            .rsplit('/')
            .next()
            .filter(|t| app::model::identifiers::is_guid(t))
            .unwrap_or_default()
            .to_string();
        let address = s.address.clone();
        let new = NewConnection {
            tenant_id: email.tenant_id.clone(),
            tenant_email_id: email.id.clone(),
            // No user signs in: the connection is to the mailbox itself.
            oid: address.to_ascii_lowercase(),
            tid: tenant,
            upn: address.clone(),
            display_name: None,
            tenant_name: None,
            client_id: s.application_id.clone(),
            authority,
            token_endpoint: s.token_endpoint.clone(),
            scopes: scope.to_string(),
            access_token: access,
            refresh_token: String::new(),
            expires_at: self.store.now() + chrono::Duration::seconds(expires_in as i64),
        };
        let checked = s.clone();
        let done = self
            .store
            .connections()
            .connect(actor, new, move |now, _| {
                // The settings must still be the ones just checked.
                if now.settings.account_type == AccountType::Microsoft365App
                    && now.settings.cloud == checked.cloud
                    && now.settings.application_id == checked.application_id
                    && now.settings.authority() == checked.authority()
                    && now.address().eq_ignore_ascii_case(&checked.address)
                {
                    Ok(())
                } else {
                    Err(())
                }
            })
            .await?;
        Ok(match done {
            Connect::Done { released, .. } => line(
                CONNECTED,
                CheckOutcome::Pass,
                match released {
                    0 => format!("Connected: Tenant Mail now uses {address} with the application's access."),
                    n => format!("Connected: Tenant Mail now uses {address} with the application's access; {n} held messages are queued again."),
                },
            ),
            Connect::Missing => line(CONNECTED, CheckOutcome::Fail, "The tenant email is gone."),
            Connect::Refused(()) => fix(
                line(CONNECTED, CheckOutcome::Fail, "The settings changed while they were checked."),
                "Check access again.",
            ),
        })
    }
}
