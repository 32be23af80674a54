//! Keep-alive: Microsoft ends a refresh token unused for 90 days, and with it
//! the connection. Every connection whose tokens were last obtained more
//! than `idle_days` ago is refreshed, so that never happens silently.
use crate::identity::Identity;
use std::sync::Arc;
use std::time::Duration;

/// One pass; returns (refreshed, failed).
pub async fn keep_alive(identity: &Identity, idle_days: i64) -> (usize, usize) {
    let cutoff = identity.store.now() - chrono::Duration::days(idle_days);
    let idle = match identity.store.connections().unused_since(cutoff).await {
        Ok(ids) => ids,
        Err(e) => {
            crate::reference::logged("keep-alive: list connections", e);
            return (0, 0);
        }
    };
    let (mut refreshed, mut failed) = (0, 0);
    for id in idle {
        match identity.refresh_if_unused_since(&id, cutoff).await {
            Ok(_) => refreshed += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(tenant_email_id = %id, error = %e, "keep-alive refresh failed");
            }
        }
    }
    if refreshed + failed > 0 {
        tracing::info!(
            refreshed,
            failed,
            idle_days,
            "keep-alive refreshed idle connections"
        );
    }
    (refreshed, failed)
}

/// Runs [`keep_alive`] every `every` (first run after one period).
pub fn spawn_keep_alive(
    identity: Arc<Identity>,
    every: Duration,
    idle_days: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            keep_alive(&identity, idle_days).await;
        }
    })
}
