//! What `POST /subscriptions` accepts, with Graph's 400s for the rest: message resources of a mail
//! folder, `changeType` lists, notification URLs, `clientState` and the lifetime.

use std::net::IpAddr;

use crate::errors::GraphError;
use crate::timefmt;

/// Longest lifetime of a subscription to Outlook messages: 10,080 minutes (7 days).
pub const MAX_LIFETIME_SECONDS: i64 = 10_080 * 60;
/// Longest `clientState` Graph accepts.
pub const CLIENT_STATE_LIMIT: usize = 128;
const CHANGE_TYPES: [&str; 3] = ["created", "updated", "deleted"];

pub fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::bad_request("InvalidRequest", message)
}

/// Whose folder a resource names: `user` is `me` or an id/UPN; `folder` an id or well-known name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub folder: String,
}

/// Parses `me/mailFolders('inbox')/messages`, `me/mailFolders/{id}/messages` and the same under
/// `users/{id|upn}/` or `users('{id|upn}')/` (a leading `/` allowed, names case-insensitive).
pub fn parse_resource(resource: &str) -> Result<Target, GraphError> {
    let unsupported = || {
        invalid(format!(
            "Resource '{resource}' is not supported. The stand-in accepts me/mailFolders('{{folder}}')/messages, \
             me/mailFolders/{{id}}/messages and users/{{id}}/mailFolders('{{folder}}')/messages."
        ))
    };
    let text = resource.trim().trim_start_matches('/');
    if text.contains('?') {
        return Err(unsupported());
    }
    let segments: Vec<&str> = text.split('/').collect();
    let (user, rest) = match segments.as_slice() {
        [first, rest @ ..] if first.eq_ignore_ascii_case("me") => ("me".to_owned(), rest),
        [first, id, rest @ ..] if first.eq_ignore_ascii_case("users") => {
            (unquote(id).to_owned(), rest)
        }
        [first, rest @ ..] => match keyed("users", first) {
            Some(id) => (id.to_owned(), rest),
            None => return Err(unsupported()),
        },
        [] => return Err(unsupported()),
    };
    let folder = match rest {
        [folders, id, messages]
            if folders.eq_ignore_ascii_case("mailFolders")
                && messages.eq_ignore_ascii_case("messages") =>
        {
            unquote(id)
        }
        [folder, messages] if messages.eq_ignore_ascii_case("messages") => {
            keyed("mailFolders", folder).ok_or_else(unsupported)?
        }
        _ => return Err(unsupported()),
    };
    if user.is_empty() || folder.is_empty() {
        return Err(unsupported());
    }
    Ok(Target {
        user,
        folder: folder.to_owned(),
    })
}

/// `name('key')` or `name(key)` → `key`.
fn keyed<'a>(name: &str, segment: &'a str) -> Option<&'a str> {
    let head = segment.get(..name.len())?;
    if !head.eq_ignore_ascii_case(name) {
        return None;
    }
    let inner = segment
        .get(name.len()..)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    Some(unquote(inner))
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text)
}

/// `created,updated` → `["created", "updated"]`; anything else in the list is a 400.
pub fn parse_change_types(text: &str) -> Result<Vec<String>, GraphError> {
    let mut out: Vec<String> = Vec::new();
    for part in text.split(',') {
        let name = part.trim().to_ascii_lowercase();
        if !CHANGE_TYPES.contains(&name.as_str()) {
            return Err(invalid(format!(
                "Invalid changeType '{}'. Allowed values are created, updated and deleted.",
                part.trim()
            )));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A notification URL must be `https`; the stand-in also takes `http` to a loopback host because
/// tests cannot terminate TLS.
pub fn check_url(url: &str, property: &str) -> Result<(), GraphError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        invalid(format!(
            "The {property} '{url}' is not a valid absolute URL."
        ))
    })?;
    let loopback = parsed.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(format!(
            "The {property} '{url}' must use https (the stand-in accepts http only for 127.0.0.1, localhost and [::1])."
        ))),
    }
}

pub fn check_client_state(client_state: Option<&str>) -> Result<(), GraphError> {
    match client_state {
        Some(state) if state.chars().count() > CLIENT_STATE_LIMIT => Err(invalid(format!(
            "clientState is {} characters long; the maximum is {CLIENT_STATE_LIMIT}.",
            state.chars().count()
        ))),
        _ => Ok(()),
    }
}

/// Parses `expirationDateTime` and checks it is in the future and within the 10,080-minute limit
/// (on the stand-in's clock); returns it as Unix seconds.
pub fn check_expiration(text: &str, now: i64) -> Result<i64, GraphError> {
    let at = timefmt::parse_iso(text).ok_or_else(|| {
        invalid(format!(
            "expirationDateTime '{text}' is not a valid date and time."
        ))
    })?;
    if at <= now {
        return Err(invalid(format!(
            "Subscription expiration date time '{text}' is in the past; it must be in the future."
        )));
    }
    if at > now + MAX_LIFETIME_SECONDS {
        return Err(invalid(
            "Subscription expiration can only be 10080 minutes in the future.",
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(user: &str, folder: &str) -> Target {
        Target {
            user: user.into(),
            folder: folder.into(),
        }
    }

    #[test]
    fn parses_the_resource_forms() {
        let ok = |r: &str| parse_resource(r).unwrap();
        assert_eq!(
            ok("me/mailFolders('inbox')/messages"),
            target("me", "inbox")
        );
        assert_eq!(
            ok("/Me/MailFolders('Inbox')/Messages"),
            target("me", "Inbox")
        );
        assert_eq!(ok("me/mailFolders/AAMk=/messages"), target("me", "AAMk="));
        assert_eq!(
            ok("users/a@contoso.com/mailFolders('inbox')/messages"),
            target("a@contoso.com", "inbox")
        );
        assert_eq!(
            ok("users('x-1')/mailFolders/id1/messages"),
            target("x-1", "id1")
        );
        for bad in [
            "me/messages",
            "me/mailFolders('inbox')",
            "me/events",
            "me/mailFolders('inbox')/messages?$filter=x",
            "",
        ] {
            assert!(parse_resource(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn change_types_urls_and_lifetimes() {
        assert_eq!(
            parse_change_types("created, Updated,created").unwrap(),
            ["created", "updated"]
        );
        assert!(parse_change_types("created,moved").is_err());
        assert!(parse_change_types("").is_err());
        for good in [
            "https://hooks.example.org/x",
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]:9/h",
        ] {
            assert!(check_url(good, "notificationUrl").is_ok(), "{good}");
        }
        for bad in ["http://example.org/hook", "ftp://127.0.0.1/x", "hook"] {
            let e = check_url(bad, "notificationUrl").unwrap_err();
            assert!(e.message.contains(bad), "{}", e.message);
        }
        assert!(check_client_state(Some(&"x".repeat(128))).is_ok());
        assert!(check_client_state(Some(&"x".repeat(129))).is_err());
        let now = 1_735_689_600;
        assert_eq!(
            check_expiration("2025-01-01T01:00:00Z", now).unwrap(),
            now + 3600
        );
        assert!(check_expiration("2024-12-31T23:59:59Z", now).is_err());
        assert!(check_expiration("2025-01-08T00:00:00Z", now).is_ok());
        assert!(check_expiration("2025-01-08T00:00:01Z", now).is_err());
    }
}
