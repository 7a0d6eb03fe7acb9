//! `distillguard serve`: an inline reverse proxy in front of an
//! OpenAI- or Anthropic-compatible API.
//!
//! Prompt-bearing requests (`POST /v1/chat/completions`, `/v1/completions`,
//! `/v1/responses`, `/v1/messages`) are read (up to a cap), their prompt
//! text extracted and classified by the wasm module on a pool of ready
//! instances, off the async reactor; the policy then forwards, flags or
//! blocks. Every other request, and every response (SSE included), is
//! streamed through untouched. A campaign tracker counts template
//! fingerprints per client; the pack is hot-reloaded when its files change
//! or on SIGHUP. See `docs/proxy.md`.
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! use distillguard_host::serve::{start, Config, LogSink};
//! let config = Config { upstream: "http://127.0.0.1:8000".into(), ..Config::default() };
//! let running = start(config, Default::default(), LogSink::Stderr).await?;
//! println!("proxy on {}", running.addr());
//! # Ok(()) }
//! ```

mod budget;
mod campaign;
mod config;
mod conn;
mod extract;
mod ident;
mod lane;
mod log;
mod memory;
mod metrics;
mod policy;
mod proxy;
mod reload;
mod store;

pub use campaign::{CampaignKind, CampaignTracker, Escalation, Observation};
pub use config::{BlockDetail, CampaignConfig, ClientsConfig, Config, Credential, FailMode, Mode, StoreKind};
pub use extract::{canonical_path, prompt_segments, Api, Route, Routing};
pub use ident::KeyedHash;
pub use ident::{identify, CredentialError, Identity};
pub use log::LogSink;
pub use reload::{build_engine, Engine};
pub use store::CampaignStore;

use crate::wasm::{HostLimits, WasmRuntime};
use anyhow::{Context, Result};
use axum::body::Body;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use metrics::Counter;
use proxy::{ClientSlots, Peer, Shared};
use serde_json::json;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Mutex as AsyncMutex, Semaphore};
use tokio::task::JoinHandle;

/// `distillguard serve` arguments. The global `--pack` overrides the
/// config's `pack`; the wasm limits (`--max-input`, `--fuel`...) apply; the
/// proxy always classifies with the wasm engine (`--engine` is ignored).
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Configuration file (TOML); see docs/proxy.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the config's `listen`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Upstream base URL (`http://host:port` or `https://host`), overriding the config's `upstream`.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
}

/// What `serve` takes from the CLI's global options.
#[derive(Clone, Debug, Default)]
pub struct ServeGlobal {
    /// `--pack`, overriding the config's `pack`.
    pub pack: Option<PathBuf>,
    /// Wasm limits (`--max-input`, `--max-memory-mib`, `--fuel`...).
    pub limits: HostLimits,
}

