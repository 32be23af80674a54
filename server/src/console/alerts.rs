//! Alerts for the admin console: destinations (a webhook's signing secret
//! appears once, in `create`'s answer), test alerts, and what needs
//! attention now (the banner on every admin page).
use super::errors::not_found;
use super::Console;
use crate::alerts::event::{open_event, rfc3339, test_event};
use crate::db::alerts::{Attention, Destination, DestinationKind, NewDestination};
use crate::db::audit::Event;
use crate::db::Saved;
use app::model::alerts::{
    split_addresses, AlertsPageData, AttentionItem, CreatedDestination, DestinationView,
    NewDestinationInput, SenderOption, DEST_SENDER, DEST_URL,
};
use app::model::doctor::{CheckOutcome, DoctorCheck, DoctorReport};
use app::port::{Actor, AlertPort, PortError};
use base64::Engine;
use rand::RngCore;
use std::collections::HashMap;

fn item(a: Attention) -> AttentionItem {
    AttentionItem {
        tenant_id: a.tenant_id,
        tenant_name: a.tenant_name,
        tenant_email_id: a.state.tenant_email_id,
        address: a.address,
        title: a.state.title,
        fix: a.state.fix,
        since: rfc3339(a.state.since),
    }
}

/// A new webhook signing secret: 32 random bytes, with a prefix that says what it is.
fn new_signing_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl Console {
    fn destination_view(
        &self,
        d: Destination,
        senders: &HashMap<String, String>,
        attention: &[AttentionItem],
        pending: &HashMap<String, u64>,
    ) -> DestinationView {
        let sender = d
            .sender_email_id
            .as_ref()
            .and_then(|id| senders.get(id).cloned());
        let sender_warning = d.sender_email_id.as_ref().and_then(|id| {
            attention
                .iter()
                .find(|a| &a.tenant_email_id == id)
                .map(|a| {
                    format!(
                        "The sender {} needs attention itself ({}): alerts about it go to \
                         the other destinations only, and these mails may not go out until it is fixed.",
                        a.address, a.title
                    )
                })
        });
        DestinationView {
            pending: pending.get(&d.id).copied().unwrap_or(0),
            kind: d.kind.code().to_string(),
            sender: if d.kind == DestinationKind::Email {
                sender.or_else(|| Some("(deleted mailbox: choose another)".into()))
            } else {
                None
            },
            sender_warning,
            id: d.id,
            name: d.name,
            target: d.target,
            created_at: rfc3339(d.created_at),
            created_by: d.created_by,
            last_delivery_at: d.last_delivery_at.map(rfc3339),
            last_delivery_ok: d.last_delivery_ok,
            last_delivery_detail: d.last_delivery_detail,
        }
    }

    /// Sending mailboxes, labelled "address (tenant)", by label.
    async fn sender_options(&self) -> Result<Vec<SenderOption>, PortError> {
        let mut out = Vec::new();
        for t in self.store.tenants().list().await? {
            for e in self.store.tenant_emails().of_tenant(&t.tenant.id).await? {
                if e.sends() {
                    out.push(SenderOption {
                        label: format!("{} ({})", e.address(), t.tenant.name),
                        tenant_email_id: e.id,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl AlertPort for Console {
    async fn alerts_overview(&self) -> Result<AlertsPageData, PortError> {
        let attention = self.attention().await?;
        let senders = self.sender_options().await?;
        let labels: HashMap<String, String> = senders
            .iter()
            .map(|s| (s.tenant_email_id.clone(), s.label.clone()))
            .collect();
        let pending = self.store.alerts().pending_counts().await?;
        let destinations = self
            .store
            .alerts()
            .destinations()
            .await?
            .into_iter()
            .map(|d| self.destination_view(d, &labels, &attention, &pending))
            .collect();
        Ok(AlertsPageData {
            destinations,
            senders,
            attention,
        })
    }

    async fn attention(&self) -> Result<Vec<AttentionItem>, PortError> {
        Ok(self
            .store
            .alerts()
            .attention()
            .await?
            .into_iter()
            .map(item)
            .collect())
    }

    async fn create_alert_destination(
        &self,
        actor: &Actor,
        input: &NewDestinationInput,
    ) -> Result<CreatedDestination, PortError> {
        let (kind, target, sender, secret) = match input.kind.as_str() {
            "webhook" => {
                let url = input.url.trim();
                // The form's check, then the real parser (what reqwest will use).
                if url::Url::parse(url).is_err() {
                    return Err(PortError::Rejected {
                        field: DEST_URL.into(),
                        message: "This is not a URL Tenant Mail can POST to.".into(),
                    });
                }
                (
                    DestinationKind::Webhook,
                    url.to_string(),
                    None,
                    Some(new_signing_secret()),
                )
            }
            _ => (
                DestinationKind::Email,
                split_addresses(&input.addresses).join(", "),
                Some(input.sender_email_id.trim()),
                None,
            ),
        };
        if let Some(id) = sender {
            let sends = self.store.tenant_emails().get(id).await?.map(|e| e.sends());
            if sends != Some(true) {
                return Err(PortError::Rejected {
                    field: DEST_SENDER.into(),
                    message: "Choose a mailbox that sends mail.".into(),
                });
            }
        }
        let created = self
            .store
            .alerts()
            .create(
                actor,
                NewDestination {
                    kind,
                    name: input.name.trim(),
                    target: &target,
                    sender_email_id: sender,
                    secret: secret.as_deref(),
                },
            )
            .await?;
        let Saved::Done(d) = created else {
            return Err(PortError::Rejected {
                field: DEST_SENDER.into(),
                message: "That mailbox no longer exists.".into(),
            });
        };
        // It starts out knowing what is wrong already (alerts about an email
        // destination's own sender excepted, as always).
        let now = self.store.now();
        let open: Vec<String> = self
            .store
            .alerts()
            .attention()
            .await?
            .iter()
            .filter(|a| sender != Some(a.state.tenant_email_id.as_str()))
            .filter_map(|a| serde_json::to_string(&open_event(a, &self.public_url, now)).ok())
            .collect();
        self.store.alerts().queue_for(&d.id, &open).await?;
        self.alert_wake.notify_one();
        let labels: HashMap<String, String> = self
            .sender_options()
            .await?
            .into_iter()
            .map(|s| (s.tenant_email_id, s.label))
            .collect();
        Ok(CreatedDestination {
            destination: self.destination_view(d, &labels, &[], &HashMap::new()),
            signing_secret: secret,
        })
    }

    async fn delete_alert_destination(&self, actor: &Actor, id: &str) -> Result<(), PortError> {
        match self.store.alerts().delete(actor, id).await? {
            Saved::Done(()) => Ok(()),
            _ => Err(not_found("alert destination")),
        }
    }

    async fn check_configuration(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<DoctorReport, PortError> {
        if self
            .store
            .tenant_emails()
            .owned(tenant_id, email_id)
            .await?
            .is_none()
        {
            return Err(not_found("tenant email"));
        }
        let Some(report) = self.identity.doctor(email_id).await? else {
            return Err(not_found("tenant email"));
        };
        let event = report_event(
            "tenant_email.checked",
            email_id,
            &report,
            "every check passed",
        );
        self.store.audit().record_best_effort(actor, event).await;
        Ok(report)
    }

    async fn round_trip_check(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<DoctorCheck, PortError> {
        let check = self.round_trip(tenant_id, email_id).await?;
        let address = self
            .store
            .tenant_emails()
            .get(email_id)
            .await?
            .map(|e| e.address().to_string())
            .unwrap_or_default();
        let mut event = Event::new("tenant_email.round_trip")
            .target("tenant_email", email_id, &address)
            .detail(format!("{}: {}", check.outcome.label(), check.detail));
        if check.outcome == CheckOutcome::Fail {
            event = event.failed();
        }
        self.store.audit().record_best_effort(actor, event).await;
        Ok(check)
    }

    async fn test_alert_destination(&self, actor: &Actor, id: &str) -> Result<(), PortError> {
        let Some(d) = self.store.alerts().destination(id).await? else {
            return Err(not_found("alert destination"));
        };
        let event = test_event(&d.name, &self.public_url, self.store.now());
        let json = serde_json::to_string(&event)
            .map_err(|e| PortError::Internal(crate::reference::logged("test alert", e)))?;
        if !self.store.alerts().queue_test(actor, id, &json).await? {
            return Err(not_found("alert destination"));
        }
        self.alert_wake.notify_one();
        Ok(())
    }
}

/// The audit event of a report of checks: the failed lines' names, or `ok`.
pub(super) fn report_event(
    action: &'static str,
    email_id: &str,
    report: &DoctorReport,
    ok: &str,
) -> Event {
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Fail)
        .map(|c| c.name.as_str())
        .collect();
    let event = Event::new(action)
        .target("tenant_email", email_id, &report.address)
        .detail(if failed.is_empty() {
            ok.to_string()
        } else {
            format!("failed: {}", failed.join(", "))
        });
    if failed.is_empty() {
        event
    } else {
        event.failed()
    }
}
