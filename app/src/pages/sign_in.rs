//! The sign-in screen. A plain form post to `/auth/sign-in` (works before the
//! WASM loads); the server answers with a redirect, back here with a reason
//! code on failure. The password is never put back into the page.
use crate::api::setup_status;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn message(code: &str, retry: Option<String>, reference: Option<String>) -> Option<String> {
    Some(match code {
        "invalid" => "The username or password is not right.".to_string(),
        "missing" => "Enter your username and password.".to_string(),
        "throttled" => format!(
            "Too many sign-in attempts. Wait {} seconds, then try again.",
            retry.unwrap_or_else(|| "a few".into())
        ),
        "unavailable" => format!(
            "Signing in is not possible right now. Reference: {}",
            reference.unwrap_or_default()
        ),
        _ => return None,
    })
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.with_untracked(|m| m.get(k));
    let error = message(&q("error").unwrap_or_default(), q("retry"), q("ref"));
    let has_error = error.is_some();
    let signed_out = q("signed_out").is_some();
    let next = q("next").unwrap_or_default();
    let username = RwSignal::new(q("username").unwrap_or_default());
    let password = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<String>);
    let needs_setup = Resource::new(|| (), |_| setup_status());
    // Checked in the browser first so an empty form is not a wasted attempt.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        if username.get_untracked().trim().is_empty() || password.get_untracked().is_empty() {
            ev.prevent_default();
            local_error.set(Some("Enter your username and password.".into()));
        }
    };
    view! {
        <section class="page narrow">
            <h1>"Sign in"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    matches!(needs_setup.await, Ok(true)).then(|| view! {
                        <div class="banner banner-info" id="setup-needed" role="note">
                            "No admin account exists yet. "
                            <a href="/setup">"Create the first admin"</a>
                            " with the setup token from the server log."
                        </div>
                    })
                })}
            </Transition>
            {signed_out.then(|| view! {
                <div class="banner banner-info" id="signed-out" role="status">"You are signed out."</div>
            })}
            <div class="banner banner-error" id="sign-in-error" role="alert"
                class:hidden=move || !has_error && local_error.get().is_none()>
                {move || local_error.get().or_else(|| error.clone()).unwrap_or_default()}
            </div>
            <form method="post" action="/auth/sign-in" class="stacked" novalidate on:submit=submit>
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input id="username" name="username" type="text" autocomplete="username"
                        autocapitalize="none" spellcheck="false" required maxlength="64" autofocus
                        bind:value=username/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password"
                        required maxlength="256" bind:value=password/>
                </div>
                <button type="submit" class="primary" id="sign-in">"Sign in"</button>
            </form>
        </section>
    }
}
