use crate::model::ConnectionStatus;
use leptos::prelude::*;

/// A coloured badge for a connection status; `None` reads "No tenant emails".
#[component]
pub fn StatusBadge(status: Option<ConnectionStatus>) -> impl IntoView {
    let (class, label) = match status {
        Some(s) => (format!("badge badge-{}", s.code()), s.label()),
        None => ("badge badge-none".to_string(), "No tenant emails"),
    };
    view! { <span class=class>{label}</span> }
}