/// Runs the proxy until Ctrl-C / SIGTERM.
pub fn run(args: ServeArgs, global: ServeGlobal) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(u) = args.upstream {
        config.upstream = u;
    }
    if global.pack.is_some() {
        config.pack = global.pack;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let running = start(config, global.limits, LogSink::Stderr).await?;
        shutdown_signal().await;
        LogSink::Stderr.emit("info", "shutting_down", json!({"addr": running.addr().to_string()}));
        running.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// A proxy that is serving.
pub struct Running {
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    reloader: Arc<Reloader>,
    stop: watch::Sender<bool>,
    /// The listeners' tasks first, then the watchers'.
    servers: usize,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// The bound address (`listen` may have port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound admin address, when `admin_listen` is set.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Name and version of the pack serving now.
    pub fn pack(&self) -> (String, String) {
        let e = self.shared.engine();
        (e.name.clone(), e.version.clone())
    }

    /// Reloads the pack now (what SIGHUP does); `Err` says why the new
    /// pack was refused, and the old one keeps serving.
    pub async fn reload(&self) -> Result<()> {
        self.reloader.reload("request").await
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> String {
        self.shared.render_metrics()
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        for (i, t) in tasks.into_iter().enumerate() {
            if i < self.servers {
                let _ = tokio::time::timeout(Duration::from_secs(11), t).await;
            } else {
                t.abort();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Builds the pool for the configured pack, binds `config.listen` and
/// serves in the background (on the current tokio runtime), with the pack
/// watcher and the SIGHUP handler.
pub async fn start(config: Config, limits: HostLimits, log: LogSink) -> Result<Running> {
    config.validate()?;
    // Both lanes' instances stay in the pool.
    let limits = HostLimits { pool_size: config.pool_size + config.big_lane_slots, ..limits };
    let pack = config.pack.clone();
    // Both lanes' instances are made and warmed before serving.
    let pool_size = config.pool_size + config.big_lane_slots;
    let check_cases = config.check_cases;
    let disable = config.rules.disable.clone();
    let (runtime, engine) = tokio::task::spawn_blocking(move || -> Result<_> {
        let runtime = Arc::new(WasmRuntime::embedded(limits)?);
        let engine = build_engine(&runtime, pack.as_deref(), pool_size, check_cases, &disable).with_context(|| {
            format!(
                "cannot serve pack {}",
                pack.as_ref().map_or("(embedded default)".into(), |p| p.display().to_string())
            )
        })?;
        Ok((runtime, engine))
    })
    .await??;

    let hasher = match &config.clients.hash_key {
        Some(k) => KeyedHash::new(k.as_bytes()),
        None => KeyedHash::random(),
    };
    let allow = config.clients.allowlist.iter().map(|k| hasher.client(k.as_bytes())).collect();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(config.upstream_timeout()));
    connector.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector);
    let upstream: hyper::Uri = config.upstream.parse().context("upstream")?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let admin = match config.admin_listen {
        Some(a) => Some(tokio::net::TcpListener::bind(a).await.with_context(|| format!("cannot listen on {a}"))?),
        None => None,
    };
    let admin_addr = admin.as_ref().map(|l| l.local_addr()).transpose()?;
    let metrics = Arc::new(metrics::Metrics::new());
    let campaigns = CampaignStore::new(&config.campaign, metrics.clone(), log.clone())?;
    let shared = Arc::new(Shared {
        permits: Arc::new(Semaphore::new(config.pool_size)),
        big_permits: Arc::new(Semaphore::new(config.big_lane_slots)),
        budget: budget::BodyBudget::new(config.body_budget_bytes, config.big_lane_budget(), config.big_body_bytes),
        big_done: Default::default(),
        inflight: Semaphore::new(config.max_inflight),
        per_client: ClientSlots::new(config.max_inflight_per_client),
        reload_refused: RwLock::new(None),
        campaigns,
        runtime,
        engine: RwLock::new(Arc::new(engine)),
        client,
        upstream,
        hasher,
        allow,
        metrics,
        log: log.clone(),
        started: Instant::now(),
        config,
    });
    {
        let e = shared.engine();
        let c = &shared.config;
        log.emit(
            "info",
            "listening",
            json!({
                "addr": addr.to_string(),
                "admin_addr": admin_addr.map(|a| a.to_string()),
                "upstream": c.upstream,
                "mode": c.mode.as_str(),
                "fail": match c.fail { FailMode::Open => "open", FailMode::Closed => "closed" },
                "pack": format!("{} {}", e.name, e.version),
                "rules": e.rules,
                "pool_size": c.pool_size,
                "campaign": c.campaign.enabled,
                "campaign_store": match c.campaign.store { StoreKind::Memory => "memory", StoreKind::Redis => "redis" },
            }),
        );
    }

    let limits = conn::ConnLimits {
        max_connections: shared.config.max_connections,
        header_timeout: Config::secs(shared.config.header_timeout_secs),
        keepalive_timeout: Config::secs(shared.config.keepalive_timeout_secs),
        // The whole head: a few headers at the single-header cap.
        max_head_bytes: shared.config.max_header_bytes * 8,
    };
    let (stop, stopped) = watch::channel(false);
    let grace = Duration::from_secs(10);
    let main = Arc::new(App { shared: shared.clone(), admin: admin.is_none(), proxy: true });
    let mut tasks =
        vec![tokio::spawn(conn::serve(listener, main, limits.clone(), shared.metrics.clone(), stopped.clone(), grace))];
    if let Some(admin) = admin {
        let app = Arc::new(App { shared: shared.clone(), admin: true, proxy: false });
        tasks.push(tokio::spawn(conn::serve(admin, app, limits, shared.metrics.clone(), stopped, grace)));
    }
    let servers = tasks.len();
    if let Some(maintain) = shared.campaigns.maintain() {
        tasks.push(tokio::spawn(maintain));
        // Serve at once either way (counting locally until Redis answers),
        // but give a reachable Redis the time to connect first.
        let wait = Duration::from_millis(shared.config.campaign.redis_connect_timeout_ms);
        shared.campaigns.connected(wait).await;
    }
    tasks.push(tokio::spawn(trim_after_big_requests(shared.clone())));
    let reloader = Arc::new(Reloader { shared: shared.clone(), busy: AsyncMutex::new(()) });
    if let Some(path) = shared.config.pack.clone() {
        let r = reloader.clone();
        let every = Duration::from_secs_f64(shared.config.reload_poll_secs);
        tasks.push(tokio::spawn(async move { r.watch(path, every).await }));
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut hup) = signal(SignalKind::hangup()) {
            let r = reloader.clone();
            tasks.push(tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let _ = r.reload("SIGHUP").await;
                }
            }));
        }
    }
    Ok(Running { addr, admin_addr, shared, reloader, stop, servers, tasks })
}

