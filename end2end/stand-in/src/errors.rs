//! Error bodies in Microsoft's exact shapes: Entra (identity platform) and Graph.
//!
//! Both carry per-request ids; those come from the request context set by the outer middleware.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::timefmt;

tokio::task_local! {
    static REQUEST: RequestCtx;
}

/// Ids and time of the request being handled.
#[derive(Clone, Debug, Default)]
pub struct RequestCtx {
    pub request_id: String,
    pub client_request_id: String,
    pub now: i64,
    pub base: String,
}

impl RequestCtx {
    /// Runs `fut` with this context visible to error builders.
    pub async fn scope<F: std::future::Future>(self, fut: F) -> F::Output {
        REQUEST.scope(self, fut).await
    }

    pub fn current() -> Self {
        REQUEST.try_with(Clone::clone).unwrap_or_default()
    }
}

/// An Entra error: `{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}`.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{error}: AADSTS{code}: {message}")]
pub struct EntraError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
    pub suberror: Option<&'static str>,
}

impl EntraError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            suberror: None,
        }
    }

    pub fn bad(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    pub fn with_suberror(mut self, suberror: &'static str) -> Self {
        self.suberror = Some(suberror);
        self
    }

    /// `AADSTS…: message\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`.
    pub fn description(&self, ctx: &RequestCtx) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code,
            self.message,
            ctx.request_id,
            ctx.client_request_id,
            timefmt::entra(ctx.now)
        )
    }

    pub fn error_uri(&self, ctx: &RequestCtx) -> String {
        format!("{}/error?code={}", ctx.base, self.code)
    }

    pub fn body(&self, ctx: &RequestCtx) -> Value {
        let mut body = json!({
            "error": self.error,
            "error_description": self.description(ctx),
            "error_codes": [self.code],
            "timestamp": timefmt::entra(ctx.now),
            "trace_id": ctx.request_id,
            "correlation_id": ctx.client_request_id,
            "error_uri": self.error_uri(ctx),
        });
        if let (Some(sub), Some(obj)) = (self.suberror, body.as_object_mut()) {
            obj.insert("suberror".to_owned(), Value::from(sub));
        }
        body
    }
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        let ctx = RequestCtx::current();
        let mut response = (self.status, axum::Json(self.body(&ctx))).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            headers.insert("x-ms-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&ctx.client_request_id) {
            headers.insert("client-request-id", v);
        }
        response
    }
}

/// A Graph error: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<String>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    }

    pub fn body(&self, ctx: &RequestCtx) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": timefmt::iso_no_zone(ctx.now),
                    "request-id": ctx.request_id,
                    "client-request-id": ctx.client_request_id,
                }
            }
        })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let ctx = RequestCtx::current();
        let mut response = (self.status, axum::Json(self.body(&ctx))).into_response();
        let headers = response.headers_mut();
        if let Some(retry) = self
            .retry_after
            .as_deref()
            .and_then(|r| HeaderValue::from_str(r).ok())
        {
            headers.insert(header::RETRY_AFTER, retry);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                ),
            );
        }
        insert_graph_ids(headers, &ctx);
        response
    }
}

/// Graph's `request-id` / `client-request-id` response headers.
pub fn insert_graph_ids(headers: &mut axum::http::HeaderMap, ctx: &RequestCtx) {
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        headers.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.client_request_id) {
        headers.insert("client-request-id", v);
    }
}

/// AADSTS errors of the token and authorize endpoints, with Entra's wording.
pub mod aadsts {
    use super::EntraError;
    use axum::http::StatusCode;

