//! Test databases: a fresh SQLite file, and — when `TENANT_MAIL_TEST_POSTGRES_URL`
//! points at a server (make test starts one) — a fresh PostgreSQL database.
use sea_orm::{ConnectionTrait, Database};
use server::config::{Cli, Config};
use std::path::PathBuf;

pub struct TestDb {
    pub label: &'static str,
    pub config: Config,
    pub dir: tempfile::TempDir,
    /// For PostgreSQL: the database name (for pg_dump).
    pub pg_database: Option<String>,
}

impl TestDb {
    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("test.db")
    }
}

fn config(database_url: String, dir: &tempfile::TempDir) -> Config {
    Config::load(Cli {
        database_url: Some(database_url),
        key_file: Some(dir.path().join("secret.key")),
        public_url: Some("http://localhost:3000".into()),
        extra_authority_host: Some("127.0.0.1:5999".into()),
        ..Cli::default()
    })
    .expect("test config is valid")
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    TestDb {
        label: "sqlite",
        config: config(url, &dir),
        dir,
        pg_database: None,
    }
}

pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TENANT_MAIL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // make test sets REQUIRE so a missing server fails instead of silently skipping.
            assert!(
                std::env::var("TENANT_MAIL_REQUIRE_POSTGRES").is_err(),
                "TENANT_MAIL_REQUIRE_POSTGRES is set but TENANT_MAIL_TEST_POSTGRES_URL is not"
            );
            eprintln!("note: TENANT_MAIL_TEST_POSTGRES_URL unset; PostgreSQL variant skipped");
            None
        }
    }
}

pub async fn postgres() -> Option<TestDb> {
    let admin_url = postgres_admin_url()?;
    let name = format!("tm_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to test PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("url has a database part");
    let dir = tempfile::tempdir().expect("tempdir");
    // PostgreSQL never generates a key: several instances must share one.
    let key = dir.path().join("secret.key");
    std::fs::write(&key, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").expect("write key");
    private(&key);
    Some(TestDb {
        label: "postgres",
        config: config(format!("{base}/{name}"), &dir),
        dir,
        pg_database: Some(name),
    })
}

/// SQLite always, PostgreSQL when available.
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        dbs.push(pg);
    }
    dbs
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("tenant_mail")
        .build()
}

/// Tenant Mail started in-process on `t` (not serving yet).
pub async fn prepare(t: &TestDb) -> server::startup::Prepared {
    server::startup::prepare(&t.config, leptos_options())
        .await
        .expect("prepare")
}

/// Makes a file readable by its owner only (Tenant Mail refuses a shared key file).
pub fn private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}
