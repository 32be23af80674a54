//! Admin → Audit log: who did what, when, from where; filterable, newest first.
use crate::api::list_audit;
use crate::components::error_banner::ErrorBanner;
use crate::model::admin::{AuditEntryView, AuditFilter};
use leptos::prelude::*;

/// Families of actions offered in the filter (a prefix match on the server).
const ACTIONS: &[(&str, &str)] = &[
    ("", "All actions"),
    ("admin.sign_in", "Sign-ins"),
    ("admin.", "Admin accounts"),
    ("tenant.", "Tenants"),
    ("tenant_email.", "Tenant emails"),
    ("tenant_email.secret_replaced", "Secrets replaced"),
    ("connection.", "Mailbox connections"),
    ("audit.", "Audit log exports"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let failures_only = RwSignal::new(false);
    // The filter applied; edited fields take effect on "Apply".
    let applied = RwSignal::new(AuditFilter::default());
    let older = RwSignal::new(Vec::<AuditEntryView>::new());
    let page = Resource::new(move || applied.get(), list_audit);
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        older.set(Vec::new());
        applied.set(AuditFilter {
            action: action.get_untracked(),
            actor: actor.get_untracked(),
            text: text.get_untracked(),
            failures_only: failures_only.get_untracked(),
            before_id: None,
        });
    };
    view! {
        <section class="page">
            <h1>"Audit log"</h1>
            <p class="lead">"Every sign-in, change and connection event, newest first. Entries cannot be edited or deleted."</p>
            <form class="inline-form filters" id="audit-filter" on:submit=apply>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" on:change=move |ev| action.set(event_target_value(&ev))>
                        {ACTIONS.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-actor">"Admin"</label>
                    <input id="audit-actor" type="text" placeholder="username or system" bind:value=actor/>
                </div>
                <div class="field">
                    <label for="audit-text">"Target or detail contains"</label>
                    <input id="audit-text" type="search" bind:value=text/>
                </div>
                <label class="checkbox"><input id="audit-failures" type="checkbox" bind:checked=failures_only/>" Failures only"</label>
                <button type="submit" class="primary">"Apply"</button>
                <a id="audit-export" class="button secondary" download=""
                    title="Every entry that matches the applied filter, as CSV"
                    href=move || export_href(&applied.get())>"Download CSV"</a>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => {
                            let mut entries = older.get_untracked();
                            entries.extend(p.entries);
                            let next = p.next_before_id;
                            if entries.is_empty() {
                                return view! { <p class="empty">"No entries match."</p> }.into_any();
                            }
                            let shown = entries.clone();
                            view! {
                                <AuditTable entries=shown/>
                                {next.map(|before| view! {
                                    <button type="button" class="secondary" id="audit-older"
                                        on:click=move |_| {
                                            older.set(entries.clone());
                                            applied.update(|f| f.before_id = Some(before));
                                        }>
                                        "Show older entries"
                                    </button>
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The CSV export of what the applied filter shows (all pages of it).
fn export_href(f: &AuditFilter) -> String {
    let failures = if f.failures_only { "true" } else { "false" };
    let query = serde_urlencoded::to_string([
        ("action", f.action.as_str()),
        ("actor", f.actor.as_str()),
        ("text", f.text.as_str()),
        ("failures_only", failures),
    ])
    .unwrap_or_default();
    format!("/admin/audit/export.csv?{query}")
}

#[component]
fn AuditTable(entries: Vec<AuditEntryView>) -> impl IntoView {
    view! {
        <div class="table-scroll">
        <table class="grid" id="audit">
            <thead><tr><th>"Time (UTC)"</th><th>"Admin"</th><th>"Action"</th><th>"Outcome"</th><th>"Target"</th><th>"Detail"</th><th>"From"</th></tr></thead>
            <tbody>
                {entries.into_iter().map(|e| {
                    let failed = e.outcome == "failure";
                    let action = e.action.clone();
                    view! {
                    <tr data-action=action class:failure=failed>
                        <td>{e.at}</td>
                        <td>{e.actor}</td>
                        <td>{e.action}</td>
                        <td>{e.outcome}</td>
                        <td>{e.target.unwrap_or_default()}</td>
                        <td>{e.detail.unwrap_or_default()}</td>
                        <td title=e.request_id.map(|r| format!("request {r}")).unwrap_or_default()>{e.ip.unwrap_or_default()}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
