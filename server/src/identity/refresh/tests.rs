//! The refresh's decisions that need no Microsoft: what a refusal means, what
//! an admin reads about it, and when a cached token is still good.
use super::*;
use crate::db::connections::{Connect, NewConnection};
use crate::db::testing::{admin, mailbox, store};

#[test]
fn a_refusal_is_classified_by_its_oauth_error() {
    let status = |e: &str| refused(e, String::new()).0;
    for grant_gone in [
        "invalid_grant",
        "interaction_required",
        "consent_required",
        "login_required",
    ] {
        assert_eq!(status(grant_gone), ConnectionStatus::NeedsReauth);
    }
    for credentials in ["invalid_client", "unauthorized_client"] {
        assert_eq!(status(credentials), ConnectionStatus::CredentialsInvalid);
    }
    for other in ["invalid_request", "invalid_scope", "something_new"] {
        assert!(matches!(
            refused(other, "why".into()),
            (ConnectionStatus::Error, TokenError::Rejected(w)) if w == "why"
        ));
    }
}

#[test]
fn the_explanation_names_the_aadsts_code_and_what_to_do() {
    let expired = OAuthError {
        error: "invalid_client".into(),
        codes: vec![7000222],
        ..OAuthError::default()
    };
    let text = explain(&expired);
    assert!(text.contains("has expired"), "{text}");
    assert!(text.ends_with("(AADSTS7000222)"), "{text}");
    let unknown = OAuthError {
        error: "invalid_request".into(),
        ..OAuthError::default()
    };
    assert_eq!(explain(&unknown), "Microsoft answered invalid_request.");
}

#[tokio::test]
async fn a_cached_token_is_used_until_shortly_before_it_expires_and_not_by_the_keep_alive() {
    let (store, clock) = store().await;
    let email = mailbox(&store, "desk@contoso.com", "send").await;
    let now = store.now();
    let new = NewConnection {
        tenant_id: email.tenant_id.clone(),
        tenant_email_id: email.id.clone(),
        oid: "o1".into(),
        tid: "t1".into(),
        upn: "desk@contoso.com".into(),
        display_name: None,
        tenant_name: None,
        client_id: email.settings.application_id.clone(),
        authority: email.settings.authority().into(),
        token_endpoint: "/oauth2/v2.0/token".into(),
        scopes: "openid".into(),
        access_token: "cached".into(),
        refresh_token: "refresh".into(),
        expires_at: now + chrono::Duration::hours(1),
    };
    let stored = store
        .connections()
        .connect(&admin(), new, |_, _| Ok::<(), ()>(()))
        .await
        .unwrap();
    assert!(matches!(stored, Connect::Done { .. }));
    let config = crate::config::Config::load(crate::config::Cli::default()).unwrap();
    let identity = Identity::new(store.clone(), &config).unwrap();
    let c = store.connections().get(&email.id).await.unwrap().unwrap();
    let graph = identity.graph_target(&email.settings).unwrap();
    let cached = identity.usable(&c, None, &graph).map(|t| t.token);
    assert_eq!(cached.as_deref(), Some("cached"));
    // Connected just now: the keep-alive (unused since a cutoff in the past)
    // leaves it; a cutoff after the connection asks for a refresh.
    assert!(identity
        .usable(&c, Some(now - chrono::Duration::days(30)), &graph)
        .is_some());
    assert!(identity
        .usable(&c, Some(now + chrono::Duration::seconds(1)), &graph)
        .is_none());
    // Within the margin before expiry it is no longer good enough.
    clock.advance(chrono::Duration::seconds(3600 - REFRESH_MARGIN_SECONDS));
    assert!(identity.usable(&c, None, &graph).is_none());
}
