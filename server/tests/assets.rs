//! The build's files under /pkg/ as a browser gets them: the precompressed
//! copy its Accept-Encoding allows, `Vary: Accept-Encoding`, a year of
//! immutable caching for this build's hashed names, revalidation for anything
//! else, and pages that link the hashed names and are never cached.
mod support;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use reqwest::StatusCode;
use std::path::Path;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One asset of a fake build: its kind, hash, content type and bytes. The
/// script and the WASM have different hashes here, so Leptos reads the
/// manifest (`hash_files`); `SHARED` is how `.ci/build.sh` names them.
const FILES: &[(&str, &str, &str, &[u8])] = &[
    (
        "js",
        "a1b2c3",
        "text/javascript",
        b"export default function init() {}\n",
    ),
    (
        "wasm",
        "d4e5f6",
        "application/wasm",
        b"\0asm\x01\0\0\0 not really wasm",
    ),
    ("css", "f7e8d9", "text/css", b"body { margin: 0 }\n"),
];
const SHARED: &[(&str, &str, &str, &[u8])] = &[
    ("js", "0a0b0c", "text/javascript", b"export default 1;\n"),
    (
        "wasm",
        "0a0b0c",
        "application/wasm",
        b"\0asm\x01\0\0\0 shared",
    ),
    ("css", "0d0e0f", "text/css", b"p { color: red }\n"),
];

/// A site as `.ci/build.sh` leaves it: hashed files, a `.br` and a `.gz`
/// beside each (distinct bytes, so the test sees which one was sent), and the
/// manifest, named by an absolute path as Leptos allows.
fn built_site(dir: &Path, files: &[(&str, &str, &str, &[u8])]) -> leptos::config::LeptosOptions {
    let pkg = dir.join("site/pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let mut manifest = String::new();
    for (kind, hash, _, bytes) in files {
        let name = format!("tenant_mail.{hash}.{kind}");
        std::fs::write(pkg.join(&name), bytes).unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), format!("br of {name}")).unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gz of {name}")).unwrap();
        manifest.push_str(&format!("{kind}: {hash}\n"));
    }
    std::fs::write(
        pkg.join("notes.txt"),
        "not part of the build's hashed set\n",
    )
    .unwrap();
    let manifest_path = dir.join("hash.txt");
    std::fs::write(&manifest_path, manifest).unwrap();
    leptos::config::LeptosOptions::builder()
        .output_name("tenant_mail")
        .site_root(dir.join("site").display().to_string())
        .hash_file(manifest_path.display().to_string().into())
        .build()
}

/// An answer with its body as sent (bytes, not decoded).
struct Fetched {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: reqwest::header::HeaderName) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

async fn get(client: &reqwest::Client, url: &str, accept: Option<&str>) -> Fetched {
    let mut request = client.get(url);
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    let r = request.send().await.unwrap();
    Fetched {
        status: r.status(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

#[tokio::test]
async fn assets_are_precompressed_hashed_and_cached_for_a_year() {
    serves_a_build(FILES).await;
}

#[tokio::test]
async fn a_build_whose_script_and_wasm_share_a_hash_is_served_the_same_way() {
    serves_a_build(SHARED).await;
}

async fn serves_a_build(files: &[(&str, &str, &str, &[u8])]) {
    let t = support::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let options = built_site(dir.path(), files);
    let p = server::startup::prepare(&t.config, options)
        .await
        .expect("prepare");
    let base = support::serve(p.router.clone()).await;
    // No automatic decompression: the test reads the bytes as sent.
    let client = reqwest::Client::builder()
        .no_brotli()
        .no_gzip()
        .build()
        .unwrap();

    for (kind, hash, content_type, raw) in files {
        let name = format!("tenant_mail.{hash}.{kind}");
        let url = format!("{base}/pkg/{name}");
        for (accept, encoding, body) in [
            (
                Some("br, gzip"),
                Some("br"),
                format!("br of {name}").into_bytes(),
            ),
            (
                Some("gzip, deflate, br;q=0"),
                Some("gzip"),
                format!("gz of {name}").into_bytes(),
            ),
            (
                Some("gzip;q=0.5, br;q=1.0"),
                Some("br"),
                format!("br of {name}").into_bytes(),
            ),
            (None, None, raw.to_vec()),
            (Some("identity"), None, raw.to_vec()),
        ] {
            let what = format!("{name} with Accept-Encoding {accept:?}");
            let r = get(&client, &url, accept).await;
            assert_eq!(r.status, StatusCode::OK, "{what}");
            assert_eq!(r.body, body, "{what}");
            assert_eq!(
                r.headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
                encoding,
                "{what}"
            );
            assert_eq!(r.header(CONTENT_TYPE), *content_type, "{what}");
            assert_eq!(r.header(CACHE_CONTROL), IMMUTABLE, "{what}");
            assert_eq!(r.header(VARY), "accept-encoding", "{what}");
        }
    }

    // Not one of this build's hashed names: served, but revalidated.
    let r = get(&client, &format!("{base}/pkg/notes.txt"), Some("br, gzip")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(CACHE_CONTROL), "no-cache");
    assert!(r.headers.get(CONTENT_ENCODING).is_none());

    // A missing asset (say, an old build's name) is not cacheable.
    let r = get(
        &client,
        &format!("{base}/pkg/tenant_mail.oldhash.wasm"),
        Some("br"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header(CACHE_CONTROL), "no-store");
    // The manifest sits one level above the package folder: no escape to it.
    for path in [
        "/pkg/..%2fhash.txt",
        "/pkg/%2e%2e/hash.txt",
        "/pkg/..%5chash.txt",
    ] {
        let r = get(&client, &format!("{base}{path}"), None).await;
        let manifest_line = format!("js: {}", files[0].1);
        assert!(
            !String::from_utf8_lossy(&r.body).contains(&manifest_line),
            "{path}"
        );
    }

    // The page links this build's names and is never cached itself.
    let r = get(&client, &format!("{base}/sign-in"), Some("br, gzip")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(CACHE_CONTROL), "no-store");
    let html = String::from_utf8(r.body.clone()).unwrap();
    for (kind, hash, _, _) in files {
        let href = format!("/pkg/tenant_mail.{hash}.{kind}");
        assert!(html.contains(&href), "the page links {href}:\n{html}");
    }
    assert!(!html.contains("href=\"/pkg/tenant_mail.css\""), "{html}");
}

#[tokio::test]
async fn without_a_manifest_the_plain_names_are_linked_and_revalidated() {
    let t = support::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("tenant_mail.css"), "body{}\n").unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("tenant_mail")
        .site_root(dir.path().display().to_string())
        .hash_file(
            dir.path()
                .join("no-such-hash.txt")
                .display()
                .to_string()
                .into(),
        )
        .build();
    let p = server::startup::prepare(&t.config, options)
        .await
        .expect("prepare");
    let base = support::serve(p.router.clone()).await;
    let client = reqwest::Client::new();

    let r = get(&client, &format!("{base}/pkg/tenant_mail.css"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(CACHE_CONTROL), "no-cache");
    let html =
        String::from_utf8(get(&client, &format!("{base}/sign-in"), None).await.body).unwrap();
    assert!(html.contains("href=\"/pkg/tenant_mail.css\""), "{html}");
    assert!(html.contains("/pkg/tenant_mail.js"), "{html}");
}
