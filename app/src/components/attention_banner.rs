use crate::api::attention;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// On every admin page while any mailbox needs attention: the oldest problem,
/// linked to its mailbox, and how many more there are. Read again on every
/// navigation, so it goes away as soon as the problem is fixed.
#[component]
pub fn AttentionBanner() -> impl IntoView {
    let location = use_location();
    let items = Resource::new(move || location.pathname.get(), |_| attention());
    let banner = move || {
        Suspend::new(async move {
            let items = items.await.unwrap_or_default();
            let first = items.first()?.clone();
            let more = items.len() - 1;
            Some(view! {
                <div class="attention-banner" role="alert" id="attention-banner">
                    <strong>{if more == 0 { "Needs attention: ".to_string() } else { format!("{} problems need attention: ", items.len()) }}</strong>
                    <a href=format!("/admin/tenants/{}/emails/{}", first.tenant_id, first.tenant_email_id)>{first.title}</a>
                    {(more > 0).then(|| view! { " and " <a href="/admin/alerts">{format!("{more} more")}</a> })}
                    <span class="muted">{format!(" · since {}", first.since)}</span>
                </div>
            })
        })
    };
    view! { <Transition fallback=|| ()>{banner}</Transition> }
}
