//! `GET /core/oauth2/validated`: strict parsing, the flow consumed on first
//! use, then code → tokens → id_token → /me → identity guard → store.
use super::errors::{Failure, OAuthError};
use super::{
    connect, cookie_name, discovery, id_token, me, same, sha256_hex, Identity, LEEWAY_SECONDS,
};
use crate::db::flows::{Consumed, Flow};
use app::port::Actor;

/// Longest query accepted on the callback (Entra's codes are ~1–2 KB).
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
const MAX_STATE_LEN: usize = 512;

/// The callback's parameters (RFC 6749 §4.1.2, RFC 9207). Unknown ones are
/// ignored as RFC 6749 §3.1 asks; known ones may appear at most once.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Params {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("has_code", &self.code.is_some())
            .field("error", &self.error)
            .field("iss", &self.iss)
            .finish_non_exhaustive()
    }
}

/// Never panics, whatever the input (see the property test in `tests/connect.rs`).
pub fn parse(raw_query: Option<&str>) -> Result<Params, Failure> {
    let raw = raw_query.unwrap_or_default();
    if raw.len() > MAX_QUERY_BYTES {
        return Err(Failure::BadRequest(format!(
            "The sign-in response is longer than {} KB.",
            MAX_QUERY_BYTES / 1024
        )));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut params = Params::default();
    let mut state = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if key.is_empty() && value.is_empty() {
            continue;
        }
        if seen.iter().any(|k| *k == key) {
            let shown: String = key.chars().take(40).collect();
            return Err(Failure::BadRequest(format!(
                "The parameter \"{shown}\" appears more than once."
            )));
        }
        seen.push(key.to_string());
        let value = value.into_owned();
        match key.as_ref() {
            "state" => state = Some(value),
            "code" => params.code = Some(value).filter(|v| !v.is_empty()),
            "error" => params.error = Some(value),
            "error_description" => params.error_description = Some(value),
            "iss" => params.iss = Some(value),
            _ => {}
        }
    }
    match state {
        Some(s) if !s.is_empty() && s.len() <= MAX_STATE_LEN => params.state = s,
        Some(_) => {
            return Err(Failure::BadRequest(
                "The sign-in response has an invalid state.".into(),
            ))
        }
        None => {
            return Err(Failure::BadRequest(
                "The sign-in response has no state.".into(),
            ))
        }
    }
    if params.code.is_none() && params.error.is_none() {
        return Err(Failure::BadRequest(
            "The sign-in response has neither a code nor an error.".into(),
        ));
    }
    Ok(params)
}

