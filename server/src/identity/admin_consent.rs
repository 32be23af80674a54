//! Admin consent: when Microsoft says an administrator must approve the
//! application's permissions (AADSTS65001, 90094, 90095), the failure page
//! offers Microsoft's admin-consent URL for the tenant of the authority, and
//! the callback URL shows what Microsoft answered there.
//!
//! The v1 endpoint `{authority}/adminconsent?client_id=…&redirect_uri=…` grants
//! the permissions configured on the app registration. A multi-tenant
//! authority (`common`) becomes `organizations`: admin consent needs an
//! organisation. Nothing is stored from the answer and its `tenant` is not
//! trusted for anything: it only tells the admin to click Authenticate again.

/// The admin-consent URL for a sign-in's authority, application and redirect URI.
pub fn url(authority: &str, client_id: &str, redirect_uri: &str) -> String {
    let authority = authority.trim_end_matches('/');
    let authority = match authority.rsplit_once('/') {
        Some((host, "common")) => format!("{host}/organizations"),
        _ => authority.to_string(),
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .finish();
    format!("{authority}/adminconsent?{query}")
}

/// What Microsoft answered on the redirect back from the admin-consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Granted,
    /// `error` and its description (shortened), as Microsoft sent them.
    Refused {
        error: String,
        description: Option<String>,
    },
}

/// `Some` when the callback's query is an admin-consent answer (it carries
/// `admin_consent`); the v2 endpoint keeps `admin_consent=True` on failure,
/// so `error` is looked at first.
pub fn answer(raw_query: Option<&str>) -> Option<Answer> {
    let raw = raw_query?;
    let mut consent = None;
    let mut error = None;
    let mut description = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "admin_consent" => consent = Some(value.into_owned()),
            "error" => error = Some(value.chars().take(80).collect::<String>()),
            "error_description" => description = Some(value.chars().take(400).collect()),
            _ => {}
        }
    }
    consent?;
    Some(match error {
        Some(error) => Answer::Refused { error, description },
        None => Answer::Granted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_organisation_app_and_redirect() {
        assert_eq!(
            url(
                "https://login.microsoftonline.com/contoso.onmicrosoft.com",
                "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40",
                "https://mail.example.com/core/oauth2/validated"
            ),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=79c6ff55-b7e0-4517-bfd7-b4fffb6fee40&redirect_uri=https%3A%2F%2Fmail.example.com%2Fcore%2Foauth2%2Fvalidated"
        );
        assert!(url("https://login.microsoftonline.com/common/", "a", "b")
            .starts_with("https://login.microsoftonline.com/organizations/adminconsent?"));
    }

    #[test]
    fn answers_are_read_error_first() {
        assert_eq!(answer(Some("code=x&state=y")), None);
        assert_eq!(answer(None), None);
        assert_eq!(
            answer(Some("admin_consent=True&tenant=abc&state=s")),
            Some(Answer::Granted)
        );
        assert_eq!(
            answer(Some(
                "admin_consent=True&error=access_denied&error_description=AADSTS65004%3A+declined"
            )),
            Some(Answer::Refused {
                error: "access_denied".into(),
                description: Some("AADSTS65004: declined".into())
            })
        );
    }
}
