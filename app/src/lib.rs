//! Tenant Mail's isomorphic app: pages, components, shared model and the
//! server functions. Compiled for the server (`ssr`) and the browser (`hydrate`).
#![cfg_attr(
    all(feature = "ssr", not(test)),
    deny(clippy::unwrap_used, clippy::expect_used)
)]
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod port;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes, A};
use leptos_router::path;

/// The stylesheet's URL for this build (content-hashed in a release build),
/// provided by the server to the page shell.
#[derive(Clone, Debug)]
pub struct StylesheetHref(pub std::sync::Arc<str>);

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Linked here rather than from the app: the shell is never hydrated, so
    // the browser needs no copy of the server's build manifest.
    let stylesheet = use_context::<StylesheetHref>()
        .map(|href| href.0.to_string())
        .unwrap_or_else(|| format!("/{}/{}.css", options.site_pkg_dir, options.output_name));
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let info = Resource::new(|| (), |_| api::app_info());
    let demo_banner = move || {
        Suspend::new(async move {
            info.await.ok().and_then(|i| i.stand_in_host).map(|host| {
                view! {
                    <div class="demo-banner" role="note" id="stand-in-banner">
                        {format!(
                            "Demo / test mode: Microsoft is replaced by a local stand-in at {host}. No real mailbox or Microsoft account is contacted."
                        )}
                    </div>
                }
            })
        })
    };
    // Navigation and sign-out only for a signed-in admin (not on sign-in/setup).
    let signed_in_nav = move || {
        Suspend::new(async move {
            info.await.ok().and_then(|i| i.signed_in_as).map(|name| {
                view! {
                    <nav aria-label="Main">
                        <span class="nav-section">"Admin"</span>
                        <span aria-hidden="true">" → "</span>
                        <A href="/admin/tenants">"Tenant Management"</A>
                        <A href="/admin/alerts">"Alerts"</A>
                        <A href="/admin/admins">"Admins"</A>
                        <A href="/admin/audit">"Audit log"</A>
                    </nav>
                    <form class="session" method="post" action="/auth/sign-out">
                        <span class="muted" id="signed-in-as">{format!("Signed in as {name}")}</span>
                        <button type="submit" class="link" id="sign-out">"Sign out"</button>
                    </form>
                }
            })
        })
    };
    view! {
        <Title text="Tenant Mail"/>
        <Router>
            <Transition fallback=|| ()>{demo_banner}</Transition>
            <header class="topbar">
                <a class="brand" href="/admin/tenants">"Tenant Mail"</a>
                <Transition fallback=|| ()>{signed_in_nav}</Transition>
            </header>
            <components::attention_banner::AttentionBanner/>
            <main>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/admin/tenants"/> }/>
                    <Route path=path!("/admin") view=|| view! { <Redirect path="/admin/tenants"/> }/>
                    <Route path=path!("/sign-in") view=pages::sign_in::SignInPage/>
                    <Route path=path!("/setup") view=pages::setup::SetupPage/>
                    <Route path=path!("/admin/admins") view=pages::admins::AdminsPage/>
                    <Route path=path!("/admin/alerts") view=pages::alerts::AlertsPage/>
                    <Route path=path!("/admin/audit") view=pages::audit::AuditPage/>
                    <Route path=path!("/admin/tenants") view=pages::tenants::TenantsPage/>
                    <Route path=path!("/admin/tenants/:tenant_id") view=pages::tenant::TenantPage/>
                    <Route
                        path=path!("/admin/tenants/:tenant_id/emails/new")
                        view=pages::tenant_email::TenantEmailPage
                    />
                    <Route
                        path=path!("/admin/tenants/:tenant_id/emails/:email_id")
                        view=pages::tenant_email::TenantEmailPage
                    />
                    <Route
                        path=path!("/admin/tenants/:tenant_id/emails/:email_id/outbox")
                        view=pages::outbox::OutboxPage
                    />
                    <Route
                        path=path!("/admin/tenants/:tenant_id/emails/:email_id/inbox")
                        view=pages::inbox::InboxPage
                    />
                    <Route
                        path=path!("/admin/tenants/:tenant_id/emails/:email_id/inbox/:message_id")
                        view=pages::inbox::InboxPage
                    />
                </Routes>
            </main>
        </Router>
    }
}
