//! The request path: read and classify prompt-bearing requests, decide,
//! forward everything else as a stream.

use super::budget::{BodyBudget, Charge, Held, Over};
use super::campaign::{Escalation, Observation};
use super::config::{BlockDetail, Config, FailMode, Mode};
use super::extract::{self, Api, Route, Routing};
use super::ident::{self, ClientId, KeyedHash};
use super::lane;
use super::log::LogSink;
use super::metrics::{escape, Counter, Metrics};
use super::policy::{self, Decision};
use super::reload::Engine;
use super::store::CampaignStore;
use crate::wasm::WasmRuntime;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use distillguard::{Role, Segment, Verdict};
use http_body_util::BodyExt;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Everything the request path shares.
pub struct Shared {
    pub(crate) config: Config,
    pub(crate) runtime: Arc<WasmRuntime>,
    pub(crate) engine: RwLock<Arc<Engine>>,
    /// Why the last reload was refused, while the pack it left serving is stale.
    pub(crate) reload_refused: RwLock<Option<String>>,
    /// The small lane's classification slots (`pool_size`).
    pub(crate) permits: Arc<Semaphore>,
    /// The big lane's (`big_lane_slots`). Both are held by the thread that
    /// does the work, so a client that goes away cannot free a slot
    /// while its work still runs.
    pub(crate) big_permits: Arc<Semaphore>,
    /// Bytes of bodies held, in all and by big requests.
    pub(crate) budget: BodyBudget,
    /// Big requests classified so far (the memory trim runs after them).
    pub(crate) big_done: AtomicU64,
    pub(crate) inflight: Semaphore,
    pub(crate) per_client: ClientSlots,
    pub(crate) client: Client<HttpsConnector<HttpConnector>, Body>,
    pub(crate) upstream: Uri,
    pub(crate) hasher: KeyedHash,
    pub(crate) allow: HashSet<ClientId>,
    pub(crate) campaigns: CampaignStore,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) log: LogSink,
    pub(crate) started: Instant,
}

/// The peer of a request's connection (an extension set by the server).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

