//! The admin-account and audit parts of the backend port.
use super::errors::{internal, is_unique_violation, not_found};
use super::DbBackend;
use crate::audit::{self, Event};
use crate::auth::{admins, password, setup};
use crate::db::entities::admin;
use app::model::admin::{
    AdminView, AuditFilter, AuditPage, CURRENT_PASSWORD, SETUP_TOKEN, USERNAME,
};
use app::port::{Actor, PortError};
use sea_orm::TransactionTrait;

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn view(a: admin::Model, actor: &Actor) -> AdminView {
    AdminView {
        is_you: actor.admin_id.as_deref() == Some(a.id.as_str()),
        id: a.id,
        username: a.username,
        disabled: a.disabled_at.is_some(),
        created_at: rfc3339(a.created_at),
        last_sign_in_at: a.last_sign_in_at.map(rfc3339),
    }
}

fn taken(username: &str) -> PortError {
    PortError::Duplicate {
        field: USERNAME.into(),
        message: format!("An admin named {username:?} already exists."),
    }
}

async fn hash(password: &str) -> Result<String, PortError> {
    password::hash(password)
        .await
        .map_err(|e| internal("hash password", e))
}

pub async fn list(b: &DbBackend, actor: &Actor) -> Result<Vec<AdminView>, PortError> {
    Ok(admins::list(&b.db)
        .await
        .map_err(|e| internal("list admins", e))?
        .into_iter()
        .map(|a| view(a, actor))
        .collect())
}

pub async fn add(
    b: &DbBackend,
    actor: &Actor,
    username: &str,
    password: &str,
) -> Result<AdminView, PortError> {
    let hash = hash(password).await?;
    let now = b.clock.now();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let created = match admins::create(&txn, username, hash, now).await {
        Ok(a) => a,
        Err(e) if is_unique_violation(&e) => return Err(taken(username)),
        Err(e) => return Err(internal("create admin", e)),
    };
    audit::record(
        &txn,
        now,
        actor,
        Event::new("admin.created").target("admin", &created.id, &created.username),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))?;
    Ok(view(created, actor))
}

pub async fn set_disabled(
    b: &DbBackend,
    actor: &Actor,
    admin_id: &str,
    disabled: bool,
) -> Result<AdminView, PortError> {
    if disabled && actor.admin_id.as_deref() == Some(admin_id) {
        return Err(PortError::Conflict(
            "You cannot disable your own account; ask another admin.".into(),
        ));
    }
    let now = b.clock.now();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let target = admins::find(&txn, admin_id)
        .await
        .map_err(|e| internal("find admin", e))?
        .ok_or_else(|| not_found("admin"))?;
    admins::set_disabled(&txn, admin_id, disabled.then_some(now), now)
        .await
        .map_err(|e| internal("disable admin", e))?;
    if disabled {
        admins::end_sessions(&txn, admin_id, None)
            .await
            .map_err(|e| internal("end sessions", e))?;
    }
    let action = if disabled {
        "admin.disabled"
    } else {
        "admin.enabled"
    };
    audit::record(
        &txn,
        now,
        actor,
        Event::new(action).target("admin", admin_id, &target.username),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    let updated = admins::find(&txn, admin_id)
        .await
        .map_err(|e| internal("find admin", e))?
        .ok_or_else(|| not_found("admin"))?;
    txn.commit().await.map_err(|e| internal("commit", e))?;
    Ok(view(updated, actor))
}

pub async fn change_password(
    b: &DbBackend,
    actor: &Actor,
    current: &str,
    new: &str,
) -> Result<(), PortError> {
    let admin_id = actor
        .admin_id
        .as_deref()
        .ok_or_else(|| PortError::NotFound("No admin is signed in.".into()))?;
    let me = admins::find(&b.db, admin_id)
        .await
        .map_err(|e| internal("find admin", e))?
        .ok_or_else(|| not_found("admin"))?;
    let now = b.clock.now();
    let verified = password::verify(current, Some(me.password_hash.clone()))
        .await
        .map_err(|e| internal("verify password", e))?;
    if !verified.ok {
        audit::record_best_effort(
            &b.db,
            now,
            actor,
            Event::new("admin.password_changed")
                .failed()
                .target("admin", &me.id, &me.username)
                .detail("wrong current password"),
        )
        .await;
        return Err(PortError::Rejected {
            field: CURRENT_PASSWORD.into(),
            message: "This is not your current password.".into(),
        });
    }
    let hash = hash(new).await?;
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    admins::set_password_hash(&txn, &me.id, hash, now, true)
        .await
        .map_err(|e| internal("set password", e))?;
    // Anyone else holding a session of this admin (a stolen cookie, another
    // browser) is signed out; this browser stays signed in.
    let ended = admins::end_sessions(&txn, &me.id, actor.session_key.as_deref())
        .await
        .map_err(|e| internal("end sessions", e))?;
    audit::record(
        &txn,
        now,
        actor,
        Event::new("admin.password_changed")
            .target("admin", &me.id, &me.username)
            .detail(format!("other sessions ended: {ended}")),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))
}

pub async fn list_audit(
    b: &DbBackend,
    filter: &AuditFilter,
    limit: u64,
) -> Result<AuditPage, PortError> {
    audit::list(&b.db, filter, limit.clamp(1, 500))
        .await
        .map_err(|e| internal("list audit log", e))
}

pub async fn needs_setup(b: &DbBackend) -> Result<bool, PortError> {
    Ok(admins::count(&b.db)
        .await
        .map_err(|e| internal("count admins", e))?
        == 0)
}

pub async fn complete_setup(
    b: &DbBackend,
    actor: &Actor,
    token: &str,
    username: &str,
    password: &str,
) -> Result<(), PortError> {
    let hash = hash(password).await?;
    let now = b.clock.now();
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let valid = setup::consume(&txn, token, now)
        .await
        .map_err(|e| internal("check setup token", e))?;
    let no_admin_yet = admins::count(&txn)
        .await
        .map_err(|e| internal("count admins", e))?
        == 0;
    if !valid || !no_admin_yet {
        drop(txn);
        audit::record_best_effort(
            &b.db,
            now,
            actor,
            Event::new("admin.setup").failed().detail(if no_admin_yet {
                "invalid or expired setup token"
            } else {
                "an admin already exists"
            }),
        )
        .await;
        return Err(if no_admin_yet {
            PortError::Rejected {
                field: SETUP_TOKEN.into(),
                message: "This setup token is not valid (it is printed in the server log at start and works once, for 24 hours).".into(),
            }
        } else {
            PortError::Conflict("Setup is already complete. Sign in instead.".into())
        });
    }
    let created = admins::create(&txn, username, hash, now)
        .await
        .map_err(|e| internal("create first admin", e))?;
    let actor = Actor {
        username: created.username.clone(),
        admin_id: Some(created.id.clone()),
        ..actor.clone()
    };
    audit::record(
        &txn,
        now,
        &actor,
        Event::new("admin.setup").target("admin", &created.id, &created.username),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))
}
