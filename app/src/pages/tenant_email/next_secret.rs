//! The next secret: a second client secret stored ahead of need. Tenant
//! Mail moves to it when Microsoft refuses the secret in use or 14 days
//! before that one's end date, with no new sign-in and no mail held. Its
//! value is write-only like the secret's; only when it was stored and when
//! it ends come back.
use super::state::FormState;
use crate::api::{RemoveNextSecret, SetNextSecret};
use crate::components::error_banner::ErrorBanner;
use crate::components::field::Field;
use crate::model::tenant_email::{validate_next_secret, NextSecretInput};
use crate::model::{fields, ApiError, FieldErrors};
use leptos::prelude::*;

const STORE: u8 = 1;
const REMOVE: u8 = 2;

#[component]
pub fn NextSecretPanel(state: FormState, tenant_id: String) -> impl IntoView {
    let secret = RwSignal::new(String::new());
    let expires_on = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let last = RwSignal::new(None::<u8>);
    let store = ServerAction::<SetNextSecret>::new();
    let remove = ServerAction::<RemoveNextSecret>::new();
    let error_of =
        move |field: &'static str| Signal::derive(move || errors.read().get(field).cloned());
    let recheck = move || {
        if !errors.read_untracked().is_empty() {
            errors.set(validate_next_secret(
                &secret.get_untracked(),
                expires_on.get_untracked().trim(),
            ));
        }
    };
    let tenant = tenant_id.clone();
    let submit = move |_| {
        let found =
            validate_next_secret(&secret.get_untracked(), expires_on.get_untracked().trim());
        let ok = found.is_empty();
        errors.set(found);
        let at = state
            .email_id
            .get_untracked()
            .zip(state.version.get_untracked());
        if let (true, Some((email_id, version))) = (ok, at) {
            last.set(Some(STORE));
            store.dispatch(SetNextSecret {
                tenant_id: tenant.clone(),
                email_id,
                version,
                input: NextSecretInput {
                    secret: secret.get_untracked(),
                    expires_on: expires_on.get_untracked(),
                },
            });
        }
    };
    let drop_it = move |_| {
        let at = state
            .email_id
            .get_untracked()
            .zip(state.version.get_untracked());
        if let Some((email_id, version)) = at {
            last.set(Some(REMOVE));
            remove.dispatch(RemoveNextSecret {
                tenant_id: tenant_id.clone(),
                email_id,
                version,
            });
        }
    };
    // The answer is the new view: the slot, and the version it saved.
    let settle = move |result: Option<Result<crate::model::TenantEmailView, ApiError>>| match result
    {
        Some(Ok(view)) => {
            state.version.set(Some(view.version));
            state.next_secret.set(view.next_secret);
            secret.set(String::new());
            expires_on.set(String::new());
            errors.set(FieldErrors::new());
        }
        Some(Err(ApiError::Invalid(found))) => errors.set(found),
        _ => {}
    };
    Effect::new(move |_| settle(store.value().get()));
    Effect::new(move |_| settle(remove.value().get()));
    // Only the last action's failure (a stale one from the other button is not news).
    let failure = move || {
        let result = match last.get() {
            Some(STORE) => store.value().get(),
            Some(_) => remove.value().get(),
            None => None,
        };
        result
            .and_then(Result::err)
            .filter(|e| !matches!(e, ApiError::Invalid(_)))
            .map(|e| view! { <ErrorBanner error=e/> })
    };
    let stored = move || {
        state.next_secret.get().map(|n| {
            let ends = n
                .expires_on
                .map(|d| format!("ends {d}"))
                .unwrap_or_else(|| "no end date recorded".into());
            let on = n.set_at.get(..10).unwrap_or(&n.set_at).to_string();
            view! {
                <div class="with-button">
                    <span class="secret-set" id="next-secret-status">
                        {format!("Next secret stored on {on} ({ends})")}
                    </span>
                    <button type="button" class="secondary" id="next-secret-remove"
                        disabled=move || remove.pending().get()
                        on:click=drop_it.clone()>"Remove"</button>
                </div>
            }
        })
    };
    view! {
        <div class="field" id="next-secret-panel">
            <label>"Next secret (rotation without downtime)"</label>
            <p class="hint">
                {format!("Create the new secret in Azure before the current one ends and store it here. Tenant Mail moves to it when Microsoft refuses the secret in use, or {} days before that one's end date; nobody signs in again and no mail waits. Check configuration tells you whether Microsoft accepts it.", 14)}
            </p>
            {stored}
            <Show when=move || state.next_secret.get().is_none()>
                <Field label="Next secret" input_id=fields::NEXT_CLIENT_SECRET error=error_of(fields::NEXT_CLIENT_SECRET)>
                    <input id=fields::NEXT_CLIENT_SECRET type="password" autocomplete="new-password" spellcheck="false"
                        aria-describedby="next_client_secret-error"
                        prop:value=move || secret.get()
                        on:input=move |ev| { secret.set(event_target_value(&ev)); recheck(); }/>
                </Field>
                <Field label="Next secret ends on (optional)" input_id=fields::NEXT_SECRET_EXPIRES_ON error=error_of(fields::NEXT_SECRET_EXPIRES_ON)>
                    <input id=fields::NEXT_SECRET_EXPIRES_ON type="date"
                        aria-describedby="next_secret_expires_on-error"
                        prop:value=move || expires_on.get()
                        on:input=move |ev| { expires_on.set(event_target_value(&ev)); recheck(); }/>
                </Field>
                <button type="button" class="secondary" id="next-secret-store"
                    disabled=move || store.pending().get()
                    on:click=submit.clone()>
                    {move || if store.pending().get() { "Storing…" } else { "Store next secret" }}
                </button>
            </Show>
            {failure}
        </div>
    }
}
