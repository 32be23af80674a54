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

/// The tenant of personal Microsoft accounts (outlook.com, hotmail.com).
pub const PERSONAL_ACCOUNTS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// The authority's tenant segment, lower-cased (`common`, a GUID, a domain).
fn tenant_segment(authority: &str) -> String {
    authority
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// True for `…/common`, `…/organizations`, `…/consumers`: any tenant may answer.
pub fn is_multi_tenant_authority(authority: &str) -> bool {
    app::model::authority::WELL_KNOWN_TENANTS.contains(&tenant_segment(authority).as_str())
}

/// The tenant an earlier connection pinned, and the authority it was made
/// under (without a trailing slash).
#[derive(Debug, Clone, Copy)]
pub struct PinnedTenant<'a> {
    pub tid: &'a str,
    pub authority: &'a str,
}

/// The account's tenant must be one the authority allows: a personal account
/// only under `consumers` (a helpdesk mailbox is an organisation's), the very
/// tenant an authority names by its id, and, under an authority that names
/// a tenant by its domain, the tenant the first connection found there. Not
/// even "connect a different account" moves a mailbox to another tenant:
/// that takes a new authority.
pub fn check_tenant(
    claims: &Claims,
    authority: &str,
    signed_in: &str,
    pinned: Option<PinnedTenant<'_>>,
) -> Result<(), Failure> {
    let segment = tenant_segment(authority);
    let other_tenant = |expected: &str| Failure::OtherTenant {
        signed_in: signed_in.to_string(),
        tenant: claims.tid.clone(),
        expected: expected.to_string(),
    };
    if claims.tid.eq_ignore_ascii_case(PERSONAL_ACCOUNTS_TENANT) && segment != "consumers" {
        return Err(Failure::PersonalAccount {
            signed_in: signed_in.to_string(),
        });
    }
    if claims.tid.is_empty() {
        return Ok(());
    }
    if app::model::identifiers::is_guid(&segment) {
        return match claims.tid.eq_ignore_ascii_case(&segment) {
            true => Ok(()),
            false => Err(other_tenant(&segment)),
        };
    }
    let named = !is_multi_tenant_authority(authority);
    if let Some(pinned) = pinned.filter(|p| named && !p.tid.is_empty()) {
        let same_authority = pinned
            .authority
            .trim_end_matches('/')
            .eq_ignore_ascii_case(authority.trim_end_matches('/'));
        if same_authority && !pinned.tid.eq_ignore_ascii_case(&claims.tid) {
            return Err(other_tenant(pinned.tid));
        }
    }
    Ok(())
}

fn same_address(value: Option<&str>, configured: &str) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case(configured.trim()))
}

