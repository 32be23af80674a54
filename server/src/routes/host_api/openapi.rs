//! The OpenAPI document of `/v1`, generated from the handlers and types with
//! utoipa, so it cannot drift from the code. Served without a token: it
//! describes the API, it reveals no data.
use super::attachments;
use super::failure::ErrorBody;
use super::messages::{self, Accepted};
use super::received::{
    self, AcknowledgeRequest, Acknowledged, ReceivedFile, ReceivedMail, ReceivedPage,
};
use app::model::inbox::{ActionState, MailAddress};
use app::model::mail::{OutboxEntryView, OutboxState, OutgoingAttachment, OutgoingMessage};
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A tenant's API token (`tm_…`), made in the admin console under Tenant → API tokens.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tenant Mail host API", version = "1"),
    paths(
        messages::send,
        messages::status,
        received::list,
        received::acknowledge,
        attachments::attachment
    ),
    components(schemas(
        OutgoingMessage,
        OutgoingAttachment,
        OutboxEntryView,
        OutboxState,
        Accepted,
        ReceivedPage,
        ReceivedMail,
        ReceivedFile,
        MailAddress,
        ActionState,
        AcknowledgeRequest,
        Acknowledged,
        ErrorBody
    )),
    modifiers(&BearerScheme),
    security(("bearer" = []))
)]
pub struct HostApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(HostApiDoc::openapi())
}
