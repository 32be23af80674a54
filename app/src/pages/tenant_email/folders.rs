//! The Receiving tab's folder picker: the mailbox's folders, listed from
//! Graph with its connection, by name and nested as in Outlook. Picking one
//! puts its id in the field (ids survive renames; names do not), and the
//! field then shows the folder's name.
use super::state::FormState;
use crate::api::ListMailFolders;
use crate::model::inbox::MailFolders;
use crate::model::ApiError;
use leptos::prelude::*;

/// Lists the folders once asked (or at once when a stored value is an id,
/// so its name can be shown); shared by both folder fields.
#[derive(Clone, Copy)]
pub struct FolderList {
    load: ServerAction<ListMailFolders>,
}

impl FolderList {
    pub fn new() -> Self {
        Self {
            load: ServerAction::<ListMailFolders>::new(),
        }
    }

    fn folders(&self) -> Option<MailFolders> {
        self.load.value().get().and_then(Result::ok)
    }

    fn error(&self) -> Option<ApiError> {
        self.load.value().get().and_then(Result::err)
    }
}

/// "List the mailbox's folders", or why it cannot be done yet.
#[component]
pub fn FolderLoader(
    list: FolderList,
    state: FormState,
    tenant_id: String,
    connected: bool,
) -> impl IntoView {
    let email_id = state.email_id.get_untracked();
    let load = move |tenant_id: String, email_id: String| {
        list.load.dispatch(ListMailFolders {
            tenant_id,
            email_id,
        });
    };
    // A stored folder id means nothing to a person: name it right away.
    if let (true, Some(email)) = (connected, email_id.clone()) {
        // Well-known names (inbox, archive, deleteditems…) are lowercase
        // letters; anything else is an id.
        let looks_like_id = |v: String| {
            let v = v.trim();
            !v.is_empty() && !v.chars().all(|c| c.is_ascii_lowercase())
        };
        if looks_like_id(state.receive_folder.get_untracked())
            || looks_like_id(state.move_to_folder.get_untracked())
        {
            let tenant = tenant_id.clone();
            Effect::new(move |done: Option<()>| {
                if done.is_none() {
                    load(tenant.clone(), email.clone());
                }
            });
        }
    }
    match (connected, email_id) {
        (true, Some(email_id)) => view! {
            <div class="folder-loader">
                <button
                    type="button"
                    class="secondary"
                    id="list-folders"
                    disabled=move || list.load.pending().get()
                    on:click=move |_| load(tenant_id.clone(), email_id.clone())
                >
                    {move || if list.load.pending().get() { "Listing folders…" } else { "Choose from the mailbox's folders" }}
                </button>
                {move || list.error().map(|e| view! { <p class="field-error" id="folders-error" role="alert">{e.to_string()}</p> })}
                {move || list.folders().filter(|f| f.truncated).map(|_| view! {
                    <p class="muted">"Some folders are not listed (more than 500, or nested very deep); a folder id can still be typed."</p>
                })}
            </div>
        }
        .into_any(),
        _ => view! {
            <p class="muted" id="folders-later">"Once the mailbox is saved and connected, its folders can be chosen by name here."</p>
        }
        .into_any(),
    }
}

/// Under a folder field: the chosen folder's name, and a list to pick from
/// once the folders are listed.
#[component]
pub fn FolderPick(list: FolderList, state: FormState, field: &'static str) -> impl IntoView {
    let value = state.signal(field);
    let name = move || {
        let current = value.get();
        let current = current.trim();
        list.folders()?
            .folders
            .into_iter()
            .find(|f| f.id == current)
            .map(|f| f.display())
    };
    let pick = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        if !id.is_empty() {
            value.set(id);
            state.on_blur(field);
        }
    };
    view! {
        {move || name().map(|n| view! { <p class="folder-name" id=format!("{field}-name")>{format!("Folder: {n}")}</p> })}
        {move || list.folders().map(|f| {
            let current = value.get_untracked();
            view! {
                <select id=format!("{field}-pick") aria-label="Pick a folder" on:change=pick>
                    <option value="">"Pick a folder…"</option>
                    {f.folders.into_iter().map(|folder| {
                        // Nesting shown by indentation, as Outlook's folder pane does.
                        let indent = "\u{a0}\u{a0}\u{a0}".repeat(folder.path.len().saturating_sub(1));
                        let label = format!("{indent}{}", folder.path.last().cloned().unwrap_or_default());
                        let selected = folder.id == current;
                        view! { <option value=folder.id.clone() selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            }
        })}
    }
}
