//! Success: one transaction re-checks the tenant email and the pinned
//! identity, then replaces the tokens and marks the mailbox Connected. A
//! failed re-authentication never reaches this point, so a working
//! connection stays as it was.
use super::errors::{internal, Failure};
use super::exchange::Tokens;
use super::guard;
use super::id_token::Claims;
use super::me::Me;
use super::Identity;
use crate::db::entities::{mailbox_connection, oauth_flow, tenant_email};
use crate::secrets::Binding;
use app::model::ConnectionStatus;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

pub const TABLE: &str = "mailbox_connection";

pub fn token_binding<'a>(column: &'a str, tenant_email_id: &'a str) -> Binding<'a> {
    Binding {
        table: TABLE,
        column,
        row_id: tenant_email_id,
    }
}

/// What the admin is told on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub upn: String,
    pub tid: String,
}

pub async fn save(
    identity: &Identity,
    flow: &oauth_flow::Model,
    claims: &Claims,
    me: &Me,
    tokens: &Tokens,
    actor: &app::port::Actor,
) -> Result<Saved, Failure> {
    let refresh_token = tokens
        .refresh_token
        .as_deref()
        .ok_or(Failure::NoRefreshToken)?;
    let now = identity.clock.now();
    let id = flow.tenant_email_id.as_str();
    let sealed_refresh = identity
        .keys
        .seal(refresh_token, &token_binding("refresh_token", id))
        .map_err(|e| internal("seal refresh token", e))?;
    let sealed_access = identity
        .keys
        .seal(&tokens.access_token, &token_binding("access_token", id))
        .map_err(|e| internal("seal access token", e))?;
    let expires_at = now
        + chrono::Duration::seconds(tokens.expires_in_seconds.unwrap_or(3600).min(86_400) as i64);
    let upn = me
        .user_principal_name
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| guard::graph_address(me));

    let txn = identity
        .db
        .begin()
        .await
        .map_err(|e| internal("begin connect transaction", e))?;
    let email = tenant_email::Entity::find_by_id(id.to_string())
        .filter(tenant_email::Column::TenantId.eq(flow.tenant_id.as_str()))
        .one(&txn)
        .await
        .map_err(|e| internal("connect: read tenant email", e))?
        .ok_or(Failure::ConfigurationChanged)?;
    let unchanged = email.application_id.eq_ignore_ascii_case(&flow.client_id)
        && email.authority_url.trim_end_matches('/') == flow.authority
        && email.address.eq_ignore_ascii_case(&flow.login_hint);
    if !unchanged {
        return Err(Failure::ConfigurationChanged);
    }
    let existing = mailbox_connection::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await
        .map_err(|e| internal("connect: read connection", e))?;
    guard::check(
        claims,
        me,
        &email.address,
        guard::is_multi_tenant_authority(&flow.authority),
        existing
            .as_ref()
            .map(|c| (c.oid.as_str(), c.tid.as_str(), c.upn.as_str())),
        flow.allow_new_account,
    )?;

    let row = mailbox_connection::ActiveModel {
        tenant_email_id: Set(id.to_string()),
        refresh_token: Set(sealed_refresh),
        access_token: Set(Some(sealed_access)),
        access_token_expires_at: Set(Some(expires_at)),
        oid: Set(claims.oid.clone()),
        tid: Set(claims.tid.clone()),
        upn: Set(upn.clone()),
        display_name: Set(me.display_name.clone()),
        client_id: Set(flow.client_id.clone()),
        authority: Set(flow.authority.clone()),
        scopes: Set(tokens.scope.clone().unwrap_or_else(|| flow.scopes.clone())),
        connected_at: Set(now),
        last_refresh_at: Set(None),
        last_error: Set(None),
        last_error_at: Set(None),
        version: Set(existing.as_ref().map(|c| c.version + 1).unwrap_or(1)),
        token_endpoint: Set(Some(flow.token_endpoint.clone())),
        refresh_lease_until: Set(None),
        refresh_lease_owner: Set(None),
    };
    let written = if existing.is_some() {
        row.update(&txn).await
    } else {
        row.insert(&txn).await
    };
    written.map_err(|e| internal("connect: write connection", e))?;
    super::tokens::change_status(
        &txn,
        now,
        actor,
        id,
        ConnectionStatus::Connected,
        &[],
        Some(&format!("signed in as {upn}")),
    )
    .await
    .map_err(|e| internal("connect: set status", e))?;
    // Mail held while the grant was gone goes out again, in the same commit
    // that makes the mailbox usable.
    let released = crate::mail::outbox::store::release_held(&txn, id, now)
        .await
        .map_err(|e| internal("connect: release held mail", e))?;
    if released > 0 {
        tracing::info!(tenant_email_id = %id, released, "held outbox messages queued again");
    }
    txn.commit()
        .await
        .map_err(|e| internal("commit connect transaction", e))?;
    tracing::info!(
        tenant_email_id = %id,
        tid = %claims.tid,
        reauthenticated = existing.is_some(),
        "mailbox connected"
    );
    Ok(Saved {
        upn,
        tid: claims.tid.clone(),
    })
}