/// Once a second, when big requests finished since the last look, gives
/// their memory back (see `memory.rs`).
async fn trim_after_big_requests(shared: Arc<Shared>) {
    let mut seen = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let done = shared.big_done.load(std::sync::atomic::Ordering::Relaxed);
        if done == seen {
            continue;
        }
        seen = done;
        let (engine, limit) = (shared.engine(), shared.config.retire_instance_memory_bytes);
        if let Ok(t) = tokio::task::spawn_blocking(move || memory::trim(&engine, limit)).await {
            if t.instances > 0 {
                shared.log.emit("info", "instances_retired", json!({"instances": t.instances, "above_bytes": limit}));
            }
            if let Some(e) = t.error {
                shared.log.emit("error", "instances_retire_failed", json!({"error": e}));
            }
        }
    }
}

/// What one listener answers: the admin pages, the proxy, or both.
struct App {
    shared: Arc<Shared>,
    admin: bool,
    proxy: bool,
}

impl conn::Service for App {
    fn call(
        self: Arc<Self>,
        mut req: Request<Body>,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(async move {
            let page = (req.method() == hyper::Method::GET || req.method() == hyper::Method::HEAD)
                .then(|| req.uri().path().to_string())
                .filter(|p| matches!(p.as_str(), "/healthz" | "/readyz" | "/metrics"));
            match (page, self.admin, self.proxy) {
                (Some(p), true, _) => match p.as_str() {
                    "/healthz" => healthz(&self.shared),
                    "/readyz" => readyz(&self.shared).await,
                    _ => metrics_page(&self.shared),
                },
                (_, _, true) => {
                    req.extensions_mut().insert(Peer(peer));
                    self.shared.clone().handle(req).await
                }
                _ => Response::builder().status(StatusCode::NOT_FOUND).body(Body::empty()).expect("valid response"),
            }
        })
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

/// Liveness: the process answers.
fn healthz(shared: &Shared) -> Response<Body> {
    let e = shared.engine();
    json_response(
        StatusCode::OK,
        json!({"status": "ok", "pack": {"name": e.name, "version": e.version}, "mode": shared.config.mode.as_str()}),
    )
}

/// Readiness: the upstream accepts a TCP connection (503 when it does not),
/// and the pack's state: `current`, or `stale` when the last reload was
/// refused (the previous pack still serves, so this alone is not 503).
async fn readyz(shared: &Shared) -> Response<Body> {
    let e = shared.engine();
    let refused = shared.reload_refused.read().expect("reload lock").clone();
    let upstream = probe(&shared.upstream).await;
    let mut pack =
        json!({"name": e.name, "version": e.version, "state": if refused.is_some() { "stale" } else { "current" }});
    if let Some(r) = refused {
        pack["last_reload_refused"] = r.into();
    }
    let mut up = json!({"url": shared.config.upstream, "reachable": upstream.is_ok()});
    if let Err(err) = upstream {
        up["error"] = err.into();
    }
    let ready = up["reachable"] == true;
    json_response(
        if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE },
        json!({"status": if ready { "ready" } else { "not_ready" }, "pack": pack, "upstream": up}),
    )
}

/// A TCP connection to the upstream within 2 s.
async fn probe(upstream: &hyper::Uri) -> Result<(), String> {
    let host = upstream.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = upstream.port_u16().unwrap_or(if upstream.scheme_str() == Some("https") { 443 } else { 80 });
    match tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("connect timed out after 2 s".into()),
    }
}

