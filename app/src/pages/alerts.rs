//! Admin → Alerts: where alerts go when a mailbox stops (mail to people
//! through a chosen mailbox, a signed webhook; the in-app banner is always
//! on), what needs attention right now, and a test button per destination.
use crate::api::{
    alerts_overview, CreateAlertDestination, DeleteAlertDestination, TestAlertDestination,
};
use crate::components::copy_button::CopyButton;
use crate::components::{error_banner::ErrorBanner, field::Field, inline_confirm::InlineConfirm};
use crate::model::alerts::{
    validate_destination, AlertsPageData, AttentionItem, DestinationView, NewDestinationInput,
    SenderOption, DEST_ADDRESSES, DEST_KIND, DEST_NAME, DEST_SENDER, DEST_URL,
};
use crate::model::{ApiError, FieldErrors};
use leptos::prelude::*;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let create = ServerAction::<CreateAlertDestination>::new();
    let delete = ServerAction::<DeleteAlertDestination>::new();
    let test = ServerAction::<TestAlertDestination>::new();
    let data = Resource::new(
        move || {
            (
                create.version().get(),
                delete.version().get(),
                test.version().get(),
            )
        },
        |_| alerts_overview(),
    );
    let action_error = Signal::derive(move || {
        delete
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| test.value().get().and_then(|r| r.err()))
    });
    view! {
        <section class="page">
            <h1>"Alerts"</h1>
            <p class="lead">
                "When a mailbox needs re-authentication, its secret is about to expire, or mail stops "
                "going out or coming in, Tenant Mail tells you once — and once more when it is fixed. "
                "The banner on every admin page is always on; add people and systems below."
            </p>
            {move || action_error.get().map(|e| view! { <ErrorBanner error=e/> })}
            <Transition fallback=|| view! { <p class="muted">"Loading alerts…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <Overview data=d delete test/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <NewDestination create data/>
        </section>
    }
}

#[component]
fn Overview(
    data: AlertsPageData,
    delete: ServerAction<DeleteAlertDestination>,
    test: ServerAction<TestAlertDestination>,
) -> impl IntoView {
    view! {
        <h2>"Needs attention now"</h2>
        <AttentionList items=data.attention/>
        <h2>"Destinations"</h2>
        <DestinationTable list=data.destinations delete test/>
    }
}

