//! What can go wrong while connecting, and what the admin reads about it.
//!
//! Microsoft's answers are classified by the OAuth `error` field (RFC 6749
//! §4.1.2.1 and §5.2); AADSTS codes only pick the plain-language explanation
//! (from `MICROSOFT.md`) and are never used for control flow.

/// A connect attempt that did not end in a stored connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The callback request itself is malformed (repeated parameter, too long, no state).
    BadRequest(String),
    /// Unknown, replayed or already used state: no token request was made.
    FlowUnknown,
    FlowExpired,
    /// The flow cookie is missing or belongs to another browser.
    OtherBrowser,
    /// `iss` on the callback is not the flow's issuer (RFC 9207 mix-up defence).
    IssuerMismatch,
    /// The authorize endpoint answered `error=`.
    Authorize(OAuthError),
    /// The token endpoint answered an OAuth error.
    Token(OAuthError),
    /// Microsoft could not be reached or answered something unusable.
    Unreachable(String),
    /// The id_token failed validation.
    IdToken(String),
    /// `GET /me` failed.
    Graph(String),
    /// Signed in as someone else than the configured mailbox.
    WrongAccount {
        signed_in: String,
        expected: String,
    },
    /// Only `mail` matched, under a multi-tenant authority (see `guard::check`).
    UnverifiedAddress {
        signed_in: String,
        expected: String,
    },
    /// Only `mail` matched, and the address is not one Exchange delivers to
    /// this mailbox (not in its `proxyAddresses`).
    AddressNotOwned {
        signed_in: String,
        expected: String,
    },
    /// A personal Microsoft account, under an authority that is not `consumers`.
    PersonalAccount {
        signed_in: String,
    },
    /// An account of another tenant than the one the authority names.
    OtherTenant {
        signed_in: String,
        tenant: String,
        expected: String,
    },
    /// A re-authentication came back with another user than the pinned one.
    DifferentPinnedAccount {
        pinned: String,
        signed_in: String,
    },
    /// The tenant email changed (app, authority, address) or vanished mid-flow.
    ConfigurationChanged,
    /// The tenant email cannot start a flow (no secret, invalid settings…).
    NotConnectable(String),
    NotFound,
    /// No refresh token: `offline_access` is missing from the scopes.
    NoRefreshToken,
    /// Logged under this reference id.
    Internal(String),
}

/// An OAuth error response (authorize redirect or token endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OAuthError {
    pub error: String,
    pub description: Option<String>,
    pub codes: Vec<u64>,
    pub suberror: Option<String>,
}

