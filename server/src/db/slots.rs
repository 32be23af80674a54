//! `graph_slot`: a mailbox's four Graph request slots as leased rows, so the
//! limit holds across instances sharing PostgreSQL (`mail::slots` adds the
//! in-process semaphore). A crashed holder's lease simply expires.
use super::entities::graph_slot;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

pub struct Slots<'a>(&'a Store);

impl Store {
    pub fn slots(&self) -> Slots<'_> {
        Slots(self)
    }
}

impl Slots<'_> {
    /// Makes sure the mailbox's `count` slot rows exist.
    pub async fn ensure(&self, mailbox: &str, count: usize) -> Result<(), StoreError> {
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        let rows = (0..count).map(|slot| graph_slot::ActiveModel {
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
            .exec_without_returning(&self.0.conn)
            .await?;
        Ok(())
    }

    /// Tries each of the mailbox's `count` slots once; the first free (or
    /// expired) one is leased to `owner` until now + `lease` and returned.
    pub async fn try_acquire(
        &self,
        mailbox: &str,
        count: usize,
        owner: &str,
        lease: chrono::Duration,
    ) -> Result<Option<i32>, StoreError> {
        let db = &self.0.conn;
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        let now = self.0.now();
        for slot in 0..count {
            // One conditional UPDATE per slot: PostgreSQL's row lock makes
            // exactly one contender win a free (or expired) slot.
            let won = graph_slot::Entity::update_many()
                .col_expr(
                    graph_slot::Column::LeaseOwner,
                    Expr::value(Some(owner.to_string())),
                )
                .col_expr(
                    graph_slot::Column::LeaseUntil,
                    Expr::value(Some(now + lease)),
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
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }

    /// Frees a slot `owner` holds (someone else's is left alone).
    pub async fn release(&self, mailbox: &str, slot: i32, owner: &str) -> Result<(), StoreError> {
        graph_slot::Entity::update_many()
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
            .exec(&self.0.conn)
            .await?;
        Ok(())
    }
}
