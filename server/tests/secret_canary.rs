//! Secret canary: a random client secret and the tokens a real connection
//! produces must appear nowhere they could leak — not in any page, server
//! function answer, response header, served asset, log line (captured at
//! trace level), SQLite file or `pg_dump` — raw, base64, base64url,
//! URL-encoded or JSON-escaped.
mod support;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use ms_stand_in::fixture::MAILBOX;
use sea_orm::EntityTrait;
use server::db::entities::mailbox_connection;
use server::secrets::Binding;

/// Server functions that only read. Every registered function must be listed
/// here or in `WRITES`, so a new one is crawled (or consciously skipped).
const READS: &[&str] = &[
    "app_info",
    "setup_status",
    "list_tenants",
    "get_tenant",
    "load_email_editor",
    "list_admins",
    "list_audit",
    "list_outbox",
    "list_api_tokens",
    "load_inbox",
    "read_received",
    "alerts_overview",
    "attention",
    "check_configuration",
    "list_mail_folders",
];
const WRITES: &[&str] = &[
    "create_tenant",
    "rename_tenant",
    "delete_tenant",
    "save_tenant_email",
    "delete_tenant_email",
    "add_admin",
    "set_admin_disabled",
    "change_password",
    "complete_setup",
    "send_test_email",
    "reply_received",
    "change_outbox_message",
    "create_api_token",
    "revoke_api_token",
    "sync_now",
    "create_alert_destination",
    "delete_alert_destination",
    "test_alert_destination",
    "round_trip_check",
    // Connects an application mailbox (server/tests/app_access.rs checks its
    // answer carries no secret or token).
    "check_app_access",
    // Makes a key pair; server/tests/certificates.rs checks its answer holds
    // no private key.
    "create_certificate",
    // The next-secret slot: set above with a canary of its own.
    "set_next_secret",
    "remove_next_secret",
];

/// Two random runs joined by characters every encoding rewrites (`"` and `\`
/// for JSON, `<` and `&` for HTML, all four for URLs), so each encoding check
/// below is a real one. Azure secrets never hold these, but the field allows them.
fn random_canary() -> String {
    use rand::Rng;
    let run = || -> String {
        rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(24)
            .map(char::from)
            .collect()
    };
    format!("Cnry~{}\"\\<&{}", run(), run())
}

/// The forms a value takes when encoded. For base64, the value may start at
/// any of three byte offsets inside a longer encoded string, so each
/// alignment's stable middle part is searched.
fn encodings(value: &str) -> Vec<(String, String)> {
    let mut out = vec![
        ("raw".to_string(), value.to_string()),
        (
            "url-encoded".into(),
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        ),
        (
            "json-escaped".into(),
            serde_json::to_string(value)
                .unwrap()
                .trim_matches('"')
                .to_string(),
        ),
    ];
    // Any other escaping (HTML entities, another JSON library) still keeps
    // the long alphanumeric runs as they are.
    for run in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        if run.len() >= 16 {
            out.push(("alphanumeric run".into(), run.to_string()));
        }
    }
    for (name, engine) in [
        ("base64", &STANDARD),
        ("base64-nopad", &STANDARD_NO_PAD),
        ("base64url", &URL_SAFE),
        ("base64url-nopad", &URL_SAFE_NO_PAD),
    ] {
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = engine.encode(&bytes);
            let skip = if offset == 0 { 0 } else { 4 };
            let core = &encoded[skip..encoded.len() - 4];
            out.push((format!("{name}@{offset}"), core.to_string()));
        }
    }
    out
}

fn assert_absent(canaries: &[(&str, String)], place: &str, haystack: &[u8]) {
    let text = String::from_utf8_lossy(haystack);
    for (what, value) in canaries {
        for (encoding, needle) in encodings(value) {
            assert!(
                !text.contains(&needle),
                "the {what} leaked into {place} ({encoding})"
            );
        }
    }
}

