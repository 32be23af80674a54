//! "Send test email" on a connected tenant email: queue one message (to the
//! mailbox itself unless another address is typed) and follow it until it is
//! sent or fails, with the reason.
use crate::api::SendTestEmail;
use crate::components::outbox_progress::OutboxProgress;
use crate::model::identifiers::validate_address;
use crate::model::mail::TO;
use crate::model::ApiError;
use leptos::prelude::*;

#[component]
pub fn SendTestPanel(tenant_id: String, email_id: String, address: String) -> impl IntoView {
    let to = RwSignal::new(address);
    let error = RwSignal::new(None::<String>);
    let send = ServerAction::<SendTestEmail>::new();
    let queued_id = RwSignal::new(None::<String>);
    Effect::new(move |_| match send.value().get() {
        Some(Ok(entry)) => queued_id.set(Some(entry.id)),
        Some(Err(ApiError::Invalid(f))) => error.set(f.get(TO).cloned()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
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
            <OutboxProgress tenant_id email_id queued_id id="test-progress"/>
        </section>
    }
}
