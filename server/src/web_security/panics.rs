//! A request whose handler panics still gets an answer: a 500 carrying only a
//! reference id (the panic message may hold anything, so it goes to the log),
//! which then passes through the header layer like every other response.
use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

type Handler = fn(Box<dyn Any + Send + 'static>) -> Response<Body>;

pub fn layer() -> CatchPanicLayer<Handler> {
    CatchPanicLayer::custom(answer as Handler)
}

fn answer(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    let id = app::api::error_id();
    tracing::error!(error_id = %id, panic = %message, "a request handler panicked");
    let mut response = Response::new(Body::from(format!(
        "Something went wrong on the server. Reference: {id}\n"
    )));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use crate::web_security::{headers, SecurityPolicy};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_becomes_a_500_with_the_security_headers_and_no_details() {
        let policy = SecurityPolicy {
            origin: "http://localhost:3000".into(),
            https: false,
            form_action: vec!["'self'".into()],
            static_prefix: "/pkg/".into(),
        };
        let app: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("secret detail from deep inside");
                    }
                    "never"
                }),
            )
            .layer(super::layer())
            .layer(axum::middleware::from_fn_with_state(policy, headers::apply));
        let response = app
            .oneshot(
                axum::http::Request::get("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let h = response.headers();
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 10_000)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("Reference: "), "{body}");
        assert!(!body.contains("secret detail"), "{body}");
    }
}
