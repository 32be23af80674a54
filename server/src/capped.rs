//! Answers from Microsoft are read with a size cap before they are buffered:
//! a misbehaving or hostile endpoint cannot make the server hold an endless
//! body in memory. The declared length is refused up front; a chunked body is
//! refused as soon as it passes the cap.

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the answer is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error(transparent)]
    Read(#[from] reqwest::Error),
}

/// The whole body of `response`, if it is at most `max` bytes.
pub async fn read(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(ReadError::TooLarge { max });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge { max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
