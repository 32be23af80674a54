//! Mail through Microsoft Graph: the Graph client (one attempt per call; the
//! callers decide about retries), the outbox (sending) and the per-mailbox
//! request slots shared by everything that calls Graph for a mailbox.
pub mod graph;
pub mod inbox;
pub mod outbox;
pub mod slots;

/// Waits for every task of a round and collects their outcomes. A task that
/// panicked is logged and left out: its lease runs out and a later round
/// takes its work up again.
pub(crate) async fn outcomes<T: 'static>(
    mut tasks: tokio::task::JoinSet<T>,
    what: &'static str,
) -> Vec<T> {
    let mut outcomes = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(o) => outcomes.push(o),
            Err(e) => tracing::error!(error = %e, "{what} task panicked"),
        }
    }
    outcomes
}
