//! `GET /admin/tenants/{t}/emails/{e}/inbox/{m}/attachments/{a}`: an attachment
//! of received mail for a signed-in admin (the sign-in gate covers `/admin`).
use crate::db::{Store, StoreError};
use crate::mail::inbox::download;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub fn routes<S: Clone + Send + Sync + 'static>(store: Store) -> Router<S> {
    Router::new()
        .route(
            "/admin/tenants/{tenant_id}/emails/{email_id}/inbox/{message_id}/attachments/{attachment_id}",
            get(attachment),
        )
        .with_state(store)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "No such attachment.").into_response()
}

async fn attachment(
    State(store): State<Store>,
    Path((tenant_id, email_id, message_id, attachment_id)): Path<(String, String, String, String)>,
) -> Response {
    match file(&store, &tenant_id, &email_id, &message_id, &attachment_id).await {
        Ok(response) => response,
        Err(e) => super::internal_error("attachment download", e),
    }
}

async fn file(
    store: &Store,
    tenant_id: &str,
    email_id: &str,
    message_id: &str,
    attachment_id: &str,
) -> Result<Response, StoreError> {
    if store
        .tenant_emails()
        .owned(tenant_id, email_id)
        .await?
        .is_none()
        || store.inbox().message(email_id, message_id).await?.is_none()
    {
        return Ok(not_found());
    }
    Ok(
        match store.inbox().attachment(message_id, attachment_id).await? {
            Some(a) => match a.content {
                Some(content) => download::file_response(store, &a.name, &a.content_type, content),
                None => (
                    StatusCode::NOT_FOUND,
                    "This attachment is a link to a file stored elsewhere; it has no file to download.",
                )
                    .into_response(),
            },
            None => not_found(),
        },
    )
}
