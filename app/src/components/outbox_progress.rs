//! Follows one queued message (Send test email, Reply) until it is sent or
//! stops, with the reason: the banner under the form that queued it.
use crate::api::list_outbox;
use crate::components::live::use_tick;
use crate::model::mail::OutboxState;
use leptos::prelude::*;

#[component]
pub fn OutboxProgress(
    tenant_id: String,
    email_id: String,
    /// The message to follow; nothing shows while `None`.
    queued_id: RwSignal<Option<String>>,
    /// The banner's element id.
    id: &'static str,
) -> impl IntoView {
    let tick = use_tick(1000);
    // The message that was seen sent or stopped: nothing more to follow,
    // so its polling stops.
    let finished = RwSignal::new(None::<String>);
    let progress = Resource::new(
        move || {
            let id = queued_id.get();
            let over = id.is_some() && finished.get() == id;
            (id, if over { 0 } else { tick.get() })
        },
        move |(queued, _)| {
            let (t, e) = (tenant_id.clone(), email_id.clone());
            async move {
                let queued = queued?;
                list_outbox(t, e)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|m| m.id == queued)
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Some(m)) = progress.get() {
            let over = !matches!(m.state, OutboxState::Queued | OutboxState::Sending);
            if over && finished.get_untracked().as_deref() != Some(m.id.as_str()) {
                finished.set(Some(m.id));
            }
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                progress.await.map(|m| {
                    let why = m.last_error.clone().unwrap_or_default();
                    let (class, text) = match m.state {
                        OutboxState::Sent => ("banner banner-ok", format!("Sent to {} at {}.", m.to.join(", "), m.sent_at.clone().unwrap_or_default())),
                        OutboxState::Failed => ("banner banner-error", format!("Not sent: {why}")),
                        OutboxState::Held => ("banner banner-error", format!("Held: {why}")),
                        OutboxState::Cancelled => ("banner banner-info", "Cancelled.".to_string()),
                        OutboxState::Queued if m.attempts > 0 => ("banner banner-info", format!("Waiting to retry: {why}")),
                        OutboxState::Queued => ("banner banner-info", "Queued…".to_string()),
                        OutboxState::Sending => ("banner banner-info", "Sending…".to_string()),
                    };
                    view! { <div class=class role="status" id=id data-state=m.state.code()>{text}</div> }
                })
            })}
        </Transition>
    }
}
