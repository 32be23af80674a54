//! The tenant editor's "API tokens" tab: the host application's tokens for
//! this tenant. A new token is shown once, right after creation.
use crate::api::{list_api_tokens, CreateApiToken, RevokeApiToken};
use crate::components::copy_button::CopyButton;
use crate::components::error_banner::ErrorBanner;
use crate::components::inline_confirm::InlineConfirm;
use crate::model::api_token::{validate_token_name, ApiTokenView, TOKEN_NAME};
use crate::model::ApiError;
use leptos::prelude::*;

#[component]
pub fn ApiTokensTab(tenant_id: String) -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let list_id = tenant_id.clone();
    let tokens = Resource::new(
        move || {
            (
                list_id.clone(),
                create.version().get(),
                revoke.version().get(),
            )
        },
        |(id, _, _)| list_api_tokens(id),
    );
    view! {
        <NewToken tenant_id=tenant_id.clone() create/>
        {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorBanner error=e/> })}
        <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {
                let tenant_id = tenant_id.clone();
                move || {
                    let tenant_id = tenant_id.clone();
                    Suspend::new(async move {
                        match tokens.await {
                            Ok(list) => view! { <TokenTable tenant_id tokens=list revoke/> }.into_any(),
                            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                        }
                    })
                }
            }
        </Transition>
    }
}

#[component]
fn NewToken(tenant_id: String, create: ServerAction<CreateApiToken>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match create.value().get() {
        Some(Err(ApiError::Invalid(f))) => error.set(f.get(TOKEN_NAME).cloned()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        Some(Ok(_)) => name.set(String::new()),
        None => {}
    });
    let created = Signal::derive(move || create.value().get().and_then(|r| r.ok()));
    let secret = Signal::derive(move || created.get().map(|c| c.secret).unwrap_or_default());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = name.get_untracked();
        match validate_token_name(&value) {
            Err(m) => error.set(Some(m)),
            Ok(()) => {
                error.set(None);
                create.dispatch(CreateApiToken {
                    tenant_id: tenant_id.clone(),
                    name: value,
                });
            }
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <div class="field" class:has-error=move || error.get().is_some()>
                <label for="token-name">"New token name"</label>
                <input id="token-name" type="text" maxlength="100" bind:value=name/>
                <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </div>
            <button type="submit" class="primary">"New token"</button>
        </form>
        <Show when=move || created.get().is_some()>
            <div class="notice" role="status" id="new-token">
                <p>
                    <strong>"Copy this token now: it will not be shown again."</strong>
                    " Tenant Mail keeps only a hash of it."
                </p>
                <code id="new-token-value">{move || secret.get()}</code>
                " "
                <CopyButton text=secret label="Copy the new API token"/>
            </div>
        </Show>
    }
}

#[component]
fn TokenTable(
    tenant_id: String,
    tokens: Vec<ApiTokenView>,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No API tokens yet."</p> }.into_any();
    }
    let confirming = RwSignal::new(None::<String>);
    let rows = tokens
        .into_iter()
        .map(|t| {
            let revoked = t.revoked_at.is_some();
            let id_do = t.id.clone();
            let tid = tenant_id.clone();
            let name = t.name.clone();
            view! {
                <tr data-token-id=t.id.clone()>
                    <td>{t.name.clone()}</td>
                    <td><code>{format!("{}…", t.prefix)}</code></td>
                    <td>{format!("{} by {}", t.created_at, t.created_by)}</td>
                    <td>{t.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                    <td>{t.revoked_at.clone().unwrap_or_default()}</td>
                    <td class="actions">
                        {(!revoked).then(move || view! {
                            <InlineConfirm
                                confirming
                                key=id_do.clone()
                                action="Revoke"
                                group_label="Confirm revoke"
                                question=format!("Revoke {name}? Applications using it are refused at once. ")
                                on_confirm=Callback::new(move |_| {
                                    revoke.dispatch(RevokeApiToken { tenant_id: tid.clone(), token_id: id_do.clone() });
                                })
                            />
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid" id="api-tokens-table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Token"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Revoked"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
