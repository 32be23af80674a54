//! The routes outside Leptos, ready to call.

/// `routes::ROUTES` with every `{param}` replaced by a fresh UUID (and the
/// catch-all by a path segment); `ANY` is sent as GET.
pub fn inventory_requests() -> Vec<(reqwest::Method, String)> {
    server::routes::ROUTES
        .iter()
        .map(|(method, path)| {
            let path = path
                .split('/')
                .map(|segment| match segment.strip_prefix("{*") {
                    Some(_) => "no-such-thing".to_string(),
                    None if segment.starts_with('{') => uuid::Uuid::new_v4().to_string(),
                    None => segment.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = match *method {
                "POST" => reqwest::Method::POST,
                _ => reqwest::Method::GET,
            };
            (method, path)
        })
        .collect()
}
