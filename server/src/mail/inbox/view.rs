//! Reading a stored message's columns back as the model types, shared by the
//! Inbox screen (`backend::inbox`) and the host API (`routes::host_api`), so
//! both show the same sender, recipients and action state.
use crate::db::entities::inbox_message;
use app::model::inbox::{ActionState, MailAddress};

/// The address lists are stored as JSON written by the sync; a row that does
/// not parse shows no recipients rather than failing the whole read.
fn addresses(json: &str) -> Vec<MailAddress> {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn sender(m: &inbox_message::Model) -> Option<MailAddress> {
    m.from_address.as_ref().map(|address| MailAddress {
        name: m.from_name.clone().unwrap_or_default(),
        address: address.clone(),
    })
}

/// To, Cc and Reply-To.
pub fn recipients(
    m: &inbox_message::Model,
) -> (Vec<MailAddress>, Vec<MailAddress>, Vec<MailAddress>) {
    (
        addresses(&m.to_json),
        addresses(&m.cc_json),
        addresses(&m.reply_to_json),
    )
}

pub fn action(m: &inbox_message::Model) -> ActionState {
    ActionState::from_code(&m.action_state).unwrap_or(ActionState::None)
}
