//! Admin accounts, the audit log and first-admin setup for the admin console.
use super::errors::{internal, not_found};
use super::Console;
use crate::auth::failures::Sample;
use crate::auth::password;
use crate::auth::throttle::Verdict;
use crate::db::admins::Admin;
use crate::db::audit::Event;
use crate::db::setup_tokens::Setup;
use crate::db::Saved;
use app::model::admin::{
    AdminView, AuditFilter, AuditPage, CURRENT_PASSWORD, SETUP_TOKEN, USERNAME,
};
use app::port::{Actor, AdminPort, PortError};

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn view(a: Admin, actor: &Actor) -> AdminView {
    AdminView {
        is_you: actor.admin_id.as_deref() == Some(a.id.as_str()),
        disabled: !a.enabled(),
        created_at: rfc3339(a.created_at),
        last_sign_in_at: a.last_sign_in_at.map(rfc3339),
        id: a.id,
        username: a.username,
    }
}

fn taken(username: &str) -> PortError {
    PortError::Duplicate {
        field: USERNAME.into(),
        message: format!("An admin named {username:?} already exists."),
    }
}

fn client(actor: &Actor) -> &str {
    actor.ip.as_deref().unwrap_or("unknown")
}

fn slow_down(field: &str, wait: u64) -> PortError {
    PortError::Rejected {
        field: field.into(),
        message: format!("Too many attempts. Wait {wait} seconds, then try again."),
    }
}

async fn hash(password: &str) -> Result<String, PortError> {
    password::hash(password)
        .await
        .map_err(|e| internal("hash password", e))
}

#[async_trait::async_trait]
impl AdminPort for Console {
    async fn list_admins(&self, actor: &Actor) -> Result<Vec<AdminView>, PortError> {
        Ok(self
            .store
            .admins()
            .list()
            .await?
            .into_iter()
            .map(|a| view(a, actor))
            .collect())
    }

    async fn add_admin(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> Result<AdminView, PortError> {
        let hash = hash(password).await?;
        match self.store.admins().create(actor, username, &hash).await? {
            Saved::Done(a) => Ok(view(a, actor)),
            _ => Err(taken(username)),
        }
    }

    async fn set_admin_disabled(
        &self,
        actor: &Actor,
        admin_id: &str,
        disabled: bool,
    ) -> Result<AdminView, PortError> {
        if disabled && actor.admin_id.as_deref() == Some(admin_id) {
            return Err(PortError::Conflict(
                "You cannot disable your own account; ask another admin.".into(),
            ));
        }
        match self
            .store
            .admins()
            .set_disabled(actor, admin_id, disabled)
            .await?
        {
            Saved::Done(a) => Ok(view(a, actor)),
            _ => Err(not_found("admin")),
        }
    }

    async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), PortError> {
        let admin_id = actor
            .admin_id
            .as_deref()
            .ok_or_else(|| PortError::NotFound("No admin is signed in.".into()))?;
        let me = self
            .store
            .admins()
            .get(admin_id)
            .await?
            .ok_or_else(|| not_found("admin"))?;
        // A stolen session must not become a way to guess the password:
        // these checks count against sign-in's throttle for this admin.
        let charge = match self.throttle.attempt(client(actor), &me.username).await? {
            Verdict::Go(charge) => charge,
            Verdict::Wait(wait) => return Err(slow_down(CURRENT_PASSWORD, wait)),
        };
        let verified = password::verify(current, Some(me.password_hash.clone()))
            .await
            .map_err(|e| internal("verify password", e))?;
        if !verified.ok {
            self.store
                .audit()
                .record_best_effort(
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
        self.throttle.succeeded(charge).await;
        let hash = hash(new).await?;
        // This browser stays signed in; every other session of the admin ends.
        self.store
            .admins()
            .change_password(actor, &me, &hash, actor.session_key.as_deref(), |ended| {
                format!("other sessions ended: {ended}")
            })
            .await?;
        Ok(())
    }

    async fn list_audit(&self, filter: &AuditFilter, limit: u64) -> Result<AuditPage, PortError> {
        Ok(self.store.audit().list(filter, limit.clamp(1, 500)).await?)
    }

    async fn needs_setup(&self) -> Result<bool, PortError> {
        Ok(self.store.admins().count().await? == 0)
    }

    /// Anyone can call this before the first admin exists, so the cheap
    /// refusals (throttled address, setup done, unknown token) come before
    /// the 19 MiB password hash, and failures are sampled into the audit log.
    async fn complete_setup(
        &self,
        actor: &Actor,
        token: &str,
        username: &str,
        password: &str,
    ) -> Result<(), PortError> {
        if let Err(wait) = self.throttle.address(client(actor)) {
            return Err(slow_down(SETUP_TOKEN, wait));
        }
        if self.store.admins().count().await? > 0 {
            return self.setup_refused(actor, Setup::AlreadyDone).await;
        }
        if !self.store.setup_tokens().is_valid(token).await? {
            return self.setup_refused(actor, Setup::InvalidToken).await;
        }
        let hash = hash(password).await?;
        // A concurrent setup may have won meanwhile: the transaction decides.
        match self
            .store
            .setup_tokens()
            .complete(actor, token, username, &hash)
            .await?
        {
            Setup::Done(_) => Ok(()),
            refused => self.setup_refused(actor, refused).await,
        }
    }
}

impl Console {
    async fn setup_refused(&self, actor: &Actor, outcome: Setup) -> Result<(), PortError> {
        let (why, error) = match outcome {
            Setup::AlreadyDone => (
                "an admin already exists",
                PortError::Conflict("Setup is already complete. Sign in instead.".into()),
            ),
            _ => (
                "invalid or expired setup token",
                PortError::Rejected {
                    field: SETUP_TOKEN.into(),
                    message: "This setup token is not valid (it is printed in the server log at start and works once, for 24 hours).".into(),
                },
            ),
        };
        let sample = self
            .setup_failures
            .failure(client(actor), std::time::Instant::now());
        if let Sample::Record { unrecorded } = sample {
            let detail = if unrecorded > 0 {
                format!(
                    "{why} ({unrecorded} more from this address before, not recorded one by one)"
                )
            } else {
                why.to_string()
            };
            self.store
                .audit()
                .record_best_effort(actor, Event::new("admin.setup").failed().detail(detail))
                .await;
        }
        Err(error)
    }
}
