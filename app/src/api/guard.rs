//! The one place every server function passes through before touching data.
//! Admin sign-in will add its check here, so no server function can forget it.
use crate::model::ApiError;
use crate::port::{PortError, SharedBackend};
use leptos::prelude::use_context;

/// Returns the backend for the current request, or the error to send.
pub fn backend() -> Result<SharedBackend, ApiError> {
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
            PortError::Duplicate { field, message } => ApiError::invalid(&field, message),
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
