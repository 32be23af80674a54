//! Admin → Admins: who can sign in, adding and disabling admins, and changing
//! your own password.
use crate::api::{list_admins, AddAdmin, ChangePassword, SetAdminDisabled};
use crate::components::{error_banner::ErrorBanner, field::Field};
use crate::model::admin::{
    self as rules, AdminView, CURRENT_PASSWORD, PASSWORD, PASSWORD_CONFIRM, USERNAME,
};
use crate::model::{ApiError, FieldErrors};
use leptos::prelude::*;

#[component]
pub fn AdminsPage() -> impl IntoView {
    let add = ServerAction::<AddAdmin>::new();
    let toggle = ServerAction::<SetAdminDisabled>::new();
    let admins = Resource::new(
        move || (add.version().get(), toggle.version().get()),
        |_| list_admins(),
    );
    let toggle_error = Signal::derive(move || toggle.value().get().and_then(|r| r.err()));
    view! {
        <section class="page">
            <h1>"Admins"</h1>
            <p class="lead">"Everyone listed here can sign in to Tenant Mail. Disabling an admin signs them out at once."</p>
            {move || toggle_error.get().map(|e| view! { <ErrorBanner error=e/> })}
            <Transition fallback=|| view! { <p class="muted">"Loading admins…"</p> }>
                {move || Suspend::new(async move {
                    match admins.await {
                        Ok(list) => view! { <AdminTable list toggle/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <div class="columns">
                <AddAdminForm add/>
                <ChangePasswordForm/>
            </div>
        </section>
    }
}

#[component]
fn AdminTable(list: Vec<AdminView>, toggle: ServerAction<SetAdminDisabled>) -> impl IntoView {
    view! {
        <table class="grid" id="admins">
            <thead><tr><th>"Username"</th><th>"Status"</th><th>"Created"</th><th>"Last sign-in"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|a| {
                    let id = a.id.clone();
                    let disabled = a.disabled;
                    view! {
                        <tr data-username=a.username.clone()>
                            <td>{a.username.clone()}{a.is_you.then_some(" (you)")}</td>
                            <td>{if disabled { "Disabled" } else { "Active" }}</td>
                            <td>{a.created_at}</td>
                            <td>{a.last_sign_in_at.unwrap_or_else(|| "never".into())}</td>
                            <td>
                                {(!a.is_you).then(|| view! {
                                    <button type="button" class="secondary"
                                        on:click=move |_| { toggle.dispatch(SetAdminDisabled { admin_id: id.clone(), disabled: !disabled }); }>
                                        {if disabled { "Enable" } else { "Disable" }}
                                    </button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The three password-ish inputs share this: validated on submit in WASM,
/// again on the server, errors under each field.
fn field_error(errors: RwSignal<FieldErrors>, f: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.get(f).cloned()))
}

#[component]
fn AddAdminForm(add: ServerAction<AddAdmin>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<ApiError>);
    let added = RwSignal::new(None::<String>);
    Effect::new(move |_| match add.value().get() {
        Some(Ok(a)) => {
            added.set(Some(a.username));
            username.set(String::new());
            password.set(String::new());
            confirm.set(String::new());
        }
        Some(Err(ApiError::Invalid(f))) => errors.set(f),
        Some(Err(e)) => banner.set(Some(e)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (u, p, c) = (
            username.get_untracked(),
            password.get_untracked(),
            confirm.get_untracked(),
        );
        let mut e = FieldErrors::new();
        e.merge(USERNAME, rules::validate_username(&u));
        e.merge(PASSWORD, rules::validate_new_password(&p, &u));
        e.merge(PASSWORD_CONFIRM, rules::validate_confirmation(&p, &c));
        let ok = e.is_empty();
        errors.set(e);
        banner.set(None);
        added.set(None);
        if ok {
            add.dispatch(AddAdmin {
                username: u,
                password: p,
                password_confirm: c,
            });
        }
    };
    view! {
        <form class="stacked card" id="add-admin" on:submit=submit novalidate>
            <h2>"Add an admin"</h2>
            {move || banner.get().map(|e| view! { <ErrorBanner error=e/> })}
            {move || added.get().map(|u| view! { <div class="banner banner-success" role="status">{format!("Admin {u} added.")}</div> })}
            <Field label="Username" input_id="new-admin-username" error=field_error(errors, USERNAME)>
                <input id="new-admin-username" type="text" autocomplete="off" bind:value=username/>
            </Field>
            <Field label="Password" input_id="new-admin-password" error=field_error(errors, PASSWORD)
                hint="At least 12 characters. Give it to the new admin in person; they can change it.">
                <input id="new-admin-password" type="password" autocomplete="new-password" bind:value=password/>
            </Field>
            <Field label="Repeat the password" input_id="new-admin-password-confirm" error=field_error(errors, PASSWORD_CONFIRM)>
                <input id="new-admin-password-confirm" type="password" autocomplete="new-password" bind:value=confirm/>
            </Field>
            <button type="submit" class="primary" disabled=move || add.pending().get()>"Add admin"</button>
        </form>
    }
}

#[component]
fn ChangePasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<ApiError>);
    let changed = RwSignal::new(false);
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            changed.set(true);
            current.set(String::new());
            password.set(String::new());
            confirm.set(String::new());
        }
        Some(Err(ApiError::Invalid(f))) => errors.set(f),
        Some(Err(e)) => banner.set(Some(e)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (cur, p, c) = (
            current.get_untracked(),
            password.get_untracked(),
            confirm.get_untracked(),
        );
        let mut e = FieldErrors::new();
        if cur.is_empty() {
            e.add(CURRENT_PASSWORD, "Enter your current password.");
        }
        // The username rule is checked on the server, which knows who you are.
        e.merge(PASSWORD, rules::validate_new_password(&p, ""));
        e.merge(PASSWORD_CONFIRM, rules::validate_confirmation(&p, &c));
        let ok = e.is_empty();
        errors.set(e);
        banner.set(None);
        changed.set(false);
        if ok {
            change.dispatch(ChangePassword {
                current_password: cur,
                password: p,
                password_confirm: c,
            });
        }
    };
    view! {
        <form class="stacked card" id="change-password" on:submit=submit novalidate>
            <h2>"Change your password"</h2>
            {move || banner.get().map(|e| view! { <ErrorBanner error=e/> })}
            <Show when=move || changed.get()>
                <div class="banner banner-success" role="status">"Password changed. Your other sessions were signed out."</div>
            </Show>
            <Field label="Current password" input_id="current-password" error=field_error(errors, CURRENT_PASSWORD)>
                <input id="current-password" type="password" autocomplete="current-password" bind:value=current/>
            </Field>
            <Field label="New password" input_id="change-password-new" error=field_error(errors, PASSWORD)>
                <input id="change-password-new" type="password" autocomplete="new-password" bind:value=password/>
            </Field>
            <Field label="Repeat the new password" input_id="change-password-confirm" error=field_error(errors, PASSWORD_CONFIRM)>
                <input id="change-password-confirm" type="password" autocomplete="new-password" bind:value=confirm/>
            </Field>
            <button type="submit" class="primary" disabled=move || change.pending().get()>"Change password"</button>
        </form>
    }
}
