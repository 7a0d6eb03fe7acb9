//! `distillguard demo`: serves the rule-authoring web demo on localhost from
//! the files embedded in the binary.

use crate::web::WEB_ASSETS;
use axum::body::Body;
use axum::http::{header, StatusCode, Uri};
use axum::response::Response;
use std::net::SocketAddr;

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" | "toml" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Looks up an embedded file for a request path (`/` is `index.html`).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    WEB_ASSETS.iter().find(|(p, _)| *p == rel).map(|(p, b)| (content_type(p), *b))
}

async fn serve_asset(uri: Uri) -> Response {
    match asset(uri.path()) {
        Some((ct, body)) => Response::builder()
            .header(header::CONTENT_TYPE, ct)
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::from(body))
            .expect("valid response"),
        None => {
            Response::builder().status(StatusCode::NOT_FOUND).body(Body::from("not found")).expect("valid response")
        }
    }
}

/// Serves the demo on `addr` until the process is stopped. Calls `ready`
/// with the bound address (port 0 picks a free port).
pub async fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    let app = axum::Router::new().fallback(serve_asset);
    axum::serve(listener, app).await
}