/// What one request's log line says beyond the basics.
#[derive(Default)]
struct Record {
    route: &'static str,
    client: Option<ClientId>,
    prompt_len: Option<usize>,
    prompt_hash: Option<String>,
    prompt: Option<String>,
    verdict: Option<(Verdict, Decision)>,
    classify: Option<Duration>,
    upstream: Option<Duration>,
    note: Option<String>,
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A request's prompt, read from its body.
struct Prepared {
    segments: Vec<(Role, String)>,
    text_len: usize,
    mac: [u8; 32],
    text: Option<String>,
}

/// Every answer the proxy gives instead of the upstream's, with its status,
/// code, counter and message in one place.
#[derive(Debug)]
pub(crate) enum Reject {
    /// A request header over `max_header_bytes`.
    HeaderTooLarge { limit: usize },
    /// An encoded slash or a backslash that would name a classified route.
    EncodedSlash,
    /// `max_inflight` reached.
    Overloaded,
    /// The bodies held would go over `body_budget_bytes` or `big_lane_budget_bytes`.
    BodyBudget(Over),
    /// This client's share of `max_inflight` reached.
    ClientOverloaded { limit: usize },
    /// Body over `max_body_bytes`.
    TooLarge { cap: usize },
    /// Compressed body on a classified route.
    Encoded,
    /// The whole body took longer than `body_timeout_secs`.
    BodyTimeout { secs: f64 },
    /// Nothing arrived for `body_read_timeout_secs`.
    BodyReadTimeout { secs: f64 },
    /// The body could not be read (a malformed chunk, a reset).
    BadBody(String),
    /// The body is not a request of its API.
    Malformed(String),
    /// Classifier error with `fail = "closed"`.
    Unavailable,
    /// Credential headers repeated or in conflict.
    Credentials(String),
    /// The campaign store did not answer and `[campaign].fail = "closed"`.
    StoreUnavailable,
    /// The path cannot be forwarded.
    BadPath,
    /// No upstream response headers in time.
    UpstreamTimeout { secs: f64 },
    /// The upstream could not be reached (the detail is logged, not sent).
    UpstreamUnreachable { kind: &'static str, detail: String },
}

impl Reject {
    /// Status, error code, the counter and its label, the client message.
    fn parts(&self) -> (StatusCode, &'static str, Counter, (&'static str, &'static str), String) {
        use Counter::{Blocked, Rejected, UpstreamErrors};
        match self {
            Reject::HeaderTooLarge { limit } => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "distillguard_header_too_large",
                Rejected,
                ("reason", "header_too_large"),
                format!("a request header is larger than the proxy's cap of {limit} bytes"),
            ),
            Reject::EncodedSlash => (
                StatusCode::BAD_REQUEST,
                "distillguard_bad_path",
                Rejected,
                ("reason", "encoded_slash"),
                "an encoded slash or a backslash in the path of a classified route is not accepted".into(),
            ),
            Reject::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "distillguard_overloaded",
                Rejected,
                ("reason", "overloaded"),
                "distillguard has too many requests in flight; retry later".into(),
            ),
            Reject::BodyBudget(Over::All { limit }) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "distillguard_overloaded",
                Rejected,
                ("reason", "body_budget"),
                format!("distillguard already holds its budget of {limit} bytes of request bodies; retry later"),
            ),
            Reject::BodyBudget(Over::BigLane { limit }) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "distillguard_overloaded",
                Rejected,
                ("reason", "big_lane_budget"),
                format!("distillguard already holds its budget of {limit} bytes of large request bodies; retry later"),
            ),
            Reject::ClientOverloaded { limit } => (
                StatusCode::TOO_MANY_REQUESTS,
                "distillguard_client_overloaded",
                Rejected,
                ("reason", "client_overloaded"),
                format!("this client already has {limit} requests being read or classified; retry later"),
            ),
            Reject::TooLarge { cap } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "distillguard_body_too_large",
                Rejected,
                ("reason", "too_large"),
                format!("the request body is larger than the proxy's cap of {cap} bytes"),
            ),
            Reject::Encoded => (
                StatusCode::BAD_REQUEST,
                "distillguard_unsupported_encoding",
                Rejected,
                ("reason", "encoded"),
                "compressed request bodies are not supported on this route; send plain JSON".into(),
            ),
            Reject::BodyTimeout { secs } => (
                StatusCode::REQUEST_TIMEOUT,
                "distillguard_body_timeout",
                Rejected,
                ("reason", "body_timeout"),
                format!("the request body did not arrive within {secs} s"),
            ),
            Reject::BodyReadTimeout { secs } => (
                StatusCode::REQUEST_TIMEOUT,
                "distillguard_body_timeout",
                Rejected,
                ("reason", "body_read_timeout"),
                format!("nothing of the request body arrived for {secs} s"),
            ),
            Reject::BadBody(e) => (
                StatusCode::BAD_REQUEST,
                "distillguard_bad_body",
                Rejected,
                ("reason", "body_read"),
                format!("cannot read the request body: {e}"),
            ),
            Reject::Malformed(m) => (
                StatusCode::BAD_REQUEST,
                "distillguard_malformed_request",
                Rejected,
                ("reason", "malformed"),
                m.clone(),
            ),
            Reject::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "distillguard_unavailable",
                Blocked,
                ("reason", "classifier_error"),
                "distillguard could not classify this request and is configured to fail closed; retry later".into(),
            ),
            Reject::Credentials(m) => (
                StatusCode::BAD_REQUEST,
                "distillguard_bad_credentials",
                Rejected,
                ("reason", "credentials"),
                format!("{m}: the proxy and the upstream must see the same client"),
            ),
            Reject::StoreUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "distillguard_unavailable",
                Blocked,
                ("reason", "campaign_store"),
                "distillguard could not reach its campaign store and is configured to fail closed; retry later".into(),
            ),
            Reject::BadPath => (
                StatusCode::BAD_REQUEST,
                "distillguard_bad_path",
                Rejected,
                ("reason", "bad_path"),
                "the request path cannot be forwarded".into(),
            ),
            Reject::UpstreamTimeout { secs } => (
                StatusCode::GATEWAY_TIMEOUT,
                "distillguard_upstream_timeout",
                UpstreamErrors,
                ("kind", "timeout"),
                format!("the upstream did not answer within {secs} s"),
            ),
            Reject::UpstreamUnreachable { kind, .. } => (
                StatusCode::BAD_GATEWAY,
                "distillguard_upstream_unreachable",
                UpstreamErrors,
                ("kind", kind),
                "the upstream API could not be reached".into(),
            ),
        }
    }

    /// Counts it, notes it in the request's log line and answers in the API's shape.
    fn respond(self, shared: &Shared, api: Api, rec: &mut Record) -> Response<Body> {
        let (status, code, counter, (key, value), message) = self.parts();
        shared.metrics.inc1(counter, key, value);
        rec.note = Some(match &self {
            Reject::UpstreamUnreachable { detail, .. } => format!("upstream error: {detail}"),
            _ => message.clone(),
        });
        let mut r = error_response(api, status, code, &message);
        // The rest of the body is never read, so the connection cannot be
        // reused: say so, or a keep-alive client sends its next request on a
        // connection that is about to close (found by the soak test).
        if matches!(
            self,
            Reject::TooLarge { .. }
                | Reject::Overloaded
                | Reject::ClientOverloaded { .. }
                | Reject::BodyTimeout { .. }
                | Reject::BodyReadTimeout { .. }
                | Reject::HeaderTooLarge { .. }
        ) {
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if matches!(self, Reject::Overloaded | Reject::BodyBudget(_)) {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

/// Per-client shares of `max_inflight`.
pub(crate) struct ClientSlots {
    limit: usize,
    held: Mutex<HashMap<ClientId, usize>>,
}

/// One slot of one client, given back on drop.
pub(crate) struct ClientSlot<'a> {
    slots: &'a ClientSlots,
    client: ClientId,
}

impl ClientSlots {
    pub(crate) fn new(limit: usize) -> ClientSlots {
        ClientSlots { limit, held: Mutex::new(HashMap::new()) }
    }

    fn take(&self, client: ClientId) -> Option<ClientSlot<'_>> {
        let mut held = self.held.lock().expect("slots lock");
        let n = held.entry(client).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(ClientSlot { slots: self, client })
    }
}

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().expect("slots lock");
        if let Some(n) = held.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.client);
            }
        }
    }
}

