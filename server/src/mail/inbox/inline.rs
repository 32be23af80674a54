//! Inline images of received HTML: the parts a body names with `cid:`, given
//! to the reader as `data:` URIs. The reader's frame is sandboxed without
//! same-origin, so it has no session to fetch an app URL with, and its CSP
//! allows `data:` images and nothing remote; the images travel with the page.
use crate::db::inbox::FileContent;
use crate::db::{Store, StoreError};
use base64::Engine as _;
use std::collections::HashMap;

/// An image larger than this stays a download only.
pub const MAX_IMAGE_BYTES: i64 = 4 * 1024 * 1024;
/// All of a message's inline images together (the reader's answer carries them).
pub const MAX_TOTAL_BYTES: i64 = 12 * 1024 * 1024;

/// Content-ID (normalised) → `data:` URI.
#[derive(Debug, Default, Clone)]
pub struct InlineImages(HashMap<String, String>);

/// `<Part.1@x>`, `part.1@x` and `Part%2E1@x` name the same part (RFC 2392:
/// a `cid:` URL is the percent-encoded Content-ID without its brackets).
fn normalise(content_id: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(content_id.trim()).decode_utf8_lossy();
    decoded
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

impl InlineImages {
    pub fn insert(&mut self, content_id: &str, content_type: &str, bytes: &[u8]) {
        let uri = format!(
            "data:{content_type};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
        self.0.insert(normalise(content_id), uri);
    }

    /// The image a `cid:` reference (what follows `cid:`) names.
    pub fn data_uri(&self, reference: &str) -> Option<&str> {
        self.0.get(&normalise(reference)).map(String::as_str)
    }
}

/// The bare media type, lower case (`image/png; name=x` → `image/png`).
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A message's parts that have a Content-ID and are images, up to the limits
/// (the smallest first, so one huge image does not crowd out the rest).
pub async fn load(store: &Store, message_id: &str) -> Result<InlineImages, StoreError> {
    let mut files = store.inbox().parts_with_content_id(message_id).await?;
    files
        .retain(|f| f.size <= MAX_IMAGE_BYTES && media_type(&f.content_type).starts_with("image/"));
    files.sort_by_key(|f| f.size);
    let (mut images, mut total) = (InlineImages::default(), 0i64);
    for f in files {
        if total + f.size > MAX_TOTAL_BYTES {
            break;
        }
        let bytes = match f.content {
            Some(FileContent::Bytes(b)) => b,
            Some(FileContent::Blob { id, .. }) => store.inbox().blob_bytes(&id).await?,
            None => continue,
        };
        total += f.size;
        images.insert(&f.content_id, &media_type(&f.content_type), &bytes);
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_match_their_content_id() {
        let mut images = InlineImages::default();
        images.insert("<Image001.PNG@01DA.5E2F>", "image/png", b"x");
        for reference in [
            "image001.png@01DA.5E2F",
            "IMAGE001.PNG@01da.5e2f",
            "%3Cimage001.png@01DA.5E2F%3E",
            "image001%2Epng@01DA.5E2F",
        ] {
            assert_eq!(
                images.data_uri(reference),
                Some("data:image/png;base64,eA=="),
                "{reference}"
            );
        }
        assert_eq!(images.data_uri("image002.png@01DA.5E2F"), None);
        assert_eq!(media_type("Image/PNG; name=\"a.png\""), "image/png");
    }
}
