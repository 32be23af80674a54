//! General tab: Account Type, Email address (and a shared mailbox's
//! delegate), Direction.
use super::inputs::{SelectInput, TextInput};
use super::state::FormState;
use crate::components::field::Field;
use crate::model::{fields, AccountType, Direction};
use leptos::prelude::*;

#[component]
pub fn GeneralTab(state: FormState) -> impl IntoView {
    let account_types: Vec<_> = AccountType::ALL
        .iter()
        .map(|t| (t.code(), t.label()))
        .collect();
    let directions: Vec<_> = Direction::ALL
        .iter()
        .map(|d| (d.code(), d.label()))
        .collect();
    view! {
        <Field label="Account Type" input_id=fields::ACCOUNT_TYPE error=state.error(fields::ACCOUNT_TYPE)>
            <SelectInput state field=fields::ACCOUNT_TYPE options=account_types/>
        </Field>
        <Field
            label="Email address"
            input_id=fields::ADDRESS
            error=state.error(fields::ADDRESS)
        >
            <TextInput state field=fields::ADDRESS kind="email" placeholder="helpdesk@contoso.com" autocomplete="off"/>
            <p class="hint">{move || address_hint(&state.account_type.get())}</p>
        </Field>
        <Show when=move || AccountType::from_code(&state.account_type.get()) == Some(AccountType::Microsoft365Shared)>
            <Field
                label="Delegate (who signs in)"
                input_id=fields::DELEGATE
                error=state.error(fields::DELEGATE)
                hint="The person who signs in at Microsoft for the shared mailbox. In Exchange they need Full Access (read and manage) and Send As on it."
            >
                <TextInput state field=fields::DELEGATE kind="email" placeholder="alice@contoso.com" autocomplete="off"/>
            </Field>
        </Show>
        <Field label="Direction" input_id=fields::DIRECTION error=state.error(fields::DIRECTION)>
            <SelectInput state field=fields::DIRECTION options=directions/>
        </Field>
    }
}

fn address_hint(account_type: &str) -> &'static str {
    match AccountType::from_code(account_type) {
        Some(AccountType::Microsoft365Shared) => {
            "The shared mailbox (support@…): mail goes out from it and its sent copy stays in its Sent Items."
        }
        Some(AccountType::Microsoft365App) => {
            "The mailbox the application sends and receives as; no one signs in."
        }
        _ => "The mailbox Tenant Mail sends and receives as. You will sign in as exactly this mailbox.",
    }
}
