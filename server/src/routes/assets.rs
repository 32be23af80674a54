//! The build's files under `/pkg/` (WASM, its JS glue, the stylesheet), as a
//! browser should get them: the brotli or gzip copy `.ci/build.sh` made, chosen
//! by `Accept-Encoding` (`Vary` says so to caches), and, for a content-hashed
//! name, cached for a year without revalidation — a new build is a new URL.
//! Anything else under `/pkg/` (a development build from `cargo leptos watch`,
//! which has no hashes) is revalidated on every use instead.
use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// A year: the longest lifetime caches honour (RFC 9111 recommends no more).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Served by name only: the browser must ask whether it changed (a 304 is cheap).
const REVALIDATE: &str = "no-cache";

/// The hashed names of this build, as `.ci/build.sh` wrote them into
/// `hash.txt` beside the binary (where Leptos's `HydrationScripts` reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildHashes {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

impl BuildHashes {
    /// Reads `kind: hash` lines; `None` unless all three kinds are there and
    /// each hash is a plain file-name token.
    pub fn parse(text: &str) -> Option<Self> {
        let mut hashes = BuildHashes::default();
        for line in text.lines() {
            let Some((kind, hash)) = line.split_once(':') else {
                continue;
            };
            let hash = hash.trim();
            if hash.is_empty()
                || !hash
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return None;
            }
            match kind.trim() {
                "js" => hashes.js = hash.to_string(),
                "wasm" => hashes.wasm = hash.to_string(),
                "css" => hashes.css = hash.to_string(),
                _ => {}
            }
        }
        let complete = !hashes.js.is_empty() && !hashes.wasm.is_empty() && !hashes.css.is_empty();
        complete.then_some(hashes)
    }

    fn all(&self) -> [(&str, &str); 3] {
        [("js", &self.js), ("wasm", &self.wasm), ("css", &self.css)]
    }
}

/// What the pages link to and what `/pkg/` serves, decided once at startup.
#[derive(Debug, Clone)]
pub struct SiteAssets {
    pkg_dir: PathBuf,
    pkg_prefix: String,
    output_name: String,
    hashes: Option<BuildHashes>,
}

