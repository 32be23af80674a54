//! A verified sign-in becomes the mailbox's connection. Storage does it in
//! one transaction (`db::connections::connect`): it re-reads the tenant
//! email and the pinned user, asks the guard below, then replaces the tokens,
//! marks the mailbox Connected and releases its held mail. A refused sign-in
//! writes nothing, so a working connection stays as it was.
use super::errors::Failure;
use super::exchange::Tokens;
use super::guard;
use super::id_token::Claims;
use super::me::Me;
use super::Identity;
use crate::db::connections::{Connect, NewConnection};
use crate::db::flows::Flow;

/// What the admin is told on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub upn: String,
    pub tid: String,
}

/// What a completed sign-in established about the account.
pub struct SignedIn<'a> {
    pub claims: &'a Claims,
    pub me: &'a Me,
    pub tenant_name: Option<String>,
    pub tokens: &'a Tokens,
    /// The cloud whose Graph answered `/me` for these tokens.
    pub cloud: app::model::Cloud,
}

pub async fn save(
    identity: &Identity,
    flow: &Flow,
    signed_in: &SignedIn<'_>,
    actor: &app::port::Actor,
) -> Result<Saved, Failure> {
    let SignedIn {
        claims, me, tokens, ..
    } = *signed_in;
    let refresh_token = tokens
        .refresh_token
        .clone()
        .ok_or(Failure::NoRefreshToken)?;
    let now = identity.store.now();
    let upn = me
        .user_principal_name
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| guard::graph_address(me));
    let new = NewConnection {
        tenant_id: flow.tenant_id.clone(),
        tenant_email_id: flow.tenant_email_id.clone(),
        oid: claims.oid.clone(),
        tid: claims.tid.clone(),
        upn: upn.clone(),
        display_name: me.display_name.clone(),
        tenant_name: signed_in.tenant_name.clone(),
        client_id: flow.client_id.clone(),
        authority: flow.authority.clone(),
        token_endpoint: flow.token_endpoint.clone(),
        scopes: tokens.scope.clone().unwrap_or_else(|| flow.scopes.clone()),
        access_token: tokens.access_token.clone(),
        refresh_token,
        expires_at: now
            + chrono::Duration::seconds(
                tokens.expires_in_seconds.unwrap_or(3600).min(86_400) as i64
            ),
    };
    let stored = identity
        .store
        .connections()
        .connect(actor, new, |email, pinned| {
            // The settings the flow was started with must still be the saved ones.
            let s = &email.settings;
            // Also the cloud (GCC High and DoD share an authority) and a type
            // that signs in (not switched to application access meanwhile).
            let unchanged = s.application_id.eq_ignore_ascii_case(&flow.client_id)
                && s.authority() == flow.authority
                && s.signs_in_as().eq_ignore_ascii_case(&flow.login_hint)
                && s.cloud == signed_in.cloud
                && s.account_type.signs_in();
            if !unchanged {
                return Err(Failure::ConfigurationChanged);
            }
            let pinned_tenant = pinned.map(|p| guard::PinnedTenant {
                tid: &p.tid,
                authority: &p.authority,
            });
            guard::check_tenant(claims, &flow.authority, &upn, pinned_tenant)?;
            guard::check(
                claims,
                me,
                s.signs_in_as(),
                guard::is_multi_tenant_authority(&flow.authority),
                pinned.map(|p| (p.oid.as_str(), p.tid.as_str(), p.upn.as_str())),
                flow.allow_new_account,
            )
        })
        .await?;
    match stored {
        Connect::Done {
            reauthenticated,
            released,
        } => {
            if released > 0 {
                tracing::info!(tenant_email_id = %flow.tenant_email_id, released, "held outbox messages queued again");
            }
            tracing::info!(
                tenant_email_id = %flow.tenant_email_id,
                tid = %claims.tid,
                reauthenticated,
                "mailbox connected"
            );
            Ok(Saved {
                upn,
                tid: claims.tid.clone(),
            })
        }
        Connect::Missing => Err(Failure::ConfigurationChanged),
        Connect::Refused(failure) => Err(failure),
    }
}
