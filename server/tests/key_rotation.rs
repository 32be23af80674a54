//! `tenant-mail key rotate`, run as the real binary on SQLite and PostgreSQL:
//! every sealed value (client secret, tokens, PKCE verifiers) moves to a new
//! key, the new key becomes the key file and the old one is kept beside it;
//! a rotation killed half-way keeps the server from starting on the mixed
//! database and finishes when run again.
mod support;

use sea_orm::{DatabaseConnection, EntityTrait};
use server::clock::SystemClock;
use server::db::entities::{mailbox_connection, oauth_flow, tenant_email};
use server::db::Store;
use server::secrets::{rotation, KeyRing};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::process::{self, Server};
use support::Mailbox;

const SECRET: &str = "client secret before the rotation";
const NEXT: &str = "the next client secret";

/// Every sealed value stored, whatever its column.
async fn sealed_values(db: &DatabaseConnection) -> Vec<String> {
    let mut all = Vec::new();
    for e in tenant_email::Entity::find().all(db).await.unwrap() {
        all.extend(e.client_secret);
        all.extend(e.next_client_secret);
    }
    for c in mailbox_connection::Entity::find().all(db).await.unwrap() {
        all.push(c.refresh_token);
        all.extend(c.access_token);
    }
    for f in oauth_flow::Entity::find().all(db).await.unwrap() {
        all.push(f.pkce_verifier);
    }
    all
}

fn key_id_of(sealed: &str) -> &str {
    sealed.split('.').nth(1).unwrap_or_default()
}

fn key(path: &Path) -> KeyRing {
    KeyRing::load_or_create(path, false).unwrap().0
}

/// The refresh token as a store with `keys` opens it.
async fn refresh_token(m: &Mailbox, keys: KeyRing) -> String {
    let store = Store::open(&m.t.config, Arc::new(keys), Arc::new(SystemClock))
        .await
        .unwrap();
    let next = store
        .tenant_emails()
        .next_client_secret(&m.email_id)
        .await
        .unwrap();
    assert_eq!(
        store.tenant_emails().verify_sealed_secrets().await.unwrap(),
        1 + usize::from(next.is_some()),
        "the client secret (and the next one) open"
    );
    if let Some(next) = next {
        assert_eq!(next.plain.as_str(), NEXT);
    }
    let c = store.connections().get(&m.email_id).await.unwrap().unwrap();
    store.connections().refresh_token(&c).unwrap()
}

#[tokio::test]
async fn a_rotation_reseals_everything_and_keeps_the_old_key_for_backups() {
    for t in support::all().await {
        let m = Mailbox::connected(t, SECRET).await;
        let label = m.label;
        let system = server::db::audit::system();
        let emails = m.p.store.tenant_emails();
        let version = emails.get(&m.email_id).await.unwrap().unwrap().version;
        emails
            .set_next_secret(&system, &m.tenant_id, &m.email_id, version, NEXT, None)
            .await
            .unwrap();
        let key_file = m.t.config.key_file.clone();
        let old_text = std::fs::read_to_string(&key_file).unwrap();
        let old = key(&key_file);
        let old_id = old.key_id().to_string();
        let token = refresh_token(&m, old).await;
        let before = sealed_values(&m.p.db).await;
        // The secret, the next one, both tokens and the consumed flow's verifier.
        assert!(before.len() >= 5, "{label}: {before:?}");
        assert!(before.iter().all(|s| key_id_of(s) == old_id), "{label}");

        let (ok, out, err) = process::run(&m.t, &["key", "rotate"], &[]);
        assert!(ok, "{label}: {out}{err}");
        assert!(
            out.contains("Re-sealed 2 client secrets, 2 tokens"),
            "{label}: {out}"
        );
        let new = key(&key_file);
        assert_ne!(new.key_id(), old_id, "{label}");
        assert!(!rotation::next_path(&key_file).exists(), "{label}");
        let retired = rotation::retired_path(&key_file, &old_id);
        assert_eq!(
            std::fs::read_to_string(&retired).unwrap(),
            old_text,
            "{label}"
        );
        assert!(
            out.contains(&retired.display().to_string()),
            "{label}: {out}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&retired).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{label}: the old key stays private");
        }
        let after = sealed_values(&m.p.db).await;
        assert_eq!(after.len(), before.len(), "{label}: nothing lost");
        assert!(
            after.iter().all(|s| key_id_of(s) == new.key_id()),
            "{label}"
        );
        // The same secrets, now opened with the new key only.
        assert_eq!(refresh_token(&m, new).await, token, "{label}");
        // And the server starts with the new key file.
        let server = Server::start(&m.t, &[]);
        server
            .wait_for_log(
                "stored secrets open with the configured key",
                Duration::from_secs(60),
            )
            .await;
    }
}

#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the crash points: cargo test -p server --features failpoints (make test does)"
)]
#[tokio::test]
async fn an_interrupted_rotation_blocks_start_up_and_finishes_when_run_again() {
    for t in support::all().await {
        let m = Mailbox::connected(t, SECRET).await;
        let label = m.label;
        let key_file = m.t.config.key_file.clone();
        let old = key(&key_file);
        let old_id = old.key_id().to_string();
        let token = refresh_token(&m, old).await;
        // Killed right after the first value was re-sealed.
        let crashed = Server::spawn(
            &m.t,
            &["key", "rotate"],
            &[("FAILPOINTS", "rekey::after_one=return")],
        );
        crashed
            .wait_for_log("stopped at a failpoint", Duration::from_secs(60))
            .await;
        crashed.kill9();
        let next = key(&rotation::next_path(&key_file));
        let next_id = next.key_id().to_string();
        let mixed = sealed_values(&m.p.db).await;
        assert!(mixed.iter().any(|s| key_id_of(s) == next_id), "{label}");
        assert!(mixed.iter().any(|s| key_id_of(s) == old_id), "{label}");
        assert_eq!(
            key(&key_file).key_id(),
            old_id,
            "{label}: the key file is untouched"
        );

        // The server will not start on a half-rotated database...
        let (ok, out, err) = process::run(&m.t, &[], &[]);
        assert!(!ok, "{label}: {out}");
        assert!(
            err.contains("key rotation was started and not finished"),
            "{label}: {err}"
        );
        // ...and running the rotation again finishes the same one.
        let (ok, out, err) = process::run(&m.t, &["key", "rotate"], &[]);
        assert!(ok, "{label}: {out}{err}");
        assert!(err.contains("Resuming the rotation"), "{label}: {err}");
        assert_eq!(key(&key_file).key_id(), next_id, "{label}");
        let after = sealed_values(&m.p.db).await;
        assert_eq!(after.len(), mixed.len(), "{label}");
        assert!(after.iter().all(|s| key_id_of(s) == next_id), "{label}");
        assert_eq!(refresh_token(&m, next).await, token, "{label}");
    }
}