impl Shared {
    /// The engine serving now.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.read().expect("engine lock").clone()
    }

    /// Handles one proxied request.
    pub async fn handle(self: Arc<Self>, req: Request<Body>) -> Response<Body> {
        let start = Instant::now();
        let (mut parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let method = parts.method.clone();
        let mut rec = Record::default();
        let response = match self.route(&mut parts) {
            Err((api, reject)) => {
                rec.route = "other";
                self.metrics.inc1(Counter::Requests, "route", "other");
                reject.respond(&self, api, &mut rec)
            }
            Ok(None) => {
                rec.route = "other";
                self.metrics.inc1(Counter::Requests, "route", "other");
                let api = guess_api(&path, &parts.headers);
                self.forward(parts, body, None, api, &mut rec).await
            }
            Ok(Some(route)) => {
                rec.route = route.as_str();
                self.metrics.inc1(Counter::Requests, "route", route.as_str());
                self.classified(route, parts, body, &mut rec).await
            }
        };
        if self.config.log_requests || response.status().is_server_error() {
            self.log_request(&method, &path, &response, &rec, start);
        }
        response
    }

    /// Checks the headers, makes the path canonical (the upstream receives
    /// it) and says which classified route, if any, the request is for.
    fn route(&self, parts: &mut hyper::http::request::Parts) -> Result<Option<Route>, (Api, Reject)> {
        let guess = guess_api(parts.uri.path(), &parts.headers);
        let limit = self.config.max_header_bytes;
        if parts.headers.iter().any(|(k, v)| k.as_str().len() + v.len() > limit) {
            return Err((guess, Reject::HeaderTooLarge { limit }));
        }
        let (route, path) = match Routing::of(parts.uri.path()) {
            Routing::EncodedSlash => return Err((guess, Reject::EncodedSlash)),
            Routing::Classified { route, path } => (Some(route), path),
            Routing::Other { path } => (None, path),
        };
        let pq = match parts.uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        parts.uri = Uri::builder()
            .path_and_query(pq)
            .build()
            .map_err(|_| (route.map_or(guess, Route::api), Reject::BadPath))?;
        Ok(route)
    }

    /// The id a request's share of `max_inflight` is counted under: its
    /// client key, else its peer's IP address.
    fn share_key(&self, client: Option<ClientId>, parts: &hyper::http::request::Parts) -> ClientId {
        client.unwrap_or_else(|| {
            let ip = parts.extensions.get::<Peer>().map(|p| p.0.ip().to_string()).unwrap_or_default();
            self.hasher.client(format!("ip:{ip}").as_bytes())
        })
    }

    /// Reads a classified request's body: at most `max_body_bytes`, within
    /// `body_timeout_secs` in all and `body_read_timeout_secs` between reads.
    /// Every byte is charged to the body budget before it is kept.
    async fn read_body(&self, body: &mut Body, charge: &mut Charge, declared: usize) -> Result<Bytes, Reject> {
        let c = &self.config;
        let cap = c.max_body_bytes;
        let whole = tokio::time::sleep(Config::secs(c.body_timeout_secs));
        tokio::pin!(whole);
        // The declared length is charged already: room for it at once, no regrowing.
        let mut buf = BytesMut::with_capacity(declared.min(cap));
        loop {
            let frame = tokio::select! {
                _ = &mut whole => return Err(Reject::BodyTimeout { secs: c.body_timeout_secs }),
                f = tokio::time::timeout(Config::secs(c.body_read_timeout_secs), body.frame()) => f,
            };
            match frame {
                Err(_) => return Err(Reject::BodyReadTimeout { secs: c.body_read_timeout_secs }),
                Ok(None) => return Ok(buf.freeze()),
                Ok(Some(Err(e))) => return Err(Reject::BadBody(e.to_string())),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if buf.len() + data.len() > cap {
                            return Err(Reject::TooLarge { cap });
                        }
                        self.budget.grow(charge, buf.len() + data.len()).map_err(Reject::BodyBudget)?;
                        buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    async fn classified(
        self: &Arc<Self>,
        route: Route,
        parts: hyper::http::request::Parts,
        body: Body,
        rec: &mut Record,
    ) -> Response<Body> {
        let api = route.api();
        let (client, source) = match ident::identify(&parts.headers, api, &self.config.clients) {
            Ok(who) => (
                who.client.map(|k| self.hasher.client(k)),
                who.source.map(|s| self.hasher.client(&[b"source:", s].concat())),
            ),
            Err(e) => return Reject::Credentials(e.to_string()).respond(self, api, rec),
        };
        rec.client = client;
        // Held while the body is read and classified, released before the
        // upstream is waited on (that can take minutes).
        let Ok(inflight) = self.inflight.try_acquire() else {
            return Reject::Overloaded.respond(self, api, rec);
        };
        let Some(share) = self.per_client.take(self.share_key(client, &parts)) else {
            return Reject::ClientOverloaded { limit: self.config.max_inflight_per_client }.respond(self, api, rec);
        };
        let cap = self.config.max_body_bytes;
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > cap as u64) {
            return Reject::TooLarge { cap }.respond(self, api, rec);
        }
        if parts.headers.get(header::CONTENT_ENCODING).is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Reject::Encoded.respond(self, api, rec);
        }
        let mut body = body;
        let mut charge = self.budget.start();
        // A declared length is charged before a byte is read, so a body
        // over the budget is refused at once.
        let declared = declared.map_or(0, |n| n as usize);
        if let Err(over) = self.budget.grow(&mut charge, declared) {
            return self.refuse_unread(Reject::BodyBudget(over), body, api, rec);
        }
        let bytes = match self.read_body(&mut body, &mut charge, declared).await {
            Ok(b) => b,
            Err(reject @ Reject::BodyBudget(_)) => return self.refuse_unread(reject, body, api, rec),
            Err(reject) => return reject.respond(self, api, rec),
        };
        drop((share, body));
        let big = charge.is_big();
        // A route's other methods (OpenAI's `GET /v1/chat/completions`
        // lists stored completions) carry no prompt when they carry no body.
        if bytes.is_empty() && parts.method != hyper::Method::POST {
            rec.note = Some(format!("{} without a body: nothing to classify", parts.method));
            drop(inflight);
            return self.forward(parts, Body::new(Held::new(bytes, charge)), None, api, rec).await;
        }
        if client.is_some_and(|c| self.allow.contains(&c)) {
            self.metrics.inc1(Counter::Allowlisted, "route", route.as_str());
            rec.note = Some("allowlisted".into());
            drop(inflight);
            return self.forward(parts, Body::new(Held::new(bytes, charge)), None, api, rec).await;
        }
        // A big request's whole work (parsing and hashing megabytes takes
        // tens of milliseconds, classifying them hundreds) runs in the big
        // lane, off the reactor, one lane slot held throughout.
        let mut lane_slot = None;
        let prepared = if big {
            let slot = match self.big_permits.clone().acquire_owned().await {
                Ok(p) => p,
                Err(e) => return Reject::BadBody(e.to_string()).respond(self, api, rec),
            };
            let (me, b) = (self.clone(), bytes.clone());
            match lane::run(slot, move || me.prepare(&b)).await {
                Ok((p, slot)) => {
                    lane_slot = Some(slot);
                    p
                }
                Err(e) => Err(Reject::Malformed(format!("cannot read the request: {e}"))),
            }
        } else {
            self.prepare(&bytes)
        };
        let Prepared { segments, text_len, mac, text } = match prepared {
            Ok(p) => p,
            Err(reject) => return reject.respond(self, api, rec),
        };
        rec.prompt_len = Some(text_len);
        rec.prompt_hash = Some(ident::hex(&mac[..8]));
        let prompt_hash = u64::from_le_bytes(mac[..8].try_into().expect("8 bytes"));
        rec.prompt = text;
        if text_len == 0 {
            rec.note = Some("no prompt text".into());
            drop(inflight);
            return self.forward(parts, Body::new(Held::new(bytes, charge)), None, api, rec).await;
        }

        let t = Instant::now();
        let result = self.classify(segments, lane_slot).await;
        if big {
            self.big_done.fetch_add(1, Ordering::Relaxed);
        }
        let took = t.elapsed();
        drop(inflight);
        rec.classify = Some(took);
        self.metrics.classify.observe(took);
        let (verdict, threshold) = match result {
            Ok(v) => v,
            Err(e) => {
                self.metrics.inc1(Counter::ClassifierErrors, "fail", fail_str(self.config.fail));
                let note = format!("classifier error: {e}");
                return match self.config.fail {
                    FailMode::Open => {
                        rec.note = Some(note);
                        self.forward(parts, Body::new(Held::new(bytes, charge)), None, api, rec).await
                    }
                    FailMode::Closed => {
                        let r = Reject::Unavailable.respond(self, api, rec);
                        rec.note = Some(note);
                        r
                    }
                };
            }
        };

        let tripped = policy::tripped(&verdict, &self.config, threshold);
        let rules: Vec<String> = verdict.evidence.iter().map(|e| e.rule.clone()).collect();
        // The client and the edge's source are counted apart, each as a
        // client of its own, in one round trip to a shared store.
        let ids: Vec<ClientId> = client.into_iter().chain(source).collect();
        let observation = Observation {
            client: ids.first().copied().unwrap_or_default(),
            fingerprint: &verdict.fingerprint,
            score: verdict.score,
            rules: &rules,
            extraction: !tripped.is_empty(),
            prompt_hash,
        };
        let escalation = match self.campaigns.observe(&ids, observation).await {
            Ok(e) => e,
            Err(_) => return Reject::StoreUnavailable.respond(self, api, rec),
        };
        if let Some(e) = escalation.as_ref().filter(|e| e.new) {
            self.metrics.inc1(Counter::CampaignEscalations, "kind", e.kind.as_str());
            self.log_escalation(e, client.as_ref());
        }
        if let Some(e) = &escalation {
            self.metrics.inc1(Counter::CampaignRequests, "kind", e.kind.as_str());
        }
        let decision = policy::decide(tripped, escalation, &self.config);
        self.count_verdict(&verdict, &decision);

        let response = match decision.action {
            Some(Mode::Block) => {
                let reason = if decision.tripped.is_empty() { "campaign" } else { "prompt" };
                self.metrics.inc1(Counter::Blocked, "reason", reason);
                self.metrics.inc1(Counter::Actions, "action", "block");
                blocked_response(api, &verdict, &decision, self.config.block_detail)
            }
            action => {
                let flagged = self.config.mode == Mode::Flag || action == Some(Mode::Flag);
                self.metrics.inc1(
                    Counter::Actions,
                    "action",
                    match action {
                        Some(Mode::Flag) => "flag",
                        Some(_) => "monitor",
                        None => "forward",
                    },
                );
                let extra = flagged.then(|| flag_headers(&verdict, &decision));
                self.forward(parts, Body::new(Held::new(bytes, charge)), extra, api, rec).await
            }
        };
        rec.verdict = Some((verdict, decision));
        response
    }

    /// The prompt of a request body: its segments, and the length and
    /// keyed hash of their text (with the text itself when prompts are logged).
    fn prepare(&self, bytes: &[u8]) -> Result<Prepared, Reject> {
        let segments = extract::prompt_segments(bytes).map_err(|extract::Malformed(m)| Reject::Malformed(m))?;
        // What the prompt hash and the prompt log see: every part, in order.
        let text = segments.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n\n");
        let mac = self.hasher.mac(text.as_bytes());
        Ok(Prepared { segments, text_len: text.len(), mac, text: self.config.log_prompts.then_some(text) })
    }

    /// Answers a request whose body was not (all) read, and reads the rest
    /// of the body in the background, discarding it, so the client gets the
    /// answer rather than a reset, and can keep its connection. A body that
    /// goes on past `max_body_bytes` or the body timeouts is dropped, which
    /// closes the connection.
    fn refuse_unread(self: &Arc<Self>, reject: Reject, mut body: Body, api: Api, rec: &mut Record) -> Response<Body> {
        let c = &self.config;
        let (cap, whole, each) =
            (c.max_body_bytes, Config::secs(c.body_timeout_secs), Config::secs(c.body_read_timeout_secs));
        tokio::spawn(async move {
            let _ = tokio::time::timeout(whole, async {
                let mut seen = 0usize;
                while let Ok(Some(Ok(frame))) = tokio::time::timeout(each, body.frame()).await {
                    seen += frame.data_ref().map_or(0, |d| d.len());
                    if seen > cap {
                        break;
                    }
                }
            })
            .await;
        });
        reject.respond(self, api, rec)
    }

    /// Classifies off the reactor: a big request (`big_slot`: its big-lane
    /// slot) on a big-lane thread, a small one on the blocking pool in the
    /// small lane (at most `pool_size` at once). The slot goes with the work.
    async fn classify(
        &self,
        segments: Vec<(Role, String)>,
        big_slot: Option<OwnedSemaphorePermit>,
    ) -> Result<(Verdict, f64), String> {
        let engine = self.engine();
        let threshold = engine.threshold;
        let cap = self.runtime.limits().max_input_bytes;
        let work = move || -> Result<Verdict, String> {
            let run = |segs: &[Segment<'_>]| -> Result<Verdict, String> {
                let json = engine.classifier.classify_segments_json(segs).map_err(|e| e.to_string())?;
                serde_json::from_str(&json).map_err(|e| format!("verdict does not parse: {e}"))
            };
            let total: usize = segments.iter().map(|(_, t)| t.len() + 5).sum();
            if total <= cap {
                let segs: Vec<Segment<'_>> = segments.iter().map(|(r, t)| Segment::new(*r, t)).collect();
                return run(&segs);
            }
            // A prompt above the guest's input cap is classified in batches
            // of whole segments up to the cap, a segment above it in
            // overlapping windows, and the highest-scoring verdict kept, so
            // padding a prompt cannot push it past the classifier and many
            // small strings cost few calls.
            let mut best: Option<Verdict> = None;
            let mut keep = |v: Verdict| {
                if best.as_ref().is_none_or(|b| v.score > b.score) {
                    best = Some(v);
                }
            };
            let mut batch: Vec<Segment<'_>> = Vec::new();
            let mut batch_len = 0;
            for (role, text) in &segments {
                if text.len() + 5 > cap {
                    for window in windows(text, cap.saturating_sub(5).max(1)) {
                        keep(run(&[Segment::new(*role, window)])?);
                    }
                    continue;
                }
                if batch_len + text.len() + 5 > cap {
                    keep(run(&batch)?);
                    batch.clear();
                    batch_len = 0;
                }
                batch.push(Segment::new(*role, text));
                batch_len += text.len() + 5;
            }
            if !batch.is_empty() {
                keep(run(&batch)?);
            }
            best.ok_or_else(|| "nothing to classify".to_string())
        };
        let verdict = match big_slot {
            Some(slot) => lane::run(slot, work).await?.0,
            None => {
                let slot = self.permits.clone().acquire_owned().await.map_err(|e| e.to_string())?;
                tokio::task::spawn_blocking(move || {
                    let _slot = slot;
                    work()
                })
                .await
                .map_err(|e| format!("classifier task failed: {e}"))?
            }
        }?;
        Ok((verdict, threshold))
    }

    /// Sends the request upstream (the body as given: buffered bytes or the
    /// client's stream) and streams the response back. Hop-by-hop headers
    /// and any client-sent `x-distillguard-*` header are removed first, and
    /// only then are the proxy's own verdict headers (`extra`) added.
    async fn forward(
        self: &Arc<Self>,
        mut parts: hyper::http::request::Parts,
        body: Body,
        extra: Option<HeaderMap>,
        api: Api,
        rec: &mut Record,
    ) -> Response<Body> {
        let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let base = self.upstream.path().trim_end_matches('/');
        let uri = Uri::builder()
            .scheme(self.upstream.scheme_str().unwrap_or("http"))
            .authority(self.upstream.authority().expect("validated").as_str())
            .path_and_query(format!("{base}{pq}"))
            .build();
        let Ok(uri) = uri else {
            return Reject::BadPath.respond(self, api, rec);
        };
        let path = parts.uri.path().to_string();
        parts.uri = uri;
        parts.version = hyper::Version::HTTP_11;
        strip_hop_by_hop(&mut parts.headers);
        // Only the proxy may speak for itself to the upstream, in every mode.
        let forged: Vec<HeaderName> =
            parts.headers.keys().filter(|k| k.as_str().starts_with("x-distillguard-")).cloned().collect();
        for k in forged {
            parts.headers.remove(&k);
        }
        if let Some(h) = &extra {
            for (k, v) in h {
                parts.headers.insert(k.clone(), v.clone());
            }
        }
        if let Ok(host) = HeaderValue::from_str(self.upstream.authority().expect("validated").as_str()) {
            parts.headers.insert(header::HOST, host);
        }
        let t = Instant::now();
        let sent =
            tokio::time::timeout(self.config.upstream_timeout(), self.client.request(Request::from_parts(parts, body)))
                .await;
        let took = t.elapsed();
        rec.upstream = Some(took);
        match sent {
            Err(_) => {
                let r = Reject::UpstreamTimeout { secs: self.config.upstream_timeout_secs }.respond(self, api, rec);
                rec.note = Some(format!("upstream timeout after {:.3}s", took.as_secs_f64()));
                r
            }
            Ok(Err(e)) => {
                let mut msg = e.to_string();
                let mut source = std::error::Error::source(&e);
                let mut body_error = None;
                while let Some(s) = source {
                    msg.push_str(&format!(": {s}"));
                    // The client's own body failed (a malformed chunk, a
                    // reset): the client's fault, not the upstream's.
                    if let Some(h) = s.downcast_ref::<hyper::Error>() {
                        if h.is_user() || h.is_body_write_aborted() {
                            body_error = Some(std::error::Error::source(h).map_or(h.to_string(), |i| i.to_string()));
                        }
                    }
                    source = s.source();
                }
                if let Some(b) = body_error {
                    return Reject::BadBody(b).respond(self, api, rec);
                }
                let kind = if e.is_connect() { "connect" } else { "protocol" };
                Reject::UpstreamUnreachable { kind, detail: msg }.respond(self, api, rec)
            }
            Ok(Ok(resp)) => {
                self.metrics.upstream.observe(took);
                let (mut rparts, rbody) = resp.into_parts();
                strip_hop_by_hop(&mut rparts.headers);
                if let Some(extra) = extra {
                    for (k, v) in &extra {
                        rparts.headers.insert(k.clone(), v.clone());
                    }
                }
                // A body the upstream cuts off after its headers were sent
                // cannot change the status the client already has; it is
                // logged and counted as such.
                let shared = self.clone();
                let (status, route, client) = (rparts.status.as_u16(), rec.route, rec.client);
                let rbody = rbody.map_err(move |e| {
                    shared.metrics.inc1(Counter::UpstreamErrors, "kind", "stream_cut");
                    shared.log.emit(
                        "error",
                        "upstream_stream_cut",
                        json!({
                            "path": path, "route": route, "status": status,
                            "client": client.map(|c| ident::hex(&c[..8])),
                            "error": e.to_string(),
                        }),
                    );
                    e
                });
                Response::from_parts(rparts, Body::new(rbody))
            }
        }
    }

    fn count_verdict(&self, verdict: &Verdict, decision: &Decision) {
        self.metrics.inc1(Counter::Verdicts, "label", decision.label());
        for c in &decision.tripped {
            self.metrics.inc1(Counter::VerdictCategories, "category", c.as_str());
        }
        for e in &verdict.evidence {
            self.metrics
                .inc(Counter::RuleHits, format!("rule=\"{}\",category=\"{}\"", escape(&e.rule), e.category.as_str()));
        }
    }

    fn log_escalation(&self, e: &Escalation, client: Option<&ClientId>) {
        let engine = self.engine();
        self.log.emit(
            "warn",
            "campaign_escalated",
            json!({
                "kind": e.kind.as_str(),
                "client": client.map(|c| ident::hex(&c[..8])),
                "template": e.fingerprint,
                "count": e.count,
                "window_secs": e.window.as_secs_f64(),
                "rules": e.rules,
                "max_score": e.max_score,
                "evidence_floor": self.config.campaign.evidence_floor,
                "min_repeats": self.config.campaign.min_repeats,
                "distinct_extraction": self.config.campaign.distinct_extraction,
                "action": self.config.campaign.action.unwrap_or(self.config.mode).as_str(),
                "pack": format!("{} {}", engine.name, engine.version),
            }),
        );
    }

    fn log_request(&self, method: &hyper::Method, path: &str, resp: &Response<Body>, rec: &Record, start: Instant) {
        let mut f = json!({
            "method": method.as_str(),
            "path": path,
            "route": rec.route,
            "status": resp.status().as_u16(),
            "client": rec.client.map(|c| ident::hex(&c[..8])),
            "total_ms": ms(start.elapsed()),
        });
        let m = f.as_object_mut().expect("object");
        if let Some(n) = rec.prompt_len {
            m.insert("prompt_len".into(), n.into());
        }
        if let Some(h) = &rec.prompt_hash {
            m.insert("prompt_hash".into(), h.clone().into());
        }
        if let Some(p) = &rec.prompt {
            m.insert("prompt".into(), p.clone().into());
        }
        if let Some((v, d)) = &rec.verdict {
            m.insert("label".into(), d.label().into());
            m.insert("score".into(), v.score.into());
            m.insert("categories".into(), json!(v.categories));
            m.insert("tripped".into(), json!(d.tripped.iter().map(|c| c.as_str()).collect::<Vec<_>>()));
            m.insert("rules".into(), json!(v.evidence.iter().map(|e| e.rule.as_str()).collect::<Vec<_>>()));
            m.insert("fingerprint".into(), v.fingerprint.clone().into());
            m.insert("pack".into(), format!("{} {}", v.pack.name, v.pack.version).into());
            m.insert("action".into(), d.action.map_or("forward", |a| a.as_str()).into());
            if let Some(e) = &d.escalation {
                m.insert(
                    "campaign".into(),
                    json!({"kind": e.kind.as_str(), "template": e.fingerprint, "count": e.count}),
                );
            }
        }
        if let Some(d) = rec.classify {
            m.insert("classify_us".into(), (d.as_micros() as u64).into());
        }
        if let Some(d) = rec.upstream {
            m.insert("upstream_ms".into(), ms(d).into());
        }
        if let Some(n) = &rec.note {
            m.insert("note".into(), n.clone().into());
        }
        let level = if resp.status().is_server_error() { "error" } else { "info" };
        self.log.emit(level, "request", f);
    }

    /// `/metrics` body.
    pub fn render_metrics(&self) -> String {
        let engine = self.engine();
        let (templates, clients) = self.campaigns.local_entries();
        let stats = engine.classifier.pool_stats().unwrap_or_default();
        let held = self.budget.held();
        let mut gauges = vec![
            (
                "distillguard_pack_info",
                "The pack serving now.",
                format!("name=\"{}\",version=\"{}\"", escape(&engine.name), escape(&engine.version)),
                1.0,
            ),
            (
                "distillguard_campaign_template_entries",
                "(client, template) entries held by this node (with Redis: its fallback counters).",
                String::new(),
                templates as f64,
            ),
            ("distillguard_campaign_client_entries", "Client entries held.", String::new(), clients as f64),
            (
                "distillguard_wasm_instances_created",
                "Instances created by the current pool.",
                String::new(),
                stats.instantiated as f64,
            ),
            (
                "distillguard_wasm_instances_replaced",
                "Instances replaced after a trap, current pool.",
                String::new(),
                stats.replaced as f64,
            ),
            (
                "distillguard_wasm_instances_retired",
                "Idle instances dropped because their memory grew above retire_instance_memory_bytes, current pool.",
                String::new(),
                stats.retired as f64,
            ),
            (
                "distillguard_body_bytes_held",
                "Bytes of classified request bodies held now (lane=\"all\": against body_budget_bytes; lane=\"big\": against big_lane_budget_bytes).",
                "lane=\"all\"".into(),
                held.0 as f64,
            ),
            ("distillguard_body_bytes_held", "", "lane=\"big\"".into(), held.1 as f64),
            (
                "distillguard_uptime_seconds",
                "Seconds since start.",
                String::new(),
                self.started.elapsed().as_secs_f64(),
            ),
        ];
        if let Some(up) = self.campaigns.redis_up() {
            gauges.push((
                "distillguard_campaign_store_up",
                "Whether the Redis campaign store is connected (1) or this node counts on its own (0).",
                String::new(),
                if up { 1.0 } else { 0.0 },
            ));
        }
        self.metrics.render(&gauges)
    }
}

/// `text` cut into windows of at most `cap` bytes at char boundaries, each
/// overlapping the previous one by up to 4 KiB (or a quarter of `cap`) so
/// a phrase on a cut is seen whole in one of them.
fn windows(text: &str, cap: usize) -> Vec<&str> {
    if text.len() <= cap {
        return vec![text];
    }
    let overlap = (cap / 4).min(4096);
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let mut end = (start + cap).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push(&text[start..end]);
        if end == text.len() {
            return out;
        }
        let mut next = end - overlap;
        while !text.is_char_boundary(next) {
            next -= 1;
        }
        start = next.max(start + 1);
        while !text.is_char_boundary(start) {
            start += 1;
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn fail_str(f: FailMode) -> &'static str {
    match f {
        FailMode::Open => "open",
        FailMode::Closed => "closed",
    }
}

fn strip_hop_by_hop(h: &mut HeaderMap) {
    let listed: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in listed {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(*n);
    }
}

/// The API shape for a path that is not classified (for 502/504 bodies).
fn guess_api(path: &str, headers: &HeaderMap) -> Api {
    if headers.contains_key("anthropic-version") || path.contains("/v1/messages") {
        Api::Anthropic
    } else {
        Api::OpenAi
    }
}

/// The `x-distillguard-*` headers of flag mode.
fn flag_headers(v: &Verdict, d: &Decision) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(HeaderName::from_static(k), v);
        }
    };
    put("x-distillguard-label", d.label().to_string());
    put("x-distillguard-score", v.score.to_string());
    put("x-distillguard-rules", v.evidence.iter().map(|e| e.rule.as_str()).collect::<Vec<_>>().join(","));
    put("x-distillguard-fingerprint", v.fingerprint.clone());
    if let Some(c) = d.tripped.first() {
        put("x-distillguard-category", c.as_str().to_string());
    }
    if let Some(e) = &d.escalation {
        put("x-distillguard-campaign", format!("{} {} x{}", e.kind.as_str(), e.fingerprint, e.count));
    }
    h
}

