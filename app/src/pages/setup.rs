//! First start: create the first admin with the one-time token from the server log.
use crate::api::{setup_status, CompleteSetup};
use crate::components::{error_banner::ErrorBanner, field::Field};
use crate::model::admin::{self as rules, PASSWORD, PASSWORD_CONFIRM, SETUP_TOKEN, USERNAME};
use crate::model::{ApiError, FieldErrors};
use leptos::prelude::*;

#[component]
pub fn SetupPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| setup_status());
    let action = ServerAction::<CompleteSetup>::new();
    let token = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(false);
    let err = move |f: &'static str| Signal::derive(move || errors.with(|e| e.get(f).cloned()));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => done.set(true),
        Some(Err(ApiError::Invalid(f))) => errors.set(f),
        Some(Err(e)) => banner.set(Some(e)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, u, p, c) = (
            token.get_untracked(),
            username.get_untracked(),
            password.get_untracked(),
            confirm.get_untracked(),
        );
        let mut e = FieldErrors::new();
        if t.trim().is_empty() {
            e.add(
                SETUP_TOKEN,
                "Enter the setup token printed in the server log.",
            );
        }
        e.merge(USERNAME, rules::validate_username(&u));
        e.merge(PASSWORD, rules::validate_new_password(&p, &u));
        e.merge(PASSWORD_CONFIRM, rules::validate_confirmation(&p, &c));
        let ok = e.is_empty();
        errors.set(e);
        banner.set(None);
        if ok {
            action.dispatch(CompleteSetup {
                setup_token: t,
                username: u,
                password: p,
                password_confirm: c,
            });
        }
    };
    view! {
        <section class="page narrow">
            <h1>"Create the first admin"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(false) if !done.get_untracked() => view! {
                            <div class="banner banner-info" id="setup-complete" role="status">
                                "Setup is complete. " <a href="/sign-in">"Sign in"</a>
                            </div>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Transition>
            <Show when=move || done.get()>
                <div class="banner banner-success" id="setup-done" role="status">
                    "The admin account is ready. " <a href="/sign-in" id="go-sign-in">"Sign in now"</a>
                </div>
            </Show>
            {move || banner.get().map(|e| view! { <ErrorBanner error=e/> })}
            <p class="lead">"The server printed a one-time setup token in its log when it started (valid for 24 hours). No default password exists."</p>
            <form class="stacked" on:submit=submit novalidate>
                <Field label="Setup token" input_id="setup-token" error=err(SETUP_TOKEN)>
                    <input id="setup-token" type="text" autocomplete="off" spellcheck="false" bind:value=token/>
                </Field>
                <Field label="Username" input_id="setup-username" error=err(USERNAME)>
                    <input id="setup-username" type="text" autocomplete="username" bind:value=username
                        on:blur=move |_| errors.update(|e| { e.0.remove(USERNAME); e.merge(USERNAME, rules::validate_username(&username.get_untracked())); })/>
                </Field>
                <Field label="Password" input_id="setup-password" error=err(PASSWORD)
                    hint="At least 12 characters; a few unrelated words work well.">
                    <input id="setup-password" type="password" autocomplete="new-password" bind:value=password/>
                </Field>
                <Field label="Repeat the password" input_id="setup-password-confirm" error=err(PASSWORD_CONFIRM)>
                    <input id="setup-password-confirm" type="password" autocomplete="new-password" bind:value=confirm/>
                </Field>
                <button type="submit" class="primary" id="create-admin" disabled=move || action.pending().get() || done.get()>
                    "Create admin"
                </button>
            </form>
        </section>
    }
}