fn metrics_page(shared: &Shared) -> Response<Body> {
    Response::builder()
        .header("content-type", "text/plain; version=0.0.4")
        .body(Body::from(shared.render_metrics()))
        .expect("valid response")
}

/// Rebuilds and swaps the engine; one reload at a time.
struct Reloader {
    shared: Arc<Shared>,
    busy: AsyncMutex<()>,
}

impl Reloader {
    async fn reload(&self, why: &str) -> Result<()> {
        let _one = self.busy.lock().await;
        let Some(path) = self.shared.config.pack.clone() else {
            self.shared.log.emit(
                "info",
                "pack_reload_skipped",
                json!({"why": why, "reason": "serving the embedded default pack"}),
            );
            return Ok(());
        };
        let runtime = self.shared.runtime.clone();
        let pool_size = self.shared.config.pool_size + self.shared.config.big_lane_slots;
        let check_cases = self.shared.config.check_cases;
        let disable = self.shared.config.rules.disable.clone();
        let t = Instant::now();
        let p = path.clone();
        let built =
            tokio::task::spawn_blocking(move || build_engine(&runtime, Some(&p), pool_size, check_cases, &disable))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r);
        let old = self.shared.engine();
        match built {
            Ok(engine) => {
                let fields = json!({
                    "why": why, "path": path.display().to_string(),
                    "old": format!("{} {}", old.name, old.version),
                    "new": format!("{} {}", engine.name, engine.version),
                    "rules": engine.rules, "ms": t.elapsed().as_millis() as u64,
                });
                *self.shared.engine.write().expect("engine lock") = Arc::new(engine);
                *self.shared.reload_refused.write().expect("reload lock") = None;
                self.shared.metrics.inc1(Counter::PackReloads, "result", "ok");
                self.shared.log.emit("info", "pack_reloaded", fields);
                Ok(())
            }
            Err(e) => {
                self.shared.metrics.inc1(Counter::PackReloads, "result", "refused");
                *self.shared.reload_refused.write().expect("reload lock") = Some(format!("{e:#}"));
                self.shared.log.emit(
                    "error",
                    "pack_reload_refused",
                    json!({
                        "why": why, "path": path.display().to_string(),
                        "serving": format!("{} {}", old.name, old.version),
                        "reason": format!("{e:#}"),
                    }),
                );
                Err(e)
            }
        }
    }

    /// Polls the pack's stamp; reloads once it changed and then held still
    /// for one poll (so a half-written pack is not picked up).
    async fn watch(&self, path: PathBuf, every: Duration) {
        let p = path.clone();
        let mut current = tokio::task::spawn_blocking(move || reload::stamp(&p)).await.ok().flatten();
        let mut pending: Option<u64> = None;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let p = path.clone();
            let now = tokio::task::spawn_blocking(move || reload::stamp(&p)).await.ok().flatten();
            if now == current {
                pending = None;
                continue;
            }
            if pending.is_some() && pending == now {
                current = now;
                pending = None;
                let _ = self.reload("file changed").await;
            } else {
                pending = now;
            }
        }
    }
}