fn fill(path: &str, tenant_id: &str, email_id: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.trim_matches(|c| c == '{' || c == '}' || c == ':') {
                "tenant_id" => tenant_id.to_string(),
                "email_id" => email_id.to_string(),
                _ => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn canary_secret_and_tokens_never_leave_the_server() {
    let logs = support::logs::capture();
    for t in support::all().await {
        let label = t.label;
        // Microsoft, with an app whose secret is this run's canary, and a real connection.
        let secret = random_canary();
        let c = support::Mailbox::connected(t, &secret).await;
        let (p, base, admin) = (&c.p, c.base.clone(), c.admin.clone());
        let (tenant_id, email_id) = (c.tenant_id.clone(), c.email_id.clone());
        // Received mail too, so the Inbox and its reader have something to show
        // (the first sync sets the start; mail after it is imported).
        p.inbox.sync_mailbox(&email_id).await;
        c.stand_in
            .deliver(ms_stand_in::IncomingMail {
                to_user: MAILBOX.into(),
                from: ms_stand_in::Address {
                    name: "Fabrikam".into(),
                    address: "support@fabrikam.example".into(),
                },
                subject: "Canary inbox message".into(),
                body: "<p>Hello</p>".into(),
                content_type: Some("html".into()),
                ..ms_stand_in::IncomingMail::default()
            })
            .unwrap();
        p.inbox.sync_mailbox(&email_id).await;
        let received_id = p
            .store
            .inbox()
            .newest(&email_id, None, 1)
            .await
            .unwrap()
            .first()
            .map(|m| m.id.clone())
            .expect("a received message");
        let call = |f: &'static str, body: serde_json::Value| {
            let admin = admin.clone();
            let base = base.clone();
            async move {
                let r = admin
                    .post(format!("{base}/api/{f}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let headers = format!("{:?}", r.headers());
                let text = r.text().await.unwrap();
                assert!(status.is_success(), "{f}: {status} {text}");
                (text, headers)
            }
        };
        // A refresh too, so the refresh path has run (and logged) as well.
        p.oauth
            .identity
            .refresh_if_unused_since(&email_id, support::now() + chrono::Duration::hours(1))
            .await
            .expect("refresh");

        // The tokens as stored now (sealed) are canaries too.
        let conn = mailbox_connection::Entity::find_by_id(email_id.clone())
            .one(&p.db)
            .await
            .unwrap()
            .unwrap();
        let open = |column: &str, sealed: &str| {
            p.keys
                .open(
                    sealed,
                    &Binding {
                        table: "mailbox_connection",
                        column,
                        row_id: &email_id,
                    },
                )
                .unwrap()
        };
        // A host-API token: its plaintext is in create's answer, once, and
        // must be nowhere else (pages, other answers, logs, database).
        let created = admin
            .post(format!("{base}/api/create_api_token"))
            .json(&serde_json::json!({"tenant_id": tenant_id, "name": "canary"}))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "create_api_token");
        let created: serde_json::Value = created.json().await.unwrap();
        let api_token = created["secret"].as_str().unwrap().to_string();
        // A webhook's signing secret: likewise once, in create's answer.
        let hook = admin
            .post(format!("{base}/api/create_alert_destination"))
            .json(&serde_json::json!({"input": {
                "kind": "webhook", "name": "canary", "url": "http://127.0.0.1:9/hook",
            }}))
            .send()
            .await
            .unwrap();
        assert!(hook.status().is_success(), "create_alert_destination");
        let hook: serde_json::Value = hook.json().await.unwrap();
        let webhook_secret = hook["signing_secret"].as_str().unwrap().to_string();
        // A next client secret: stored, probed by the doctor (refused: the
        // app does not know it), never shown again.
        let next_secret = random_canary();
        let stored = admin
            .post(format!("{base}/api/set_next_secret"))
            .json(&serde_json::json!({
                "tenant_id": tenant_id, "email_id": email_id,
                "version": p.store.tenant_emails().get(&email_id).await.unwrap().unwrap().version,
                "input": {"secret": next_secret, "expires_on": ""},
            }))
            .send()
            .await
            .unwrap();
        assert!(stored.status().is_success(), "set_next_secret");
        let canaries = vec![
            ("next client secret", next_secret),
            ("API token", api_token),
            ("webhook secret", webhook_secret),
            ("client secret", secret.clone()),
            ("refresh token", open("refresh_token", &conn.refresh_token)),
            (
                "access token",
                open("access_token", conn.access_token.as_deref().unwrap()),
            ),
        ];
        for (what, value) in &canaries {
            assert!(value.len() >= 16, "{what} is long enough to search for");
        }

        // Crawl every page (as the admin) with real ids, and some variants.
        let mut paths: Vec<String> = server::startup::route_list()
            .iter()
            .map(|r| fill(r.path(), &tenant_id, &email_id))
            .collect();
        paths.extend([
            format!("/admin/tenants/{tenant_id}/emails/{email_id}?connected=1"),
            format!("/admin/tenants/{tenant_id}/emails/{email_id}/inbox/{received_id}"),
            "/sign-in?error=invalid&username=x".into(),
            "/no/such/page".into(),
            "/healthz".into(),
            "/readyz".into(),
            "/core/oauth2/validated?code=x&state=y".into(),
        ]);
        for path in &paths {
            let r = admin.get(format!("{base}{path}")).send().await.unwrap();
            let headers = format!("{:?}", r.headers());
            let body = r.bytes().await.unwrap();
            assert_absent(
                &canaries,
                &format!("GET {path} headers"),
                headers.as_bytes(),
            );
            assert_absent(&canaries, &format!("GET {path}"), &body);
        }

        // Every read server function, with real arguments.
        let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(p, _)| p.trim_start_matches("/api/").to_string())
            .collect();
        for f in &registered {
            assert!(
                READS.contains(&f.as_str()) || WRITES.contains(&f.as_str()),
                "classify server function {f} as a read or a write in this test"
            );
        }
        let filter = serde_json::json!({"action": "", "actor": "", "text": "", "failures_only": false, "before_id": null});
        for (f, body) in [
            ("app_info", serde_json::json!({})),
            ("setup_status", serde_json::json!({})),
            ("list_tenants", serde_json::json!({})),
            ("get_tenant", serde_json::json!({"tenant_id": tenant_id})),
            (
                "load_email_editor",
                serde_json::json!({"tenant_id": tenant_id, "email_id": email_id}),
            ),
            ("list_admins", serde_json::json!({})),
            ("list_audit", serde_json::json!({ "filter": filter })),
            (
                "list_outbox",
                serde_json::json!({"tenant_id": tenant_id, "email_id": email_id}),
            ),
            (
                "list_api_tokens",
                serde_json::json!({"tenant_id": tenant_id}),
            ),
            (
                "load_inbox",
                serde_json::json!({"tenant_id": tenant_id, "email_id": email_id, "before": null}),
            ),
            (
                "read_received",
                serde_json::json!({"tenant_id": tenant_id, "email_id": email_id, "message_id": received_id}),
            ),
            ("alerts_overview", serde_json::json!({})),
            ("attention", serde_json::json!({})),
            // The doctor talks to Microsoft with the secret and tokens: its
            // answer must carry none of them.
            (
                "check_configuration",
                serde_json::json!({"tenant_id": tenant_id, "email_id": email_id}),
            ),
            // Reads Graph with the mailbox's access token.
            (
                "list_mail_folders",
                serde_json::json!({"tenant_id": tenant_id, "email_id": email_id}),
            ),
        ] {
            let (text, headers) = call(f, body).await;
            assert_absent(&canaries, &format!("server function {f}"), text.as_bytes());
            assert_absent(
                &canaries,
                &format!("server function {f} headers"),
                headers.as_bytes(),
            );
        }
        assert_eq!(READS.len(), 15, "every read function is called above");

        // The built assets (`make test` builds them before the tests and sets
        // TENANT_MAIL_REQUIRE_ASSETS, so there they cannot be skipped).
        let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
        let mut checked = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&site) {
            for entry in entries.flatten() {
                let bytes = std::fs::read(entry.path()).unwrap();
                assert_absent(&canaries, &entry.path().display().to_string(), &bytes);
                checked.push(entry.file_name().to_string_lossy().to_string());
            }
        }
        if std::env::var_os("TENANT_MAIL_REQUIRE_ASSETS").is_some() {
            for kind in [".wasm", ".js", ".css"] {
                assert!(
                    checked.iter().any(|f| f.ends_with(kind)),
                    "no {kind} asset in {}: {checked:?}",
                    site.display()
                );
            }
        } else if checked.is_empty() {
            eprintln!(
                "note: no built assets in {}; asset check skipped",
                site.display()
            );
        }

        // Every log line so far.
        let captured = logs.lock().unwrap().clone();
        assert!(
            String::from_utf8_lossy(&captured).contains("oauth callback connected the mailbox"),
            "the log capture works"
        );
        assert_absent(&canaries, "the log", &captured);

        // The database at rest.
        match &c.t.pg_database {
            None => {
                p.db.clone().close().await.ok();
                for entry in std::fs::read_dir(c.t.dir.path()).unwrap().flatten() {
                    if entry.file_name().to_string_lossy().starts_with("test.db") {
                        let bytes = std::fs::read(entry.path()).unwrap();
                        assert_absent(
                            &canaries,
                            &format!("{label} file {:?}", entry.file_name()),
                            &bytes,
                        );
                    }
                }
            }
            Some(_) => {
                let pg_dump =
                    std::env::var("TENANT_MAIL_TEST_PG_DUMP").unwrap_or_else(|_| "pg_dump".into());
                let out = std::process::Command::new(pg_dump)
                    .arg("--dbname")
                    .arg(&c.t.config.database_url)
                    .output()
                    .expect("run pg_dump");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(String::from_utf8_lossy(&out.stdout).contains(MAILBOX));
                assert_absent(&canaries, "pg_dump", &out.stdout);
            }
        }
    }
}
