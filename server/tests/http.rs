//! The real router over HTTP: health, server-function status codes and field
//! errors for bad input, SSR pages, and the secret never leaving the server.
mod support;

use server::startup::prepare;

const SECRET: &str = "Zq8~canary-secret-value-0123456789abcdef";

struct Running {
    base: String,
    client: reqwest::Client,
    _db: support::TestDb,
}

async fn start(db: support::TestDb) -> Running {
    let p = prepare(&db.config, support::leptos_options())
        .await
        .expect("prepare");
    let base = support::serve(p.router).await;
    let client = support::signed_in_browser(&p.store, &base).await;
    Running {
        base,
        client,
        _db: db,
    }
}

impl Running {
    /// Server functions take JSON; this builds the object from string arguments.
    async fn post_args(&self, f: &str, body: &[(&str, &str)]) -> (u16, String) {
        let map: serde_json::Map<String, serde_json::Value> = body
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        self.post_json(f, serde_json::Value::Object(map)).await
    }
    async fn post_json(&self, f: &str, body: serde_json::Value) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}/api/{f}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn new_tenant(&self, name: &str) -> String {
        let (status, body) = self.post_args("create_tenant", &[("name", name)]).await;
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["id"].as_str().unwrap().to_string()
    }
}

fn email_body(tenant_id: &str, scopes: &str) -> serde_json::Value {
    let input = app::model::TenantEmailInput {
        scopes: scopes.into(),
        ..support::email_input(
            "helpdesk@contoso.com",
            "https://login.microsoftonline.com/common",
            SECRET,
        )
    };
    support::save_email_body(tenant_id, &input)
}

#[tokio::test]
async fn health_and_readiness() {
    let app = start(support::sqlite().await).await;
    assert_eq!(app.get("/healthz").await.0, 200);
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 200);
    assert!(body.contains("ready"));
}

#[tokio::test]
async fn bad_input_gets_4xx_with_field_reasons_and_stores_nothing() {
    for db in support::all().await {
        let app = start(db).await;
        let (status, body) = app.post_args("create_tenant", &[("name", "   ")]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("\"name\""), "{body}");

        let tenant = app.new_tenant("Contoso").await;
        let (status, body) = app
            .post_json(
                "save_tenant_email",
                email_body(&tenant, "openid offline_access\nmail.send mail.read"),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body.contains("scopes") && body.contains("single line"),
            "{body}"
        );
        assert!(!body.contains(SECRET));
        let (_, detail) = app.post_args("get_tenant", &[("tenant_id", &tenant)]).await;
        assert!(
            detail.contains("\"emails\":[]"),
            "nothing half-saved: {detail}"
        );

        // Unknown or malformed ids are 404s, not 500s.
        let (status, _) = app
            .post_args(
                "get_tenant",
                &[("tenant_id", "00000000-0000-4000-8000-000000000000")],
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = app
            .post_args("get_tenant", &[("tenant_id", "../../etc")])
            .await;
        assert_eq!(status, 404);
        // Missing arguments are 400.
        let (status, _) = app.post_args("get_tenant", &[]).await;
        assert_eq!(status, 400);
        // A duplicate address is a field error on the address.
        assert_eq!(
            app.post_json(
                "save_tenant_email",
                email_body(&tenant, "openid offline_access mail.send mail.read")
            )
            .await
            .0,
            200
        );
        let (status, body) = app
            .post_json(
                "save_tenant_email",
                email_body(&tenant, "openid offline_access mail.send mail.read"),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("address"), "{body}");
    }
}

#[tokio::test]
async fn update_with_stale_version_is_409() {
    let app = start(support::sqlite().await).await;
    let tenant = app.new_tenant("Contoso").await;
    let (_, body) = app
        .post_json(
            "save_tenant_email",
            email_body(&tenant, "openid offline_access mail.send mail.read"),
        )
        .await;
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut update = email_body(
        &tenant,
        "openid offline_access mail.send mail.read mail.readwrite",
    );
    update["email_id"] = created["id"].clone();
    update["version"] = created["version"].clone();
    update["input"]["client_secret"] = "".into();
    assert_eq!(
        app.post_json("save_tenant_email", update.clone()).await.0,
        200
    );
    let (status, body) = app.post_json("save_tenant_email", update).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn pages_render_on_the_server_without_the_secret() {
    let app = start(support::sqlite().await).await;
    let tenant = app.new_tenant("Contoso & Co").await;
    let (_, body) = app
        .post_json(
            "save_tenant_email",
            email_body(&tenant, "openid offline_access mail.send mail.read"),
        )
        .await;
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(!body.contains(SECRET), "save response leaks the secret");
    let email_id = created["id"].as_str().unwrap();

    let (status, html) = app.get("/admin/tenants").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Tenant Management") && html.contains("Contoso &amp; Co"),
        "{html}"
    );
    let (status, html) = app
        .get(&format!("/admin/tenants/{tenant}/emails/{email_id}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("helpdesk@contoso.com"));
    assert!(
        html.contains("http://localhost:3000/core/oauth2/validated"),
        "redirect URI shown"
    );
    assert!(html.contains("Secret set on"));
    assert!(!html.contains(SECRET), "page leaks the secret");
    let (_, data) = app
        .post_args(
            "load_email_editor",
            &[("tenant_id", tenant.as_str()), ("email_id", email_id)],
        )
        .await;
    assert!(data.contains("secret_set_at") && !data.contains(SECRET));
    let (status, _) = app.get("/no/such/page").await;
    assert_eq!(status, 404);
}
