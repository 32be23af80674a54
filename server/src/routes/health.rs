use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// The process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

/// The database answers and every migration is applied.
pub async fn readyz(db: DatabaseConnection) -> impl IntoResponse {
    match crate::db::ready(&db).await {
        Ok(true) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "migrations pending" })),
        ),
        Err(e) => {
            let id = app::api::error_id();
            tracing::error!(error_id = %id, error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database unreachable", "reference": id })),
            )
        }
    }
}
