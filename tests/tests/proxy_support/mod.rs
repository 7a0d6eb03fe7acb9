//! Shared helpers of the proxy's end-to-end tests (`proxy.rs`,
//! `proxy_attacks.rs`): a real upstream over loopback that records what it
//! received and echoes the body back, the proxy started in-process through
//! the library, and a real HTTP client.
#![allow(dead_code)]

pub use axum::body::Body;
pub use axum::extract::{Request, State};
pub use axum::response::Response;
pub use bytes::Bytes;
#[allow(unused_imports)]
pub use distillguard_host::serve::{start, Config, FailMode, LogSink, Mode, Running};
pub use http_body_util::{BodyExt, Full};
pub use hyper::{HeaderMap, StatusCode};
pub use hyper_util::client::legacy::connect::HttpConnector;
pub use hyper_util::client::legacy::Client;
pub use hyper_util::rt::TokioExecutor;
pub use serde_json::Value;
pub use std::net::SocketAddr;
pub use std::path::{Path, PathBuf};
pub use std::sync::atomic::{AtomicUsize, Ordering};
pub use std::sync::{Arc, Mutex};
pub use std::time::Duration;
pub use tokio::sync::Notify;

// ---------------------------------------------------------------- upstream

#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone, Default)]
pub struct UpstreamState {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// The SSE stream waits here between its first and second event.
    pub gate: Arc<Notify>,
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub state: UpstreamState,
}

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

