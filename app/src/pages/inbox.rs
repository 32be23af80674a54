//! A tenant email's Inbox: received mail, newest first, refreshing itself,
//! with Sync now and a reader beside the list (`…/inbox/:message_id`).
use super::inbox_reply::ReplyPanel;
use crate::api::{load_inbox, read_received, SyncNow};
use crate::components::{error_banner::ErrorBanner, live::use_tick};
use crate::model::inbox::{
    ActionState, InboxPage, InboxStatus, InstantArrival, MailAddress, ReceivedMessage,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn when(rfc3339: &str) -> String {
    // "2026-11-27T09:30:12+00:00" → "2026-11-27 09:30"
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
}

fn list(addresses: &[MailAddress]) -> String {
    addresses
        .iter()
        .map(MailAddress::display)
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let params = use_params_map();
    let tenant_id = move || params.with(|p| p.get("tenant_id").unwrap_or_default());
    let email_id = move || params.with(|p| p.get("email_id").unwrap_or_default());
    let message_id = move || params.with(|p| p.get("message_id"));
    let sync = ServerAction::<SyncNow>::new();
    let tick = use_tick(3000);
    let older = RwSignal::new(None::<i64>);
    let page = Resource::new(
        move || {
            (
                tenant_id(),
                email_id(),
                older.get(),
                tick.get(),
                sync.version().get(),
            )
        },
        |(t, e, before, _, _)| load_inbox(t, e, before),
    );
    let sync_error = Signal::derive(move || sync.value().get().and_then(|r| r.err()));
    let on_sync = move |_| {
        sync.dispatch(SyncNow {
            tenant_id: tenant_id(),
            email_id: email_id(),
        });
    };
    view! {
        <section class="page inbox-page">
            <p class="breadcrumb">
                <a href=move || format!("/admin/tenants/{}/emails/{}", tenant_id(), email_id()) id="back-to-email">"← Tenant Email"</a>
            </p>
            <div class="page-head">
                <h1>"Inbox"</h1>
                <button type="button" class="primary" id="sync-now" on:click=on_sync disabled=move || sync.pending().get()>
                    {move || if sync.pending().get() { "Asking…" } else { "Sync now" }}
                </button>
            </div>
            {move || sync_error.get().map(|e| view! { <ErrorBanner error=e/> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <InboxBody page=p tenant_id=tenant_id() email_id=email_id() selected=message_id() older/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {move || message_id().map(|m| view! { <Reader tenant_id=tenant_id() email_id=email_id() message_id=m/> })}
        </section>
    }
}

#[component]
fn StatusLine(status: InboxStatus) -> impl IntoView {
    let state = if !status.receives {
        "This mailbox only sends: set its Direction to receive mail.".to_string()
    } else if !status.connected {
        "Not connected: authenticate the Tenant Email to receive mail.".to_string()
    } else if status.sync_requested {
        "Sync requested…".to_string()
    } else {
        match &status.last_sync_at {
            Some(at) => format!("Last checked {} UTC.", when(at)),
            None => "Waiting for the first check…".to_string(),
        }
    };
    let since = status
        .import_since
        .as_deref()
        .map(|s| format!(" Mail received before {} UTC is not imported.", when(s)))
        .unwrap_or_default();
    view! {
        <p class="lead" id="inbox-status" data-requested=status.sync_requested.to_string()>
            {format!("{} · folder {} · every {} s · {} received.", status.address, status.folder, status.poll_interval_seconds, status.total)}
            " " {state} {since}
        </p>
        {status.instant.map(|i| {
            let (class, text) = match i {
                InstantArrival::On { until, warning: None } => ("muted", format!("Near-instant arrival: on — Microsoft notifies Tenant Mail of new mail (renewed before {} UTC).", when(&until))),
                InstantArrival::On { until, warning: Some(why) } => ("banner banner-error", format!("Near-instant arrival: on until {} UTC, but renewing it failed (tried again at the next check): {why}", when(&until))),
                InstantArrival::Pending => ("muted", "Near-instant arrival: being set up at the next check.".to_string()),
                InstantArrival::Failed(why) => ("banner banner-error", format!("Near-instant arrival is off — checking every interval only: {why}")),
                InstantArrival::Unavailable(why) => ("banner banner-error", why),
            };
            view! { <p class=class id="instant-arrival" role="status">{text}</p> }
        })}
        {status.last_error.map(|e| view! {
            <div class="banner banner-error" role="status" id="inbox-error">{format!("The last check stopped: {e}")}</div>
        })}
    }
}

#[component]
fn InboxBody(
    page: InboxPage,
    tenant_id: String,
    email_id: String,
    selected: Option<String>,
    older: RwSignal<Option<i64>>,
) -> impl IntoView {
    let InboxPage {
        status,
        messages,
        older: next,
    } = page;
    let base = format!("/admin/tenants/{tenant_id}/emails/{email_id}/inbox");
    let empty = messages.is_empty();
    view! {
        <StatusLine status/>
        {empty.then(|| view! { <p class="empty" id="inbox-empty">"Nothing received yet. New mail shows up here after the next check, or click Sync now."</p> })}
        {(!empty).then(|| view! {
            <div class="table-scroll">
            <table class="grid" id="inbox">
                <thead><tr><th>"Received (UTC)"</th><th>"From"</th><th>"Subject"</th><th class="num">"Files"</th><th>"State"</th></tr></thead>
                <tbody>
                    {messages.into_iter().map(|m| {
                        let href = format!("{base}/{}", m.id);
                        let current = selected.as_deref() == Some(m.id.as_str());
                        let from = m.from.as_ref().map(MailAddress::display).unwrap_or_else(|| "(no sender)".into());
                        let subject = if m.subject.trim().is_empty() { "(no subject)".to_string() } else { m.subject.clone() };
                        let mut badges = Vec::new();
                        if m.acknowledged { badges.push(("badge inbox-ack", "Acknowledged")); }
                        match m.action {
                            ActionState::Pending => badges.push(("badge inbox-pending", "Action pending")),
                            ActionState::Failed => badges.push(("badge inbox-failed", "Action failed")),
                            ActionState::Done | ActionState::None => {}
                        }
                        if m.left_folder { badges.push(("badge inbox-left", "Left the folder")); }
                        view! {
                            <tr data-id=m.id.clone() class:selected=current aria-current=current.then_some("true")>
                                <td>{when(&m.received_at)}</td>
                                <td>{from}</td>
                                <td><a href=href class="subject">{subject}</a></td>
                                <td class="num">{(m.attachment_count > 0).then(|| m.attachment_count.to_string())}</td>
                                <td>{badges.into_iter().map(|(c, t)| view! { <span class=c>{t}</span>" " }).collect_view()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        })}
        <div class="pager">
            {move || older.get().is_some().then(|| view! { <button type="button" class="secondary" on:click=move |_| older.set(None)>"Newest"</button> })}
            {next.map(|n| view! { <button type="button" class="secondary" id="inbox-older" on:click=move |_| older.set(Some(n))>"Older"</button> })}
        </div>
    }
}

#[component]
fn Reader(tenant_id: String, email_id: String, message_id: String) -> impl IntoView {
    let key = (tenant_id.clone(), email_id.clone(), message_id.clone());
    let message = Resource::new(move || key.clone(), |(t, e, m)| read_received(t, e, m));
    let files =
        format!("/admin/tenants/{tenant_id}/emails/{email_id}/inbox/{message_id}/attachments");
    view! {
        <article class="reader" id="reader" aria-label="Message">
            <Suspense fallback=|| view! { <p class="muted">"Opening…"</p> }>
                {let files = files.clone(); move || {
                    let files = files.clone();
                    let (tenant_id, email_id) = (tenant_id.clone(), email_id.clone());
                    Suspend::new(async move {
                        match message.await {
                            Ok(m) => view! { <MessageView m files tenant_id=tenant_id.clone() email_id=email_id.clone()/> }.into_any(),
                            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </article>
    }
}

#[component]
fn MessageView(
    m: ReceivedMessage,
    files: String,
    tenant_id: String,
    email_id: String,
) -> impl IntoView {
    let show_html = RwSignal::new(m.safe_html.is_some());
    let has_html = m.safe_html.is_some();
    let html = m.safe_html.clone().unwrap_or_default();
    let s = &m.summary;
    let subject = if s.subject.trim().is_empty() {
        "(no subject)".to_string()
    } else {
        s.subject.clone()
    };
    let from = s
        .from
        .as_ref()
        .map(MailAddress::display)
        .unwrap_or_default();
    let others = m.to.len() + m.cc.len() > 1;
    let reply_to = if m.reply_to.is_empty() {
        from.clone()
    } else {
        list(&m.reply_to)
    };
    let header = |label: &'static str, value: String| {
        (!value.is_empty())
            .then(|| view! { <div class="hdr"><dt>{label}</dt><dd>{value}</dd></div> })
    };
    view! {
        <h2 id="reader-subject">{subject}</h2>
        <dl class="headers">
            {header("From", from)}
            {header("To", list(&m.to))}
            {header("Cc", list(&m.cc))}
            {header("Reply to", list(&m.reply_to))}
            {header("Received", format!("{} UTC", when(&s.received_at)))}
            {header("Message-ID", m.internet_message_id.clone())}
            {header("Importance", importance(&m.importance))}
            {header("Conversation", m.conversation_id.clone().unwrap_or_default())}
            {answered(&m, &tenant_id, &email_id)}
        </dl>
        {m.action_error.clone().map(|e| view! { <div class="banner banner-error" role="status">{format!("After-processing failed: {e}")}</div> })}
        {(!m.attachments.is_empty()).then(|| view! {
            <ul class="attachments" id="reader-attachments">
                {m.attachments.iter().map(|a| view! {
                    <li>
                        <a href=format!("{files}/{}", a.id) download=a.name.clone()>{a.name.clone()}</a>
                        <span class="muted">{format!(" {} · {}", a.content_type, size(a.size))}</span>
                    </li>
                }).collect_view()}
            </ul>
        })}
        {(has_html && m.remote_images > 0).then(|| view! {
            <p class="muted" id="remote-blocked" role="note">
                {remote_note(m.remote_images)}
            </p>
        })}
        {has_html.then(|| view! {
            <div class="view-switch" role="group" aria-label="Show the message as">
                <button type="button" class:active=move || show_html.get() on:click=move |_| show_html.set(true)>"Formatted"</button>
                <button type="button" class:active=move || !show_html.get() on:click=move |_| show_html.set(false) id="show-text">"Plain text"</button>
            </div>
        })}
        <Show
            when=move || show_html.get()
            fallback={
                let text = m.body_text.clone();
                move || view! { <pre class="body-text" id="reader-text">{text.clone()}</pre> }
            }
        >
            // Sanitised on the server, and sandboxed here: no scripts, no
            // same-origin access; links open outside the app.
            <iframe
                class="body-html"
                id="reader-html"
                title="Message body"
                sandbox="allow-popups allow-popups-to-escape-sandbox"
                srcdoc=html.clone()
            ></iframe>
        </Show>
        <ReplyPanel
            tenant_id
            email_id
            message_id=m.summary.id.clone()
            to=reply_to
            others=others
        />
    }
}

/// "In reply to": a link to the message answered when this mailbox has it,
/// else its Message-ID.
fn answered(m: &ReceivedMessage, tenant_id: &str, email_id: &str) -> Option<impl IntoView> {
    let id = m.in_reply_to.clone()?;
    let target = match &m.in_reply_to_message {
        Some((message, subject)) => {
            let href = format!("/admin/tenants/{tenant_id}/emails/{email_id}/inbox/{message}");
            let subject = if subject.trim().is_empty() {
                "(no subject)".to_string()
            } else {
                subject.clone()
            };
            view! { <a href=href id="in-reply-to">{subject}</a> }.into_any()
        }
        None => view! { <span id="in-reply-to">{id}</span> }.into_any(),
    };
    Some(view! { <div class="hdr"><dt>"In reply to"</dt><dd>{target}</dd></div> })
}

/// Shown only when the sender marked it (normal says nothing).
fn importance(level: &str) -> String {
    match level {
        "high" => "High".into(),
        "low" => "Low".into(),
        _ => String::new(),
    }
}

/// Why some pictures are missing: loading them would tell the sender (or a
/// tracker) that the message was opened, and from where.
fn remote_note(n: u32) -> String {
    let what = if n == 1 {
        "1 remote image was".to_string()
    } else {
        format!("{n} remote images were")
    };
    format!("Remote content blocked: {what} not loaded, so the sender cannot tell that this message was opened.")
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
        b if b >= 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
