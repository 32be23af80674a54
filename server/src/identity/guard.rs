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

/// `pinned` is the connected user's `(oid, tid, upn)`, if any; `allow_new_account`
/// is the admin's explicit "connect a different account". An `oid` is only
/// unique within its tenant, so the tenant is pinned with it.
pub fn check(
    claims: &Claims,
    me: &Me,
    configured_address: &str,
    pinned: Option<(&str, &str, &str)>,
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
    if let Some((pinned_oid, pinned_tid, pinned_upn)) = pinned {
        let same_tenant = pinned_tid.is_empty()
            || claims.tid.is_empty()
            || pinned_tid.eq_ignore_ascii_case(&claims.tid);
        let same_user = pinned_oid.eq_ignore_ascii_case(&claims.oid) && same_tenant;
        if !allow_new_account && !same_user {
            return Err(Failure::DifferentPinnedAccount {
                pinned: pinned_upn.to_string(),
                signed_in,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(oid: &str, tid: &str) -> Claims {
        serde_json::from_value(serde_json::json!({
            "iss": "https://login.example/t/v2.0", "aud": "app", "exp": 2, "iat": 1,
            "oid": oid, "tid": tid
        }))
        .unwrap()
    }

    fn me(id: &str, mail: &str) -> Me {
        serde_json::from_value(
            serde_json::json!({ "id": id, "mail": mail, "userPrincipalName": mail }),
        )
        .unwrap()
    }

    #[test]
    fn the_configured_mailbox_and_the_pinned_user_in_the_pinned_tenant() {
        let (c, m) = (claims("o1", "t1"), me("o1", "Desk@Contoso.com"));
        assert!(check(&c, &m, "desk@contoso.com", None, false).is_ok());
        assert!(
            check(&c, &m, "other@contoso.com", None, false).is_err(),
            "wrong mailbox"
        );
        assert!(
            check(
                &c,
                &me("o2", "desk@contoso.com"),
                "desk@contoso.com",
                None,
                false
            )
            .is_err(),
            "/me is someone else"
        );
        assert!(check(
            &c,
            &m,
            "desk@contoso.com",
            Some(("o1", "t1", "desk@contoso.com")),
            false
        )
        .is_ok());
        assert!(
            check(
                &c,
                &m,
                "desk@contoso.com",
                Some(("o9", "t1", "x@contoso.com")),
                false
            )
            .is_err(),
            "other user"
        );
        // The same oid in another tenant is another user.
        assert!(check(
            &c,
            &m,
            "desk@contoso.com",
            Some(("o1", "t2", "desk@contoso.com")),
            false
        )
        .is_err());
        // Only an explicit "connect a different account" replaces the pinned one.
        assert!(check(
            &c,
            &m,
            "desk@contoso.com",
            Some(("o9", "t2", "x@contoso.com")),
            true
        )
        .is_ok());
    }
}