impl OAuthError {
    /// The AADSTS number from `error_codes`, else from the description.
    pub fn aadsts(&self) -> Option<u64> {
        if let Some(code) = self.codes.first() {
            return Some(*code);
        }
        let d = self.description.as_deref()?;
        let start = d.find("AADSTS")? + "AADSTS".len();
        let digits: String = d[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    }

    /// First line of the description (Microsoft appends trace ids after CRLF).
    pub fn summary(&self) -> Option<String> {
        self.description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(|l| l.chars().take(400).collect())
    }
}

/// Plain-language cause and fix for the AADSTS codes admins meet.
pub fn aadsts_explanation(code: u64) -> Option<&'static str> {
    Some(match code {
        70008 => "The authorization code or refresh token expired or was revoked. Click Authenticate again.",
        700082 => "The refresh token was not used for 90 days and expired. Click Authenticate again.",
        50173 => "The sign-in grant was revoked (for example after a password reset). Click Authenticate again.",
        54005 => "This authorization code was already redeemed. Click Authenticate again to start a new sign-in.",
        501481 => "The PKCE code verifier did not match (a replayed or tampered sign-in). Click Authenticate again.",
        65001 => "Nobody has consented to the permissions this application asks for. Sign in and accept the permissions, or ask a tenant administrator to grant admin consent (the link below).",
        90094 => "Your organisation lets only administrators consent to this application's permissions. A tenant administrator must grant admin consent (the link below, or Azure → Enterprise applications → Permissions), then click Authenticate again.",
        90095 => "Your organisation requires an administrator to approve this application. Send the request from Microsoft's page; once an administrator approves it (or grants admin consent with the link below), click Authenticate again.",
        53003 => "A Conditional Access policy of your organisation blocked this sign-in (device, location or app rules). A tenant administrator must allow it in Entra → Conditional Access (the sign-in logs name the policy).",
        50076 => "Your organisation requires multi-factor authentication for this sign-in. Click Authenticate again and complete the MFA prompt in the browser.",
        50079 => "The account must register for multi-factor authentication first. Sign in once at https://aka.ms/mfasetup, then click Authenticate again.",
        500112 => "The redirect URI sent when redeeming the code differs from the one used at sign-in. Register exactly the redirect URI shown on the OAuth2 Configuration tab and keep public_url unchanged between starting and finishing a sign-in.",
        700027 => "Microsoft could not verify the application's certificate assertion. Check that the certificate uploaded in Azure → App registrations → Certificates & secrets is the one shown here.",
        50034 => "This account does not exist in the directory. Check the address (and the tenant in the authority URL).",
        50126 => "The password was wrong. Click Authenticate again and sign in with the mailbox's password.",
        65004 => "The permissions were declined at Microsoft's consent page. Click Authenticate again and choose Accept, or ask a tenant administrator to grant admin consent.",
        7000215 => "Microsoft rejected the client secret. Paste the secret's Value (not its Secret ID) from Azure → App registrations → Certificates & secrets, save, and click Authenticate again.",
        7000222 => "The client secret has expired. Create a new secret in Azure → App registrations → Certificates & secrets, paste its Value here, save, and click Authenticate again.",
        7000218 => "No client secret was sent. Enter the client secret, save, and click Authenticate again.",
        50011 => "The redirect URI is not registered for this application. Register the exact redirect URI shown on the OAuth2 Configuration tab in Azure → App registrations → Authentication.",
        70011 => "The scopes are malformed (a line break, commas, or permissions of several resources). Use one line with single spaces, e.g. openid profile offline_access user.read mail.read mail.send.",
        700016 => "Microsoft does not know this Application ID in this directory. Check the Application (client) ID and the authority's tenant.",
        90002 => "Microsoft does not know this tenant. Check the Directory (tenant) ID in the authority URL.",
        50020 => "This account is not in the tenant of the authority URL. Use an account of that tenant, or use the common authority.",
        _ => return None,
    })
}

/// The AADSTS codes that an administrator's consent fixes.
const ADMIN_CONSENT_FIXES: &[u64] = &[65001, 90094, 90095];

fn oauth_explanation(e: &OAuthError) -> String {
    if let Some(text) = e.aadsts().and_then(aadsts_explanation) {
        return text.to_string();
    }
    match e.error.as_str() {
        "access_denied" => "The sign-in was cancelled or the permissions were declined. Click Authenticate again and accept the permissions.",
        "invalid_client" => "Microsoft rejected the application's credentials. Check the Application ID and the client secret's Value, save, and click Authenticate again.",
        "invalid_grant" => "Microsoft did not accept the sign-in result (expired, already used or revoked). Click Authenticate again.",
        "invalid_scope" => "Microsoft rejected the scopes. Use one line with single spaces.",
        "consent_required" => "The permissions have not been granted. Sign in and accept them, or ask a tenant administrator for admin consent.",
        "interaction_required" | "login_required" => "Microsoft needs you to sign in interactively. Click Authenticate again.",
        "unauthorized_client" => "This application may not use the authorization code flow. Check the app registration's platform (Web) in Azure.",
        "temporarily_unavailable" | "server_error" => "Microsoft had a temporary problem. Wait a moment and click Authenticate again.",
        "invalid_request" | "unsupported_response_type" | "invalid_resource" => "Microsoft rejected the sign-in request. Check the authority, endpoints and scopes on the OAuth2 Configuration tab.",
        _ => "Microsoft refused the sign-in. Check the settings on the OAuth2 Configuration tab and click Authenticate again.",
    }
    .to_string()
}

impl Failure {
    /// Whether Microsoft said an administrator must consent to the
    /// application's permissions (the failure page then links to it).
    pub fn admin_consent_fixes(&self) -> bool {
        match self {
            Failure::Authorize(e) | Failure::Token(e) => {
                e.aadsts().is_some_and(|c| ADMIN_CONSENT_FIXES.contains(&c))
                    || e.error == "consent_required"
            }
            _ => false,
        }
    }

