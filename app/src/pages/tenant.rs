//! The tenant editor: Tenant Emails tab (default), API tokens and General tabs.
use crate::api::{get_tenant, DeleteTenant, DeleteTenantEmail, RenameTenant};
use crate::components::error_banner::ErrorBanner;
use crate::components::inline_confirm::InlineConfirm;
use crate::components::status_badge::StatusBadge;
use crate::components::tabs::{TabBar, TabSpec};
use crate::model::tenant_email::TenantEmailSummary;
use crate::model::{fields, identifiers, ApiError, TenantDetail};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn TenantPage() -> impl IntoView {
    let params = use_params_map();
    let tenant_id = move || params.read().get("tenant_id").unwrap_or_default();
    let delete_email = ServerAction::<DeleteTenantEmail>::new();
    let rename = ServerAction::<RenameTenant>::new();
    let tenant = Resource::new(
        move || {
            (
                tenant_id(),
                delete_email.version().get(),
                rename.version().get(),
            )
        },
        |(id, _, _)| get_tenant(id),
    );
    view! {
        <section class="page">
            <Transition fallback=|| view! { <p class="muted">"Loading tenant…"</p> }>
                {move || Suspend::new(async move {
                    match tenant.await {
                        Ok(t) => view! { <TenantEditor tenant=t delete_email rename/> }.into_any(),
                        Err(e) => view! {
                            <h1>"Tenant"</h1>
                            <ErrorBanner error=e/>
                            <p><a href="/admin/tenants">"Back to Tenant Management"</a></p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TenantEditor(
    tenant: TenantDetail,
    delete_email: ServerAction<DeleteTenantEmail>,
    rename: ServerAction<RenameTenant>,
) -> impl IntoView {
    let active = RwSignal::new("emails");
    let tabs = vec![
        TabSpec {
            id: "emails",
            label: "Tenant Emails",
            has_error: Signal::from(false),
        },
        TabSpec {
            id: "tokens",
            label: "API tokens",
            has_error: Signal::from(false),
        },
        TabSpec {
            id: "general",
            label: "General",
            has_error: Signal::from(false),
        },
    ];
    let name = tenant.name.clone();
    view! {
        <p class="breadcrumb"><a href="/admin/tenants">"Tenant Management"</a>" / "{name.clone()}</p>
        <h1>{name}</h1>
        <TabBar tabs active label="Tenant sections"/>
        <div role="tabpanel" id="panel-emails" aria-labelledby="tab-emails" hidden=move || active.get() != "emails">
            <EmailsTab tenant_id=tenant.id.clone() emails=tenant.emails.clone() delete_email/>
        </div>
        <div role="tabpanel" id="panel-tokens" aria-labelledby="tab-tokens" hidden=move || active.get() != "tokens">
            <super::api_tokens::ApiTokensTab tenant_id=tenant.id.clone()/>
        </div>
        <div role="tabpanel" id="panel-general" aria-labelledby="tab-general" hidden=move || active.get() != "general">
            <GeneralTab tenant rename/>
        </div>
    }
}

#[component]
fn EmailsTab(
    tenant_id: String,
    emails: Vec<TenantEmailSummary>,
    delete_email: ServerAction<DeleteTenantEmail>,
) -> impl IntoView {
    let navigate = use_navigate();
    let confirming = RwSignal::new(None::<String>);
    let add_href = format!("/admin/tenants/{tenant_id}/emails/new");
    let error = move || delete_email.value().get().and_then(|r| r.err());
    let rows = emails
        .into_iter()
        .map(|e| {
            let href = format!("/admin/tenants/{tenant_id}/emails/{}", e.id);
            let (nav1, nav2) = (navigate.clone(), navigate.clone());
            let (h1, h2) = (href.clone(), href.clone());
            let id = e.id.clone();
            let (tid, id_for_delete) = (tenant_id.clone(), id.clone());
            let address = e.address.clone();
            view! {
                <tr
                    tabindex="0"
                    class="row-link"
                    data-email-id=id.clone()
                    aria-label=format!("Open tenant email {}", e.address)
                    on:dblclick=move |_| nav1(&h1, Default::default())
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" && ev.target() == ev.current_target() {
                            nav2(&h2, Default::default());
                        }
                    }
                >
                    <td>{e.address.clone()}</td>
                    <td>{e.account_type.label()}</td>
                    <td>{e.direction.label()}</td>
                    <td><StatusBadge status=Some(e.status)/></td>
                    <td class="actions">
                        <InlineConfirm
                            confirming
                            key=id.clone()
                            action="Delete"
                            group_label="Confirm delete"
                            question=format!("Delete {address}? Its settings and secret are removed. ")
                            on_confirm=Callback::new(move |_| {
                                delete_email.dispatch(DeleteTenantEmail { tenant_id: tid.clone(), email_id: id_for_delete.clone() });
                            })
                        />
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <a class="button primary" href=add_href>"Add"</a>
        </div>
        {move || error().map(|e| view! { <ErrorBanner error=e/> })}
        <table class="grid" id="emails-table">
            <thead>
                <tr>
                    <th scope="col">"Address"</th>
                    <th scope="col">"Account Type"</th>
                    <th scope="col">"Direction"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn GeneralTab(tenant: TenantDetail, rename: ServerAction<RenameTenant>) -> impl IntoView {
    let name = RwSignal::new(tenant.name.clone());
    let error = RwSignal::new(None::<String>);
    let delete = ServerAction::<DeleteTenant>::new();
    let confirm_delete = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/admin/tenants", Default::default());
        }
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Err(ApiError::Invalid(f))) => error.set(f.get(fields::TENANT_NAME).cloned()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        _ => {}
    });
    let (id, version) = (tenant.id.clone(), tenant.version);
    let id_for_delete = tenant.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = name.get_untracked();
        match identifiers::validate_tenant_name(&value) {
            Err(m) => error.set(Some(m)),
            Ok(()) => {
                error.set(None);
                rename.dispatch(RenameTenant {
                    tenant_id: id.clone(),
                    version,
                    name: value,
                });
            }
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <div class="field" class:has-error=move || error.get().is_some()>
                <label for="tenant-name">"Tenant name"</label>
                <input id="tenant-name" type="text" maxlength="100" bind:value=name/>
                <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </div>
            <button type="submit" class="primary">"Save"</button>
        </form>
        <h2>"Delete tenant"</h2>
        <p>"Deleting a tenant removes all its tenant emails and their secrets."</p>
        {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorBanner error=e/> })}
        <Show
            when=move || confirm_delete.get()
            fallback=move || view! { <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>"Delete tenant"</button> }
        >
            {
                let id = id_for_delete.clone();
                view! {
                    <span class="confirm">
                        "Delete this tenant and all its tenant emails? "
                        <button type="button" class="danger" on:click=move |_| { delete.dispatch(DeleteTenant { tenant_id: id.clone() }); }>"Delete"</button>
                        <button type="button" class="secondary" on:click=move |_| confirm_delete.set(false)>"Cancel"</button>
                    </span>
                }
            }
        </Show>
    }
}
