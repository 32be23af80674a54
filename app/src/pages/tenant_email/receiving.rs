//! Receiving tab: which folder is read, what happens to a message once it is
//! stored, how often the mailbox is checked, and from when mail is imported;
//! folders can be picked by name from the mailbox itself.
use super::folders::{FolderList, FolderLoader, FolderPick};
use super::inputs::{SelectInput, TextInput};
use super::state::FormState;
use crate::components::field::Field;
use crate::model::fields;
use crate::model::inbox::{AfterProcessing, Arrival};
use crate::model::Direction;
use leptos::prelude::*;

#[component]
pub fn ReceivingTab(
    state: FormState,
    tenant_id: String,
    connected: bool,
    /// Why near-instant arrival cannot be chosen on this deployment.
    instant_unavailable: Option<String>,
) -> impl IntoView {
    let folders = FolderList::new();
    let arrivals: Vec<_> = Arrival::ALL.iter().map(|a| (a.code(), a.label())).collect();
    let arrivals = StoredValue::new(arrivals);
    let arrival_hint = match &instant_unavailable {
        Some(why) => format!("Only checking every interval is possible here. {why}"),
        None => "Near-instant: Microsoft posts to Tenant Mail when mail arrives (a Graph change notification, renewed automatically), so it shows up within seconds; a lost notification costs at most one interval.".to_string(),
    };
    let actions: Vec<_> = AfterProcessing::ALL
        .iter()
        .map(|a| (a.code(), a.label()))
        .collect();
    let actions = StoredValue::new(actions);
    let receives =
        move || Direction::from_code(&state.direction.get()).is_none_or(|d| d.receives());
    let moving = move || state.after_processing.get() == AfterProcessing::Move.code();
    view! {
        <Show
            when=receives
            fallback=|| view! {
                <p class="muted" id="receiving-off">
                    "This mailbox only sends. Choose \u{201c}Send and receive\u{201d} or \u{201c}Receive\u{201d} as its Direction on the General tab to receive mail."
                </p>
            }
        >
            <Field
                label="Folder"
                input_id=fields::RECEIVE_FOLDER
                error=state.error(fields::RECEIVE_FOLDER)
                hint="inbox, or another well-known folder name, or a folder id from Graph."
            >
                <TextInput state field=fields::RECEIVE_FOLDER placeholder="inbox"/>
                <FolderPick list=folders state field=fields::RECEIVE_FOLDER/>
            </Field>
            <FolderLoader list=folders state tenant_id=tenant_id.clone() connected/>
            <Field
                label="After a message is received"
                input_id=fields::AFTER_PROCESSING
                error=state.error(fields::AFTER_PROCESSING)
                hint="Done once per message, after Tenant Mail has stored it."
            >
                <SelectInput state field=fields::AFTER_PROCESSING options=actions.get_value()/>
            </Field>
            <Show when=moving>
                <Field
                    label="Move to folder"
                    input_id=fields::MOVE_TO_FOLDER
                    error=state.error(fields::MOVE_TO_FOLDER)
                    hint="archive, deleteditems, or a folder id."
                >
                    <TextInput state field=fields::MOVE_TO_FOLDER placeholder="archive"/>
                    <FolderPick list=folders state field=fields::MOVE_TO_FOLDER/>
                </Field>
            </Show>
            <Field
                label="How new mail is noticed"
                input_id=fields::ARRIVAL
                error=state.error(fields::ARRIVAL)
                hint=arrival_hint.clone()
            >
                <SelectInput state field=fields::ARRIVAL options=arrivals.get_value()/>
            </Field>
            <Field
                label="Check for new mail every (seconds)"
                input_id=fields::POLL_INTERVAL
                error=state.error(fields::POLL_INTERVAL)
                hint="Between 15 seconds and once a day (86400). The Inbox page also has Sync now."
            >
                <TextInput state field=fields::POLL_INTERVAL kind="number"/>
            </Field>
            <Field
                label="Import mail received since (UTC)"
                input_id=fields::IMPORT_SINCE
                error=state.error(fields::IMPORT_SINCE)
                hint="Empty: only mail that arrives after receiving starts, so an old backlog is not processed by surprise."
            >
                <TextInput state field=fields::IMPORT_SINCE kind="datetime-local"/>
            </Field>
        </Show>
    }
}
