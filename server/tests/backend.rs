//! The backend against real databases: SQLite always, PostgreSQL under make test.
mod support;

use app::model::{ConnectionStatus, TenantEmailInput};
use app::port::PortError;
use sea_orm::{ConnectionTrait, DbBackend as Dialect, Statement};
use server::startup::prepare;

const SECRET: &str = "Xy7~Q8abcDEFghiJKLmnoPQRstuVWX0123456789";

fn input(address: &str, secret: &str) -> TenantEmailInput {
    support::email_input(address, &TenantEmailInput::defaults().authority_url, secret)
}

#[tokio::test]
async fn crud_on_every_database() {
    for t in support::all().await {
        let p = prepare(&t.config, support::leptos_options())
            .await
            .expect("prepare");
        let b = &p.backend;
        let tenant = b.create_tenant(&support::actor(), "Contoso").await.unwrap();
        assert_eq!(tenant.email_count, 0, "{}", t.label);
        let email = b
            .create_tenant_email(
                &support::actor(),
                &tenant.id,
                &input("Help@Contoso.com", SECRET),
            )
            .await
            .unwrap();
        assert_eq!(email.values.address, "Help@Contoso.com");
        assert_eq!(
            email.values.client_secret, "",
            "secret must never come back ({})",
            t.label
        );
        assert!(email.secret_set_at.is_some());
        assert_eq!(email.status, ConnectionStatus::NotAuthenticated);
        let list = b.list_tenants().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].email_count, 1);
        assert_eq!(
            list[0].worst_status,
            Some(ConnectionStatus::NotAuthenticated)
        );

        let mut changed = input("help@contoso.com", "");
        changed.direction = "send".into();
        changed.secret_expires_on = "2027-03-31".into();
        let updated = b
            .update_tenant_email(
                &support::actor(),
                &tenant.id,
                &email.id,
                email.version,
                &changed,
            )
            .await
            .unwrap();
        assert_eq!(updated.version, email.version + 1);
        assert_eq!(updated.values.direction, "send");
        assert_eq!(updated.values.secret_expires_on, "2027-03-31");
        let detail = b.get_tenant(&tenant.id).await.unwrap();
        assert_eq!(detail.emails.len(), 1);

        // Wrong tenant for an existing email is "not found", not a leak.
        let other = b
            .create_tenant(&support::actor(), "Fabrikam")
            .await
            .unwrap();
        assert!(matches!(
            b.get_tenant_email(&other.id, &email.id).await,
            Err(PortError::NotFound(_))
        ));

        b.delete_tenant_email(&support::actor(), &tenant.id, &email.id)
            .await
            .unwrap();
        assert!(matches!(
            b.delete_tenant_email(&support::actor(), &tenant.id, &email.id)
                .await,
            Err(PortError::NotFound(_))
        ));
        b.create_tenant_email(
            &support::actor(),
            &tenant.id,
            &input("again@contoso.com", SECRET),
        )
        .await
        .unwrap();
        // Deleting a tenant removes its emails (foreign key cascade on both databases).
        b.delete_tenant(&support::actor(), &tenant.id)
            .await
            .unwrap();
        let remaining: Vec<_> =
            p.db.query_all_raw(Statement::from_string(
                p.db.get_database_backend(),
                "SELECT id FROM tenant_email",
            ))
            .await
            .unwrap();
        assert!(remaining.is_empty(), "cascade failed on {}", t.label);
        assert!(matches!(
            b.get_tenant(&tenant.id).await,
            Err(PortError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn address_is_unique_per_tenant_ignoring_case() {
    for t in support::all().await {
        let p = prepare(&t.config, support::leptos_options()).await.unwrap();
        let b = &p.backend;
        let a = b.create_tenant(&support::actor(), "A").await.unwrap();
        let other = b.create_tenant(&support::actor(), "B").await.unwrap();
        let first = b
            .create_tenant_email(&support::actor(), &a.id, &input("desk@contoso.com", SECRET))
            .await
            .unwrap();
        let dup = b
            .create_tenant_email(&support::actor(), &a.id, &input("DESK@Contoso.COM", SECRET))
            .await;
        match dup {
            Err(PortError::Duplicate { field, .. }) => assert_eq!(field, "address", "{}", t.label),
            other => panic!("expected duplicate on {}: {other:?}", t.label),
        }
        // The same mailbox in another tenant is fine.
        b.create_tenant_email(
            &support::actor(),
            &other.id,
            &input("desk@contoso.com", SECRET),
        )
        .await
        .unwrap();
        // Renaming a second email onto the first one's address is refused too.
        let second = b
            .create_tenant_email(
                &support::actor(),
                &a.id,
                &input("other@contoso.com", SECRET),
            )
            .await
            .unwrap();
        let clash = b
            .update_tenant_email(
                &support::actor(),
                &a.id,
                &second.id,
                second.version,
                &input("Desk@contoso.com", ""),
            )
            .await;
        assert!(
            matches!(clash, Err(PortError::Duplicate { .. })),
            "{}: {clash:?}",
            t.label
        );
        assert_eq!(
            b.get_tenant_email(&a.id, &first.id)
                .await
                .unwrap()
                .values
                .address,
            "desk@contoso.com"
        );
    }
}

#[tokio::test]
async fn stale_version_is_a_conflict_and_loses_nothing() {
    for t in support::all().await {
        let p = prepare(&t.config, support::leptos_options()).await.unwrap();
        let b = &p.backend;
        let tenant = b.create_tenant(&support::actor(), "A").await.unwrap();
        let e = b
            .create_tenant_email(
                &support::actor(),
                &tenant.id,
                &input("desk@contoso.com", SECRET),
            )
            .await
            .unwrap();
        let mut alice = input("desk@contoso.com", "");
        alice.scopes = "openid offline_access mail.send mail.read".into();
        b.update_tenant_email(&support::actor(), &tenant.id, &e.id, e.version, &alice)
            .await
            .unwrap();
        let mut bob = input("desk@contoso.com", "");
        bob.direction = "receive".into();
        let stale = b
            .update_tenant_email(&support::actor(), &tenant.id, &e.id, e.version, &bob)
            .await;
        assert!(
            matches!(stale, Err(PortError::Conflict(_))),
            "{}: {stale:?}",
            t.label
        );
        let now = b.get_tenant_email(&tenant.id, &e.id).await.unwrap();
        assert_eq!(
            now.values.scopes, alice.scopes,
            "Alice's save survives on {}",
            t.label
        );
        let gone = b
            .update_tenant_email(
                &support::actor(),
                &tenant.id,
                "00000000-0000-4000-8000-000000000000",
                1,
                &bob,
            )
            .await;
        assert!(matches!(gone, Err(PortError::NotFound(_))));
        let renamed = b
            .rename_tenant(&support::actor(), &tenant.id, 1, "A2")
            .await
            .unwrap();
        assert_eq!(renamed.version, 2);
        assert!(matches!(
            b.rename_tenant(&support::actor(), &tenant.id, 1, "A3")
                .await,
            Err(PortError::Conflict(_))
        ));
    }
}

#[tokio::test]
async fn secret_round_trip_keep_and_replace() {
    for t in support::all().await {
        let p = prepare(&t.config, support::leptos_options()).await.unwrap();
        let b = &p.backend;
        let tenant = b.create_tenant(&support::actor(), "A").await.unwrap();
        let e = b
            .create_tenant_email(
                &support::actor(),
                &tenant.id,
                &input("desk@contoso.com", SECRET),
            )
            .await
            .unwrap();
        assert_eq!(
            p.store
                .tenant_emails()
                .client_secret(&e.id)
                .await
                .unwrap()
                .as_deref(),
            Some(SECRET)
        );
        // Empty secret on save = unchanged.
        let kept = b
            .update_tenant_email(
                &support::actor(),
                &tenant.id,
                &e.id,
                e.version,
                &input("desk@contoso.com", ""),
            )
            .await
            .unwrap();
        assert_eq!(
            p.store
                .tenant_emails()
                .client_secret(&e.id)
                .await
                .unwrap()
                .as_deref(),
            Some(SECRET),
            "{}",
            t.label
        );
        assert_eq!(kept.secret_set_at, e.secret_set_at);
        let replaced = b
            .update_tenant_email(
                &support::actor(),
                &tenant.id,
                &e.id,
                kept.version,
                &input("desk@contoso.com", "new~secret~value"),
            )
            .await
            .unwrap();
        assert_eq!(
            p.store
                .tenant_emails()
                .client_secret(&e.id)
                .await
                .unwrap()
                .as_deref(),
            Some("new~secret~value")
        );
        assert!(replaced.secret_set_at.is_some());
    }
}

#[tokio::test]
async fn ciphertext_moved_to_another_row_does_not_open() {
    for t in support::all().await {
        let p = prepare(&t.config, support::leptos_options()).await.unwrap();
        let b = &p.backend;
        let tenant = b.create_tenant(&support::actor(), "A").await.unwrap();
        let a = b
            .create_tenant_email(
                &support::actor(),
                &tenant.id,
                &input("a@contoso.com", SECRET),
            )
            .await
            .unwrap();
        let victim = b
            .create_tenant_email(
                &support::actor(),
                &tenant.id,
                &input("b@contoso.com", "other~secret"),
            )
            .await
            .unwrap();
        let dialect = p.db.get_database_backend();
        let sql = match dialect {
            Dialect::Postgres => "UPDATE tenant_email SET client_secret = (SELECT client_secret FROM tenant_email WHERE id = $1) WHERE id = $2",
            _ => "UPDATE tenant_email SET client_secret = (SELECT client_secret FROM tenant_email WHERE id = ?) WHERE id = ?",
        };
        p.db.execute_raw(Statement::from_sql_and_values(
            dialect,
            sql,
            [a.id.clone().into(), victim.id.clone().into()],
        ))
        .await
        .unwrap();
        assert!(
            p.store
                .tenant_emails()
                .client_secret(&victim.id)
                .await
                .is_err(),
            "moved ciphertext opened on {}",
            t.label
        );
        let err = p
            .store
            .tenant_emails()
            .verify_sealed_secrets()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(&victim.id), "{err}");
        // And start-up refuses to run on such a database.
        drop(p);
        let again = prepare(&t.config, support::leptos_options()).await;
        assert!(again.is_err(), "start-up must fail on {}", t.label);
    }
}

#[tokio::test]
async fn wrong_key_stops_start_up_with_a_clear_message() {
    for t in support::all().await {
        {
            let p = prepare(&t.config, support::leptos_options()).await.unwrap();
            let tenant = p
                .backend
                .create_tenant(&support::actor(), "A")
                .await
                .unwrap();
            p.backend
                .create_tenant_email(
                    &support::actor(),
                    &tenant.id,
                    &input("a@contoso.com", SECRET),
                )
                .await
                .unwrap();
        }
        std::fs::write(
            &t.config.key_file,
            "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY=\n",
        )
        .unwrap();
        let err = match prepare(&t.config, support::leptos_options()).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("start-up with the wrong key succeeded on {}", t.label),
        };
        assert!(
            err.contains("cannot decrypt") && err.contains("secret.key"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn plaintext_secret_is_not_in_the_database_files_or_dump() {
    for t in support::all().await {
        let p = prepare(&t.config, support::leptos_options()).await.unwrap();
        let tenant = p
            .backend
            .create_tenant(&support::actor(), "A")
            .await
            .unwrap();
        p.backend
            .create_tenant_email(
                &support::actor(),
                &tenant.id,
                &input("canary@contoso.com", SECRET),
            )
            .await
            .unwrap();
        let mut haystack = Vec::new();
        match &t.pg_database {
            None => {
                p.db.close().await.ok();
                for entry in std::fs::read_dir(t.dir.path()).unwrap() {
                    let path = entry.unwrap().path();
                    if path.to_string_lossy().contains("test.db") {
                        haystack.extend(std::fs::read(&path).unwrap());
                    }
                }
            }
            Some(_) => {
                let pg_dump =
                    std::env::var("TENANT_MAIL_TEST_PG_DUMP").unwrap_or_else(|_| "pg_dump".into());
                let out = std::process::Command::new(pg_dump)
                    .arg("--dbname")
                    .arg(&t.config.database_url)
                    .output()
                    .expect("run pg_dump");
                assert!(
                    out.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                haystack = out.stdout;
            }
        }
        let text = String::from_utf8_lossy(&haystack);
        assert!(
            text.contains("canary@contoso.com"),
            "the dump/file must hold the row at all ({})",
            t.label
        );
        assert!(
            !text.contains(SECRET),
            "plaintext secret found in {} storage",
            t.label
        );
    }
}
