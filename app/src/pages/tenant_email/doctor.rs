//! "Check configuration": the pre-flight doctor's lines, green or red, each
//! failure with its fix, on the Tenant Email editor.
use crate::api::{CheckConfiguration, RoundTripCheck};
use crate::components::copy_button::CopyButton;
use crate::components::error_banner::ErrorBanner;
use crate::model::doctor::{CheckOutcome, DoctorCheck};
use leptos::prelude::*;

pub(super) fn line(c: DoctorCheck) -> impl IntoView {
    let outcome = match c.outcome {
        CheckOutcome::Pass => "pass",
        CheckOutcome::Warn => "warn",
        CheckOutcome::Fail => "fail",
        CheckOutcome::Skip => "skip",
    };
    let copy = c.copy.map(|value| {
        let text = Signal::derive(move || value.clone());
        view! { <p class="check-copy"><code>{text}</code>" "<CopyButton text label="Copy the redirect URI"/></p> }
    });
    let name = c.name.clone();
    view! {
        <li class=format!("check check-{outcome}") data-outcome=outcome data-check=name>
            <span class="check-mark">{c.outcome.label()}</span>
            <strong>{c.name}</strong>
            <p class="check-detail">{c.detail}</p>
            {copy}
            {c.fix.map(|f| view! { <p class="check-fix">{format!("Fix: {f}")}</p> })}
        </li>
    }
}

#[component]
pub fn CheckConfiguration(tenant_id: String, email_id: Signal<Option<String>>) -> impl IntoView {
    let check = ServerAction::<CheckConfiguration>::new();
    let round_trip = ServerAction::<RoundTripCheck>::new();
    let trip_tenant = tenant_id.clone();
    let run = move |_| {
        if let Some(email_id) = email_id.get_untracked() {
            check.dispatch(CheckConfiguration {
                tenant_id: tenant_id.clone(),
                email_id,
            });
        }
    };
    let run_trip = move |_| {
        if let Some(email_id) = email_id.get_untracked() {
            round_trip.dispatch(RoundTripCheck {
                tenant_id: trip_tenant.clone(),
                email_id,
            });
        }
    };
    let trip_result = move || {
        round_trip.value().get().map(|r| match r {
            Ok(c) => {
                view! { <ul class="doctor-report" id="round-trip-report">{line(c)}</ul> }.into_any()
            }
            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
        })
    };
    let result = move || {
        check.value().get().map(|r| match r {
            Ok(report) => {
                let failed = report.failed();
                view! {
                    <p class=if failed { "banner banner-error" } else { "banner banner-ok" } role="status" id="doctor-summary">
                        {if failed { "Some checks failed: the fix is under each one." } else { "Every check passed." }}
                    </p>
                    <ul class="doctor-report" id="doctor-report">
                        {report.checks.into_iter().map(line).collect_view()}
                    </ul>
                }
                .into_any()
            }
            Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
        })
    };
    view! {
        <div class="doctor">
            <button type="button" class="secondary" id="check-configuration"
                disabled=move || email_id.get().is_none() || check.pending().get()
                on:click=run>
                {move || if check.pending().get() { "Checking with Microsoft…" } else { "Check configuration" }}
            </button>
            <span class="hint">" Asks Microsoft whether these settings work, without sending mail."</span>
            {result}
            <p class="round-trip">
                <button type="button" class="secondary" id="round-trip"
                    disabled=move || email_id.get().is_none() || round_trip.pending().get()
                    on:click=run_trip>
                    {move || if round_trip.pending().get() { "Sending and waiting…" } else { "Send a message to itself" }}
                </button>
                <span class="hint">" Sends one real message from this mailbox to itself and waits (up to a minute) until it went out and, when receiving, came back in."</span>
            </p>
            {trip_result}
        </div>
    }
}