fn blocked_response(api: Api, v: &Verdict, d: &Decision, detail: BlockDetail) -> Response<Body> {
    if detail == BlockDetail::Generic {
        return error_response(api, StatusCode::FORBIDDEN, "distillguard_blocked", "Request blocked by distillguard.");
    }
    let rules: Vec<&str> = v.evidence.iter().map(|e| e.rule.as_str()).collect();
    let mut msg = String::from("Request blocked by distillguard: ");
    if !d.tripped.is_empty() {
        let cats: Vec<&str> = d.tripped.iter().map(|c| c.as_str()).collect();
        msg.push_str(&format!("the prompt looks like {} (score {})", cats.join(", "), v.score));
    }
    if let Some(e) = &d.escalation {
        if !d.tripped.is_empty() {
            msg.push_str("; ");
        }
        match e.kind {
            super::campaign::CampaignKind::Template => msg.push_str(&format!(
                "template {} repeated {} times with extraction evidence within {} s",
                e.fingerprint,
                e.count,
                e.window.as_secs()
            )),
            super::campaign::CampaignKind::Client => msg.push_str(&format!(
                "{} distinct extraction prompts from this client within {} s",
                e.count,
                e.window.as_secs()
            )),
        }
    }
    msg.push_str(&format!(". Rules: {}.", if rules.is_empty() { "none".to_string() } else { rules.join(", ") }));
    let mut r = error_response(api, StatusCode::FORBIDDEN, "distillguard_blocked", &msg);
    for (k, v) in flag_headers(v, d) {
        if let Some(k) = k {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

/// An error in the API's own shape.
pub fn error_response(api: Api, status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = match api {
        Api::OpenAi => {
            let kind = match status {
                StatusCode::BAD_REQUEST
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::FORBIDDEN
                | StatusCode::REQUEST_TIMEOUT => "invalid_request_error",
                _ => "server_error",
            };
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        }
        Api::Anthropic => {
            let kind = match status {
                StatusCode::BAD_REQUEST | StatusCode::REQUEST_TIMEOUT => "invalid_request_error",
                StatusCode::FORBIDDEN => "permission_error",
                StatusCode::PAYLOAD_TOO_LARGE => "request_too_large",
                StatusCode::SERVICE_UNAVAILABLE => "overloaded_error",
                StatusCode::GATEWAY_TIMEOUT => "timeout_error",
                _ => "api_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-distillguard-error", code)
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::windows;

    #[test]
    fn windows_cover_the_text_with_overlap() {
        assert_eq!(windows("short", 10), ["short"]);
        let text = "é".repeat(5000); // 10,000 bytes, 2-byte chars
        let w = windows(&text, 4001);
        assert!(w.iter().all(|x| x.len() <= 4001 && !x.is_empty()));
        assert!(w.first().unwrap().starts_with('é') && text.ends_with(w.last().unwrap()));
        assert!(w.iter().map(|x| x.len()).sum::<usize>() > text.len());
    }
}