impl SiteAssets {
    /// Uses the hashed names when `hash.txt` beside the running binary names
    /// files that exist; otherwise the plain names (a development build).
    pub fn discover(options: &LeptosOptions) -> Self {
        let manifest = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
        let text = manifest
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok());
        Self::new(options, text.as_deref())
    }

    pub fn new(options: &LeptosOptions, manifest: Option<&str>) -> Self {
        let pkg_dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        let output_name = options.output_name.to_string();
        let hashes = manifest.and_then(BuildHashes::parse).filter(|hashes| {
            let present = hashes
                .all()
                .iter()
                .all(|(kind, hash)| pkg_dir.join(format!("{output_name}.{hash}.{kind}")).is_file());
            if !present {
                tracing::warn!(
                    dir = %pkg_dir.display(),
                    "hash.txt names files that are not in the site directory: serving the unhashed names (rebuild with .ci/build.sh)"
                );
            }
            present
        });
        SiteAssets {
            pkg_prefix: format!("/{}/", options.site_pkg_dir.trim_matches('/')),
            pkg_dir,
            output_name,
            hashes,
        }
    }

    /// Whether this build's hashed names are in use.
    pub fn hashed(&self) -> bool {
        self.hashes.is_some()
    }

    /// The Leptos options the pages render with, linking this build's script
    /// and WASM. When they share one hash (as `.ci/build.sh` names them) it
    /// goes into the output name, so no page render reads the manifest;
    /// otherwise Leptos's `hash_files` reads it on every render.
    pub fn page_options(&self, mut options: LeptosOptions) -> LeptosOptions {
        match &self.hashes {
            Some(h) if h.js == h.wasm => {
                options.output_name = format!("{}.{}", self.output_name, h.js).into();
                options.hash_files = false;
            }
            Some(_) => options.hash_files = true,
            None => options.hash_files = false,
        }
        options
    }

    /// The stylesheet URL the page shell links.
    pub fn stylesheet_href(&self) -> String {
        match &self.hashes {
            Some(h) => format!("{}{}.{}.css", self.pkg_prefix, self.output_name, h.css),
            None => format!("{}{}.css", self.pkg_prefix, self.output_name),
        }
    }

    /// Whether a file name under `/pkg/` is one of this build's hashed files.
    fn is_hashed_name(&self, file_name: &str) -> bool {
        self.hashes.as_ref().is_some_and(|h| {
            h.all()
                .iter()
                .any(|(kind, hash)| file_name == format!("{}.{hash}.{kind}", self.output_name))
        })
    }

    /// The `/pkg/` service: precompressed copies, then the cache headers.
    pub fn router(self: Arc<Self>) -> axum::Router {
        let files = ServeDir::new(&self.pkg_dir)
            .precompressed_br()
            .precompressed_gzip();
        axum::Router::new()
            .fallback_service(files)
            .layer(axum::middleware::from_fn(
                move |request: Request, next: Next| {
                    let assets = self.clone();
                    async move { assets.stamp(request, next).await }
                },
            ))
    }

    async fn stamp(&self, request: Request, next: Next) -> Response {
        let name = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut response = next.run(request).await;
        let status = response.status();
        if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
            let headers = response.headers_mut();
            let cache = if self.is_hashed_name(&name) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            // The body depends on Accept-Encoding: a shared cache must key on it.
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_needs_all_three_kinds_and_plain_tokens() {
        let full = "js: abc\nwasm: def\ncss: ghi\n";
        assert_eq!(
            BuildHashes::parse(full),
            Some(BuildHashes {
                js: "abc".into(),
                wasm: "def".into(),
                css: "ghi".into()
            })
        );
        assert_eq!(BuildHashes::parse("js: abc\nwasm: def\n"), None);
        assert_eq!(BuildHashes::parse("js: ../x\nwasm: def\ncss: ghi"), None);
        assert_eq!(BuildHashes::parse(""), None);
    }

    #[test]
    fn hashed_names_only_when_the_files_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        let options = LeptosOptions::builder()
            .output_name("app")
            .site_root(dir.path().to_string_lossy().to_string())
            .build();
        let manifest = "js: a1\nwasm: b2\ncss: c3\n";
        let missing = SiteAssets::new(&options, Some(manifest));
        assert!(!missing.hashed());
        assert_eq!(missing.stylesheet_href(), "/pkg/app.css");
        for f in ["app.a1.js", "app.b2.wasm", "app.c3.css"] {
            std::fs::write(dir.path().join("pkg").join(f), "x").unwrap();
        }
        let present = SiteAssets::new(&options, Some(manifest));
        assert!(present.hashed());
        // Different hashes for the script and the WASM: Leptos reads them.
        let page = present.page_options(options.clone());
        assert!(page.hash_files);
        assert_eq!(page.output_name.as_ref(), "app");
        assert_eq!(present.stylesheet_href(), "/pkg/app.c3.css");
        assert!(present.is_hashed_name("app.b2.wasm"));
        assert!(!present.is_hashed_name("app.wasm"));
        assert!(!present.is_hashed_name("other.b2.wasm"));
    }

    #[test]
    fn one_hash_for_script_and_wasm_goes_into_the_output_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        for f in ["app.a1.js", "app.a1.wasm", "app.c3.css"] {
            std::fs::write(dir.path().join("pkg").join(f), "x").unwrap();
        }
        let options = LeptosOptions::builder()
            .output_name("app")
            .site_root(dir.path().to_string_lossy().to_string())
            .build();
        let assets = SiteAssets::new(&options, Some("js: a1\nwasm: a1\ncss: c3\n"));
        let page = assets.page_options(options.clone());
        assert!(!page.hash_files);
        assert_eq!(page.output_name.as_ref(), "app.a1");
        // A development build: plain names, nothing read.
        let plain = SiteAssets::new(&options, None).page_options(options);
        assert!(!plain.hash_files);
        assert_eq!(plain.output_name.as_ref(), "app");
    }
}
