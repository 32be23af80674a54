//! The received-mail part of the backend port: the Inbox list, the reader and
//! Sync now.
use super::errors::{internal, not_found};
use super::tenant_emails::owned;
use super::DbBackend;
use crate::audit::{self, Event};
use crate::db::entities::inbox_message;
use crate::mail::inbox::{store, text, view};
use app::model::inbox::{
    InboxPage, InboxStatus, ReceivedAttachment, ReceivedMessage, ReceivedSummary,
};
use app::model::{ConnectionStatus, Direction};
use app::port::{Actor, PortError};

const PAGE: u64 = 50;

pub fn summary(m: &inbox_message::Model) -> ReceivedSummary {
    ReceivedSummary {
        id: m.id.clone(),
        seq: m.seq,
        from: view::sender(m),
        subject: m.subject.clone(),
        received_at: m.received_at.to_rfc3339(),
        attachment_count: u32::try_from(m.attachment_count).unwrap_or(0),
        action: view::action(m),
        acknowledged: m.acknowledged_at.is_some(),
        left_folder: m.left_folder_at.is_some(),
    }
}

pub async fn page(
    b: &DbBackend,
    tenant_id: &str,
    email_id: &str,
    before: Option<i64>,
) -> Result<InboxPage, PortError> {
    let mb = owned(b, tenant_id, email_id).await?;
    let rows = store::newest(&b.db, email_id, before, PAGE + 1)
        .await
        .map_err(|e| internal("list received mail", e))?;
    let older = (rows.len() as u64 > PAGE)
        .then(|| rows.get(PAGE as usize - 1).map(|m| m.seq))
        .flatten();
    let messages = rows.iter().take(PAGE as usize).map(summary).collect();
    let sync = store::sync_state(&b.db, email_id)
        .await
        .map_err(|e| internal("read sync state", e))?;
    let total = store::count(&b.db, email_id)
        .await
        .map_err(|e| internal("count received mail", e))?;
    let import_since = mb
        .import_since
        .or(sync.as_ref().map(|s| s.since))
        .map(|t| t.to_rfc3339());
    let status = InboxStatus {
        tenant_email_id: mb.id.clone(),
        tenant_id: mb.tenant_id.clone(),
        address: mb.address.clone(),
        receives: Direction::from_code(&mb.direction).is_some_and(|d| d.receives()),
        connected: mb.connection_status == ConnectionStatus::Connected.code(),
        folder: mb.receive_folder.clone(),
        poll_interval_seconds: u32::try_from(mb.poll_interval_seconds).unwrap_or(60),
        last_sync_at: sync
            .as_ref()
            .and_then(|s| s.last_sync_at)
            .map(|t| t.to_rfc3339()),
        last_error: sync.as_ref().and_then(|s| s.last_error.clone()),
        sync_requested: sync.as_ref().is_some_and(|s| s.sync_requested_at.is_some()),
        import_since,
        total,
    };
    Ok(InboxPage {
        status,
        messages,
        older,
    })
}

pub async fn message(
    b: &DbBackend,
    tenant_id: &str,
    email_id: &str,
    message_id: &str,
) -> Result<ReceivedMessage, PortError> {
    owned(b, tenant_id, email_id).await?;
    let m = store::get(&b.db, message_id)
        .await
        .map_err(|e| internal("read received message", e))?
        .filter(|m| m.tenant_email_id == email_id)
        .ok_or_else(|| not_found("message"))?;
    let attachments = store::attachments(&b.db, &m.id)
        .await
        .map_err(|e| internal("read attachments", e))?
        .into_iter()
        .map(
            |(id, name, content_type, size, is_inline)| ReceivedAttachment {
                id,
                name,
                content_type,
                size,
                is_inline,
            },
        )
        .collect();
    let (to, cc, reply_to) = view::recipients(&m);
    Ok(ReceivedMessage {
        summary: summary(&m),
        to,
        cc,
        reply_to,
        internet_message_id: m.internet_message_id.clone(),
        body_text: m.body_text.clone(),
        safe_html: m.body_html.as_deref().map(text::safe_html),
        attachments,
        action_error: m.action_error.clone(),
    })
}

pub async fn sync_now(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    email_id: &str,
) -> Result<(), PortError> {
    let mb = owned(b, tenant_id, email_id).await?;
    let receives = Direction::from_code(&mb.direction).is_some_and(|d| d.receives());
    if !receives {
        return Err(PortError::Rejected {
            field: "sync".into(),
            message:
                "This Tenant Email only sends; set its direction to Receive or Send and receive."
                    .into(),
        });
    }
    if mb.connection_status != ConnectionStatus::Connected.code() {
        return Err(PortError::Rejected {
            field: "sync".into(),
            message: "This Tenant Email is not connected: authenticate it first.".into(),
        });
    }
    let now = b.clock.now();
    store::request_sync(&b.db, email_id, now)
        .await
        .map_err(|e| internal("request sync", e))?;
    b.wake_inbox();
    audit::record_best_effort(
        &b.db,
        now,
        actor,
        Event::new("inbox.sync_requested").target("tenant_email", email_id, &mb.address),
    )
    .await;
    Ok(())
}
