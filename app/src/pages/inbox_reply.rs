//! Reply, under a received message in the Inbox reader: lets an admin who is
//! testing a mailbox answer a message from it. Graph makes the draft from the
//! original (`createReply`), so the answer lands in the sender's thread; the
//! banner follows it through the outbox.
use crate::api::ReplyReceived;
use crate::components::outbox_progress::OutboxProgress;
use crate::model::mail::{check_reply_text, BODY};
use crate::model::ApiError;
use leptos::prelude::*;

#[component]
pub fn ReplyPanel(
    tenant_id: String,
    email_id: String,
    message_id: String,
    /// Who a plain reply goes to (the sender, or its Reply-To).
    to: String,
    /// Whether anyone besides the sender and this mailbox is on the message.
    others: bool,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let all = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let queued_id = RwSignal::new(None::<String>);
    let send = ServerAction::<ReplyReceived>::new();
    Effect::new(move |_| match send.value().get() {
        Some(Ok(entry)) => {
            queued_id.set(Some(entry.id));
            text.set(String::new());
            open.set(false);
        }
        Some(Err(ApiError::Invalid(f))) => error.set(f.get(BODY).cloned()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let submit = {
        let (tenant_id, email_id) = (tenant_id.clone(), email_id.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let body = text.get_untracked();
            if let Some(problem) = check_reply_text(&body) {
                error.set(Some(problem));
                return;
            }
            error.set(None);
            queued_id.set(None);
            send.dispatch(ReplyReceived {
                tenant_id: tenant_id.clone(),
                email_id: email_id.clone(),
                message_id: message_id.clone(),
                text: body,
                reply_all: all.get_untracked(),
            });
        }
    };
    view! {
        <section class="reply" aria-label="Reply">
            <Show
                when=move || open.get()
                fallback=move || view! {
                    <button type="button" class="secondary" id="reply-open" on:click=move |_| open.set(true)>"Reply"</button>
                }
            >
                <form class="reply-form" on:submit=submit.clone() novalidate>
                    <p class="muted" id="reply-to">{let to = to.clone(); move || {
                        let who = if all.get() { format!("{to} and everyone else on the message") } else { to.clone() };
                        format!("To {who}, in the same conversation. It is sent as written, without the original quoted.")
                    }}</p>
                    <div class="field" class:has-error=move || error.get().is_some()>
                        <label for="reply-text">"Reply"</label>
                        <textarea id="reply-text" rows="5" bind:value=text aria-describedby="reply-text-error"></textarea>
                        <p class="field-error" id="reply-text-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                    </div>
                    {others.then(|| view! {
                        <label class="check"><input type="checkbox" id="reply-all" bind:checked=all/>" Reply to everyone on the message"</label>
                    })}
                    <div class="actions">
                        <button type="submit" class="primary" id="reply-send" disabled=move || send.pending().get()>"Send reply"</button>
                        <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
            <OutboxProgress tenant_id email_id queued_id id="reply-progress"/>
        </section>
    }
}
