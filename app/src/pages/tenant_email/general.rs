//! General tab: Account Type, Email address, Direction.
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
            hint="The mailbox Tenant Mail sends and receives as. You will sign in as exactly this mailbox."
        >
            <TextInput state field=fields::ADDRESS kind="email" placeholder="helpdesk@contoso.com" autocomplete="off"/>
        </Field>
        <Field label="Direction" input_id=fields::DIRECTION error=state.error(fields::DIRECTION)>
            <SelectInput state field=fields::DIRECTION options=directions/>
        </Field>
    }
}
