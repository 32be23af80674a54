//! The HTML pages of the sign-in experience: account picker, credentials, consent, errors.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::model::User;

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:"Segoe UI",sans-serif;background:#f2f2f2;margin:0}}
main{{background:#fff;max-width:440px;margin:48px auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}}
.brand{{font-weight:600;color:#737373;margin-bottom:16px}}
h1{{font-size:24px;font-weight:600;margin:0 0 16px}}
button.account{{display:block;width:100%;text-align:left;background:none;border:0;border-bottom:1px solid #ddd;padding:12px 4px;cursor:pointer}}
button.account:hover,button.account[aria-current=true]{{background:#e6e6e6}}
.upn{{color:#555;font-size:13px}}
input{{display:block;width:100%;margin:8px 0 16px;padding:6px;box-sizing:border-box}}
.primary{{background:#0067b8;color:#fff;border:0;padding:8px 24px}}
.error{{color:#e81123}}
.note{{color:#555;font-size:12px;margin-top:24px}}
</style></head>
<body><main><div class="brand">Microsoft (stand-in)</div>{body}</main></body></html>"#,
        title = escape(title),
    )
}

fn hidden(req: &str) -> String {
    format!(
        r#"<input type="hidden" name="req" value="{}">"#,
        escape(req)
    )
}

/// "Pick an account": the accounts signed in to this browser, plus "Use another account".
pub fn picker(tenant: &str, req: &str, accounts: &[User], hint: Option<&str>) -> Response {
    let mut buttons = String::new();
    for user in accounts {
        let current = hint.is_some_and(|h| {
            h.eq_ignore_ascii_case(&user.upn)
                || user
                    .mail
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(h))
        });
        buttons.push_str(&format!(
            r#"<button class="account" type="submit" name="account" value="{oid}"{current}><span class="name">{name}</span><br><span class="upn">{upn}</span></button>"#,
            oid = escape(&user.oid),
            name = escape(&user.display_name),
            upn = escape(&user.upn),
            current = if current { r#" aria-current="true" autofocus"# } else { "" },
        ));
    }
    let body = format!(
        r#"<h1>Pick an account</h1>
<form method="post" action="/{tenant}/oauth2/v2.0/authorize/select">{hidden}
<div role="list" aria-label="Signed-in accounts">{buttons}</div>
<button class="account" type="submit" name="account" value="other">Use another account</button>
</form>"#,
        tenant = escape(tenant),
        hidden = hidden(req),
    );
    Html(layout("Sign in to your account", &body)).into_response()
}

/// The credentials form (`prompt=login`, "Use another account", or a `login_hint` not signed in).
pub fn sign_in(tenant: &str, req: &str, login: Option<&str>, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Sign in</h1>{error}
<form method="post" action="/{tenant}/oauth2/v2.0/authorize/signin">{hidden}
<label for="login">Email, phone, or Skype</label>
<input id="login" name="login" type="email" autocomplete="username" value="{login}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button class="primary" type="submit">Sign in</button>
</form>
<p class="note">Stand-in: any password is accepted unless the test set one.</p>"#,
        tenant = escape(tenant),
        hidden = hidden(req),
        login = escape(login.unwrap_or_default()),
    );
    Html(layout("Sign in to your account", &body)).into_response()
}

/// "Permissions requested" with Accept / Cancel.
pub fn consent(
    tenant: &str,
    req: &str,
    app_name: &str,
    user: &User,
    scopes: &[String],
) -> Response {
    let items: String = scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect();
    let body = format!(
        r#"<p class="upn">{upn}</p><h1>Permissions requested</h1>
<p><strong>{app}</strong> needs permission to:</p><ul>{items}</ul>
<form method="post" action="/{tenant}/oauth2/v2.0/authorize/consent">{hidden}
<button class="primary" type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>"#,
        upn = escape(&user.upn),
        app = escape(app_name),
        tenant = escape(tenant),
        hidden = hidden(req),
    );
    Html(layout("Permissions requested", &body)).into_response()
}

/// An error shown on the sign-in page itself (nothing is sent to the app).
pub fn error_page(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        r#"<h1>Sorry, but we’re having trouble signing you in.</h1>
<p class="error" role="alert" id="error-code">{code}: {message}</p>"#,
        code = escape(code),
        message = escape(message),
    );
    (status, Html(layout("Sign in to your account", &body))).into_response()
}
