use crate::model::ApiError;
use leptos::prelude::*;

/// Shows a non-field error (conflict, not found, internal with reference id).
#[component]
pub fn ErrorBanner(error: ApiError) -> impl IntoView {
    // An ended session: offer sign-in in a new tab so the form here keeps its contents.
    let sign_in = matches!(error, ApiError::Unauthorized(_)).then(|| {
        view! { " " <a href="/sign-in" target="_blank" rel="noopener" id="sign-in-again">"Sign in (opens a new tab)"</a> }
    });
    view! { <div class="banner banner-error" role="alert">{error.to_string()}{sign_in}</div> }
}
