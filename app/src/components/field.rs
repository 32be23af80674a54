use leptos::prelude::*;

/// A labelled form row with its validation message right under the input.
#[component]
pub fn Field(
    label: &'static str,
    /// The id of the input inside, for the label's `for`.
    input_id: &'static str,
    error: Signal<Option<String>>,
    #[prop(optional, into)] hint: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=input_id>{label}</label>
            {children()}
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <p class="field-error" id=format!("{input_id}-error") role="alert" aria-live="polite">
                {move || error.get().unwrap_or_default()}
            </p>
        </div>
    }
}
