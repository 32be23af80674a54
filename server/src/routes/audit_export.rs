//! `GET /admin/audit/export.csv`: the audit log as CSV, with the same filters
//! as the Audit log screen, for a signed-in admin (the gate covers `/admin`).
//! Streamed a page at a time, so a long log never sits in memory whole.
//! Exporting is itself audited.
use crate::audit::{self, Event};
use crate::clock::Clock;
use app::model::admin::{AuditEntryView, AuditFilter};
use app::port::Actor;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::sync::Arc;

pub const PATH: &str = "/admin/audit/export.csv";
const PAGE: u64 = 1000;

#[derive(Clone)]
struct ExportState {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

pub fn routes<S: Clone + Send + Sync + 'static>(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
) -> Router<S> {
    Router::new()
        .route("/admin/audit/export.csv", get(export))
        .with_state(ExportState { db, clock })
}

/// The screen's filter fields as query parameters (all optional).
#[derive(Debug, Default, Deserialize)]
struct Params {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    failures_only: bool,
}

async fn export(
    State(state): State<ExportState>,
    Extension(actor): Extension<Actor>,
    Query(params): Query<Params>,
) -> Response {
    let filter = AuditFilter {
        action: params.action,
        actor: params.actor,
        text: params.text,
        failures_only: params.failures_only,
        before_id: None,
    };
    let now = state.clock.now();
    let event = Event::new("audit.exported").detail(describe(&filter));
    if let Err(e) = audit::record(&state.db, now, &actor, event).await {
        let id = app::api::error_id();
        tracing::error!(error_id = %id, error = %e, "audit export: record the export");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Something went wrong on the server (reference {id})."),
        )
            .into_response();
    }
    let pages = futures_util::stream::unfold(Some((state.db, filter, true)), |cursor| async move {
        let (db, mut filter, first) = cursor?;
        let mut out = Vec::new();
        if first {
            out.extend_from_slice(&row(&HEADER.map(String::from)));
        }
        match audit::list(&db, &filter, PAGE).await {
            Ok(page) => {
                for e in page.entries {
                    out.extend_from_slice(&row(&fields(e)));
                }
                let next = page.next_before_id.map(|before| {
                    filter.before_id = Some(before);
                    (db, filter, false)
                });
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(out)), next))
            }
            // Headers are gone by now: end the body with an error, so the
            // download fails visibly instead of looking complete.
            Err(e) => {
                let id = app::api::error_id();
                tracing::error!(error_id = %id, error = %e, "audit export: read a page");
                Some((Err(std::io::Error::other(format!("reference {id}"))), None))
            }
        }
    });
    let name = format!(
        "attachment; filename=\"tenant-mail-audit-{}.csv\"",
        now.format("%Y%m%d-%H%M%S")
    );
    let mut response = Body::from_stream(pages).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

const HEADER: [&str; 9] = [
    "id",
    "time_utc",
    "admin",
    "action",
    "outcome",
    "target",
    "detail",
    "address",
    "request_id",
];

fn fields(e: AuditEntryView) -> [String; 9] {
    [
        e.id.to_string(),
        e.at,
        e.actor,
        e.action,
        e.outcome,
        e.target.unwrap_or_default(),
        e.detail.unwrap_or_default(),
        e.ip.unwrap_or_default(),
        e.request_id.unwrap_or_default(),
    ]
}

/// One CSV record. A cell a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@`, tab, CR first) gets a leading `'`: targets and details hold
/// text that other people typed.
fn row(cells: &[String]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let safe = cells.iter().map(|c| {
        if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{c}")
        } else {
            c.clone()
        }
    });
    // Writing to a Vec cannot fail; an error would leave the row out.
    if writer.write_record(safe).is_err() {
        return Vec::new();
    }
    writer.into_inner().unwrap_or_default()
}

fn describe(f: &AuditFilter) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("action", &f.action),
        ("admin", &f.actor),
        ("text", &f.text),
    ] {
        if !value.trim().is_empty() {
            parts.push(format!("{name} {:?}", value.trim()));
        }
    }
    if f.failures_only {
        parts.push("failures only".into());
    }
    if parts.is_empty() {
        "everything".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quotes_escaped() {
        let line = row(&[
            "=HYPERLINK(\"http://x\")".into(),
            "-1".into(),
            "plain, with comma".into(),
            "@SUM(A1)".into(),
        ]);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"'=HYPERLINK(\"\"http://x\"\")\",'-1,\"plain, with comma\",'@SUM(A1)\n"
        );
    }

    #[test]
    fn the_filter_is_described_for_the_audit_entry() {
        assert_eq!(describe(&AuditFilter::default()), "everything");
        let f = AuditFilter {
            action: "admin.".into(),
            failures_only: true,
            ..AuditFilter::default()
        };
        assert_eq!(describe(&f), "action \"admin.\", failures only");
    }
}
