//! The tenant email editor: General, OAuth2 Configuration and Receiving tabs, Save.
mod certificate;
mod connect;
mod doctor;
mod folders;
mod general;
mod inputs;
mod next_secret;
mod oauth;
mod receiving;
mod send_test;
mod state;

use crate::api::{load_email_editor, EmailEditorData, SaveTenantEmail};
use crate::components::error_banner::ErrorBanner;
use crate::components::status_badge::StatusBadge;
use crate::components::tabs::{TabBar, TabSpec};
use crate::model::{fields, AccountType, ApiError, ConnectionStatus};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use state::FormState;

const GENERAL_FIELDS: &[&str] = &[
    fields::ACCOUNT_TYPE,
    fields::ADDRESS,
    fields::DELEGATE,
    fields::DIRECTION,
];

/// The tab that shows a field (so a refused Save opens the right one).
fn tab_of(field: &str) -> &'static str {
    if GENERAL_FIELDS.contains(&field) {
        "general"
    } else if crate::model::inbox::RECEIVING_FIELDS.contains(&field) {
        "receiving"
    } else {
        "oauth2"
    }
}

#[component]
pub fn TenantEmailPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("tenant_id").unwrap_or_default(), p.get("email_id"))
    };
    let data = Resource::new(key, |(tenant_id, email_id)| {
        load_email_editor(tenant_id, email_id)
    });
    view! {
        <section class="page">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <EmailEditor data=d/> }.into_any(),
                        Err(e) => view! {
                            <h1>"Tenant Email"</h1>
                            <ErrorBanner error=e/>
                            <p><a href="/admin/tenants">"Back to Tenant Management"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn EmailEditor(data: EmailEditorData) -> impl IntoView {
    let EmailEditorData {
        context,
        tenant_name,
        email,
        connection,
        activity,
    } = data;
    // Set by the OAuth callback's redirect after a successful connection.
    let just_connected = use_query_map().read_untracked().get("connected").as_deref() == Some("1");
    let tenant_id = email
        .as_ref()
        .map(|e| e.tenant_id.clone())
        .unwrap_or_else(|| {
            use_params_map()
                .read_untracked()
                .get("tenant_id")
                .unwrap_or_default()
        });
    let status = email
        .as_ref()
        .map(|e| e.status)
        .unwrap_or(ConnectionStatus::NotAuthenticated);
    let state = FormState::new(email, context.authority_policy.clone());
    let save = ServerAction::<SaveTenantEmail>::new();
    let banner = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let active = RwSignal::new("general");
    let dirty = Memo::new(move |_| state.is_dirty());
    let uses_oauth = Memo::new(move |_| {
        AccountType::from_code(&state.account_type.get()).is_some_and(|t| t.uses_oauth2())
    });

    let has_error_in = move |tab: &'static str| {
        Signal::derive(move || state.errors.read().0.keys().any(|k| tab_of(k) == tab))
    };
    let tabs = vec![
        TabSpec {
            id: "general",
            label: "General",
            has_error: has_error_in("general"),
        },
        TabSpec {
            id: "oauth2",
            label: "OAuth2 Configuration",
            has_error: has_error_in("oauth2"),
        },
        TabSpec {
            id: "receiving",
            label: "Receiving",
            has_error: has_error_in("receiving"),
        },
    ];

    // Show the first tab that holds a message, so a refused Save is never a mystery.
    let reveal_errors = move || {
        let first = ["general", "oauth2", "receiving"].into_iter().find(|tab| {
            state
                .errors
                .read_untracked()
                .0
                .keys()
                .any(|k| tab_of(k) == *tab)
        });
        if let Some(tab) = first {
            active.set(tab);
        }
    };

    let tid_for_nav = tenant_id.clone();
    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        match result {
            Ok(view) => {
                let created = state.creating();
                let id = view.id.clone();
                state.saved_as(view);
                banner.set(None);
                notice.set(Some("Saved.".into()));
                if created {
                    // Give the new email its own address without re-rendering
                    // the form (which would drop the "Saved." notice and focus).
                    replace_url(&format!("/admin/tenants/{tid_for_nav}/emails/{id}"));
                }
            }
            Err(ApiError::Invalid(errors)) => {
                state.errors.set(errors);
                notice.set(None);
                banner.set(Some(ApiError::Invalid(Default::default())));
                reveal_errors();
            }
            Err(ApiError::Conflict(_)) => {
                notice.set(None);
                banner.set(Some(ApiError::Conflict(
                    "Someone else saved this Tenant Email after you opened it, so your changes were not saved. \
                     Reload to see their version, then apply your changes again."
                        .into(),
                )));
            }
            Err(e) => {
                notice.set(None);
                banner.set(Some(e));
            }
        }
    });

    let tid_for_save = tenant_id.clone();
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        if !state.check_all() {
            banner.set(Some(ApiError::Invalid(Default::default())));
            reveal_errors();
            return;
        }
        banner.set(None);
        save.dispatch(SaveTenantEmail {
            tenant_id: tid_for_save.clone(),
            email_id: state.email_id.get_untracked(),
            version: state.version.get_untracked(),
            replace_secret: state.replace_secret.get_untracked(),
            input: state.current_untracked(),
        });
    };

    // Warn before the page is left with unsaved changes: browser navigation...
    let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if dirty.get_untracked() {
            ev.prevent_default();
            ev.set_return_value("unsaved");
        }
    });
    on_cleanup(move || unload.remove());
    // ...and links inside the app.
    let guard_link = move |ev: leptos::ev::MouseEvent| {
        if dirty.get_untracked() && !confirm_leave() {
            ev.prevent_default();
        }
    };

    let back_href = format!("/admin/tenants/{tenant_id}");
    // A saved mailbox's mail, by direction.
    let mail_links = state.email_id.get_untracked().map(|id| {
        let direction = state.saved.get_untracked().direction();
        let base = format!("/admin/tenants/{tenant_id}/emails/{id}");
        view! {
            <nav class="mail-links" aria-label="Mail">
                {direction.receives().then(|| view! { <a href=format!("{base}/inbox") id="nav-inbox">"Inbox"</a> })}
                {direction.sends().then(|| view! { <a href=format!("{base}/outbox") id="nav-outbox">"Outbox"</a> })}
            </nav>
        }
    });
    let connect_tenant_id = tenant_id.clone();
    // Test sending once the saved mailbox is connected and sends.
    let send_test = (status == ConnectionStatus::Connected)
        .then(|| {
            let saved = state.saved.get_untracked();
            let email_id = state.email_id.get_untracked()?;
            saved.direction().sends().then(|| {
                view! {
                    <send_test::SendTestPanel
                        tenant_id=tenant_id.clone()
                        email_id
                        address=saved.address.clone()
                    />
                }
            })
        })
        .flatten();
    let title = move || {
        if state.email_id.get().is_none() {
            "Add Tenant Email".to_string()
        } else {
            state.saved.get().address
        }
    };
    let oauth_tenant_id = tenant_id.clone();
    view! {
        <p class="breadcrumb">
            <a href="/admin/tenants" on:click=guard_link>"Tenant Management"</a>
            " / "
            <a href=back_href on:click=guard_link id="back-to-tenant">{tenant_name}</a>
            " / Tenant Emails"
        </p>
        <h1>{title} " " <StatusBadge status=Some(status)/></h1>
        {mail_links}
        <form class="form" on:submit=on_save novalidate>
            <TabBar tabs active label="Tenant email sections"/>
            <div role="tabpanel" id="panel-general" aria-labelledby="tab-general" hidden=move || active.get() != "general">
                <general::GeneralTab state/>
            </div>
            <div role="tabpanel" id="panel-oauth2" aria-labelledby="tab-oauth2" hidden=move || active.get() != "oauth2">
                <Show when=move || uses_oauth.get() fallback=|| view! { <p>"This account type needs no OAuth2 configuration."</p> }>
                    <oauth::OAuthTab state redirect_uri=context.redirect_uri.clone() tenant_id=oauth_tenant_id.clone()/>
                </Show>
            </div>
            <div role="tabpanel" id="panel-receiving" aria-labelledby="tab-receiving" hidden=move || active.get() != "receiving">
                <receiving::ReceivingTab
                    state
                    tenant_id=tenant_id.clone()
                    connected=status == ConnectionStatus::Connected
                    instant_unavailable=context.instant_arrival_unavailable.clone()
                />
            </div>
            {move || banner.get().map(|e| view! { <ErrorBanner error=e/> })}
            {move || notice.get().map(|n| view! { <div class="banner banner-ok" role="status">{n}</div> })}
            <div class="form-actions">
                <button type="submit" class="primary" id="save" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <Show when=move || dirty.get()>
                    <span class="unsaved" role="status">"Unsaved changes"</span>
                </Show>
                <Show when=move || matches!(banner.get(), Some(ApiError::Conflict(_)))>
                    <button type="button" class="secondary" on:click=move |_| reload_page()>"Reload"</button>
                </Show>
            </div>
        </form>
        <Show when=move || uses_oauth.get()>
            <connect::ConnectPanel
                state
                tenant_id=connect_tenant_id.clone()
                status
                connection=connection.clone()
                activity=activity.clone()
                dirty
                just_connected
            />
        </Show>
        {send_test}
    }
}

fn confirm_leave() -> bool {
    #[cfg(feature = "hydrate")]
    {
        window()
            .confirm_with_message(
                "You have unsaved changes on this Tenant Email. Leave without saving?",
            )
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        true
    }
}

fn replace_url(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

fn reload_page() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().reload();
    }
}
