//! The Connection panel: who the mailbox is connected as, and the
//! "Click to Authenticate" button that starts the OAuth2 flow on the server.
use super::state::FormState;
use crate::api::CheckAppAccess;
use crate::components::error_banner::ErrorBanner;
use crate::model::doctor::CheckOutcome;
use crate::model::tenant_email::MailActivity;
use crate::model::{AccountType, ConnectionStatus, ConnectionView};
use leptos::prelude::*;

/// Why the button cannot be used right now, if it cannot.
fn blocked_reason(state: &FormState, dirty: bool) -> Option<&'static str> {
    if state.email_id.get().is_none() {
        Some("Save this Tenant Email first, then authenticate.")
    } else if !state.errors.read().is_empty() {
        Some("Fix the highlighted fields and save before authenticating.")
    } else if dirty {
        Some("Save your changes first: Microsoft is contacted with the saved settings.")
    } else {
        None
    }
}

/// Is mail moving? Last send, last good receive, what waits or failed.
fn activity_view(a: MailActivity) -> impl IntoView {
    let waiting = format!(
        "{} queued · {} held · {} failed",
        a.queued, a.held, a.failed
    );
    let stuck = a.held > 0 || a.failed > 0;
    view! {
        <dl class="connection-details" id="mail-activity">
            <dt>"Last sent"</dt><dd id="last-sent">{a.last_sent_at.unwrap_or_else(|| "never".into())}</dd>
            <dt>"Last received"</dt><dd id="last-received">{a.last_received_at.unwrap_or_else(|| "never".into())}</dd>
            <dt>"Outbox"</dt><dd id="outbox-counts" class:connection-error=stuck>{waiting}</dd>
            {a.receive_error.map(|e| view! { <dt>"Receiving"</dt><dd class="connection-error">{e}</dd> })}
            <dt>"Scopes required"</dt><dd id="scopes-required">{a.required_scopes.join(" ")}</dd>
            <dt>"Scopes granted"</dt>
            <dd id="scopes-granted">{a.granted_scopes.unwrap_or_else(|| "—".into())}</dd>
            {(!a.missing_scopes.is_empty()).then(|| view! {
                <dt>"Missing"</dt>
                <dd class="connection-error" id="scopes-missing">
                    {format!("{} — add to Scopes, save and Click to RE Authenticate", a.missing_scopes.join(" "))}
                </dd>
            })}
        </dl>
    }
}

