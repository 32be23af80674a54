//! The Inbox screen: the list, the reader and Sync now.
use super::errors::not_found;
use super::Console;
use crate::db::audit::Event;
use crate::db::inbox::ReceivedMail;
use crate::mail::inbox::{inline, text};
use app::model::inbox::{Arrival, InstantArrival};
use app::model::inbox::{
    InboxPage, InboxStatus, MailFolders, ReceivedAttachment, ReceivedMessage, ReceivedSummary,
};
use app::model::ConnectionStatus;
use app::port::{Actor, InboxPort, PortError};

const PAGE: u64 = 50;

fn summary(m: &ReceivedMail) -> ReceivedSummary {
    ReceivedSummary {
        id: m.id.clone(),
        seq: m.seq,
        from: m.from.clone(),
        subject: m.subject.clone(),
        received_at: m.received_at.to_rfc3339(),
        attachment_count: m.attachment_count,
        action: m.action,
        acknowledged: m.acknowledged,
        left_folder: m.left_folder,
    }
}

fn refused(message: &str) -> PortError {
    PortError::Rejected {
        field: "sync".into(),
        message: message.into(),
    }
}

impl Console {
    async fn instant_arrival(&self, email_id: &str) -> Result<InstantArrival, PortError> {
        if let Some(why) = &self.context.instant_arrival_unavailable {
            return Ok(InstantArrival::Unavailable(why.clone()));
        }
        let now = self.store.now();
        Ok(match self.store.subscriptions().get(email_id).await? {
            None => InstantArrival::Pending,
            Some(s) => match (s.subscription_id, s.expires_at, s.last_error) {
                // Still live even if its last renewal failed.
                (Some(_), Some(until), warning) if until > now => InstantArrival::On {
                    until: until.to_rfc3339(),
                    warning,
                },
                (_, _, Some(why)) => InstantArrival::Failed(why),
                _ => InstantArrival::Pending,
            },
        })
    }
}

#[async_trait::async_trait]
impl InboxPort for Console {
    async fn mail_folders(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<MailFolders, PortError> {
        self.folders_of(tenant_id, email_id).await
    }

    async fn inbox_page(
        &self,
        tenant_id: &str,
        email_id: &str,
        before: Option<i64>,
    ) -> Result<InboxPage, PortError> {
        let mb = self.owned(tenant_id, email_id).await?;
        let inbox = self.store.inbox();
        let rows = inbox.newest(email_id, before, PAGE + 1).await?;
        let older = (rows.len() as u64 > PAGE)
            .then(|| rows.get(PAGE as usize - 1).map(|m| m.seq))
            .flatten();
        let messages = rows.iter().take(PAGE as usize).map(summary).collect();
        let sync = inbox.sync_state(email_id).await?;
        let total = inbox.count(email_id).await?;
        let receiving = &mb.settings.receiving;
        let import_since = receiving
            .import_since
            .or(sync.as_ref().map(|s| s.since))
            .map(|t| t.to_rfc3339());
        let instant = match receiving.arrival {
            Arrival::Poll => None,
            Arrival::Notify => Some(self.instant_arrival(email_id).await?),
        };
        let status = InboxStatus {
            instant,
            receives: mb.receives(),
            connected: mb.status == ConnectionStatus::Connected,
            folder: receiving.folder.clone(),
            poll_interval_seconds: receiving.poll_interval_seconds,
            last_sync_at: sync
                .as_ref()
                .and_then(|s| s.last_sync_at)
                .map(|t| t.to_rfc3339()),
            last_error: sync.as_ref().and_then(|s| s.last_error.clone()),
            sync_requested: sync.as_ref().is_some_and(|s| s.sync_requested_at.is_some()),
            import_since,
            total,
            tenant_email_id: mb.id,
            tenant_id: mb.tenant_id,
            address: mb.settings.address,
        };
        Ok(InboxPage {
            status,
            messages,
            older,
        })
    }

    async fn received_message(
        &self,
        tenant_id: &str,
        email_id: &str,
        message_id: &str,
    ) -> Result<ReceivedMessage, PortError> {
        self.owned(tenant_id, email_id).await?;
        let inbox = self.store.inbox();
        let m = inbox
            .message(email_id, message_id)
            .await?
            .ok_or_else(|| not_found("message"))?;
        let attachments = inbox
            .attachments_of(std::slice::from_ref(&m.id))
            .await?
            .into_iter()
            .map(|a| ReceivedAttachment {
                id: a.id,
                name: a.name,
                content_type: a.content_type,
                size: a.size,
                is_inline: a.is_inline,
            })
            .collect();
        let safe = match m.body_html.as_deref() {
            Some(html) => {
                let images = inline::load(&self.store, &m.id).await?;
                Some(text::safe_html(html, images))
            }
            None => None,
        };
        let in_reply_to_message = match &m.in_reply_to {
            Some(answered) => inbox.by_internet_message_id(email_id, answered).await?,
            None => None,
        };
        Ok(ReceivedMessage {
            in_reply_to: m.in_reply_to.clone(),
            in_reply_to_message,
            summary: summary(&m),
            remote_images: safe
                .as_ref()
                .map_or(0, |s| u32::try_from(s.remote_images).unwrap_or(u32::MAX)),
            safe_html: safe.map(|s| s.html),
            conversation_id: m.conversation_id,
            importance: m.importance,
            to: m.to,
            cc: m.cc,
            reply_to: m.reply_to,
            internet_message_id: m.internet_message_id,
            body_text: m.body_text,
            attachments,
            action_error: m.action_error,
        })
    }

    async fn sync_now(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<(), PortError> {
        let mb = self.owned(tenant_id, email_id).await?;
        if !mb.receives() {
            return Err(refused(
                "This Tenant Email only sends; set its direction to Receive or Send and receive.",
            ));
        }
        if mb.status != ConnectionStatus::Connected {
            return Err(refused(
                "This Tenant Email is not connected: authenticate it first.",
            ));
        }
        self.store.inbox().request_sync(email_id).await?;
        self.inbox_wake.notify_one();
        self.store
            .audit()
            .record_best_effort(
                actor,
                Event::new("inbox.sync_requested").target("tenant_email", email_id, mb.address()),
            )
            .await;
        Ok(())
    }
}
