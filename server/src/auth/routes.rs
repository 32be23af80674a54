//! POST /auth/sign-in and /auth/sign-out: plain form posts (they work before
//! the WASM loads), answered with 303 redirects. Failures go back to the
//! sign-in page with a reason code and the typed username; the password is
//! never echoed.
use super::throttle::Verdict;
use super::{password, redirect::safe_next, AuthService, SignedIn, SIGNED_IN_KEY};
use crate::db::admins::Admin;
use crate::db::audit::Event;
use app::model::admin::normalize_username;
use app::port::Actor;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

pub fn routes<S: Clone + Send + Sync + 'static>(auth: Arc<AuthService>) -> Router<S> {
    Router::new()
        .route("/auth/sign-in", post(sign_in))
        .route("/auth/sign-out", post(sign_out))
        .with_state(auth)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

fn back_to_sign_in(
    error: &str,
    username: &str,
    next: &str,
    extra: Option<(&str, String)>,
) -> Response {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("error", error);
    if !username.is_empty() {
        q.append_pair("username", &username.chars().take(64).collect::<String>());
    }
    q.append_pair("next", next);
    if let Some((k, v)) = extra {
        q.append_pair(k, &v);
    }
    Redirect::to(&format!("/sign-in?{}", q.finish())).into_response()
}

async fn sign_in(
    State(auth): State<Arc<AuthService>>,
    Extension(actor): Extension<Actor>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    let username = normalize_username(&form.username);
    let next = safe_next(form.next.as_deref());
    let now = auth.store.now();
    let audit = auth.store.audit();
    // What was typed is recorded only when it names an admin: the audit log
    // keeps everything forever, and a password pasted into the username field
    // must not be kept with it.
    let failed = |reason: &str, admin: Option<&Admin>| {
        let (id, label) = match admin {
            Some(a) => (a.id.as_str(), a.username.as_str()),
            None => ("", "(unknown username)"),
        };
        Event::new("admin.sign_in")
            .failed()
            .target("admin", id, label)
            .detail(reason.to_string())
    };
    if username.is_empty() || form.password.is_empty() {
        return back_to_sign_in("missing", &form.username, &next, None);
    }
    let ip = actor.ip.clone().unwrap_or_else(|| "unknown".into());
    let charge = match auth.throttle.attempt(&ip, &username).await {
        Ok(Verdict::Go(charge)) => charge,
        Ok(Verdict::Wait(wait)) => {
            let admin = auth
                .store
                .admins()
                .by_username(&username)
                .await
                .ok()
                .flatten();
            let event = failed("throttled", admin.as_ref());
            audit.record_best_effort(&actor, event).await;
            return back_to_sign_in(
                "throttled",
                &form.username,
                &next,
                Some(("retry", wait.to_string())),
            );
        }
        Err(e) => return unavailable(&form.username, &next, e),
    };
    let admin = match auth.store.admins().by_username(&username).await {
        Ok(a) => a,
        Err(e) => return unavailable(&form.username, &next, e),
    };
    let (phc, reason) = match &admin {
        Some(a) if a.enabled() => (Some(a.password_hash.clone()), "wrong password"),
        Some(_) => (None, "account disabled"),
        None => (None, "unknown username"),
    };
    // Unknown, disabled and wrong-password cases all pay one argon2 verification.
    let verified = match password::verify(&form.password, phc).await {
        Ok(v) => v,
        Err(e) => return unavailable(&form.username, &next, e),
    };
    let admin = match admin {
        Some(a) if verified.ok => a,
        other => {
            let event = failed(reason, other.as_ref());
            audit.record_best_effort(&actor, event).await;
            return back_to_sign_in("invalid", &form.username, &next, None);
        }
    };
    // The right password: this attempt does not count against the account.
    auth.throttle.succeeded(charge).await;
    if verified.needs_rehash {
        match password::hash(&form.password).await {
            Ok(h) => {
                if let Err(e) = auth.store.admins().upgrade_hash(&admin.id, &h).await {
                    tracing::warn!(error = %e, "cannot store the upgraded password hash");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot upgrade the password hash"),
        }
    }
    // A new session id at sign-in: an id planted before (session fixation) is worthless.
    if let Err(e) = session.cycle_id().await {
        return unavailable(&form.username, &next, e);
    }
    let signed_in = SignedIn {
        admin_id: admin.id.clone(),
        username: admin.username.clone(),
        signed_in_at: now.timestamp(),
        touched_at: now.timestamp(),
    };
    if let Err(e) = session.insert(SIGNED_IN_KEY, &signed_in).await {
        return unavailable(&form.username, &next, e);
    }
    if let Err(e) = auth.store.admins().record_sign_in(&admin.id).await {
        tracing::warn!(error = %e, "cannot record the sign-in time");
    }
    let actor = Actor {
        admin_id: Some(admin.id.clone()),
        username: admin.username.clone(),
        ..actor
    };
    audit
        .record_best_effort(
            &actor,
            Event::new("admin.sign_in").target("admin", &admin.id, &admin.username),
        )
        .await;
    Redirect::to(&next).into_response()
}

fn unavailable(username: &str, next: &str, e: impl std::fmt::Display) -> Response {
    let id = app::api::error_id();
    tracing::error!(error_id = %id, error = %e, "sign-in failed");
    back_to_sign_in("unavailable", username, next, Some(("ref", id)))
}

async fn sign_out(
    State(auth): State<Arc<AuthService>>,
    Extension(actor): Extension<Actor>,
    session: Session,
) -> Response {
    if let Some(admin_id) = &actor.admin_id {
        auth.store
            .audit()
            .record_best_effort(
                &actor,
                Event::new("admin.sign_out").target("admin", admin_id, &actor.username),
            )
            .await;
    }
    // Deletes the server-side row, so a copied cookie is dead too.
    if let Err(e) = session.flush().await {
        let id = app::api::error_id();
        tracing::error!(error_id = %id, error = %e, "sign-out could not end the session");
    }
    Redirect::to("/sign-in?signed_out=1").into_response()
}