    /// HTTP status for the callback page.
    pub fn status(&self) -> u16 {
        match self {
            Failure::BadRequest(_)
            | Failure::FlowUnknown
            | Failure::FlowExpired
            | Failure::OtherBrowser
            | Failure::IssuerMismatch
            | Failure::NotConnectable(_) => 400,
            Failure::NotFound => 404,
            Failure::Authorize(_)
            | Failure::WrongAccount { .. }
            | Failure::UnverifiedAddress { .. }
            | Failure::DifferentPinnedAccount { .. }
            | Failure::PersonalAccount { .. }
            | Failure::OtherTenant { .. }
            | Failure::AddressNotOwned { .. }
            | Failure::ConfigurationChanged => 403,
            Failure::Token(_)
            | Failure::Unreachable(_)
            | Failure::IdToken(_)
            | Failure::Graph(_)
            | Failure::NoRefreshToken => 502,
            Failure::Internal(_) => 500,
        }
    }

    /// A short headline.
    pub fn title(&self) -> &'static str {
        match self {
            Failure::BadRequest(_) => "This sign-in response is malformed",
            Failure::FlowUnknown | Failure::FlowExpired | Failure::OtherBrowser => {
                "This sign-in link expired"
            }
            Failure::IssuerMismatch => "The sign-in came back from the wrong server",
            Failure::Authorize(_) | Failure::Token(_) => "Microsoft did not complete the sign-in",
            Failure::Unreachable(_) => "Microsoft could not be reached",
            Failure::IdToken(_) => "Microsoft's sign-in answer could not be verified",
            Failure::Graph(_) => "Microsoft Graph did not confirm the account",
            Failure::WrongAccount { .. } => "Wrong account",
            Failure::UnverifiedAddress { .. } => "Address not verified",
            Failure::DifferentPinnedAccount { .. } => "A different account signed in",
            Failure::PersonalAccount { .. } => "A personal Microsoft account signed in",
            Failure::AddressNotOwned { .. } => "Address not verified",
            Failure::OtherTenant { .. } => "An account of another organisation signed in",
            Failure::ConfigurationChanged => "The Tenant Email changed during sign-in",
            Failure::NotConnectable(_) => "This Tenant Email cannot be connected yet",
            Failure::NotFound => "Tenant Email not found",
            Failure::NoRefreshToken => "Microsoft issued no refresh token",
            Failure::Internal(_) => "Something went wrong",
        }
    }

    /// What happened and what to do, in plain language (not yet HTML-escaped).
    pub fn explanation(&self) -> String {
        match self {
            Failure::BadRequest(reason) => format!(
                "{reason} Go back to the Tenant Email and click Authenticate again."
            ),
            Failure::FlowUnknown => "This sign-in link expired or was already used; click Authenticate again.".into(),
            Failure::FlowExpired => "This sign-in link expired (sign-in must finish within 10 minutes); click Authenticate again.".into(),
            Failure::OtherBrowser => "This sign-in was started in another browser or admin session (or its cookie is missing), so it cannot be finished here. Click Authenticate again in this browser.".into(),
            Failure::IssuerMismatch => "The response names another identity provider than the one this sign-in was sent to. Nothing was stored. Click Authenticate again.".into(),
            Failure::Authorize(e) | Failure::Token(e) => {
                let mut text = oauth_explanation(e);
                let code = e.aadsts().map(|c| format!("AADSTS{c}"));
                let detail = match (code, e.summary()) {
                    (Some(c), Some(s)) if s.contains(&c) => Some(s),
                    (Some(c), Some(s)) => Some(format!("{c}: {s}")),
                    (Some(c), None) => Some(c),
                    (None, Some(s)) => Some(s),
                    (None, None) => None,
                };
                text.push_str(&format!(" (Microsoft: {}", e.error));
                if let Some(d) = detail {
                    text.push_str(&format!(" — {d}"));
                }
                text.push(')');
                text
            }
            Failure::Unreachable(what) => format!("{what} Nothing was stored. Try again in a moment."),
            Failure::IdToken(reason) => format!("The id_token was rejected: {reason}. Nothing was stored. Click Authenticate again; if it keeps happening, check the authority URL."),
            Failure::Graph(reason) => format!("{reason} Nothing was stored."),
            Failure::WrongAccount { signed_in, expected } => format!(
                "You signed in as {signed_in}, but this Tenant Email is {expected}. Choose {expected} in Microsoft's account picker, or sign out of {signed_in} / use a private window, then click Authenticate again."
            ),
            Failure::UnverifiedAddress { signed_in, expected } => format!(
                "{signed_in} signed in, and only its mail attribute says {expected}. With a multi-tenant authority (common or organizations) any Microsoft tenant can set that attribute, so Tenant Mail only trusts the user principal name. Put your Directory (tenant) ID into the Authentication Authority URL, save, and click Authenticate again."
            ),
            Failure::DifferentPinnedAccount { pinned, signed_in } => format!(
                "This Tenant Email is connected to the Microsoft account {pinned}, but {signed_in} signed in now. The existing connection was kept. To connect a different account on purpose, choose \"Connect a different account\"."
            ),
            Failure::AddressNotOwned { signed_in, expected } => format!(
                "{signed_in} signed in, and only its mail attribute says {expected}: Exchange does not deliver {expected} to this account (it is not among its proxy addresses). A guest invitation or an edited attribute is not enough. Sign in as the mailbox {expected} itself. Nothing was stored."
            ),
            Failure::PersonalAccount { signed_in } => format!(
                "{signed_in} is a personal Microsoft account (outlook.com, hotmail.com, live.com). This Tenant Email is meant for an organisation's mailbox: sign in with the work account of the mailbox. Nothing was stored."
            ),
            Failure::OtherTenant { signed_in, tenant, expected } => format!(
                "{signed_in} belongs to the directory {tenant}, but the Authentication Authority URL names {expected}. Sign in with an account of {expected}, or correct the authority. Nothing was stored."
            ),
            Failure::ConfigurationChanged => "The Application ID, authority or address of this Tenant Email changed (or it was deleted) while you were signing in. Nothing was stored. Click Authenticate again.".into(),
            Failure::NotConnectable(reason) => reason.clone(),
            Failure::NotFound => "This Tenant Email does not exist (it may have been deleted).".into(),
            Failure::NoRefreshToken => "Microsoft returned no refresh token, so the connection would stop after an hour. Add offline_access to the scopes, save, and click Authenticate again.".into(),
            Failure::Internal(id) => format!("An internal error occurred (reference {id}). Nothing was stored. Try again; if it persists, give the reference to your operator."),
        }
    }
}

