//! The identity guard: the tokens belong to the configured mailbox, and on
//! re-authentication to the same user as before.
use super::errors::Failure;
use super::id_token::Claims;
use super::me::Me;

/// The address Graph knows the user by: `mail`, else `userPrincipalName`.
pub fn graph_address(me: &Me) -> String {
    me.mail
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .or(me.user_principal_name.as_deref())
        .unwrap_or_default()
        .to_string()
}

/// `pinned_oid` is the connected user's oid, if any; `allow_new_account` is
/// the admin's explicit "connect a different account".
pub fn check(
    claims: &Claims,
    me: &Me,
    configured_address: &str,
    pinned: Option<(&str, &str)>,
    allow_new_account: bool,
) -> Result<(), Failure> {
    let signed_in = {
        let a = graph_address(me);
        if a.is_empty() {
            claims
                .preferred_username
                .clone()
                .unwrap_or_else(|| claims.oid.clone())
        } else {
            a
        }
    };
    if !me.id.eq_ignore_ascii_case(&claims.oid) {
        return Err(Failure::WrongAccount {
            signed_in,
            expected: configured_address.to_string(),
        });
    }
    if !graph_address(me).eq_ignore_ascii_case(configured_address.trim()) {
        return Err(Failure::WrongAccount {
            signed_in,
            expected: configured_address.to_string(),
        });
    }
    if let Some((pinned_oid, pinned_upn)) = pinned {
        if !allow_new_account && !pinned_oid.eq_ignore_ascii_case(&claims.oid) {
            return Err(Failure::DifferentPinnedAccount {
                pinned: pinned_upn.to_string(),
                signed_in,
            });
        }
    }
    Ok(())
}