    pub fn missing_parameter(name: &str) -> EntraError {
        EntraError::bad(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub fn malformed() -> EntraError {
        EntraError::bad(
            "invalid_grant",
            9_002_313,
            "Invalid request. Request is malformed or invalid.",
        )
    }

    pub fn tenant_not_found(tenant: &str) -> EntraError {
        EntraError::bad(
            "invalid_request",
            90_002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    pub fn unknown_client(client_id: &str, tenant: &str) -> EntraError {
        EntraError::bad(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub fn app_only_needs_tenant() -> EntraError {
        EntraError::bad(
            "invalid_request",
            9_001_023,
            "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
        )
    }

    pub fn default_scope_required(scope: &str) -> EntraError {
        EntraError::bad(
            "invalid_scope",
            1_002_012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        )
    }

    pub fn unsupported_grant_type(grant: &str) -> EntraError {
        EntraError::bad(
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }

    pub fn expired_or_revoked() -> EntraError {
        EntraError::bad(
            "invalid_grant",
            70_008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        )
    }

    pub fn refresh_inactive(issued: &str, inactive_days: i64) -> EntraError {
        EntraError::bad(
            "invalid_grant",
            700_082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for {inactive_days}.00:00:00."
            ),
        )
    }

    pub fn grant_revoked(issued: &str, valid_from: &str) -> EntraError {
        EntraError::bad(
            "invalid_grant",
            50_173,
            format!(
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{valid_from}'."
            ),
        )
    }

    pub fn code_redeemed() -> EntraError {
        EntraError::bad(
            "invalid_grant",
            54_005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        )
    }

    pub fn pkce_mismatch() -> EntraError {
        EntraError::bad(
            "invalid_grant",
            501_481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        )
    }

    pub fn redirect_mismatch(sent: &str, original: &str) -> EntraError {
        EntraError::bad(
            "invalid_grant",
            500_112,
            format!(
                "The reply address '{sent}' does not match the reply address '{original}' provided when requesting Authorization code."
            ),
        )
    }

    pub fn consent_required(client_id: &str, app_name: &str) -> EntraError {
        EntraError::bad(
            "invalid_grant",
            65_001,
            format!(
                "The user or administrator has not consented to use the application with ID '{client_id}' named '{app_name}'. Send an interactive authorization request for this user and resource."
            ),
        )
        .with_suberror("consent_required")
    }

    pub fn wrong_secret(client_id: &str) -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }

    pub fn secret_expired(client_id: &str) -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_222,
            format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
            ),
        )
    }

    pub fn missing_secret() -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }

    pub fn invalid_scope(scope: &str) -> EntraError {
        EntraError::bad(
            "invalid_scope",
            70_011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid."
            ),
        )
    }

    pub fn client_mismatch() -> EntraError {
        EntraError::bad(
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed. The grant was issued to a different client.",
        )
    }

    /// A client assertion that is not a JWT, lacks a thumbprint or `jti`, uses another
    /// algorithm, or was presented before.
    pub fn invalid_assertion(reason: &str) -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50_027,
            format!("Invalid JWT token. {reason}"),
        )
    }

    pub fn assertion_type(kind: &str) -> EntraError {
        EntraError::bad(
            "invalid_request",
            50_027,
            format!("Invalid JWT token. The client_assertion_type '{kind}' is not supported; use 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."),
        )
    }

    /// The thumbprint names no certificate of the app (`found` `None`), or the signature does
    /// not verify with the one it names (`found`: its validity, `Start=…, End=…`).
    pub fn assertion_signature(
        thumbprint: &str,
        client_id: &str,
        found: Option<&str>,
    ) -> EntraError {
        let reason = match found {
            None => format!(
                "The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'."
            ),
            Some(found) => format!(
                "The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{thumbprint}', Found key '{found}'"
            ),
        };
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700_027,
            format!("Client assertion contains an invalid signature. [Reason - {reason}]"),
        )
    }

    pub fn certificate_expired(thumbprint: &str, found: &str) -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            1_000_502,
            format!(
                "The certificate with identifier used to sign the client assertion is expired on application. [Reason - The key used is expired., Thumbprint of key used by client: '{thumbprint}', Found key '{found}']"
            ),
        )
    }

    pub fn subject_mismatches_issuer() -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50_048,
            "Subject mismatches Issuer claim in the client assertion. Contact the tenant admin.",
        )
    }

    pub fn assertion_client_mismatch() -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700_021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
        )
    }

    pub fn assertion_audience(audience: &str, expected: &str) -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50_012,
            format!("Client assertion audience claim does not match Realm issuer. Audience '{audience}', expected '{expected}'."),
        )
    }

    /// `now`, `nbf` and `exp` as Entra writes them.
    pub fn assertion_time(now: &str, valid_from: &str, expires: &str) -> EntraError {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700_024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {valid_from}, expiry time of assertion {expires}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
            ),
        )
    }

    pub fn transient(status: StatusCode) -> EntraError {
        EntraError::new(
            status,
            "temporarily_unavailable",
            90_033,
            "A transient error has occurred. Please try again.",
        )
    }
}
