//! Routes outside Leptos: health checks, the OAuth connect flow, the host-application API (`/v1`)
//! attachment downloads for the Inbox reader, and Graph's change notifications.
pub mod api_status;
pub mod assets;
pub mod audit_export;
pub mod graph_notifications;
pub mod health;
pub mod host_api;
pub mod metrics;
pub mod oauth_callback;
pub mod received_files;

/// A 500 for a plain (non-server-function) route: the error is logged with a
/// reference id, and the admin sees only the id.
pub(crate) fn internal_error(
    context: &str,
    error: impl std::fmt::Display,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let id = crate::reference::logged(context, error);
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        format!("Something went wrong on the server (reference {id})."),
    )
        .into_response()
}

/// Every route the server registers outside Leptos (whose pages and server
/// functions the tests enumerate from Leptos itself): method and path as
/// written in `.route(…)`. The security tests walk this list — anonymous
/// calls, cross-site calls, headers — and a unit test below fails when a
/// `.route(` in the source is missing from it, so a new route cannot skip them.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/admin/audit/export.csv"),
    ("GET", crate::config::CALLBACK_PATH),
    ("POST", oauth_callback::BEGIN_PATH),
    ("POST", "/auth/sign-in"),
    ("POST", "/auth/sign-out"),
    (
        "GET",
        "/admin/tenants/{tenant_id}/emails/{email_id}/inbox/{message_id}/attachments/{attachment_id}",
    ),
    ("POST", "/v1/mailboxes/{tenant_email_id}/messages"),
    ("GET", "/v1/messages/{id}"),
    ("GET", "/v1/mailboxes/{tenant_email_id}/received"),
    ("POST", "/v1/mailboxes/{tenant_email_id}/received/acknowledge"),
    ("GET", "/v1/received/{message_id}/attachments/{attachment_id}"),
    ("GET", "/v1/openapi.json"),
    ("ANY", "/v1/{*rest}"),
    ("POST", crate::config::NOTIFICATIONS_PATH),
];

#[cfg(test)]
mod tests {
    /// The first argument of every `.route(` call under `server/src`, with
    /// the two path constants resolved.
    fn registered_in_source() -> Vec<String> {
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Test modules (at the end of a file) build routers of their own.
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (i, _) in text.match_indices(".route(") {
                    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                    // Comments, and this test's own string literals, are not calls.
                    if text[line_start..i].trim_start().starts_with("//")
                        || text[..i].ends_with('"')
                    {
                        continue;
                    }
                    let rest = text[i + ".route(".len()..].trim_start();
                    let arg: String = if let Some(lit) = rest.strip_prefix('"') {
                        lit[..lit.find('"').unwrap()].to_string()
                    } else {
                        rest[..rest.find(',').unwrap()].trim().to_string()
                    };
                    found.push(match arg.as_str() {
                        "crate::config::CALLBACK_PATH" => crate::config::CALLBACK_PATH.to_string(),
                        "BEGIN_PATH" => super::oauth_callback::BEGIN_PATH.to_string(),
                        "crate::config::NOTIFICATIONS_PATH" => {
                            crate::config::NOTIFICATIONS_PATH.to_string()
                        }
                        _ => arg,
                    });
                }
            }
        }
        found
    }

    #[test]
    fn every_registered_route_is_in_the_inventory() {
        let found = registered_in_source();
        assert!(found.len() >= 14, "{found:?}");
        for path in &found {
            assert!(
                super::ROUTES.iter().any(|(_, p)| p == path),
                "{path} is registered but missing from routes::ROUTES"
            );
        }
        for (_, path) in super::ROUTES {
            assert!(
                found.iter().any(|p| p == path),
                "{path} listed but not registered"
            );
        }
    }
}
