//! The connection layer: the accept loop and each connection's limits.
//!
//! `axum::serve` runs connections with no timer, so it has no header-read
//! timeout, no idle timeout and no connection cap, and at the process's
//! file-descriptor limit its accept loop stalls. This loop serves each
//! connection with hyper's HTTP/1 server directly:
//!
//! - a header-read timeout (hyper's, which starts when the connection
//!   starts waiting for a request, so it also closes a connection that
//!   never sends one);
//! - an idle keep-alive timeout, enforced here;
//! - a cap on connections held at once. At the cap, the least recently
//!   active idle connection (between requests, or still sending its
//!   headers: a slowloris) is closed to make room, so a flood of idle
//!   connections cannot lock normal clients out; when every connection is
//!   busy with a request, the new one gets a short 503 and is closed;
//! - a cap on the size of the request head (`max_buf_size`), beside the
//!   per-header cap the request path applies.
//!
//! A connection counts as busy from the moment its request reaches the
//! service until the response body has been sent (an SSE stream is busy
//! until it ends), and is never evicted while busy.

use super::metrics::{Counter, Metrics};
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};

/// Limits of the connection layer.
#[derive(Clone, Debug)]
pub struct ConnLimits {
    /// Connections held at once.
    pub max_connections: usize,
    /// Time for a request's headers, from when the connection waits for them.
    pub header_timeout: Duration,
    /// Idle time after which a keep-alive connection is closed.
    pub keepalive_timeout: Duration,
    /// Largest request head hyper buffers (all headers together).
    pub max_head_bytes: usize,
}

/// Something that answers requests.
pub trait Service: Send + Sync + 'static {
    /// Answers one request from `peer`.
    fn call(
        self: Arc<Self>,
        req: Request<Body>,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
}

struct ConnState {
    busy: AtomicUsize,
    /// Milliseconds since `epoch` of the last time it went idle.
    idle_since: AtomicU64,
    evict: Notify,
}

/// Connections held now.
struct Registry {
    epoch: Instant,
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<ConnState>>>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Makes room for one more connection: true when under the cap or an
    /// idle connection was told to close.
    fn make_room(&self, cap: usize) -> Result<bool, ()> {
        let mut conns = self.conns.lock().expect("registry lock");
        if conns.len() < cap {
            return Ok(false);
        }
        let idle = conns
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, c)| c.idle_since.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match idle {
            Some(id) => {
                let c = conns.remove(&id).expect("present");
                c.evict.notify_one();
                Ok(true)
            }
            None => Err(()),
        }
    }
}

/// Marks a connection busy while alive.
struct Busy(Arc<ConnState>, Arc<Registry>);

impl Busy {
    fn new(state: &Arc<ConnState>, reg: &Arc<Registry>) -> Busy {
        state.busy.fetch_add(1, Ordering::AcqRel);
        Busy(state.clone(), reg.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since.store(self.1.now_ms(), Ordering::Relaxed);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `listener` until `stop` turns true; then lets connections finish
/// their requests (up to `grace`).
pub async fn serve<S: Service>(
    listener: TcpListener,
    service: Arc<S>,
    limits: ConnLimits,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let reg = Arc::new(Registry { epoch: Instant::now(), next: AtomicU64::new(0), conns: Mutex::new(HashMap::new()) });
    // Refusals write a few bytes and close; bounded so they cannot become
    // the flood themselves.
    let refusing = Arc::new(Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            a = listener.accept() => a,
        };
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(_) => {
                // Out of file descriptors (or a connection reset before it
                // was accepted): pause briefly rather than spin, then go on.
                metrics.inc1(Counter::Connections, "event", "accept_error");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match reg.make_room(limits.max_connections) {
            Ok(evicted) => {
                if evicted {
                    metrics.inc1(Counter::Connections, "event", "evicted");
                }
            }
            Err(()) => {
                metrics.inc1(Counter::Connections, "event", "refused");
                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(permit);
                    });
                }
                continue;
            }
        }
        metrics.inc1(Counter::Connections, "event", "accepted");
        let id = reg.next.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState {
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(reg.now_ms()),
            evict: Notify::new(),
        });
        reg.conns.lock().expect("registry lock").insert(id, state.clone());
        tasks.spawn(connection(
            stream,
            peer,
            id,
            state,
            reg.clone(),
            service.clone(),
            limits.clone(),
            metrics.clone(),
            stop.clone(),
        ));
    }
    drop(listener);
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

#[allow(clippy::too_many_arguments)]
async fn connection<S: Service>(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    state: Arc<ConnState>,
    reg: Arc<Registry>,
    service: Arc<S>,
    limits: ConnLimits,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let (st, rg) = (state.clone(), reg.clone());
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let busy = Busy::new(&st, &rg);
        let service = service.clone();
        async move {
            let resp = service.call(req.map(Body::new), peer).await;
            // Busy until the response body is sent or dropped: the guard
            // lives in the body's error mapper.
            Ok::<_, Infallible>(resp.map(|b| {
                Body::new(b.map_err(move |e| {
                    let _ = &busy;
                    e
                }))
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let left = if state.busy.load(Ordering::Acquire) > 0 {
            limits.keepalive_timeout
        } else {
            let idle_for = reg.now_ms().saturating_sub(state.idle_since.load(Ordering::Relaxed));
            limits.keepalive_timeout.saturating_sub(Duration::from_millis(idle_for))
        };
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = state.evict.notified() => {
                if state.busy.load(Ordering::Acquire) == 0 {
                    break;
                }
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(left) => {
                let idle_for = reg.now_ms().saturating_sub(state.idle_since.load(Ordering::Relaxed));
                if state.busy.load(Ordering::Acquire) == 0 && Duration::from_millis(idle_for) >= limits.keepalive_timeout {
                    metrics.inc1(Counter::Connections, "event", "idle_timeout");
                    break;
                }
            }
        }
    }
    reg.conns.lock().expect("registry lock").remove(&id);
}

/// A 503 for a connection over the cap: written at once, then the
/// connection is drained briefly (so the client reads the answer rather
/// than a reset) and closed.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"error":{"message":"distillguard has too many open connections; retry later","type":"server_error","param":null,"code":"distillguard_connections"}}"#;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nx-distillguard-error: distillguard_connections\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(BODY.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut total = 0;
        while total < 64 * 1024 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}
