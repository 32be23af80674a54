use leptos::prelude::*;

/// A destructive row action that asks in place: "Delete" → "Delete X? …
/// [Delete] [Cancel]". `confirming` is shared by the rows of a table, so only
/// one row asks at a time.
#[component]
pub fn InlineConfirm(
    confirming: RwSignal<Option<String>>,
    /// This row's key in `confirming`.
    key: String,
    /// The button text, e.g. "Delete".
    action: &'static str,
    /// The accessible name of the question, e.g. "Confirm delete".
    group_label: &'static str,
    question: String,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = {
        let key = key.clone();
        move || confirming.get().as_deref() == Some(key.as_str())
    };
    view! {
        <Show
            when=asking
            fallback=move || {
                let key = key.clone();
                view! {
                    <button type="button" class="danger-link"
                        on:click=move |_| confirming.set(Some(key.clone()))>{action}</button>
                }
            }
        >
            <span class="confirm" role="group" aria-label=group_label>
                {question.clone()}
                <button type="button" class="danger" on:click=move |_| {
                    on_confirm.run(());
                    confirming.set(None);
                }>{action}</button>
                <button type="button" class="secondary" on:click=move |_| confirming.set(None)>"Cancel"</button>
            </span>
        </Show>
    }
}
