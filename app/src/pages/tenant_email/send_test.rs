//! "Send test email" on a connected tenant email: queue one message (to the
//! mailbox itself unless another address is typed) and follow it until it is
//! sent or fails, with the reason.
use crate::api::{list_outbox, SendTestEmail};
use crate::components::live::use_tick;
use crate::model::identifiers::validate_address;
use crate::model::mail::{OutboxState, TO};
use crate::model::ApiError;
use leptos::prelude::*;

#[component]
pub fn SendTestPanel(tenant_id: String, email_id: String, address: String) -> impl IntoView {
    let to = RwSignal::new(address);
    let error = RwSignal::new(None::<String>);
    let send = ServerAction::<SendTestEmail>::new();
    let queued_id = RwSignal::new(None::<String>);
    let tick = use_tick(1000);
    Effect::new(move |_| match send.value().get() {
        Some(Ok(entry)) => queued_id.set(Some(entry.id)),
        Some(Err(ApiError::Invalid(f))) => error.set(f.get(TO).cloned()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let (t, e) = (tenant_id.clone(), email_id.clone());
    // Follows the queued message until it is final.
    let progress = Resource::new(
        move || (queued_id.get(), tick.get()),
        move |(id, _)| {
            let (t, e) = (t.clone(), e.clone());
            async move {
                let id = id?;
                list_outbox(t, e)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|m| m.id == id)
            }
        },
    );
    let submit = {
        let (tenant_id, email_id) = (tenant_id.clone(), email_id.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let value = to.get_untracked();
            match validate_address(value.trim()) {
                Err(m) => error.set(Some(m)),
                Ok(()) => {
                    error.set(None);
                    queued_id.set(None);
                    send.dispatch(SendTestEmail {
                        tenant_id: tenant_id.clone(),
                        email_id: email_id.clone(),
                        to: value,
                    });
                }
            }
        }
    };
    let outbox_link = format!("/admin/tenants/{tenant_id}/emails/{email_id}/outbox");
    view! {
        <section class="connect-panel" aria-labelledby="send-test-heading">
            <h2 id="send-test-heading">"Send test email"</h2>
            <form class="inline-form" on:submit=submit novalidate>
                <div class="field" class:has-error=move || error.get().is_some()>
                    <label for="test-to">"To"</label>
                    <input id="test-to" type="email" bind:value=to aria-describedby="test-to-error"/>
                    <p class="field-error" id="test-to-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </div>
                <button type="submit" class="primary" id="send-test" disabled=move || send.pending().get()>"Send test email"</button>
                <a href=outbox_link id="open-outbox">"Outbox"</a>
            </form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    progress.await.map(|m| {
                        let (class, text) = match m.state {
                            OutboxState::Sent => ("banner banner-ok", format!("Sent to {} at {}.", m.to.join(", "), m.sent_at.clone().unwrap_or_default())),
                            OutboxState::Failed => ("banner banner-error", format!("Not sent: {}", m.last_error.clone().unwrap_or_default())),
                            OutboxState::Held => ("banner banner-error", format!("Held: {}", m.last_error.clone().unwrap_or_default())),
                            OutboxState::Cancelled => ("banner banner-info", "Cancelled.".to_string()),
                            OutboxState::Queued if m.attempts > 0 => ("banner banner-info", format!("Waiting to retry: {}", m.last_error.clone().unwrap_or_default())),
                            OutboxState::Queued => ("banner banner-info", "Queued…".to_string()),
                            OutboxState::Sending => ("banner banner-info", "Sending…".to_string()),
                        };
                        view! { <div class=class role="status" id="test-progress" data-state=m.state.code()>{text}</div> }
                    })
                })}
            </Transition>
        </section>
    }
}