/// Echoes the request body with `x-upstream: echo`; `"stream":true` bodies
/// get an SSE stream (three events, the last two after `gate`); bodies
/// containing `SLOW-UPSTREAM` are answered after 5 s.
pub async fn echo(State(st): State<UpstreamState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    st.seen.lock().unwrap().push(Seen {
        path: parts.uri.to_string(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let text = String::from_utf8_lossy(&body).to_string();
    if text.contains("SLOW-UPSTREAM") {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if text.contains("\"stream\":true") || parts.uri.path() == "/v1/events" {
        let (mut tx, rx) = http_body_util::channel::Channel::<Bytes, std::convert::Infallible>::new(4);
        let gate = st.gate.clone();
        tokio::spawn(async move {
            let _ = tx.send_data(Bytes::from_static(b"data: {\"delta\":\"one\"}\n\n")).await;
            gate.notified().await;
            let _ = tx.send_data(Bytes::from_static(b"data: {\"delta\":\"two\"}\n\n")).await;
            let _ = tx.send_data(Bytes::from_static(b"data: [DONE]\n\n")).await;
        });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .header("x-upstream", "sse")
            .body(Body::new(rx))
            .unwrap();
    }
    Response::builder()
        .status(if parts.uri.path() == "/teapot" { 418 } else { 200 })
        .header("content-type", "application/json")
        .header("x-upstream", "echo")
        .body(Body::from(body))
        .unwrap()
}

pub async fn upstream() -> Upstream {
    let state = UpstreamState::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(echo).with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Upstream { addr, state }
}

// ---------------------------------------------------------------- proxy and client

pub fn weak_pack() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/proxy/weak")
}

pub fn config(upstream: &str, mode: Mode, pack: Option<PathBuf>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: upstream.to_string(),
        pack,
        mode,
        pool_size: 2,
        ..Config::default()
    }
}

pub struct Proxy {
    pub running: Running,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

pub async fn proxy(config: Config) -> Proxy {
    let (sink, logs) = LogSink::memory();
    let running = start(config, Default::default(), sink).await.expect("proxy starts");
    let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    Proxy { running, logs, client }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl Proxy {
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap().iter().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Answer {
        let mut req = hyper::Request::builder().method(method).uri(format!("http://{}{}", self.running.addr(), path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self.client.request(req.body(Full::new(body.into())).unwrap()).await.expect("proxy answers");
        let (parts, body) = resp.into_parts();
        Answer { status: parts.status, headers: parts.headers, body: body.collect().await.unwrap().to_bytes() }
    }

    pub async fn chat(&self, key: &str, prompt: &str) -> Answer {
        let body = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": prompt}]}).to_string();
        self.send(
            "POST",
            "/v1/chat/completions",
            &[("authorization", &format!("Bearer {key}")), ("content-type", "application/json")],
            body,
        )
        .await
    }
}

pub fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

pub fn pack_copy(dir: &Path, version: &str, extra_rule: &str) {
    let src = weak_pack();
    std::fs::create_dir_all(dir.join("lexicons")).unwrap();
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    for f in ["lexicons/answer_format.txt", "lexicons/reveal.txt", "lexicons/sys_obj.txt", "cases/cases.toml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let toml = std::fs::read_to_string(src.join("pack.toml"))
        .unwrap()
        .replace("version = \"0.1.0\"", &format!("version = \"{version}\""));
    std::fs::write(dir.join("pack.toml"), format!("{toml}\n{extra_rule}")).unwrap();
}

pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "dg-proxy-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Replaces a file of a pack the proxy is watching the way a deploy should:
/// written beside the pack, then renamed into place. A plain write truncates
/// first, and a writer stalled between truncating and writing (a loaded
/// machine) shows the watcher an empty file that holds still.
pub fn replace_file(path: &Path, contents: &str) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "dg-proxy-{}-replace-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A raw TCP connection to `addr` that has sent `bytes` (for requests a
/// well-behaved client would not send).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connects");
    s.write_all(bytes).await.expect("writes");
    s
}

/// Everything the peer sends until it closes the connection, or `None`
/// when it is still open after `within`.
pub async fn read_to_close(s: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|_| String::from_utf8_lossy(&out).into_owned())
}

/// Polls `running`'s metrics until `needle` appears (at most 10 s).
pub async fn wait_for_metric(running: &Running, needle: &str) {
    for _ in 0..200 {
        if running.metrics().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {needle} in\n{}", running.metrics());
}

// ---------------------------------------------------------------- redis-server

/// A `redis-server` on a free loopback port, with no persistence, stopped
/// (killed) on drop. `kill` and `restart` take it down and bring it back
/// on the same port.
pub struct RedisServer {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let mut r = RedisServer { port: free_port().port(), child: None };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts it (again) and waits until it answers PING (at most 10 s).
    pub fn restart(&mut self) {
        let port = self.port.to_string();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (`cargo xtask setup` installs it)");
        self.child = Some(child);
        for _ in 0..200 {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {port} did not answer PING within 10 s");
    }

    fn ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// Kills it and waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A connection for the test's own look at the data.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection().unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------- haproxy

/// A real HAProxy on a free loopback port, round-robin over `backends`
/// (plain HTTP, each request balanced on its own), killed on drop.
pub struct Haproxy {
    pub addr: SocketAddr,
    child: std::process::Child,
    _dir: PathBuf,
}

impl Haproxy {
    pub fn start(backends: &[SocketAddr]) -> Haproxy {
        let addr = free_port();
        let dir = temp_dir("haproxy");
        std::fs::create_dir_all(&dir).unwrap();
        let servers: String = backends.iter().enumerate().map(|(i, b)| format!("  server node{i} {b}\n")).collect();
        let cfg = format!(
            "global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n\
             frontend fleet\n  bind {addr}\n  default_backend nodes\n\
             backend nodes\n  balance roundrobin\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let check = std::process::Command::new("haproxy").arg("-c").arg("-q").arg("-f").arg(&path).status();
        assert!(check.is_ok_and(|s| s.success()), "haproxy -c rejects {}", path.display());
        let child = std::process::Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("haproxy runs (`cargo xtask setup` installs it)");
        let h = Haproxy { addr, child, _dir: dir };
        for _ in 0..200 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return h;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("haproxy did not listen on {addr} within 10 s");
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
