//! Microsoft allows four concurrent Graph requests per app per mailbox. Every
//! Graph call for a mailbox (sending and receiving alike) first takes one of
//! its four slots. Within a process a semaphore does it; with PostgreSQL
//! (several instances) each slot is also a leased row, so the limit holds
//! across instances. A crashed holder's lease simply expires.
use crate::db::entities::graph_slot;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub const SLOTS_PER_MAILBOX: usize = 4;

pub struct MailboxSlots {
    local: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Set on PostgreSQL only: SQLite means one instance, so the semaphore suffices.
    shared: Option<DatabaseConnection>,
    /// Longer than the Graph client's total timeout, so a live holder never loses it.
    lease: chrono::Duration,
    clock: Arc<dyn crate::clock::Clock>,
}

/// A held slot. Give it back with [`Slot::release`]; dropping it frees the
/// local permit at once and the shared row when its lease runs out.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    shared: Option<(DatabaseConnection, String, i32, String)>,
}

impl Slot {
    pub async fn release(mut self) {
        if let Some((db, mailbox, slot, owner)) = self.shared.take() {
            let freed = graph_slot::Entity::update_many()
                .col_expr(
                    graph_slot::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    graph_slot::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(graph_slot::Column::TenantEmailId.eq(mailbox))
                .filter(graph_slot::Column::Slot.eq(slot))
                .filter(graph_slot::Column::LeaseOwner.eq(owner))
                .exec(&db)
                .await;
            if let Err(e) = freed {
                tracing::warn!(error = %e, "cannot release a Graph slot; it frees itself when its lease ends");
            }
        }
    }
}

impl MailboxSlots {
    pub fn new(db: &DatabaseConnection, clock: Arc<dyn crate::clock::Clock>) -> Self {
        let shared = (db.get_database_backend() == DbBackend::Postgres).then(|| db.clone());
        Self {
            local: Mutex::new(HashMap::new()),
            shared,
            lease: chrono::Duration::seconds(90),
            clock,
        }
    }

    fn semaphore(&self, mailbox: &str) -> Arc<Semaphore> {
        let mut map = self.local.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(mailbox.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(SLOTS_PER_MAILBOX)))
            .clone()
    }

    /// Runs one Graph request inside one of the mailbox's slots (the request
    /// future does nothing until it is awaited here, after the slot is held).
    pub async fn run<T>(
        &self,
        mailbox: &str,
        request: impl std::future::Future<Output = Result<T, crate::mail::graph::GraphError>>,
    ) -> Result<T, crate::mail::graph::GraphError> {
        let slot = self
            .acquire(mailbox)
            .await
            .map_err(|e| crate::mail::graph::GraphError::Internal(format!("slot: {e}")))?;
        let result = request.await;
        slot.release().await;
        result
    }

    /// Waits for one of the mailbox's slots.
    pub async fn acquire(&self, mailbox: &str) -> Result<Slot, DbErr> {
        let permit = self
            .semaphore(mailbox)
            .acquire_owned()
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let Some(db) = &self.shared else {
            return Ok(Slot {
                _permit: permit,
                shared: None,
            });
        };
        ensure_rows(db, mailbox).await?;
        // One owner per acquisition, so releasing can only free this slot.
        let owner = uuid::Uuid::new_v4().to_string();
        let mut wait = Duration::from_millis(5);
        loop {
            let now = self.clock.now();
            for slot in 0..SLOTS_PER_MAILBOX as i32 {
                // One conditional UPDATE per slot: PostgreSQL's row lock makes
                // exactly one contender win a free (or expired) slot.
                let won = graph_slot::Entity::update_many()
                    .col_expr(
                        graph_slot::Column::LeaseOwner,
                        Expr::value(Some(owner.clone())),
                    )
                    .col_expr(
                        graph_slot::Column::LeaseUntil,
                        Expr::value(Some(now + self.lease)),
                    )
                    .filter(graph_slot::Column::TenantEmailId.eq(mailbox))
                    .filter(graph_slot::Column::Slot.eq(slot))
                    .filter(
                        graph_slot::Column::LeaseUntil
                            .is_null()
                            .or(graph_slot::Column::LeaseUntil.lt(now)),
                    )
                    .exec(db)
                    .await?
                    .rows_affected
                    == 1;
                if won {
                    return Ok(Slot {
                        _permit: permit,
                        shared: Some((db.clone(), mailbox.to_string(), slot, owner.clone())),
                    });
                }
            }
            // All four are busy in other instances: back off a little.
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(200));
        }
    }
}

async fn ensure_rows(db: &DatabaseConnection, mailbox: &str) -> Result<(), DbErr> {
    let rows = (0..SLOTS_PER_MAILBOX as i32).map(|slot| graph_slot::ActiveModel {
        tenant_email_id: Set(mailbox.to_string()),
        slot: Set(slot),
        lease_owner: Set(None),
        lease_until: Set(None),
    });
    graph_slot::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([graph_slot::Column::TenantEmailId, graph_slot::Column::Slot])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
