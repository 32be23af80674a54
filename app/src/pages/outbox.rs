//! A tenant email's Outbox: every message with its state, refreshing itself;
//! Retry and Cancel for failed or held ones.
use crate::api::{list_outbox, ChangeOutboxMessage};
use crate::components::{error_banner::ErrorBanner, live::use_tick};
use crate::model::mail::{OutboxEntryView, OutboxState};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn OutboxPage() -> impl IntoView {
    let params = use_params_map();
    let tenant_id = move || params.with(|p| p.get("tenant_id").unwrap_or_default());
    let email_id = move || params.with(|p| p.get("email_id").unwrap_or_default());
    let change = ServerAction::<ChangeOutboxMessage>::new();
    let tick = use_tick(2000);
    let entries = Resource::new(
        move || (tenant_id(), email_id(), tick.get(), change.version().get()),
        |(t, e, _, _)| list_outbox(t, e),
    );
    let change_error = Signal::derive(move || change.value().get().and_then(|r| r.err()));
    view! {
        <section class="page">
            <p class="breadcrumb">
                <a href=move || format!("/admin/tenants/{}/emails/{}", tenant_id(), email_id()) id="back-to-email">"← Tenant Email"</a>
            </p>
            <h1>"Outbox"</h1>
            <p class="lead">"Messages this mailbox sends, newest first. The list refreshes itself."</p>
            {move || change_error.get().map(|e| view! { <ErrorBanner error=e/> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"Nothing sent yet. Use Send test email on the Tenant Email, or the host API."</p>
                        }.into_any(),
                        Ok(list) => view! { <OutboxTable list change tenant_id=tenant_id() email_id=email_id()/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OutboxTable(
    list: Vec<OutboxEntryView>,
    change: ServerAction<ChangeOutboxMessage>,
    tenant_id: String,
    email_id: String,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
        <table class="grid" id="outbox">
            <thead><tr><th>"Queued (UTC)"</th><th>"To"</th><th>"Subject"</th><th>"State"</th><th>"Tries"</th><th>"Detail"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|m| {
                    let can_retry = matches!(m.state, OutboxState::Failed | OutboxState::Held);
                    let can_cancel = matches!(m.state, OutboxState::Queued | OutboxState::Failed | OutboxState::Held);
                    let act = {
                        let (t, e, id) = (tenant_id.clone(), email_id.clone(), m.id.clone());
                        move |action: &'static str| {
                            change.dispatch(ChangeOutboxMessage {
                                tenant_id: t.clone(),
                                email_id: e.clone(),
                                message_id: id.clone(),
                                action: action.into(),
                            });
                        }
                    };
                    let act2 = act.clone();
                    let detail = match (m.state, &m.sent_at, &m.next_attempt_at) {
                        (OutboxState::Sent, Some(at), _) => format!("Sent {at}"),
                        (OutboxState::Queued, _, Some(next)) if m.attempts > 0 => format!("Next try {next}. {}", m.last_error.clone().unwrap_or_default()),
                        _ => m.last_error.clone().unwrap_or_default(),
                    };
                    view! {
                        <tr data-id=m.id.clone() data-state=m.state.code()>
                            <td>{m.created_at}</td>
                            <td>{m.to.join(", ")}</td>
                            <td>{m.subject}</td>
                            <td><span class=format!("badge outbox-{}", m.state.code())>{m.state.label()}</span></td>
                            <td>{m.attempts}</td>
                            <td>{detail}</td>
                            <td class="actions">
                                {can_retry.then(|| view! { <button type="button" class="secondary" on:click=move |_| act("retry")>"Retry"</button> })}
                                {can_cancel.then(|| view! { <button type="button" class="secondary" on:click=move |_| act2("cancel")>"Cancel"</button> })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
