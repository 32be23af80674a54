//! Signing in: an admin at Tenant Mail, and an account at the stand-in's
//! Microsoft sign-in pages.
use super::fixtures::{create_admin, ADMIN_PASSWORD, ADMIN_USER};
use super::http::browser;

/// Posts the sign-in form; returns the response (303 either way).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/auth/sign-in"))
        .form(&[("username", username), ("password", password), ("next", "")])
        .send()
        .await
        .unwrap()
}

/// A browser signed in as a fresh admin.
pub async fn signed_in_browser(store: &server::db::Store, base: &str) -> reqwest::Client {
    create_admin(store, ADMIN_USER, ADMIN_PASSWORD).await;
    let client = browser();
    let r = sign_in(&client, base, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/admin/tenants",
        "signed in and sent on"
    );
    client
}

fn req_of(html: &str) -> String {
    let marker = "name=\"req\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no req in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}

/// Follows the stand-in's sign-in pages like a browser: picks `account_oid`
/// in the picker and answers the consent page with `consent` ("accept" or
/// "cancel"). Returns the callback path and query Microsoft redirected back to.
pub async fn pass_sign_in(
    browser: &reqwest::Client,
    stand_in_base: &str,
    authorize_url: &str,
    redirect_uri: &str,
    account_oid: &str,
    consent: &str,
) -> String {
    let mut response = browser.get(authorize_url).send().await.unwrap();
    for _ in 0..5 {
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_string();
            let rest = location
                .strip_prefix(redirect_uri)
                .unwrap_or_else(|| panic!("redirected elsewhere: {location}"));
            return format!("{}{rest}", server::config::CALLBACK_PATH);
        }
        let html = response.text().await.unwrap();
        let req = req_of(&html);
        let (path, form): (&str, Vec<(&str, &str)>) = if html.contains("Pick an account") {
            (
                "select",
                vec![("req", req.as_str()), ("account", account_oid)],
            )
        } else if html.contains("Permissions requested") {
            (
                "consent",
                vec![("req", req.as_str()), ("decision", consent)],
            )
        } else {
            panic!("unexpected page: {html}");
        };
        response = browser
            .post(format!(
                "{stand_in_base}/common/oauth2/v2.0/authorize/{path}"
            ))
            .form(&form)
            .send()
            .await
            .unwrap();
    }
    panic!("too many pages");
}
