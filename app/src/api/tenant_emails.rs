//! Server functions for the tenant email editor.
use crate::model::{ApiError, ConnectionView, EditorContext, TenantEmailInput, TenantEmailView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// Everything the editor page needs in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailEditorData {
    pub context: EditorContext,
    pub tenant_name: String,
    /// `None` when adding a new tenant email.
    pub email: Option<TenantEmailView>,
    /// `None` until the tenant email was connected once.
    pub connection: Option<ConnectionView>,
    /// Mail through it so far (`None` when adding).
    pub activity: Option<crate::model::tenant_email::MailActivity>,
}

#[server(prefix = "/api", endpoint = "load_email_editor", input = Json)]
pub async fn load_email_editor(
    tenant_id: String,
    email_id: Option<String>,
) -> Result<EmailEditorData, ApiError> {
    let backend = super::backend()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    if let Some(id) = &email_id {
        super::tenants::check_id(id, "tenant email")?;
    }
    let parts = backend
        .email_editor(&tenant_id, email_id.as_deref())
        .await
        .map_err(super::port)?;
    Ok(EmailEditorData {
        context: backend.editor_context(),
        tenant_name: parts.tenant_name,
        email: parts.email,
        connection: parts.connection,
        activity: parts.activity,
    })
}

/// Creates (`email_id` = None) or updates a tenant email. When updating, the
/// secret is only replaced if `replace_secret` is set — the explicit action.
#[server(prefix = "/api", endpoint = "save_tenant_email", input = Json)]
pub async fn save_tenant_email(
    tenant_id: String,
    email_id: Option<String>,
    version: Option<i32>,
    replace_secret: bool,
    input: TenantEmailInput,
) -> Result<TenantEmailView, ApiError> {
    use crate::model::tenant_email::validate;
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    let creating = email_id.is_none();
    let mut input = input.trimmed();
    if !creating && !replace_secret {
        input.client_secret.clear();
    }
    // A certificate is made on the server; a secret sent with it is not
    // validated, so it is not kept either.
    if input.credential == crate::model::tenant_email::CREDENTIAL_CERTIFICATE {
        input.client_secret.clear();
    }
    let policy = backend.editor_context().authority_policy;
    validate(&input, creating || replace_secret, &policy)
        .into_result()
        .map_err(|errors| super::fail(ApiError::Invalid(errors)))?;
    match email_id {
        None => backend
            .create_tenant_email(&actor, &tenant_id, &input)
            .await
            .map_err(super::port),
        Some(id) => {
            super::tenants::check_id(&id, "tenant email")?;
            let version = version.ok_or_else(|| {
                super::fail(ApiError::BadRequest(
                    "version is required when updating".into(),
                ))
            })?;
            backend
                .update_tenant_email(&actor, &tenant_id, &id, version, &input)
                .await
                .map_err(super::port)
        }
    }
}

#[server(prefix = "/api", endpoint = "delete_tenant_email", input = Json)]
pub async fn delete_tenant_email(tenant_id: String, email_id: String) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .delete_tenant_email(&actor, &tenant_id, &email_id)
        .await
        .map_err(super::port)
}

/// Makes a new certificate credential for a saved Tenant Email: the key
/// pair is generated and the private key sealed on the server; the view
/// returned carries only the certificate to upload.
#[server(prefix = "/api", endpoint = "create_certificate", input = Json)]
pub async fn create_certificate(
    tenant_id: String,
    email_id: String,
) -> Result<TenantEmailView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .create_certificate(&actor, &tenant_id, &email_id)
        .await
        .map_err(super::port)
}

/// Stores a next client secret for a saved Tenant Email (at `version`, the
/// one the editor shows): it takes over when Microsoft refuses the secret in
/// use or that one nears its end date.
#[server(prefix = "/api", endpoint = "set_next_secret", input = Json)]
pub async fn set_next_secret(
    tenant_id: String,
    email_id: String,
    version: i32,
    input: crate::model::tenant_email::NextSecretInput,
) -> Result<TenantEmailView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    let expires_on = input.expires_on.trim();
    crate::model::tenant_email::validate_next_secret(&input.secret, expires_on)
        .into_result()
        .map_err(|errors| super::fail(ApiError::Invalid(errors)))?;
    backend
        .set_next_secret(
            &actor,
            &tenant_id,
            &email_id,
            version,
            &input.secret,
            expires_on,
        )
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "remove_next_secret", input = Json)]
pub async fn remove_next_secret(
    tenant_id: String,
    email_id: String,
    version: i32,
) -> Result<TenantEmailView, ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .remove_next_secret(&actor, &tenant_id, &email_id, version)
        .await
        .map_err(super::port)
}
