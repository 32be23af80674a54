//! Admin → Tenant Management: the list of tenants.
use crate::api::{list_tenants, CreateTenant};
use crate::components::{error_banner::ErrorBanner, status_badge::StatusBadge};
use crate::model::{fields, identifiers, ApiError, TenantSummary};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn TenantsPage() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let tenants = Resource::new(move || create.version().get(), |_| list_tenants());
    view! {
        <section class="page">
            <h1>"Tenant Management"</h1>
            <p class="lead">"Double-click a tenant (or focus it and press Enter) to open it."</p>
            <NewTenantForm create/>
            <Transition fallback=|| view! { <p class="muted">"Loading tenants…"</p> }>
                {move || Suspend::new(async move {
                    match tenants.await {
                        Ok(list) => view! { <TenantTable list/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn NewTenantForm(create: ServerAction<CreateTenant>) -> impl IntoView {
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    // Open the new tenant as soon as it exists: that is what the admin wants next.
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            match result {
                Ok(t) => navigate(&format!("/admin/tenants/{}", t.id), Default::default()),
                Err(ApiError::Invalid(f)) => error.set(f.get(fields::TENANT_NAME).cloned()),
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = name.get_untracked();
        match identifiers::validate_tenant_name(&value) {
            Err(m) => error.set(Some(m)),
            Ok(()) => {
                error.set(None);
                create.dispatch(CreateTenant { name: value });
            }
        }
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class="primary" on:click=move |_| open.set(true)>"New tenant"</button>
            }
        >
            <form class="inline-form" on:submit=submit novalidate>
                <div class="field" class:has-error=move || error.get().is_some()>
                    <label for="new-tenant-name">"Tenant name"</label>
                    <input id="new-tenant-name" type="text" maxlength="100" autofocus bind:value=name
                        aria-describedby="new-tenant-name-error"/>
                    <p class="field-error" id="new-tenant-name-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </div>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create tenant"</button>
                <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
            </form>
        </Show>
    }
}

#[component]
fn TenantTable(list: Vec<TenantSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No tenants yet. Click New tenant to add the first one."</p> }.into_any();
    }
    let navigate = use_navigate();
    let rows = list
        .into_iter()
        .map(|t| {
            let href = format!("/admin/tenants/{}", t.id);
            let (nav1, nav2) = (navigate.clone(), navigate.clone());
            let (h1, h2) = (href.clone(), href.clone());
            view! {
                <tr
                    tabindex="0"
                    class="row-link"
                    data-tenant-id=t.id.clone()
                    aria-label=format!("Open tenant {}", t.name)
                    on:dblclick=move |_| nav1(&h1, Default::default())
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            nav2(&h2, Default::default());
                        }
                    }
                >
                    <td>{t.name.clone()}</td>
                    <td class="num">{t.email_count}</td>
                    <td>
                        <StatusBadge status=t.worst_status/>
                        {t.attention.clone().map(|a| view! {
                            <p class="tenant-attention">
                                {if t.problems > 1 { format!("{a} (and {} more)", t.problems - 1) } else { a }}
                            </p>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid" id="tenants-table">
            <thead>
                <tr><th scope="col">"Name"</th><th scope="col" class="num">"Tenant emails"</th><th scope="col">"Status"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
