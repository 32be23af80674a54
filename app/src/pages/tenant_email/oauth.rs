//! OAuth2 Configuration tab.
use super::inputs::{SelectInput, TextInput};
use super::state::FormState;
use crate::components::copy_button::CopyButton;
use crate::components::field::Field;
use crate::model::authority::validate_tenant_segment;
use crate::model::{fields, scopes, AccountType, Cloud, Direction};
use leptos::prelude::*;

#[component]
pub fn OAuthTab(state: FormState, redirect_uri: String, tenant_id: String) -> impl IntoView {
    let credentials = vec![
        (
            crate::model::tenant_email::CREDENTIAL_SECRET,
            "Client secret",
        ),
        (
            crate::model::tenant_email::CREDENTIAL_CERTIFICATE,
            "Certificate (made by Tenant Mail)",
        ),
    ];
    let cert_tenant = tenant_id.clone();
    let next_tenant = tenant_id;
    let clouds: Vec<_> = Cloud::ALL.iter().map(|c| (c.code(), c.label())).collect();
    let app_only = move || {
        AccountType::from_code(&state.account_type.get()) == Some(AccountType::Microsoft365App)
    };
    view! {
        <Field
            label="Cloud"
            input_id=fields::CLOUD
            error=state.error(fields::CLOUD)
            hint="Where the tenant lives: its sign-in and Graph hosts. The app registration must be in the same cloud."
        >
            <SelectInput state field=fields::CLOUD options=clouds/>
        </Field>
        <Field
            label="Application ID"
            input_id=fields::APPLICATION_ID
            error=state.error(fields::APPLICATION_ID)
            hint="Azure: App registrations → your app → Application (client) ID."
        >
            <TextInput state field=fields::APPLICATION_ID placeholder="00000000-0000-0000-0000-000000000000"/>
        </Field>
        <Field
            label="Credential"
            input_id=fields::CREDENTIAL
            error=state.error(fields::CREDENTIAL)
            hint="A certificate is made here: its private key never leaves the server, you upload only the certificate to the app registration."
        >
            <SelectInput state field=fields::CREDENTIAL options=credentials/>
        </Field>
        <Show when=move || !state.uses_certificate() fallback=move || view! { <super::certificate::CertificatePanel state tenant_id=cert_tenant.clone()/> }>
            <SecretField state/>
        </Show>
        <Field
            label="Secret expires on (optional)"
            input_id=fields::SECRET_EXPIRES_ON
            error=state.error(fields::SECRET_EXPIRES_ON)
            hint="From Azure's Certificates & secrets page, so you are warned before it expires."
        >
            <TextInput state field=fields::SECRET_EXPIRES_ON kind="date"/>
        </Field>
        // Beside a stored secret only: it follows the secret in use.
        <Show when=move || {
            !state.uses_certificate()
                && state.email_id.get().is_some()
                && state.secret_set_at.get().is_some()
                && state.certificate.get().is_none()
        }>
            <super::next_secret::NextSecretPanel state tenant_id=next_tenant.clone()/>
        </Show>
        <TenantIdHelper state/>
        <Field
            label="Authentication Authority URL"
            input_id=fields::AUTHORITY_URL
            error=state.error(fields::AUTHORITY_URL)
            hint="https://<the Cloud's sign-in host>/<Tenant ID>, or …/common for any account; login.microsoftonline.com for the global cloud."
        >
            <TextInput state field=fields::AUTHORITY_URL kind="url"/>
            <AuthorityFix state/>
        </Field>
        <Show when=move || !app_only()>
            <Field label="Authorization Endpoint" input_id=fields::AUTHORIZATION_ENDPOINT error=state.error(fields::AUTHORIZATION_ENDPOINT)>
                <TextInput state field=fields::AUTHORIZATION_ENDPOINT/>
            </Field>
        </Show>
        <Field label="Token Request Endpoint" input_id=fields::TOKEN_ENDPOINT error=state.error(fields::TOKEN_ENDPOINT)>
            <TextInput state field=fields::TOKEN_ENDPOINT/>
        </Field>
        <Show
            when=move || !app_only()
            fallback=move || view! {
                <p class="hint" id="app-permissions">
                    {move || {
                        let cloud = Cloud::from_code(&state.cloud.get()).unwrap_or_default();
                        format!(
                            "No one signs in: Tenant Mail asks Microsoft for {}/.default, which carries the app's application permissions. In Entra: API permissions → Microsoft Graph → Application permissions → Mail.ReadWrite and Mail.Send, then Grant admin consent. An Exchange application access policy may limit the app to some mailboxes.",
                            cloud.graph_resource()
                        )
                    }}
                </p>
            }
        >
            <ScopesField state/>
        </Show>
        <div class="field" class:hidden=app_only>
            <label for="redirect_uri">"Redirect URI"</label>
            <div class="with-button">
                <input id="redirect_uri" type="text" readonly value=redirect_uri.clone()/>
                <CopyButton text=Signal::stored(redirect_uri) label="Copy Redirect URI"/>
            </div>
            <p class="hint">"Register exactly this URI (platform Web) in the Azure app registration under Authentication."</p>
        </div>
    }
}