/// A cookie's value from a `Cookie` header.
pub fn cookie_value<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// `iss` on the callback must name the flow's issuer (RFC 9207). Entra's
/// multi-tenant issuer is a template; the exact value is checked against the
/// id_token once it is verified.
fn issuer_matches(template: &str, iss: &str) -> bool {
    match template.split_once("{tenantid}") {
        None => iss == template,
        Some((prefix, suffix)) => {
            iss.len() > prefix.len() + suffix.len()
                && iss.starts_with(prefix)
                && iss.ends_with(suffix)
                && !iss[prefix.len()..iss.len() - suffix.len()].contains('/')
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub tenant_id: String,
    pub tenant_email_id: String,
    pub upn: String,
    pub tid: String,
}

/// The result, where to send the admin back to, and the flow cookie to clear.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<Connected, Failure>,
    /// `(tenant_id, tenant_email_id)` once the state named a flow.
    pub back: Option<(String, String)>,
    pub clear_cookie: Option<String>,
    /// Microsoft's admin-consent URL, when that is the fix for the failure.
    pub admin_consent: Option<String>,
}

/// The `state` value when the query carries exactly one usable one.
fn lone_state(raw: Option<&str>) -> Option<String> {
    let raw = raw.filter(|r| r.len() <= MAX_QUERY_BYTES)?;
    let mut states = url::form_urlencoded::parse(raw.as_bytes())
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    let state = states.next()?;
    (states.next().is_none() && !state.is_empty() && state.len() <= MAX_STATE_LEN).then_some(state)
}

/// Whether this request comes from the browser and the admin session that
/// started the flow.
fn bound(flow: &Flow, cookie: Option<&str>, actor: &Actor) -> bool {
    let browser = cookie.is_some_and(|value| same(&sha256_hex(value), &flow.browser_binding));
    // Started by one admin session, finished by the same one.
    let session = match &flow.session_key {
        Some(expected) => actor
            .session_key
            .as_deref()
            .is_some_and(|actual| same(actual, expected)),
        None => true,
    };
    browser && session
}

/// Takes the flow of `state_hash` for this request. The browser and session
/// are checked before the flow is used up: someone who learnt the `state`
/// (from a log, a referrer, a shoulder) cannot cancel the admin's sign-in by
/// sending it first. On failure, the flow's (tenant, tenant email) if known.
async fn take(
    identity: &Identity,
    state_hash: &str,
    cookie: Option<&str>,
    actor: &Actor,
) -> Result<Consumed, (Failure, Option<(String, String)>)> {
    let flows = identity.store.flows();
    let peeked = flows.peek(state_hash).await.map_err(|e| (e.into(), None))?;
    let Some(flow) = peeked else {
        return Err((Failure::FlowUnknown, None));
    };
    let back = Some((flow.tenant_id.clone(), flow.tenant_email_id.clone()));
    if !bound(&flow, cookie, actor) {
        return Err((Failure::OtherBrowser, back));
    }
    match flows.consume(state_hash).await {
        Ok(Ok(consumed)) => Ok(consumed),
        // A second callback of the same browser raced this one and won.
        Ok(Err(_)) => Err((Failure::FlowUnknown, back)),
        Err(e) => Err((e.into(), back)),
    }
}

pub async fn callback(
    identity: &Identity,
    raw_query: Option<&str>,
    cookie_header: Option<&str>,
    actor: &Actor,
) -> Outcome {
    let params = match parse(raw_query) {
        Ok(p) => p,
        Err(f) => {
            tracing::info!(failure = ?f, "oauth callback rejected before lookup");
            // The flow is single-use whatever the outcome: a malformed answer
            // that still names one state burns that flow, so it cannot be
            // replayed in a better-formed shape.
            if let Some(state) = lone_state(raw_query) {
                let hash = sha256_hex(&state);
                let name = cookie_name(&hash, identity.secure_cookies());
                if let Err((why, _)) =
                    take(identity, &hash, cookie_value(cookie_header, &name), actor).await
                {
                    tracing::info!(failure = ?why, "the malformed callback's flow was left alone");
                }
            }
            return Outcome {
                result: Err(f),
                back: None,
                clear_cookie: None,
                admin_consent: None,
            };
        }
    };
    let state_hash = sha256_hex(&params.state);
    let name = cookie_name(&state_hash, identity.secure_cookies());
    let now = identity.store.now();
    let cookie = cookie_value(cookie_header, &name);
    let consumed = match take(identity, &state_hash, cookie, actor).await {
        Ok(consumed) => consumed,
        Err((why, back)) => {
            tracing::info!(failure = ?why, "oauth callback with an unusable state");
            return Outcome {
                result: Err(why),
                back,
                clear_cookie: Some(name),
                admin_consent: None,
            };
        }
    };
    let flow = &consumed.flow;
    let back = Some((flow.tenant_id.clone(), flow.tenant_email_id.clone()));
    let result = finish(identity, &consumed, &params, actor, now).await;
    match &result {
        Ok(c) => {
            tracing::info!(tenant_email_id = %c.tenant_email_id, "oauth callback connected the mailbox")
        }
        Err(f) => {
            tracing::info!(tenant_email_id = %flow.tenant_email_id, failure = ?f, "oauth callback failed")
        }
    }
    let admin_consent = match &result {
        Err(f) if f.admin_consent_fixes() => Some(super::admin_consent::url(
            &flow.authority,
            &flow.client_id,
            &flow.redirect_uri,
        )),
        _ => None,
    };
    Outcome {
        result,
        back,
        clear_cookie: Some(name),
        admin_consent,
    }
}

async fn finish(
    identity: &Identity,
    consumed: &Consumed,
    params: &Params,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Connected, Failure> {
    let flow = &consumed.flow;
    if now > flow.expires_at {
        return Err(Failure::FlowExpired);
    }
    match &params.iss {
        Some(iss) if !issuer_matches(&flow.issuer, iss) => return Err(Failure::IssuerMismatch),
        None if flow.iss_required => return Err(Failure::IssuerMismatch),
        _ => {}
    }
    if let Some(error) = &params.error {
        return Err(Failure::Authorize(OAuthError {
            error: error.chars().take(100).collect(),
            description: params.error_description.clone(),
            ..OAuthError::default()
        }));
    }
    let code = params
        .code
        .as_deref()
        .ok_or_else(|| Failure::BadRequest("The sign-in response has no code.".into()))?;
    let verifier = identity.store.flows().verifier(consumed)?;
    let plan = identity
        .rotation_plan_of(&flow.tenant_email_id)
        .await?
        .ok_or_else(|| Failure::NotConnectable("Enter and save the client secret first.".into()))?;
    let tokens = identity.redeem_code(flow, &plan, code, verifier).await?;
    let raw_id_token = tokens.id_token.as_deref().ok_or_else(|| {
        Failure::IdToken("Microsoft returned no id_token (add openid to the scopes)".into())
    })?;
    let keys = discovery::keys(&identity.http, &flow.jwks_uri).await?;
    let claims = id_token::validate(
        raw_id_token,
        &keys,
        &id_token::Expected {
            issuer: &flow.issuer,
            client_id: &flow.client_id,
            nonce: &flow.nonce,
            now: identity.store.now(),
            leeway_seconds: LEEWAY_SECONDS,
        },
    )
    .map_err(|reason| {
        tracing::warn!(tenant_email_id = %flow.tenant_email_id, %reason, "id_token rejected");
        Failure::IdToken(reason.to_string())
    })?;
    if let Some(iss) = &params.iss {
        if *iss != claims.iss {
            return Err(Failure::IssuerMismatch);
        }
    }
    let (cloud, graph) = identity.graph_of(&flow.tenant_email_id).await?;
    let me = me::me(&identity.http, &graph, &tokens.access_token).await?;
    let tenant_name =
        me::tenant_name(&identity.http, &graph, &tokens.access_token, &claims.tid).await;
    let signed_in = connect::SignedIn {
        claims: &claims,
        me: &me,
        tenant_name,
        tokens: &tokens,
        cloud,
    };
    let saved = connect::save(identity, flow, &signed_in, actor).await?;
    Ok(Connected {
        tenant_id: flow.tenant_id.clone(),
        tenant_email_id: flow.tenant_email_id.clone(),
        upn: saved.upn,
        tid: saved.tid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parsing() {
        assert!(matches!(parse(None), Err(Failure::BadRequest(_))));
        assert!(matches!(parse(Some("code=a")), Err(Failure::BadRequest(_))));
        assert!(matches!(
            parse(Some("code=a&state=b&state=c")),
            Err(Failure::BadRequest(_))
        ));
        assert!(matches!(
            parse(Some("code=a&code=a&state=b")),
            Err(Failure::BadRequest(_))
        ));
        let long = format!("state=s&code={}", "x".repeat(MAX_QUERY_BYTES));
        assert!(matches!(parse(Some(&long)), Err(Failure::BadRequest(_))));
        let p = parse(Some(
            "code=a%2Bb&state=s&session_state=z&iss=http%3A%2F%2Fx",
        ))
        .unwrap();
        assert_eq!(p.code.as_deref(), Some("a+b"));
        assert_eq!(p.state, "s");
        assert_eq!(p.iss.as_deref(), Some("http://x"));
    }

    #[test]
    fn issuer_template() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(issuer_matches(
            t,
            "https://login.microsoftonline.com/abc/v2.0"
        ));
        assert!(!issuer_matches(
            t,
            "https://login.microsoftonline.com//v2.0"
        ));
        assert!(!issuer_matches(t, "https://evil.example/abc/v2.0"));
        assert!(!issuer_matches(
            t,
            "https://login.microsoftonline.com/a/b/v2.0"
        ));
        assert!(issuer_matches("https://x/t/v2.0", "https://x/t/v2.0"));
    }

    #[test]
    fn cookies() {
        let h = Some("a=1; tm_oauth_x=abc; b=2");
        assert_eq!(cookie_value(h, "tm_oauth_x"), Some("abc"));
        assert_eq!(cookie_value(h, "c"), None);
        assert_eq!(cookie_value(None, "a"), None);
    }
}