/// `pinned` is the connected user's `(oid, tid, upn)`, if any; `allow_new_account`
/// is the admin's explicit "connect a different account". An `oid` is only
/// unique within its tenant, so the tenant is pinned with it.
///
/// With a multi-tenant authority any Microsoft tenant can answer, and any
/// tenant's admin can put any address into a user's `mail` attribute (the
/// "nOAuth" mistake). A user principal name must be on a domain its tenant has
/// verified, so only the UPN is trusted there; a tenant-specific authority
/// also accepts `mail` when Exchange agrees the address is the mailbox's
/// (`proxyAddresses`).
pub fn check(
    claims: &Claims,
    me: &Me,
    configured_address: &str,
    multi_tenant_authority: bool,
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
    let upn_matches = same_address(me.user_principal_name.as_deref(), configured_address);
    let mail_matches = same_address(me.mail.as_deref(), configured_address);
    if multi_tenant_authority && mail_matches && !upn_matches {
        return Err(Failure::UnverifiedAddress {
            signed_in: me.user_principal_name.clone().unwrap_or(signed_in),
            expected: configured_address.to_string(),
        });
    }
    // A tenant's own admins control `mail` (and a guest invite sets it too):
    // only an address Exchange delivers to this mailbox counts.
    if mail_matches && !upn_matches && !me.owns_address(configured_address) {
        return Err(Failure::AddressNotOwned {
            signed_in: me.user_principal_name.clone().unwrap_or(signed_in),
            expected: configured_address.to_string(),
        });
    }
    if !upn_matches && !mail_matches {
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
        serde_json::from_value(serde_json::json!({
            "id": id, "mail": mail, "userPrincipalName": mail,
            "proxyAddresses": [format!("SMTP:{mail}")]
        }))
        .unwrap()
    }

    #[test]
    fn the_configured_mailbox_and_the_pinned_user_in_the_pinned_tenant() {
        let (c, m) = (claims("o1", "t1"), me("o1", "Desk@Contoso.com"));
        assert!(check(&c, &m, "desk@contoso.com", false, None, false).is_ok());
        assert!(
            check(&c, &m, "other@contoso.com", false, None, false).is_err(),
            "wrong mailbox"
        );
        assert!(
            check(
                &c,
                &me("o2", "desk@contoso.com"),
                "desk@contoso.com",
                false,
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
            false,
            Some(("o1", "t1", "desk@contoso.com")),
            false
        )
        .is_ok());
        assert!(
            check(
                &c,
                &m,
                "desk@contoso.com",
                false,
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
            false,
            Some(("o1", "t2", "desk@contoso.com")),
            false
        )
        .is_err());
        // Only an explicit "connect a different account" replaces the pinned one.
        assert!(check(
            &c,
            &m,
            "desk@contoso.com",
            false,
            Some(("o9", "t2", "x@contoso.com")),
            true
        )
        .is_ok());
    }

    #[test]
    fn personal_accounts_only_under_consumers_and_a_named_tenant_only_itself() {
        let personal = claims("o1", PERSONAL_ACCOUNTS_TENANT);
        for authority in [
            "https://login.microsoftonline.com/common",
            "https://login.microsoftonline.com/organizations",
        ] {
            assert!(matches!(
                check_tenant(&personal, authority, "someone@outlook.com", None),
                Err(Failure::PersonalAccount { .. })
            ));
        }
        let consumers = "https://login.microsoftonline.com/consumers";
        assert!(check_tenant(&personal, consumers, "someone@outlook.com", None).is_ok());
        let contoso = "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40";
        let named = format!(
            "https://login.microsoftonline.com/{}",
            contoso.to_uppercase()
        );
        assert!(check_tenant(&claims("o1", contoso), &named, "desk@contoso.com", None).is_ok());
        assert!(matches!(
            check_tenant(&claims("o1", "t-other"), &named, "x@fabrikam.com", None),
            Err(Failure::OtherTenant { .. })
        ));
    }

    #[test]
    fn a_tenant_named_by_its_domain_is_pinned_by_the_first_connection() {
        let by_domain = "https://login.microsoftonline.com/contoso.onmicrosoft.com";
        // The first connection: any tenant the domain's discovery answers for.
        assert!(check_tenant(
            &claims("o1", "t-contoso"),
            by_domain,
            "desk@contoso.com",
            None
        )
        .is_ok());
        let pinned = PinnedTenant {
            tid: "T-CONTOSO",
            authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com/",
        };
        assert!(
            check_tenant(
                &claims("o2", "t-contoso"),
                by_domain,
                "desk@contoso.com",
                Some(pinned)
            )
            .is_ok(),
            "another user of the same tenant is the guard's and the admin's call"
        );
        assert!(matches!(
            check_tenant(&claims("o1", "t-fabrikam"), by_domain, "desk@contoso.com", Some(pinned)),
            Err(Failure::OtherTenant { expected, .. }) if expected == "T-CONTOSO"
        ));
        // A new authority is a new start.
        let moved = "https://login.microsoftonline.com/fabrikam.onmicrosoft.com";
        assert!(check_tenant(
            &claims("o1", "t-fabrikam"),
            moved,
            "desk@fabrikam.com",
            Some(pinned)
        )
        .is_ok());
        // Multi-tenant authorities pin the user (see `check`), not the tenant.
        let common = "https://login.microsoftonline.com/common";
        let pinned_common = PinnedTenant {
            tid: "t-contoso",
            authority: common,
        };
        assert!(check_tenant(
            &claims("o1", "t-fabrikam"),
            common,
            "desk@contoso.com",
            Some(pinned_common)
        )
        .is_ok());
    }

    #[test]
    fn multi_tenant_authorities_trust_only_the_upn() {
        let c = claims("o1", "t1");
        let spoofed: Me = serde_json::from_value(serde_json::json!({
            "id": "o1", "mail": "desk@contoso.com", "userPrincipalName": "mallory@evil.onmicrosoft.com"
        }))
        .unwrap();
        assert!(matches!(
            check(&c, &spoofed, "desk@contoso.com", true, None, false),
            Err(Failure::UnverifiedAddress { .. })
        ));
        // A tenant-specific authority: `mail` counts when Exchange delivers
        // that address to this mailbox, not merely because `mail` says so.
        assert!(matches!(
            check(&c, &spoofed, "desk@contoso.com", false, None, false),
            Err(Failure::AddressNotOwned { .. })
        ));
        let alias: Me = serde_json::from_value(serde_json::json!({
            "id": "o1", "mail": "desk@contoso.com", "userPrincipalName": "svc-desk@contoso.onmicrosoft.com",
            "proxyAddresses": ["SMTP:desk@contoso.com", "smtp:svc-desk@contoso.onmicrosoft.com"]
        }))
        .unwrap();
        assert!(check(&c, &alias, "Desk@Contoso.com", false, None, false).is_ok());
        // The UPN itself is always good enough.
        let m = me("o1", "desk@contoso.com");
        assert!(check(&c, &m, "desk@contoso.com", true, None, false).is_ok());
        assert!(is_multi_tenant_authority(
            "https://login.microsoftonline.com/common"
        ));
        assert!(is_multi_tenant_authority(
            "https://login.microsoftonline.com/Organizations/"
        ));
        assert!(!is_multi_tenant_authority(
            "https://login.microsoftonline.com/79c6ff55-b7e0-4517-bfd7-b4fffb6fee40"
        ));
    }
}
