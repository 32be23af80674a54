//! Serving a stored attachment as a download (admin UI and host API). A
//! file kept in chunks is streamed a chunk at a time, so a 100 MB download
//! holds one chunk in memory, not the file.
use crate::db::inbox::FileContent;
use crate::db::Store;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback for old
/// clients and the exact name (RFC 6266 / 5987) for the rest. Quotes,
/// backslashes, control and non-ASCII characters never reach the header raw.
pub fn content_disposition(name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let fallback = if fallback.trim().is_empty() {
        "attachment".to_string()
    } else {
        fallback
    };
    let exact = utf8_percent_encode(name, NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The file as a download. The declared type is kept only when it parses
/// as a MIME type; with `nosniff` and `attachment` the browser saves the file
/// instead of rendering it inside the app's origin.
pub fn file_response(
    store: &Store,
    name: &str,
    content_type: &str,
    content: FileContent,
) -> Response {
    let (body, length) = match content {
        FileContent::Bytes(bytes) => {
            let length = bytes.len() as u64;
            (Body::from(bytes), length)
        }
        FileContent::Blob { id, size } => {
            (chunks(store.clone(), id), u64::try_from(size).unwrap_or(0))
        }
    };
    (
        [
            (header::CONTENT_TYPE, media_type(content_type)),
            (header::CONTENT_DISPOSITION, content_disposition(name)),
            (header::CONTENT_LENGTH, HeaderValue::from(length)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

fn media_type(content_type: &str) -> HeaderValue {
    content_type
        .parse::<mime::Mime>()
        .ok()
        // A concrete type in plain ASCII only; anything else is just bytes.
        .filter(|m| m.type_() != mime::STAR && m.subtype() != mime::STAR && m.as_ref().is_ascii())
        .and_then(|m| HeaderValue::from_str(m.as_ref()).ok())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"))
}

/// A blob's chunks in order, each read when the client is ready for it. A
/// storage failure ends the body early; with the declared length the client
/// sees a cut-off download, never a shorter file taken for whole.
fn chunks(store: Store, blob: String) -> Body {
    let stream = futures_util::stream::try_unfold(0i32, move |seq| {
        let (store, blob) = (store.clone(), blob.clone());
        async move {
            match store.inbox().blob_chunk(&blob, seq).await {
                Ok(Some(bytes)) => Ok(Some((Bytes::from(bytes), seq + 1))),
                Ok(None) => Ok(None),
                Err(e) => {
                    let reference = uuid::Uuid::new_v4();
                    tracing::error!(%reference, error = %e, "attachment download: cannot read a chunk");
                    Err(std::io::Error::other(format!("storage error {reference}")))
                }
            }
        }
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_concrete_ascii_types_are_kept() {
        let kind = |t: &str| media_type(t).to_str().unwrap().to_string();
        assert_eq!(kind("application/pdf"), "application/pdf");
        assert_eq!(kind("*/*"), "application/octet-stream");
        assert_eq!(kind("image/*"), "application/octet-stream");
        assert_eq!(
            kind("text/plain; charset=\"é\""),
            "application/octet-stream"
        );
        assert_eq!(kind("not a type"), "application/octet-stream");
    }

    #[test]
    fn names_are_escaped() {
        let v = content_disposition("in\"voice\r\n 42 €.pdf");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with("attachment; filename=\"in_voice__ 42 _.pdf\""),
            "{s}"
        );
        assert!(
            s.contains("filename*=UTF-8''in%22voice%0D%0A%2042%20%E2%82%AC%2Epdf"),
            "{s}"
        );
        assert!(content_disposition("")
            .to_str()
            .unwrap()
            .contains("filename=\"attachment\""));
    }
}
