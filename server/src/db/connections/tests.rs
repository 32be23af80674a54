//! The storage side of the connection's life on an in-memory SQLite
//! database: storing a sign-in (guarded), the refresh lease, rotated tokens,
//! problems and the status changes they cause — each audited once.
use super::{Connect, NewConnection, Refreshed};
use crate::db::audit::system;
use crate::db::entities::audit_event;
use crate::db::tenant_emails::TenantEmail;
use crate::db::testing::{admin, mailbox, store};
use crate::db::Store;
use app::model::ConnectionStatus;
use chrono::Duration;
use sea_orm::{EntityTrait, QueryOrder};

fn sign_in(email: &TenantEmail, oid: &str, now: chrono::DateTime<chrono::Utc>) -> NewConnection {
    NewConnection {
        tenant_id: email.tenant_id.clone(),
        tenant_email_id: email.id.clone(),
        oid: oid.into(),
        tid: "t1".into(),
        upn: email.address().into(),
        display_name: Some("Desk".into()),
        tenant_name: Some("Contoso".into()),
        client_id: email.settings.application_id.clone(),
        authority: email.settings.authority().into(),
        token_endpoint: "/oauth2/v2.0/token".into(),
        scopes: "openid offline_access mail.send".into(),
        access_token: format!("access of {oid}"),
        refresh_token: format!("refresh of {oid}"),
        expires_at: now + Duration::hours(1),
    }
}

/// (actor, detail) of every connection status change, oldest first.
async fn status_log(store: &Store) -> Vec<(String, String)> {
    audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Id)
        .all(&store.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "connection.status_changed")
        .map(|e| (e.actor, e.detail.unwrap_or_default()))
        .collect()
}