/// Logs an unexpected error with a reference id and turns it into a failure.
pub fn internal(context: &str, error: impl std::fmt::Display) -> Failure {
    Failure::Internal(crate::reference::logged(context, error))
}

/// Storage failures during a connect attempt: logged with a reference id
/// and where they happened; the admin sees only the id.
impl From<crate::db::StoreError> for Failure {
    #[track_caller]
    fn from(e: crate::db::StoreError) -> Self {
        Failure::Internal(crate::reference::logged_here(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_from_codes_or_description() {
        let e = OAuthError {
            error: "invalid_client".into(),
            description: Some(
                "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x".into(),
            ),
            ..OAuthError::default()
        };
        assert_eq!(e.aadsts(), Some(7000215));
        let text = Failure::Token(e).explanation();
        assert!(text.contains("Value (not its Secret ID)"), "{text}");
        assert!(text.contains("AADSTS7000215: Invalid client secret provided."));
        assert!(!text.contains("Trace ID"));
    }

    #[test]
    fn unknown_code_falls_back_to_error_field() {
        let e = OAuthError {
            error: "access_denied".into(),
            codes: vec![1],
            ..OAuthError::default()
        };
        assert!(Failure::Authorize(e).explanation().contains("cancelled"));
    }

    #[test]
    fn codes_admins_hit_say_what_fixes_them() {
        let failure = |code: u64, error: &str| {
            Failure::Authorize(OAuthError {
                error: error.into(),
                description: Some(format!("AADSTS{code}: something. Trace ID: t")),
                ..OAuthError::default()
            })
        };
        for (code, fix, consent) in [
            (90094, "administrator must grant admin consent", true),
            (90095, "requires an administrator to approve", true),
            (65001, "admin consent", true),
            (53003, "Conditional Access", false),
            (50076, "multi-factor", false),
            (50079, "aka.ms/mfasetup", false),
            (500112, "redirect URI", false),
            (700027, "certificate", false),
        ] {
            let f = failure(code, "access_denied");
            let text = f.explanation();
            assert!(text.contains(fix), "{code}: {text}");
            assert!(text.contains(&format!("AADSTS{code}")), "{code}: {text}");
            assert_eq!(f.admin_consent_fixes(), consent, "{code}");
        }
        // Without a code, the OAuth error alone can say consent is the fix.
        let f = Failure::Authorize(OAuthError {
            error: "consent_required".into(),
            ..OAuthError::default()
        });
        assert!(f.admin_consent_fixes());
        assert!(!internal("t", "x").admin_consent_fixes());
    }
}
