//! The HTTP server: an accept loop that can drop a connection on purpose, and the gate middleware
//! (request ids, Graph authentication and limits, injected faults, Graph ledger).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

use crate::errors::{aadsts, insert_graph_ids, GraphError, RequestCtx};
use crate::faults::{classify, Fault};
use crate::ledger::GraphRequest;
use crate::state::Shared;

/// Lets a handler close its own connection without answering.
#[derive(Clone)]
pub struct ConnKiller(Arc<Notify>);

impl ConnKiller {
    fn kill(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let router = router.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let killer = ConnKiller(kill.clone());
            let service =
                hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(killer.clone());
                    let router = router.clone();
                    async move {
                        Ok::<_, Infallible>(
                            router
                                .oneshot(req.map(axum::body::Body::new))
                                .await
                                .unwrap_or_else(|e| match e {}),
                        )
                    }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = conn => if let Err(e) = result { tracing::debug!("connection ended: {e}") },
                () = kill.notified() => tracing::debug!("connection dropped on purpose"),
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}

/// Outer middleware for every route.
pub async fn gate(State(shared): State<Shared>, mut req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ctx = RequestCtx {
        request_id,
        client_request_id,
        now: shared.now(),
        base: shared.base.clone(),
    };
    let path = req.uri().path().to_owned();
    if path.starts_with("/_stand-in/") {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let (endpoint, is_graph) = classify(&method, &path);
    ctx.clone()
        .scope(async move {
            let mut mailbox = None;
            let mut _slot = None;
            if is_graph {
                let caller = match crate::graph::authenticate(&shared, req.headers()) {
                    Ok(caller) => caller,
                    Err(e) => {
                        return finish_graph(&shared, &ctx, &method, &path, None, e.into_response())
                    }
                };
                // The target mailbox (`/me/…`, `/users/{x}/…`), resolved once for the limits,
                // the ledger and the handlers.
                let target = crate::graph::target::resolve(&shared.lock(), &caller, &path);
                let target = match target {
                    Ok(target) => target,
                    Err(e) => {
                        return finish_graph(&shared, &ctx, &method, &path, None, e.into_response())
                    }
                };
                let owner = target.as_ref().map(|t| &t.owner);
                mailbox = owner.or(caller.user.as_ref()).map(|u| u.mailbox_key());
                match crate::graph::limits::enter(&shared, &caller, owner) {
                    Ok(slot) => _slot = Some(slot),
                    Err(e) => {
                        return finish_graph(
                            &shared,
                            &ctx,
                            &method,
                            &path,
                            mailbox,
                            e.into_response(),
                        )
                    }
                }
                req.extensions_mut().insert(caller);
                if let Some(target) = target {
                    req.extensions_mut().insert(target);
                }
            }
            let fault = shared.lock().faults.take(endpoint, is_graph);
            let killer = req.extensions().get::<ConnKiller>().cloned();
            let response = match fault {
                None => next.run(req).await,
                Some(Fault::Delay { millis }) => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    next.run(req).await
                }
                Some(Fault::TooManyRequests { retry_after }) => {
                    failure(is_graph, StatusCode::TOO_MANY_REQUESTS, Some(retry_after))
                }
                Some(Fault::ServiceUnavailable { retry_after }) => {
                    failure(is_graph, StatusCode::SERVICE_UNAVAILABLE, retry_after)
                }
                Some(Fault::DropBeforeBody) => drop_connection(killer).await,
                Some(Fault::DropAfterBody) => {
                    let _processed = next.run(req).await;
                    drop_connection(killer).await
                }
                Some(Fault::CutBody { after_bytes }) => {
                    cut_body(next.run(req).await, after_bytes, killer).await
                }
                Some(Fault::Refuse { status }) => {
                    let code = match status {
                        403 => "ErrorAccessDenied",
                        404 => "ErrorItemNotFound",
                        _ => "ErrorInvalidRequest",
                    };
                    GraphError::new(
                        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                        code,
                        "Refused by an injected fault.",
                    )
                    .into_response()
                }
            };
            // Upload-session PUTs go to Graph's upload URL without a token; they are recorded too
            // so tests can see how an attachment was chunked.
            if is_graph || endpoint == "uploadChunk" {
                finish_graph(&shared, &ctx, &method, &path, mailbox, response)
            } else {
                response
            }
        })
        .await
}

async fn drop_connection(killer: Option<ConnKiller>) -> Response {
    match killer {
        Some(killer) => {
            killer.kill();
            std::future::pending::<Response>().await
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Sends the first `after_bytes` of the answer's body, then closes the connection.
async fn cut_body(response: Response, after_bytes: usize, killer: Option<ConnKiller>) -> Response {
    use futures_util::StreamExt;
    let (parts, body) = response.into_parts();
    let Ok(mut bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    bytes.truncate(after_bytes);
    let head = futures_util::stream::once(async move { Ok::<_, Infallible>(bytes) });
    let cut = futures_util::stream::once(async move {
        // Let the head reach the socket before the connection goes.
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop_connection(killer).await;
        Ok(axum::body::Bytes::new())
    });
    Response::from_parts(parts, axum::body::Body::from_stream(head.chain(cut)))
}

fn failure(is_graph: bool, status: StatusCode, retry_after: Option<String>) -> Response {
    if is_graph {
        let (code, message) = if status == StatusCode::TOO_MANY_REQUESTS {
            ("TooManyRequests", "Too many requests.")
        } else {
            (
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            )
        };
        let mut e = GraphError::new(status, code, message);
        e.retry_after = retry_after;
        e.into_response()
    } else {
        let mut response = aadsts::transient(status).into_response();
        if let Some(value) = retry_after.and_then(|r| HeaderValue::from_str(&r).ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

fn finish_graph(
    shared: &Shared,
    ctx: &RequestCtx,
    method: &axum::http::Method,
    path: &str,
    mailbox: Option<String>,
    mut response: Response,
) -> Response {
    insert_graph_ids(response.headers_mut(), ctx);
    shared.lock().ledger.graph_requests.push(GraphRequest {
        at: ctx.now,
        method: method.to_string(),
        path: path.to_owned(),
        mailbox,
        status: response.status().as_u16(),
    });
    response
}
