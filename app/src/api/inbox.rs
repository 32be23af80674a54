//! Server functions for a tenant email's received mail: the Inbox list, one
//! message for the reader, the folder picker's folders, and Sync now.
use crate::model::inbox::{InboxPage, MailFolders, ReceivedMessage};
use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(prefix = "/api", endpoint = "load_inbox", input = Json)]
pub async fn load_inbox(
    tenant_id: String,
    email_id: String,
    before: Option<i64>,
) -> Result<InboxPage, ApiError> {
    let backend = super::backend()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .inbox_page(&tenant_id, &email_id, before)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "read_received", input = Json)]
pub async fn read_received(
    tenant_id: String,
    email_id: String,
    message_id: String,
) -> Result<ReceivedMessage, ApiError> {
    let backend = super::backend()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    super::tenants::check_id(&message_id, "message")?;
    backend
        .received_message(&tenant_id, &email_id, &message_id)
        .await
        .map_err(super::port)
}

/// The mailbox's folders, for the Receiving tab's picker (read from Graph
/// with the mailbox's connection).
#[server(prefix = "/api", endpoint = "list_mail_folders", input = Json)]
pub async fn list_mail_folders(
    tenant_id: String,
    email_id: String,
) -> Result<MailFolders, ApiError> {
    let backend = super::backend()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .mail_folders(&tenant_id, &email_id)
        .await
        .map_err(super::port)
}

#[server(prefix = "/api", endpoint = "sync_now", input = Json)]
pub async fn sync_now(tenant_id: String, email_id: String) -> Result<(), ApiError> {
    let (backend, actor) = super::admin()?;
    super::tenants::check_id(&tenant_id, "tenant")?;
    super::tenants::check_id(&email_id, "tenant email")?;
    backend
        .sync_now(&actor, &tenant_id, &email_id)
        .await
        .map_err(super::port)
}
