use leptos::prelude::*;

/// One tab: stable id, visible label, and whether it holds an error.
#[derive(Clone)]
pub struct TabSpec {
    pub id: &'static str,
    pub label: &'static str,
    pub has_error: Signal<bool>,
}

/// An accessible tab bar (WAI-ARIA tabs pattern, arrow keys move between tabs).
#[component]
pub fn TabBar(
    tabs: Vec<TabSpec>,
    active: RwSignal<&'static str>,
    label: &'static str,
) -> impl IntoView {
    let ids: Vec<&'static str> = tabs.iter().map(|t| t.id).collect();
    let items = tabs
        .into_iter()
        .map(|tab| {
            let ids = ids.clone();
            let id = tab.id;
            let on_key = move |ev: leptos::ev::KeyboardEvent| {
                let pos = ids.iter().position(|t| *t == id).unwrap_or(0);
                let next = match ev.key().as_str() {
                    "ArrowRight" => Some((pos + 1) % ids.len()),
                    "ArrowLeft" => Some((pos + ids.len() - 1) % ids.len()),
                    _ => None,
                };
                if let Some(n) = next {
                    ev.prevent_default();
                    active.set(ids[n]);
                }
            };
            view! {
                <button
                    type="button"
                    role="tab"
                    id=format!("tab-{id}")
                    aria-controls=format!("panel-{id}")
                    aria-selected=move || (active.get() == id).to_string()
                    tabindex=move || if active.get() == id { "0" } else { "-1" }
                    class:active=move || active.get() == id
                    class:tab-error=move || tab.has_error.get()
                    on:click=move |_| active.set(id)
                    on:keydown=on_key
                >
                    {tab.label}
                    <Show when=move || tab.has_error.get()>
                        <span class="tab-error-dot" aria-label="has errors">" !"</span>
                    </Show>
                </button>
            }
        })
        .collect_view();
    view! { <div class="tabs" role="tablist" aria-label=label>{items}</div> }
}
