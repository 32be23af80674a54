//! Where to go after signing in. Only a path on this site is accepted:
//! `//host`, `/\host`, `https://…`, `javascript:` and anything odd fall back to
//! the default, so a crafted sign-in link cannot send an admin elsewhere.
pub const DEFAULT_AFTER_SIGN_IN: &str = "/admin/tenants";

pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(check)
        .unwrap_or_else(|| DEFAULT_AFTER_SIGN_IN.to_string())
}

fn check(next: &str) -> Option<String> {
    if !next.starts_with('/') || next.starts_with("//") {
        return None;
    }
    // Browsers treat `\` like `/`, and control characters are stripped by some.
    if next.contains('\\') || next.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    // Resolve against a placeholder origin: a same-origin result is a path here.
    let base = url::Url::parse("http://tenant-mail.invalid/").ok()?;
    let joined = base.join(next).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    // Back to sign-in pages would loop.
    if joined.path() == "/sign-in" || joined.path().starts_with("/auth/") {
        return None;
    }
    let mut out = joined.path().to_string();
    if let Some(q) = joined.query() {
        out.push('?');
        out.push_str(q);
    }
    // Resolving removes dot segments: `/..//host` and `/%2e%2e//host` become
    // `//host`, which a browser would follow off-site. Check what is sent.
    if out.starts_with("//") || out.contains('\\') {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for (input, expected) in [
            (
                Some("/admin/tenants/abc?tab=emails"),
                "/admin/tenants/abc?tab=emails",
            ),
            (Some("/admin/audit"), "/admin/audit"),
            (None, DEFAULT_AFTER_SIGN_IN),
            (Some(""), DEFAULT_AFTER_SIGN_IN),
            (Some("//evil.example/x"), DEFAULT_AFTER_SIGN_IN),
            (Some("/\\evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/\\/evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("https://evil.example/"), DEFAULT_AFTER_SIGN_IN),
            (Some("javascript:alert(1)"), DEFAULT_AFTER_SIGN_IN),
            (Some("evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/\tevil"), DEFAULT_AFTER_SIGN_IN),
            (Some("/%2F%2Fevil.example"), "/%2F%2Fevil.example"),
            (Some("/sign-in?next=/x"), DEFAULT_AFTER_SIGN_IN),
            (Some("/auth/sign-out"), DEFAULT_AFTER_SIGN_IN),
            // Dot segments that collapse into a scheme-relative `//host`.
            (Some("/..//evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/.//evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/%2e%2e//evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/%2E%2E//evil.example/x"), DEFAULT_AFTER_SIGN_IN),
            (Some("/a/..//evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/admin/.././/evil.example"), DEFAULT_AFTER_SIGN_IN),
            (Some("/./sign-in"), DEFAULT_AFTER_SIGN_IN),
            (Some("/admin/./audit"), "/admin/audit"),
        ] {
            assert_eq!(safe_next(input), expected, "{input:?}");
        }
    }
}