#[component]
fn AttentionList(items: Vec<AttentionItem>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted" id="attention-none">"Every mailbox is fine."</p> }
            .into_any();
    }
    view! {
        <ul class="attention-list" id="attention-list">
            {items.into_iter().map(|a| view! {
                <li>
                    <a href=format!("/admin/tenants/{}/emails/{}", a.tenant_id, a.tenant_email_id)>{a.title}</a>
                    <span class="muted">{format!(" — {} · since {}", a.tenant_name, a.since)}</span>
                    <p class="hint">{a.fix}</p>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

fn last_delivery(d: &DestinationView) -> AnyView {
    match (&d.last_delivery_at, d.last_delivery_ok) {
        (Some(at), Some(ok)) => {
            let detail = d.last_delivery_detail.clone().unwrap_or_default();
            let (class, word) = if ok {
                ("badge delivery-ok", "Delivered")
            } else {
                ("badge delivery-failed", "Failed")
            };
            view! {
                <span class=class>{word}</span>
                <span class="muted">{format!(" {at}")}</span>
                <br/><span class="hint">{detail}</span>
            }
            .into_any()
        }
        _ => view! { <span class="muted">"nothing sent yet"</span> }.into_any(),
    }
}

#[component]
fn DestinationTable(
    list: Vec<DestinationView>,
    delete: ServerAction<DeleteAlertDestination>,
    test: ServerAction<TestAlertDestination>,
) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p class="muted" id="destinations-none">
                "No destinations yet: only the banner tells about problems. Add an email or a webhook below."
            </p>
        }
        .into_any();
    }
    let confirming = RwSignal::new(None::<String>);
    let rows = list
        .into_iter()
        .map(|d| {
            let delivery = last_delivery(&d);
            let (id_test, id_del) = (d.id.clone(), d.id.clone());
            let target = match &d.sender {
                Some(sender) => format!("{} (sent through {sender})", d.target),
                None => d.target.clone(),
            };
            let pending = (d.pending > 0).then(|| format!("{} waiting", d.pending));
            view! {
                <tr data-destination=d.name.clone()>
                    <td>{d.name.clone()}</td>
                    <td>{if d.kind == "webhook" { "Webhook" } else { "Email" }}</td>
                    <td class="wrap">
                        {target}
                        {d.sender_warning.clone().map(|w| view! { <p class="field-error sender-warning">{w}</p> })}
                    </td>
                    <td class="delivery">{delivery}<span class="muted">{pending.map(|p| format!(" · {p}"))}</span></td>
                    <td class="actions">
                        <button type="button" class="secondary test-alert"
                            disabled=move || test.pending().get()
                            on:click=move |_| { test.dispatch(TestAlertDestination { id: id_test.clone() }); }>
                            "Send test alert"
                        </button>
                        " "
                        <InlineConfirm
                            confirming
                            key=d.id.clone()
                            action="Delete"
                            group_label="Confirm delete"
                            question=format!("Delete {}? Alerts not yet delivered to it are dropped. ", d.name)
                            on_confirm=Callback::new(move |_| {
                                delete.dispatch(DeleteAlertDestination { id: id_del.clone() });
                            })
                        />
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid" id="alert-destinations">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Goes to"</th>
                    <th scope="col">"Last delivery"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <Show when=move || test.value().get().is_some_and(|r| r.is_ok())>
            <div class="banner banner-info" role="status" id="test-queued">
                "Test alert queued: it is delivered within seconds; reload to see how it went."
            </div>
        </Show>
    }
    .into_any()
}

fn field_error(errors: RwSignal<FieldErrors>, f: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.get(f).cloned()))
}

#[component]
fn NewDestination(
    create: ServerAction<CreateAlertDestination>,
    data: Resource<Result<AlertsPageData, ApiError>>,
) -> impl IntoView {
    let kind = RwSignal::new("email".to_string());
    let name = RwSignal::new(String::new());
    let addresses = RwSignal::new(String::new());
    let sender = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| match create.value().get() {
        Some(Ok(_)) => {
            name.set(String::new());
            addresses.set(String::new());
            url.set(String::new());
        }
        Some(Err(ApiError::Invalid(f))) => errors.set(f),
        Some(Err(e)) => banner.set(Some(e)),
        None => {}
    });
    let secret = Signal::derive(move || {
        create
            .value()
            .get()
            .and_then(|r| r.ok())
            .and_then(|c| c.signing_secret)
            .unwrap_or_default()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = NewDestinationInput {
            kind: kind.get_untracked(),
            name: name.get_untracked(),
            addresses: addresses.get_untracked(),
            sender_email_id: sender.get_untracked(),
            url: url.get_untracked(),
        };
        let e = validate_destination(&input);
        let ok = e.is_empty();
        errors.set(e);
        banner.set(None);
        if ok {
            create.dispatch(CreateAlertDestination { input });
        }
    };
    let is_email = move || kind.get() == "email";
    let senders = move || {
        Suspend::new(async move {
            let options: Vec<SenderOption> = data.await.map(|d| d.senders).unwrap_or_default();
            if sender.get_untracked().is_empty() {
                if let Some(first) = options.first() {
                    sender.set(first.tenant_email_id.clone());
                }
            }
            options
                .into_iter()
                .map(|o| {
                    let value = o.tenant_email_id.clone();
                    let selected = sender.get_untracked() == value;
                    view! { <option value=value selected=selected>{o.label}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <form class="stacked card" id="new-destination" on:submit=submit novalidate>
            <h2>"Add a destination"</h2>
            {move || banner.get().map(|e| view! { <ErrorBanner error=e/> })}
            <Field label="Kind" input_id="destination-kind" error=field_error(errors, DEST_KIND)>
                <select id="destination-kind" on:change=move |ev| kind.set(event_target_value(&ev)) prop:value=move || kind.get()>
                    <option value="email">"Email to people"</option>
                    <option value="webhook">"Webhook (signed JSON POST)"</option>
                </select>
            </Field>
            <Field label="Name" input_id="destination-name" error=field_error(errors, DEST_NAME)>
                <input id="destination-name" type="text" maxlength="100" bind:value=name/>
            </Field>
            <Show when=is_email>
                <Field label="Addresses" input_id="destination-addresses" error=field_error(errors, DEST_ADDRESSES)
                    hint="Separate several with commas.">
                    <input id="destination-addresses" type="text" bind:value=addresses/>
                </Field>
                <Field label="Send through" input_id="destination-sender" error=field_error(errors, DEST_SENDER)
                    hint="A connected mailbox that sends. Alerts about that mailbox itself go to your other destinations.">
                    <select id="destination-sender" on:change=move |ev| sender.set(event_target_value(&ev))>
                        <Transition fallback=|| ()>{senders}</Transition>
                    </select>
                </Field>
            </Show>
            <Show when=move || !is_email()>
                <Field label="URL" input_id="destination-url" error=field_error(errors, DEST_URL)
                    hint="Receives a JSON POST signed with HMAC-SHA256 (Tenant-Mail-Signature header), retried with backoff until it answers 2xx.">
                    <input id="destination-url" type="url" placeholder="https://" bind:value=url/>
                </Field>
            </Show>
            <button type="submit" class="primary" disabled=move || create.pending().get()>"Add destination"</button>
            <Show when=move || !secret.get().is_empty()>
                <div class="notice" role="status" id="new-webhook-secret">
                    <p>
                        <strong>"Copy the signing secret now: it will not be shown again."</strong>
                        " Verify each request: HMAC-SHA256 with this secret over "
                        <code>"<t>.<body>"</code>
                        " must equal the "
                        <code>"v1"</code>
                        " value of the Tenant-Mail-Signature header."
                    </p>
                    <code id="new-webhook-secret-value">{move || secret.get()}</code>
                    " "
                    <CopyButton text=secret label="Copy the webhook signing secret"/>
                </div>
            </Show>
        </form>
    }
}
