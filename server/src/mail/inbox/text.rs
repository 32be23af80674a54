//! Received bodies: a plain-text version of HTML mail (for the host API and
//! the reader), and HTML that is safe to show an admin.

/// Wide enough that ordinary paragraphs are not re-wrapped.
const TEXT_WIDTH: usize = 100;

/// The text of a body: as is for text mail, rendered from HTML otherwise.
pub fn plain_text(body_type: &str, body: &str) -> String {
    if body_type != "html" {
        return body.to_string();
    }
    match html2text::from_read(body.as_bytes(), TEXT_WIDTH) {
        Ok(text) => text.trim_end().to_string(),
        // Unparseable HTML still leaves something readable: the raw source.
        Err(_) => body.to_string(),
    }
}

/// HTML with scripts, styles, forms, event handlers and every remote
/// reference removed (no tracking pixel loads when an admin opens a message);
/// links keep their target but open outside the app without a referrer.
/// Shown in a sandboxed frame as a second line of defence.
pub fn safe_html(body: &str) -> String {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank");
    // Inline styles could load remote resources (url(...)); drop them.
    builder.rm_generic_attributes(["style"]);
    builder.clean(body).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        let text = plain_text("html", "<p>Hello <b>there</b></p><ul><li>one</li></ul>");
        assert!(text.contains("Hello") && text.contains("there") && text.contains("one"));
        assert!(!text.contains("<p>"));
        assert_eq!(plain_text("text", "<b>as is</b>"), "<b>as is</b>");
    }

    #[test]
    fn unsafe_html_is_removed() {
        let html = safe_html(
            r#"<p onclick="x()">Hi<script>alert(1)</script><img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">j</a><a href="https://example.org">ok</a><span style="background:url(https://t.example/x)">s</span></p>"#,
        );
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("t.example"), "{html}");
        assert!(html.contains(r#"href="https://example.org""#), "{html}");
        assert!(html.contains("noopener noreferrer"), "{html}");
    }
}
