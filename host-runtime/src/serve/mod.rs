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

mod campaign;
mod config;
mod extract;
mod ident;
mod log;
mod metrics;
mod policy;
mod proxy;
mod reload;

pub use campaign::{CampaignKind, CampaignTracker, Escalation, Observation};
pub use config::{CampaignConfig, ClientsConfig, Config, FailMode, Mode};
pub use extract::{prompt_segments, Api, Route};
pub use ident::KeyedHash;
pub use log::LogSink;
pub use reload::{build_engine, Engine};

use crate::wasm::{HostLimits, WasmRuntime};
use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use proxy::Shared;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Mutex as AsyncMutex, Semaphore};
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
    shared: Arc<Shared>,
    reloader: Arc<Reloader>,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// The bound address (`listen` may have port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let mut tasks = std::mem::take(&mut self.tasks);
        if let Some(server) = tasks.first_mut() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
        for t in tasks {
            t.abort();
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
    let limits = HostLimits { pool_size: config.pool_size, ..limits };
    let pack = config.pack.clone();
    let pool_size = config.pool_size;
    let check_cases = config.check_cases;
    let (runtime, engine) = tokio::task::spawn_blocking(move || -> Result<_> {
        let runtime = Arc::new(WasmRuntime::embedded(limits)?);
        let engine = build_engine(&runtime, pack.as_deref(), pool_size, check_cases).with_context(|| {
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
    let shared = Arc::new(Shared {
        permits: Semaphore::new(config.pool_size),
        inflight: Semaphore::new(config.max_inflight),
        campaigns: CampaignTracker::new(config.campaign.clone()),
        runtime,
        engine: RwLock::new(Arc::new(engine)),
        client,
        upstream,
        hasher,
        allow,
        metrics: metrics::Metrics::new(),
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
                "upstream": c.upstream,
                "mode": c.mode.as_str(),
                "fail": match c.fail { FailMode::Open => "open", FailMode::Closed => "closed" },
                "pack": format!("{} {}", e.name, e.version),
                "rules": e.rules,
                "pool_size": c.pool_size,
                "campaign": c.campaign.enabled,
            }),
        );
    }

    let app = axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_page))
        .fallback(proxy_handler)
        .with_state(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    let reloader = Arc::new(Reloader { shared: shared.clone(), busy: AsyncMutex::new(()) });
    let mut tasks = vec![server];
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
    Ok(Running { addr, shared, reloader, stop: Some(stop), tasks })
}

async fn proxy_handler(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    shared.handle(req).await
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let e = shared.engine();
    let body =
        json!({"status": "ok", "pack": {"name": e.name, "version": e.version}, "mode": shared.config.mode.as_str()});
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

async fn metrics_page(State(shared): State<Arc<Shared>>) -> Response {
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
        let pool_size = self.shared.config.pool_size;
        let check_cases = self.shared.config.check_cases;
        let t = Instant::now();
        let p = path.clone();
        let built = tokio::task::spawn_blocking(move || build_engine(&runtime, Some(&p), pool_size, check_cases))
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
                self.shared.metrics.inc1("distillguard_pack_reloads_total", "result", "ok");
                self.shared.log.emit("info", "pack_reloaded", fields);
                Ok(())
            }
            Err(e) => {
                self.shared.metrics.inc1("distillguard_pack_reloads_total", "result", "refused");
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