#[component]
fn SecretField(state: FormState) -> impl IntoView {
    let show_input = move || {
        state.email_id.get().is_none()
            || state.replace_secret.get()
            || state.secret_set_at.get().is_none()
    };
    view! {
        <Field
            label="Secret key"
            input_id=fields::CLIENT_SECRET
            error=state.error(fields::CLIENT_SECRET)
            hint="The secret's Value (not its ID). It is stored encrypted and never shown again."
        >
            <Show
                when=show_input
                fallback=move || view! {
                    <div class="with-button">
                        <span class="secret-set" id="secret-status">
                            {move || format!("Secret set on {}", state.secret_set_at.get().unwrap_or_default())}
                        </span>
                        <button type="button" class="secondary" on:click=move |_| state.replace_secret.set(true)>"Replace"</button>
                    </div>
                }
            >
                <div class="with-button">
                    <TextInput state field=fields::CLIENT_SECRET kind="password" autocomplete="new-password"/>
                    <Show when=move || state.replace_secret.get()>
                        <button type="button" class="secondary" on:click=move |_| {
                            state.replace_secret.set(false);
                            state.client_secret.set(String::new());
                            state.errors.update(|e| { e.0.remove(fields::CLIENT_SECRET); });
                        }>"Keep current secret"</button>
                    </Show>
                </div>
            </Show>
        </Field>
    }
}

#[component]
fn TenantIdHelper(state: FormState) -> impl IntoView {
    let value = state.tenant_id_helper;
    let error = RwSignal::new(None::<String>);
    let apply = move |_| {
        let tid = value.get_untracked();
        match validate_tenant_segment(&tid) {
            Ok(()) => {
                error.set(None);
                let cloud = Cloud::from_code(&state.cloud.get_untracked()).unwrap_or_default();
                state.authority_url.set(cloud.authority_for_tenant(&tid));
                state.on_blur(fields::AUTHORITY_URL);
            }
            Err(m) => error.set(Some(m)),
        }
    };
    view! {
        <Field
            label="Tenant ID helper"
            input_id=fields::TENANT_ID_HELPER
            error=Signal::from(error)
            hint="Paste the Directory (tenant) ID from Azure, or type common, to fill the authority below."
        >
            <div class="with-button">
                <input id=fields::TENANT_ID_HELPER type="text" spellcheck="false" autocomplete="off"
                    placeholder="79c6ff55-b7e0-4517-bfd7-b4fffb6fee40"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
                <button type="button" class="secondary" on:click=apply>"Fill authority"</button>
            </div>
        </Field>
    }
}

#[component]
fn ScopesField(state: FormState) -> impl IntoView {
    let sig = state.scopes;
    let error = state.error(fields::SCOPES);
    let fix = move || {
        let v = sig.get();
        scopes::needs_whitespace_fix(&v).then(|| scopes::normalize_scopes(&v))
    };
    // The one-click fix for a shared mailbox whose scopes lack `.Shared`.
    let shared_fix = move || {
        let v = sig.get();
        AccountType::from_code(&state.account_type.get()) == Some(AccountType::Microsoft365Shared)
            && !scopes::needs_whitespace_fix(&v)
            && scopes::validate_shared_scopes(
                &v,
                Direction::from_code(&state.direction.get()).unwrap_or(Direction::SendAndReceive),
            )
            .is_err()
    };
    let initial = sig.get_untracked();
    view! {
        <Field
            label="Scopes"
            input_id=fields::SCOPES
            error
            hint="One line, single spaces. The line may wrap on screen; never press Enter in it."
        >
            <textarea
                id=fields::SCOPES
                name=fields::SCOPES
                rows="2"
                spellcheck="false"
                aria-describedby="scopes-error"
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || sig.get()
                on:input=move |ev| {
                    sig.set(event_target_value(&ev));
                    state.on_input(fields::SCOPES);
                }
                on:blur=move |_| state.on_blur(fields::SCOPES)
            >
                {initial}
            </textarea>
            {move || shared_fix().then(|| view! {
                <div class="fix">
                    <span>"A shared mailbox needs the .Shared permissions: "</span>
                    <code id="scopes-shared">{scopes::SHARED_SCOPES}</code>
                    <button type="button" class="secondary" id="scopes-shared-fix" on:click=move |_| {
                        sig.set(scopes::SHARED_SCOPES.to_string());
                        state.on_blur(fields::SCOPES);
                    }>"Use these scopes"</button>
                </div>
            })}
            {move || fix().map(|fixed| {
                let shown = fixed.clone();
                view! {
                    <div class="fix">
                        <span>"Use the single-line form: "</span>
                        <code id="scopes-fixed">{shown}</code>
                        <button type="button" class="secondary" id="scopes-fix" on:click=move |_| {
                            sig.set(fixed.clone());
                            state.on_blur(fields::SCOPES);
                        }>"Fix scopes"</button>
                    </div>
                }
            })}
        </Field>
    }
}

/// Offers the chosen cloud's sign-in host when the authority names another
/// cloud's (the usual slip after changing the Cloud select).
#[component]
fn AuthorityFix(state: FormState) -> impl IntoView {
    let fixed = move || {
        let cloud = Cloud::from_code(&state.cloud.get())?;
        let authority = state.authority_url.get();
        let rest = authority.trim().strip_prefix("https://")?;
        let (host, tenant) = rest.split_once('/')?;
        let other = Cloud::of_sign_in_host(host)?;
        let same = other == cloud || (other == Cloud::UsGov && cloud == Cloud::UsDod);
        (!same && validate_tenant_segment(tenant).is_ok())
            .then(|| cloud.authority_for_tenant(tenant))
    };
    move || {
        fixed().map(|value| {
            let shown = value.clone();
            view! {
                <div class="fix">
                    <span>"This cloud signs in at: "</span>
                    <code id="authority-fixed">{shown}</code>
                    <button type="button" class="secondary" id="authority-fix" on:click=move |_| {
                        state.authority_url.set(value.clone());
                        state.on_blur(fields::AUTHORITY_URL);
                    }>"Use it"</button>
                </div>
            }
        })
    }
}
