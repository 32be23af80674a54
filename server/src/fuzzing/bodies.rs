//! What a mail sender writes: an HTML body, made safe for an admin's eyes
//! and turned into text.
use crate::mail::inbox::inline::InlineImages;
use crate::mail::inbox::text::{plain_text, safe_html};

/// Elements that run code, load something or take input: none survives.
const FORBIDDEN_TAGS: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "form", "input", "button",
    "textarea", "select", "link", "meta", "base", "svg", "math", "video", "audio", "source",
    "picture", "template",
];
/// Attributes that load something or change how the page behaves.
const FORBIDDEN_ATTRIBUTES: &[&str] = &[
    "style",
    "srcset",
    "srcdoc",
    "action",
    "formaction",
    "background",
    "poster",
    "data",
    "xlink:href",
];
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// A part the fuzzed bodies may name (`cid:part@x`).
const PART: &str = "part@x";

pub fn html_body(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let mut images = InlineImages::default();
    images.insert(PART, "image/png", b"png");
    let safe = safe_html(&body, images).html;
    for tag in tags(&safe) {
        assert!(
            !FORBIDDEN_TAGS.contains(&tag.name.as_str()),
            "<{}> survived in {safe:?}",
            tag.name
        );
        for (name, value) in &tag.attributes {
            assert!(
                !name.starts_with("on") && !FORBIDDEN_ATTRIBUTES.contains(&name.as_str()),
                "{name}= survived in {safe:?}"
            );
            // An image loads nothing: its bytes are in the page.
            if name == "src" {
                assert!(
                    tag.name == "img"
                        && value
                            .trim_start()
                            .to_ascii_lowercase()
                            .starts_with("data:image/"),
                    "src {value:?} on <{}>",
                    tag.name
                );
            }
            if name == "href" {
                if let Some(scheme) = scheme_of(value) {
                    assert!(URL_SCHEMES.contains(&scheme.as_str()), "href {value:?}");
                }
            }
        }
    }
    // The text version may be anything readable, but it must come back.
    let _ = plain_text("html", &body);
}

struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// The tags of serialised HTML (html5ever's output: text escapes `<`, values
/// are double-quoted with `"` escaped), so every `<` opens a tag.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '<' {
            continue;
        }
        if chars.peek() == Some(&'/') {
            chars.next();
        }
        let name = take_while(&mut chars, |c| !c.is_whitespace() && c != '>' && c != '/');
        let mut attributes = Vec::new();
        loop {
            match chars.peek() {
                None => break,
                Some('>') => {
                    chars.next();
                    break;
                }
                Some(c) if c.is_whitespace() || *c == '/' => {
                    chars.next();
                }
                Some(_) => {
                    let attr = take_while(&mut chars, |c| {
                        !c.is_whitespace() && c != '=' && c != '>' && c != '/'
                    });
                    let mut value = String::new();
                    if chars.peek() == Some(&'=') {
                        chars.next();
                        if chars.next() == Some('"') {
                            value = take_while(&mut chars, |c| c != '"');
                            chars.next();
                        }
                    }
                    attributes.push((attr.to_ascii_lowercase(), value));
                }
            }
        }
        out.push(Tag {
            name: name.to_ascii_lowercase(),
            attributes,
        });
    }
    out
}

fn take_while(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    keep: impl Fn(char) -> bool,
) -> String {
    let mut s = String::new();
    while let Some(&c) = chars.peek() {
        if !keep(c) {
            break;
        }
        s.push(c);
        chars.next();
    }
    s
}

/// The scheme a browser would see (WHATWG URL: leading and trailing C0 and
/// spaces stripped, tabs and newlines removed anywhere), if it names one.
fn scheme_of(value: &str) -> Option<String> {
    let decoded = value
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    let cleaned: String = decoded
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let end = cleaned.find([':', '/', '?', '#'])?;
    if !cleaned[end..].starts_with(':') {
        return None;
    }
    let scheme = &cleaned[..end];
    let valid = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}
