//! The HTTP client `oauth2` calls the token endpoint with: the shared
//! identity client, with the answer read under a size cap before it is
//! buffered. A token response is a few KB; an endpoint that answers
//! megabytes (misconfigured, or hostile) is refused, not held.
use super::discovery::error_kind;
use crate::capped::{self, ReadError};
use oauth2::{http, AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use std::future::Future;
use std::pin::Pin;

/// The most a token endpoint answer may be.
pub const MAX_TOKEN_ANSWER: usize = 64 * 1024;

pub type TokenHttpError = HttpClientError<reqwest::Error>;

/// `oauth2`'s view of the identity HTTP client (redirects off, timeouts set).
pub struct TokenHttp(pub reqwest::Client);

impl<'c> AsyncHttpClient<'c> for TokenHttp {
    type Error = TokenHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            let mut answer = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = capped::read(response, MAX_TOKEN_ANSWER)
                .await
                .map_err(|e| match e {
                    ReadError::Read(e) => HttpClientError::Reqwest(Box::new(e)),
                    too_large @ ReadError::TooLarge { .. } => {
                        HttpClientError::Other(too_large.to_string())
                    }
                })?;
            answer.body(body).map_err(HttpClientError::Http)
        })
    }
}

/// What went wrong, for the admin and the log: never a body, which may hold
/// tokens.
pub fn describe(e: &TokenHttpError) -> String {
    match e {
        HttpClientError::Reqwest(inner) => error_kind(inner),
        HttpClientError::Other(reason) => reason.clone(),
        _ => "request failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;

    /// A token endpoint on loopback answering `body` (chunked when `None`
    /// length is announced).
    async fn endpoint(answer: fn() -> axum::response::Response) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/token", post(move || async move { answer() }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    async fn call(url: &str) -> Result<HttpResponse, TokenHttpError> {
        let request = http::Request::builder()
            .method("POST")
            .uri(url)
            .body(b"grant_type=refresh_token".to_vec())
            .unwrap();
        TokenHttp(reqwest::Client::new()).call(request).await
    }

    #[tokio::test]
    async fn small_answers_pass_whole() {
        let url = endpoint(|| {
            axum::response::IntoResponse::into_response((
                [("content-type", "application/json")],
                r#"{"access_token":"a","token_type":"Bearer"}"#,
            ))
        })
        .await;
        let answer = call(&url).await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["content-type"], "application/json");
        assert!(answer.body().starts_with(br#"{"access_token""#));
    }

    #[tokio::test]
    async fn oversized_and_endless_answers_are_refused() {
        let announced = endpoint(|| {
            axum::response::IntoResponse::into_response(vec![b'{'; MAX_TOKEN_ANSWER + 1])
        })
        .await;
        let endless = endpoint(|| {
            let chunk = axum::body::Bytes::from(vec![b' '; 16 * 1024]);
            let chunks =
                futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            axum::response::IntoResponse::into_response(axum::body::Body::from_stream(chunks))
        })
        .await;
        for url in [announced, endless] {
            let refused = call(&url).await.unwrap_err();
            assert_eq!(
                describe(&refused),
                format!("the answer is larger than {MAX_TOKEN_ANSWER} bytes")
            );
        }
    }
}
