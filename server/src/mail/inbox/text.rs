//! Received bodies: a plain-text version of HTML mail (for the host API and
//! the reader), and HTML that is safe to show an admin.
use super::inline::InlineImages;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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

/// Sanitised HTML, and how many remote images it had (not loaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml {
    pub html: String,
    pub remote_images: usize,
}

/// Raster image types shown in place (an SVG is left out: it is a document).
const SHOWN_IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
];

/// A `data:` URI of an image type shown in place.
fn is_shown_data_image(value: &str) -> bool {
    let lower = value.trim_start().to_ascii_lowercase();
    SHOWN_IMAGE_TYPES.iter().any(|t| {
        lower
            .strip_prefix("data:")
            .and_then(|rest| rest.strip_prefix(t))
            .is_some_and(|rest| rest.starts_with(';') || rest.starts_with(','))
    })
}

/// `value` without a case-insensitive `scheme:` prefix.
fn strip_scheme<'v>(value: &'v str, scheme: &str) -> Option<&'v str> {
    let value = value.trim_start();
    let head = value.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| value.get(scheme.len()..))
        .flatten()
}

/// HTML with scripts, styles, forms, event handlers and every remote
/// reference removed (no tracking pixel loads when an admin opens a message);
/// links keep their target but open outside the app without a referrer.
/// Images stay only when they need nothing from the network: a part of the
/// message named by `cid:` (given as a `data:` URI in `images`) or an image
/// the body carries itself as `data:`. Shown in a sandboxed frame as a second
/// line of defence.
pub fn safe_html(body: &str, images: InlineImages) -> SafeHtml {
    // The sanitiser keeps its callback for as long as it likes ('static).
    let images = Arc::new(images);
    let remote = Arc::new(AtomicUsize::new(0));
    let counted = remote.clone();
    let html = {
        let mut builder = ammonia::Builder::default();
        builder
            .url_schemes(
                ["http", "https", "mailto", "cid", "data"]
                    .into_iter()
                    .collect(),
            )
            .link_rel(Some("noopener noreferrer"))
            .set_tag_attribute_value("a", "target", "_blank")
            .attribute_filter(move |element, attribute, value| {
                let image = element == "img" && attribute == "src";
                if let Some(reference) = strip_scheme(value, "cid:") {
                    // A part of this message: shown when it is one of its images.
                    return images
                        .data_uri(reference)
                        .filter(|_| image)
                        .map(|uri| uri.to_string().into());
                }
                if strip_scheme(value, "data:").is_some() {
                    return (image && is_shown_data_image(value)).then(|| value.into());
                }
                if image {
                    counted.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Some(value.into())
            });
        // Inline styles could load remote resources (url(...)); drop them.
        builder.rm_generic_attributes(["style"]);
        builder.clean(body).to_string()
    };
    SafeHtml {
        html,
        remote_images: remote.load(Ordering::Relaxed),
    }
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
        let SafeHtml {
            html,
            remote_images,
        } = safe_html(
            r#"<p onclick="x()">Hi<script>alert(1)</script><img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">j</a><a href="https://example.org">ok</a><span style="background:url(https://t.example/x)">s</span></p>"#,
            InlineImages::default(),
        );
        assert_eq!(remote_images, 1);
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("t.example"), "{html}");
        assert!(html.contains(r#"href="https://example.org""#), "{html}");
        assert!(html.contains("noopener noreferrer"), "{html}");
    }

    #[test]
    fn inline_images_are_shown_and_remote_ones_counted() {
        let mut images = InlineImages::default();
        images.insert("image001.png@01DA.5E2F", "image/png", b"\x89PNG");
        let SafeHtml {
            html,
            remote_images,
        } = safe_html(
            concat!(
                r#"<p><img src="cid:image001.png@01DA.5E2F" alt="logo">"#,
                r#"<img src="CID:%3Cimage001.png@01DA.5E2F%3E">"#,
                r#"<img src="cid:missing@x"><img src="https://t.example/p.gif">"#,
                r#"<img src="/relative.png"><img src="data:image/gif;base64,R0lGOD==">"#,
                r#"<img src="data:image/svg+xml;base64,PHN2Zz4=">"#,
                r#"<a href="cid:image001.png@01DA.5E2F">c</a><a href="data:text/html,x">d</a></p>"#,
            ),
            images,
        );
        assert_eq!(
            html.matches("src=\"data:image/png;base64,iVBORw==\"")
                .count(),
            2,
            "{html}"
        );
        assert!(html.contains("data:image/gif;base64,R0lGOD=="), "{html}");
        assert!(!html.contains("svg"), "{html}");
        assert!(!html.contains("cid:"), "{html}");
        assert!(
            !html.contains("t.example") && !html.contains("relative.png"),
            "{html}"
        );
        assert!(!html.contains("data:text"), "{html}");
        assert_eq!(remote_images, 2, "{html}");
    }
}
