//! What every server function passes through before touching data.
//!
//! The server's sign-in middleware already refuses requests without a signed-in
//! admin (deny by default: only an explicit list of public paths passes). This
//! guard checks again from the request's `Actor`, so a server function that is
//! somehow reached without the middleware still fails closed.
use crate::model::ApiError;
use crate::port::{Actor, PortError, SharedBackend};
use leptos::prelude::use_context;

pub const SIGN_IN_REQUIRED: &str =
    "Your session has ended. Sign in again (your changes are still in the form).";

/// The acting admin (or an anonymous actor) of the current request.
pub fn actor() -> Actor {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Actor>().cloned())
        .unwrap_or_default()
}

/// The backend and the signed-in admin, or 401.
pub fn admin() -> Result<(SharedBackend, Actor), ApiError> {
    let actor = actor();
    if !actor.is_admin() {
        return Err(fail(ApiError::Unauthorized(SIGN_IN_REQUIRED.into())));
    }
    Ok((public_backend()?, actor))
}

/// The backend for a signed-in admin, or 401.
pub fn backend() -> Result<SharedBackend, ApiError> {
    admin().map(|(backend, _)| backend)
}

/// The backend without requiring a signed-in admin: only for the server
/// functions the middleware lets through unauthenticated (setup, app info).
pub fn public_backend() -> Result<SharedBackend, ApiError> {
    use_context::<SharedBackend>().ok_or_else(|| {
        let id = error_id();
        tracing::error!(error_id = %id, "backend missing from request context");
        fail(ApiError::Internal(id))
    })
}

/// Sets the HTTP status that matches the error, so API clients see a 4xx with
/// a reason rather than a blanket 500.
pub fn fail(error: ApiError) -> ApiError {
    use leptos_axum::ResponseOptions;
    let status = match &error {
        ApiError::Invalid(_) => 422,
        ApiError::Conflict(_) => 409,
        ApiError::NotFound(_) => 404,
        ApiError::BadRequest(_) => 400,
        ApiError::Unauthorized(_) => 401,
        ApiError::Internal(_) | ApiError::Transport(_) => 500,
    };
    if let (Some(opts), Ok(code)) = (
        use_context::<ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        opts.set_status(code);
    }
    error
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::NotFound(m) => ApiError::NotFound(m),
            PortError::Conflict(m) => ApiError::Conflict(m),
            PortError::Duplicate { field, message } | PortError::Rejected { field, message } => {
                ApiError::invalid(&field, message)
            }
            PortError::Internal(id) => ApiError::Internal(id),
        }
    }
}

/// Maps a port error and sets the status in one step.
pub fn port(e: PortError) -> ApiError {
    fail(e.into())
}

/// A short reference id for an error, logged with the detail and shown to the admin.
pub fn error_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}