#[component]
pub fn ConnectPanel(
    state: FormState,
    tenant_id: String,
    status: ConnectionStatus,
    connection: Option<ConnectionView>,
    activity: Option<MailActivity>,
    dirty: Memo<bool>,
    just_connected: bool,
) -> impl IntoView {
    let label = if connection.is_some() {
        "Click to RE Authenticate"
    } else {
        "Click to Authenticate"
    };
    // An application mailbox: nobody signs in, the app's access is checked.
    // Follows the saved settings: a new Tenant Email becomes one on Save.
    let app_only = move || {
        AccountType::from_code(&state.saved.get().account_type)
            == Some(AccountType::Microsoft365App)
    };
    let reason = move || blocked_reason(&state, dirty.get());
    let doctor_tenant = tenant_id.clone();
    let access_tenant = tenant_id.clone();
    let action = move || {
        format!(
            "/core/oauth2/begin/{tenant_id}/{}",
            state.email_id.get().unwrap_or_default()
        )
    };
    let was_connected = connection.is_some();
    let details = connection.clone().map(|c| {
        let who = match &c.display_name {
            Some(name) => format!("{name} <{}>", c.upn),
            None => c.upn.clone(),
        };
        let tenant = match &c.tenant_name {
            Some(name) => format!("{name} ({})", c.tenant_id),
            None => c.tenant_id.clone(),
        };
        let saved = state.saved.get_untracked();
        let (as_label, who) = match AccountType::from_code(&saved.account_type) {
            Some(AccountType::Microsoft365App) => (
                "Application access to",
                format!("{} (app {})", c.upn, saved.application_id),
            ),
            Some(AccountType::Microsoft365Shared) => {
                ("Connected as", format!("{who} for {}", saved.address))
            }
            _ => ("Connected as", who),
        };
        view! {
            <dl class="connection-details">
                <dt>{as_label}</dt><dd id="connected-as">{who}</dd>
                <dt>"Microsoft tenant"</dt><dd id="connected-tenant">{tenant}</dd>
                <dt>"Connected at"</dt><dd>{c.connected_at}</dd>
                <dt>"Access token valid until"</dt><dd>{c.access_token_valid_until.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Last refresh"</dt><dd>{c.last_refresh_at.unwrap_or_else(|| "never".into())}</dd>
                {c.last_error.map(|e| view! {
                    <dt>"Last error"</dt>
                    <dd class="connection-error">{e}{c.last_error_at.map(|t| format!(" ({t})"))}</dd>
                })}
            </dl>
        }
    });
    let success = (just_connected && status == ConnectionStatus::Connected).then(|| {
        let who = connection
            .as_ref()
            .map(|c| c.upn.clone())
            .unwrap_or_default();
        view! {
            <div class="banner banner-ok" role="status" id="connect-success">
                {format!("Connected. Tenant Mail now uses the mailbox {who}.")}
            </div>
        }
    });
    let secret_expiry = move || {
        let days = state.secret_expires_in_days.get()?;
        let date = state.saved.get().secret_expires_on;
        let (class, text) = match days {
            d if d < 0 => ("secret-expiry expired", format!("The client secret expired on {date}. Create a new secret in Azure, then Replace it here.")),
            0 => ("secret-expiry soon", format!("The client secret expires today ({date}).")),
            d if d <= 30 => ("secret-expiry soon", format!("The client secret expires in {d} days ({date}). Create a new one in Azure and Replace it here before then.")),
            d => ("secret-expiry", format!("The client secret expires in {d} days ({date}).")),
        };
        Some(view! { <p class=class id="secret-expiry">{text}</p> })
    };
    let activity = activity.filter(|_| was_connected).map(activity_view);
    view! {
        <section class="connect-panel" aria-labelledby="connection-heading">
            <h2 id="connection-heading">"Connection"</h2>
            {success}
            {secret_expiry}
            {details}
            {activity}
            {move || (!was_connected && !app_only()).then(|| view! {
                <p class="hint">"Not connected yet. You will sign in at Microsoft as this mailbox; pick exactly this account in Microsoft's account picker."</p>
            })}
            <Show when=app_only>
                <CheckAccess state tenant_id=access_tenant.clone() reason=Signal::derive(reason)/>
            </Show>
            <form method="post" action=action class="connect-form" class:hidden=app_only>
                <label class="checkbox" class:hidden=!was_connected>
                    <input type="checkbox" name="different_account" value="1"/>
                    " Connect a different account (replaces the pinned one)"
                </label>
                <button
                    type="submit"
                    class="primary"
                    id="authenticate"
                    disabled=move || reason().is_some()
                    aria-describedby="authenticate-reason"
                >
                    {label}
                </button>
                <p class="hint" id="authenticate-reason">{move || reason().unwrap_or_default()}</p>
            </form>
            <super::doctor::CheckConfiguration
                tenant_id=doctor_tenant
                email_id=Signal::derive(move || state.email_id.get())
            />
        </section>
    }
}

/// "Check access": an app-only token, a read of the mailbox, and the
/// connection recorded when both work (then the page shows it).
#[component]
fn CheckAccess(
    state: FormState,
    tenant_id: String,
    reason: Signal<Option<&'static str>>,
) -> impl IntoView {
    let check = ServerAction::<CheckAppAccess>::new();
    let run = move |_| {
        if let Some(email_id) = state.email_id.get_untracked() {
            check.dispatch(CheckAppAccess {
                tenant_id: tenant_id.clone(),
                email_id,
            });
        }
    };
    Effect::new(move |_| {
        let connected = check.value().with(|r| {
            matches!(r, Some(Ok(report)) if report.checks.iter().any(|c| c.name == "Connection" && c.outcome == CheckOutcome::Pass))
        });
        if connected {
            // The Connection panel comes from the server: show the new one.
            let _ = window().location().set_search("connected=1");
        }
    });
    let result = move || {
        check.value().get().map(|r| match r {
            Ok(report) => {
                let failed = report.failed();
                view! {
                    <p class=if failed { "banner banner-error" } else { "banner banner-ok" } role="status" id="access-summary">
                        {if failed { "The app cannot use this mailbox yet: the fix is under the failed line." } else { "The app may use this mailbox." }}
                    </p>
                    <ul class="doctor-report" id="access-report">
                        {report.checks.into_iter().map(super::doctor::line).collect_view()}
                    </ul>
                }
                .into_any()
            }
            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
        })
    };
    view! {
        <div class="connect-form">
            <p class="hint">"No one signs in: the application's own access (client credentials) is checked with Microsoft, and the mailbox is used through it."</p>
            <button type="button" class="primary" id="check-access"
                disabled=move || reason.get().is_some() || check.pending().get()
                aria-describedby="access-reason"
                on:click=run>
                {move || if check.pending().get() { "Checking access…" } else { "Check access" }}
            </button>
            <p class="hint" id="access-reason">{move || reason.get().unwrap_or_default()}</p>
            {result}
        </div>
    }
}
