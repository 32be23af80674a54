use crate::model::ApiError;
use leptos::prelude::*;

/// Shows a non-field error (conflict, not found, internal with reference id).
#[component]
pub fn ErrorBanner(error: ApiError) -> impl IntoView {
    view! { <div class="banner banner-error" role="alert">{error.to_string()}</div> }
}
