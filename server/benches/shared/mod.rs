//! What the outbox and inbox benches share: which database and how many
//! instances (`make bench-db` sets both).
#[path = "../../tests/support/mod.rs"]
pub mod support;

/// The database the bench runs on: SQLite unless `BENCH_DATABASE=postgres`.
pub async fn bench_db() -> support::TestDb {
    match std::env::var("BENCH_DATABASE").as_deref() {
        Ok("postgres") => support::postgres()
            .await
            .expect("BENCH_DATABASE=postgres needs the PostgreSQL of .ci/postgres.sh"),
        _ => support::sqlite().await,
    }
}

/// Outbox workers or inbox syncs run at once (`BENCH_INSTANCES`, default 1).
#[allow(dead_code)] // the large-attachment bench runs one sync
pub fn instances() -> usize {
    std::env::var("BENCH_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}
