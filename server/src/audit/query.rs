//! Reading the audit log for the Audit log screen: newest first, filtered,
//! paged by id (stable while new events arrive).
use crate::db::entities::audit_event;
use app::model::admin::{AuditEntryView, AuditFilter, AuditPage};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// `%` and `_` typed by the admin are literal, not wildcards.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn list<C: sea_orm::ConnectionTrait>(
    conn: &C,
    filter: &AuditFilter,
    limit: u64,
) -> Result<AuditPage, DbErr> {
    let mut cond = Condition::all();
    let action = filter.action.trim();
    if !action.is_empty() {
        cond = cond.add(
            Expr::col(audit_event::Column::Action)
                .like(LikeExpr::new(format!("{}%", like_literal(action))).escape('\\')),
        );
    }
    let actor = filter.actor.trim();
    if !actor.is_empty() {
        cond = cond.add(audit_event::Column::Actor.eq(actor.to_lowercase()));
    }
    let text = filter.text.trim().to_lowercase();
    if !text.is_empty() {
        let pattern = format!("%{}%", like_literal(&text));
        cond = cond.add(
            Condition::any()
                .add(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                        audit_event::Column::TargetLabel,
                    )))
                    .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                        audit_event::Column::Detail,
                    )))
                    .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if filter.failures_only {
        cond = cond.add(audit_event::Column::Outcome.eq("failure"));
    }
    if let Some(before) = filter.before_id {
        cond = cond.add(audit_event::Column::Id.lt(before));
    }
    // One extra row tells whether an older page exists.
    let mut rows = audit_event::Entity::find()
        .filter(cond)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_before_id = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(AuditPage {
        entries: rows.into_iter().map(view).collect(),
        next_before_id,
    })
}

fn view(r: audit_event::Model) -> AuditEntryView {
    // A target whose name was unknown when recorded is shown by its id.
    let label = r.target_label.filter(|l| !l.is_empty()).or(r.target_id);
    let target = match (r.target_type, label) {
        (Some(kind), Some(label)) => Some(format!("{kind}: {label}")),
        (Some(kind), None) => Some(kind),
        (None, label) => label,
    };
    AuditEntryView {
        id: r.id,
        at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        actor: r.actor,
        request_id: r.request_id,
        ip: r.ip,
        action: r.action,
        outcome: r.outcome,
        target,
        detail: r.detail,
    }
}
