//! `GET /admin/audit/export.csv`: the audit log as CSV, with the same filters
//! as the Audit log screen, for a signed-in admin (the gate covers `/admin`).
//! Streamed a page at a time, so a long log never sits in memory whole.
//! Exporting is itself audited.
use crate::db::audit::Event;
use crate::db::Store;
use app::model::admin::{AuditEntryView, AuditFilter};
use app::port::Actor;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;

pub const PATH: &str = "/admin/audit/export.csv";
const PAGE: u64 = 1000;

#[derive(Clone)]
struct Export {
    store: Store,
    /// The app's own origin, which the request must come from.
    origin: String,
}

pub fn routes<S: Clone + Send + Sync + 'static>(store: Store, origin: String) -> Router<S> {
    Router::new()
        .route("/admin/audit/export.csv", get(export))
        .with_state(Export { store, origin })
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
    State(Export { store, origin }): State<Export>,
    Extension(actor): Extension<Actor>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    // A GET with a side effect (the audit entry) and a download: a link on
    // another site, or a page of a sibling subdomain, must not make a
    // signed-in admin's browser run it.
    if !crate::web_security::csrf::from_own_page(&origin, &headers) {
        return (
            StatusCode::FORBIDDEN,
            "Open the Audit log in Tenant Mail to export it.",
        )
            .into_response();
    }
    let mut filter = AuditFilter {
        action: params.action,
        actor: params.actor,
        text: params.text,
        failures_only: params.failures_only,
        before_id: None,
    };
    let now = store.now();
    // The file shows the log as it was when asked for: everything up to the
    // newest entry now, not this export's own entry or anything later.
    match store.audit().newest_id().await {
        Ok(newest) => filter.before_id = Some(newest.saturating_add(1)),
        Err(e) => return internal("read the newest entry", e),
    }
    let event = Event::new("audit.exported").detail(describe(&filter));
    if let Err(e) = store.audit().record(&actor, event).await {
        return internal("record the export", e);
    }
    let pages = futures_util::stream::unfold(Some((store, filter, true)), |cursor| async move {
        let (store, mut filter, first) = cursor?;
        let mut out = Vec::new();
        if first {
            out.extend_from_slice(&row(&HEADER.map(String::from)));
        }
        match store.audit().list(&filter, PAGE).await {
            Ok(page) => {
                for e in page.entries {
                    out.extend_from_slice(&row(&fields(e)));
                }
                let next = page.next_before_id.map(|before| {
                    filter.before_id = Some(before);
                    (store, filter, false)
                });
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(out)), next))
            }
            // Headers are gone by now: end the body with an error, so the
            // download fails visibly instead of looking complete.
            Err(e) => {
                let id = crate::reference::logged("audit export: read a page", e);
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

fn internal(context: &str, error: impl std::fmt::Display) -> Response {
    super::internal_error(&format!("audit export: {context}"), error)
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
pub(crate) fn row(cells: &[String]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let safe = cells.iter().map(|c| {
        if is_formula(c) {
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

/// Whether a spreadsheet would run the cell. Spreadsheets skip leading
/// spaces, and some read the full-width forms of the same characters as
/// formulas too.
pub fn is_formula(cell: &str) -> bool {
    let first = cell.trim_start_matches(' ').chars().next();
    first.is_some_and(|f| "=+-@\t\r\u{FF1D}\u{FF0B}\u{FF0D}\u{FF20}".contains(f))
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
            "  =1+1".into(),
            "\u{FF1D}1+1".into(),
        ]);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"'=HYPERLINK(\"\"http://x\"\")\",'-1,\"plain, with comma\",'@SUM(A1),'  =1+1,'\u{FF1D}1+1\n"
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
