//! `GET /admin/tenants/{t}/emails/{e}/inbox/{m}/attachments/{a}`: an attachment
//! of received mail for a signed-in admin (the sign-in gate covers `/admin`).
use crate::mail::inbox::{download, store};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub fn routes<S: Clone + Send + Sync + 'static>(db: DatabaseConnection) -> Router<S> {
    Router::new()
        .route(
            "/admin/tenants/{tenant_id}/emails/{email_id}/inbox/{message_id}/attachments/{attachment_id}",
            get(attachment),
        )
        .with_state(db)
}

fn internal(context: &str, error: impl std::fmt::Display) -> Response {
    super::internal_error(&format!("attachment download: {context}"), error)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "No such attachment.").into_response()
}

async fn attachment(
    State(db): State<DatabaseConnection>,
    Path((tenant_id, email_id, message_id, attachment_id)): Path<(String, String, String, String)>,
) -> Response {
    use crate::db::entities::tenant_email;
    let owned = tenant_email::Entity::find_by_id(email_id.clone())
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .one(&db)
        .await;
    let message = match owned {
        Ok(Some(_)) => store::get(&db, &message_id).await,
        Ok(None) => return not_found(),
        Err(e) => return internal("find tenant email", e),
    };
    match message {
        Ok(Some(m)) if m.tenant_email_id == email_id => {}
        Ok(_) => return not_found(),
        Err(e) => return internal("find received message", e),
    }
    match store::attachment(&db, &message_id, &attachment_id).await {
        Ok(Some(a)) => match a.content {
            Some(bytes) => download::file_response(&a.name, &a.content_type, bytes),
            None => (
                StatusCode::NOT_FOUND,
                "This attachment is an attached item or a link; it has no file to download.",
            )
                .into_response(),
        },
        Ok(None) => not_found(),
        Err(e) => internal("read attachment", e),
    }
}
