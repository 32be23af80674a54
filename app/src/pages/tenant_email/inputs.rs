//! Inputs bound to `FormState`: value, validation on input/blur, ARIA wiring.
use super::state::FormState;
use leptos::prelude::*;

#[component]
pub fn TextInput(
    state: FormState,
    field: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
) -> impl IntoView {
    let sig = state.signal(field);
    let error = state.error(field);
    // Server-rendered HTML gets the value as an attribute, except for
    // passwords: a secret is never written into a page.
    let initial = if kind == "password" {
        String::new()
    } else {
        sig.get_untracked()
    };
    view! {
        <input
            id=field
            name=field
            type=kind
            placeholder=placeholder
            autocomplete=autocomplete
            spellcheck="false"
            value=initial
            prop:value=move || sig.get()
            aria-invalid=move || error.get().is_some().to_string()
            aria-describedby=format!("{field}-error")
            on:input=move |ev| {
                sig.set(event_target_value(&ev));
                state.on_input(field);
            }
            on:blur=move |_| state.on_blur(field)
        />
    }
}

#[component]
pub fn SelectInput(
    state: FormState,
    field: &'static str,
    options: Vec<(&'static str, &'static str)>,
) -> impl IntoView {
    let sig = state.signal(field);
    let opts = options
        .into_iter()
        .map(|(code, label)| view! { <option value=code selected=move || sig.get() == code>{label}</option> })
        .collect_view();
    view! {
        <select
            id=field
            name=field
            prop:value=move || sig.get()
            aria-describedby=format!("{field}-error")
            on:change=move |ev| {
                sig.set(event_target_value(&ev));
                state.on_input(field);
            }
            on:blur=move |_| state.on_blur(field)
        >
            {opts}
        </select>
    }
}
