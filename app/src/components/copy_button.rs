use leptos::prelude::*;

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(text: Signal<String>, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let value = text.get_untracked();
            let clipboard = window().navigator().clipboard();
            let _promise = clipboard.write_text(&value);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <button type="button" class="secondary" aria-label=label on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