async fn status(store: &Store, id: &str) -> ConnectionStatus {
    store.tenant_emails().get(id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn a_refused_sign_in_writes_nothing_and_an_accepted_one_connects() {
    let (store, _) = store().await;
    let email = mailbox(&store, "desk@contoso.com", "send").await;
    let refused = store
        .connections()
        .connect(&admin(), sign_in(&email, "o1", store.now()), |_, _| {
            Err("wrong account")
        })
        .await
        .unwrap();
    assert!(matches!(refused, Connect::Refused("wrong account")));
    assert!(store.connections().get(&email.id).await.unwrap().is_none());
    assert_eq!(
        status(&store, &email.id).await,
        ConnectionStatus::NotAuthenticated
    );

    let done = store
        .connections()
        .connect(
            &admin(),
            sign_in(&email, "o1", store.now()),
            |seen, pinned| {
                assert_eq!(seen.address(), "desk@contoso.com");
                assert!(pinned.is_none(), "first connection");
                Ok::<(), ()>(())
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        done,
        Connect::Done {
            reauthenticated: false,
            released: 0
        }
    ));
    assert_eq!(status(&store, &email.id).await, ConnectionStatus::Connected);
    let c = store.connections().get(&email.id).await.unwrap().unwrap();
    assert_eq!(
        store.connections().access_token(&c).as_deref(),
        Some("access of o1")
    );
    assert_eq!(
        store.connections().refresh_token(&c).unwrap(),
        "refresh of o1"
    );
    assert_eq!(c.tenant_name.as_deref(), Some("Contoso"));
    // The guard sees who is pinned on re-authentication.
    let again = store
        .connections()
        .connect(&admin(), sign_in(&email, "o2", store.now()), |_, pinned| {
            assert_eq!(pinned.map(|p| p.oid.as_str()), Some("o1"));
            assert_eq!(
                pinned.map(|p| p.authority.clone()),
                Some(email.settings.authority().to_string()),
                "with the authority it was made under"
            );
            Err("different account")
        })
        .await
        .unwrap();
    assert!(matches!(again, Connect::Refused(_)));
    let other_tenant = NewConnection {
        tenant_id: "another tenant".into(),
        ..sign_in(&email, "o1", store.now())
    };
    let missing = store
        .connections()
        .connect(&admin(), other_tenant, |_, _| Ok::<(), ()>(()))
        .await
        .unwrap();
    assert!(matches!(missing, Connect::Missing));
    assert_eq!(
        status_log(&store).await,
        vec![(
            "tester".to_string(),
            "now Connected: signed in as desk@contoso.com".to_string()
        )]
    );
}

#[tokio::test]
async fn one_refresh_at_a_time_rotated_tokens_kept_and_a_working_refresh_heals() {
    let (store, clock) = store().await;
    let email = mailbox(&store, "desk@contoso.com", "send").await;
    let connections = store.connections();
    connections
        .connect(&admin(), sign_in(&email, "o1", store.now()), |_, _| {
            Ok::<(), ()>(())
        })
        .await
        .unwrap();
    let seen = connections.get(&email.id).await.unwrap().unwrap();
    let until = store.now() + Duration::minutes(5);
    assert!(connections.claim_refresh(&seen, "r1", until).await.unwrap());
    assert!(
        !connections.claim_refresh(&seen, "r2", until).await.unwrap(),
        "leased"
    );

    // The secret was wrong meanwhile: credentials invalid, once in the log.
    for _ in 0..2 {
        connections
            .record_problem(
                &email.id,
                Some(ConnectionStatus::CredentialsInvalid),
                Some("AADSTS7000215"),
                Some("r2"),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        status(&store, &email.id).await,
        ConnectionStatus::CredentialsInvalid
    );
    assert!(
        !connections.claim_refresh(&seen, "r3", until).await.unwrap(),
        "r2 never held it"
    );

    let tokens = Refreshed {
        access_token: "access 2",
        refresh_token: Some("refresh 2"),
        expires_at: store.now() + Duration::hours(1),
    };
    assert!(connections
        .save_refreshed(&seen, "r1", tokens)
        .await
        .unwrap());
    let now = connections.get(&email.id).await.unwrap().unwrap();
    assert_eq!(connections.refresh_token(&now).unwrap(), "refresh 2");
    assert_eq!(now.last_error, None);
    assert_eq!(now.last_refresh_at, Some(store.now()));
    assert_eq!(status(&store, &email.id).await, ConnectionStatus::Connected);
    // A copy read before that refresh cannot claim again (its version is old),
    // and a refresh without a new refresh token keeps the stored one.
    clock.advance(Duration::minutes(1));
    assert!(!connections.claim_refresh(&seen, "r4", until).await.unwrap());
    assert!(connections.claim_refresh(&now, "r4", until).await.unwrap());
    let lost = Refreshed {
        access_token: "access 3",
        refresh_token: None,
        expires_at: store.now() + Duration::hours(1),
    };
    assert!(
        !connections.save_refreshed(&now, "r5", lost).await.unwrap(),
        "not the holder"
    );
    let kept = Refreshed {
        access_token: "access 3",
        refresh_token: None,
        expires_at: store.now() + Duration::hours(1),
    };
    assert!(connections.save_refreshed(&now, "r4", kept).await.unwrap());
    let last = connections.get(&email.id).await.unwrap().unwrap();
    assert_eq!(connections.refresh_token(&last).unwrap(), "refresh 2");
    assert_eq!(connections.access_token(&last).as_deref(), Some("access 3"));
    assert_eq!(
        status_log(&store).await[1..],
        [
            (
                "system".to_string(),
                "now Credentials invalid: AADSTS7000215".to_string()
            ),
            (
                "system".to_string(),
                "now Connected: a token refresh worked again".to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn a_lost_grant_is_not_healed_by_a_refresh_and_transient_problems_keep_the_status() {
    let (store, _) = store().await;
    let email = mailbox(&store, "desk@contoso.com", "send").await;
    let connections = store.connections();
    connections
        .connect(&admin(), sign_in(&email, "o1", store.now()), |_, _| {
            Ok::<(), ()>(())
        })
        .await
        .unwrap();
    connections
        .record_problem(&email.id, None, Some("Microsoft was unavailable"), None)
        .await
        .unwrap();
    assert_eq!(status(&store, &email.id).await, ConnectionStatus::Connected);
    let c = connections.get(&email.id).await.unwrap().unwrap();
    assert_eq!(c.last_error.as_deref(), Some("Microsoft was unavailable"));
    assert_eq!(c.last_error_at, Some(store.now()));
    connections
        .record_problem(
            &email.id,
            Some(ConnectionStatus::NeedsReauth),
            Some("AADSTS70008"),
            None,
        )
        .await
        .unwrap();
    // Only Credentials invalid and Error heal by themselves.
    let until = store.now() + Duration::minutes(5);
    assert!(connections.claim_refresh(&c, "r", until).await.unwrap());
    let tokens = Refreshed {
        access_token: "a",
        refresh_token: None,
        expires_at: until,
    };
    assert!(connections.save_refreshed(&c, "r", tokens).await.unwrap());
    assert_eq!(
        status(&store, &email.id).await,
        ConnectionStatus::NeedsReauth
    );
    let (c, e) = connections.snapshot(&email.id).await.unwrap().unwrap();
    assert_eq!(e.status, ConnectionStatus::NeedsReauth);
    assert!(!c.made_for_other(&e.settings));
    let log = status_log(&store).await;
    assert_eq!(
        log.last().map(|(who, _)| who.clone()),
        Some(system().username)
    );
    assert_eq!(log.len(), 2, "{log:?}");
}
