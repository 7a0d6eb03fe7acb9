//! Where campaign counters live: in this process ([`CampaignTracker`]), or
//! in Redis (or Valkey), shared by every node of a fleet.
//!
//! With Redis, one evidenced request is one round trip: a Lua script that
//! updates the (client, template) and client entries of each of the
//! request's identities (its client key and, when configured, its source)
//! and says whether they escalated, with the same rules as the in-process
//! tracker and Redis's clock, so nodes need not agree on the time. Each
//! entry is a small hash whose TTL is the window (twice the window for a
//! client entry, which stays escalated for one window). Keys hold only
//! keyed hashes: `<prefix>t:<client>:<fingerprint>` and `<prefix>c:<client>`.
//! Requests without evidence never reach Redis.
//!
//! When Redis does not answer within `redis_timeout_ms`, the request is
//! counted on this node's own tracker (`fail = "open"`) or refused
//! (`"closed"`); the connection is dropped and a background task
//! reconnects with exponential backoff (100 ms to 5 s).

use super::campaign::{CampaignKind, CampaignTracker, Escalation, Observation};
use super::config::{CampaignConfig, FailMode, StoreKind};
use super::ident::{self, ClientId};
use super::log::LogSink;
use super::metrics::{Counter, Metrics};
use redis::aio::MultiplexedConnection;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The counters of one proxy: its own tracker, and Redis when configured.
pub struct CampaignStore {
    local: CampaignTracker,
    redis: Option<Arc<RedisCounters>>,
    fail: FailMode,
    metrics: Arc<Metrics>,
    log: LogSink,
}

/// Redis could not count this request and `fail = "closed"`.
#[derive(Debug)]
pub struct StoreUnavailable;

impl CampaignStore {
    /// A store for `config`. With Redis, the connection is made by the task
    /// [`CampaignStore::maintain`] returns, which the caller runs.
    pub fn new(config: &CampaignConfig, metrics: Arc<Metrics>, log: LogSink) -> anyhow::Result<CampaignStore> {
        let redis = match config.store {
            StoreKind::Memory => None,
            StoreKind::Redis => Some(Arc::new(RedisCounters {
                client: redis::Client::open(config.redis_url.as_str())
                    .map_err(|e| anyhow::anyhow!("[campaign].redis_url: {e}"))?,
                conn: Mutex::new(None),
                down: Notify::new(),
                up: AtomicBool::new(false),
                script: redis::Script::new(SCRIPT),
                prefix: config.redis_prefix.clone(),
                timeout: Duration::from_millis(config.redis_timeout_ms),
                connect_timeout: Duration::from_millis(config.redis_connect_timeout_ms),
                window_ms: (config.window_secs * 1000.0).ceil().max(1.0) as u64,
                min_repeats: config.min_repeats,
                distinct: config.distinct_extraction,
                window: Duration::from_secs_f64(config.window_secs),
            })),
        };
        Ok(CampaignStore { local: CampaignTracker::new(config.clone()), redis, fail: config.fail, metrics, log })
    }

    /// The reconnecting task, for a Redis store.
    pub fn maintain(&self) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let redis = self.redis.clone()?;
        let (metrics, log) = (self.metrics.clone(), self.log.clone());
        Some(async move { redis.maintain(metrics, log).await })
    }

    /// Waits (at most `within`) until Redis is connected; true if it is,
    /// or if there is no Redis.
    pub async fn connected(&self, within: Duration) -> bool {
        let Some(r) = &self.redis else { return true };
        let t = Instant::now();
        while !r.up.load(Ordering::Relaxed) {
            if t.elapsed() >= within {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// 1 when Redis is connected, 0 when not, `None` without Redis.
    pub fn redis_up(&self) -> Option<bool> {
        self.redis.as_ref().map(|r| r.up.load(Ordering::Relaxed))
    }

    /// Entries held by this node's own tracker: (client, template) and client.
    pub fn local_entries(&self) -> (usize, usize) {
        self.local.entries()
    }

    /// Counts one classified prompt for each of `ids` (a request's client
    /// and its source); returns the escalation this request belongs to.
    pub async fn observe(&self, ids: &[ClientId], o: Observation<'_>) -> Result<Option<Escalation>, StoreUnavailable> {
        if ids.is_empty() || !self.local.evidenced(&o) {
            return Ok(None);
        }
        if let Some(r) = &self.redis {
            match r.observe(ids, &o).await {
                Ok(e) => return Ok(e),
                Err(why) => {
                    self.metrics.inc1(Counter::CampaignStore, "event", "fallback");
                    if r.up.swap(false, Ordering::Relaxed) {
                        self.log.emit(
                            "error",
                            "campaign_store_down",
                            json!({"error": why, "fail": match self.fail { FailMode::Open => "open", FailMode::Closed => "closed" }}),
                        );
                    }
                    if self.fail == FailMode::Closed {
                        return Err(StoreUnavailable);
                    }
                }
            }
        }
        let now = Instant::now();
        let mut best = None;
        for id in ids {
            best = stronger(best, self.local.observe(&Observation { client: *id, ..o }, now));
        }
        Ok(best)
    }
}

/// The escalation to report of two: a newly tipped one, else the first.
pub(crate) fn stronger(a: Option<Escalation>, b: Option<Escalation>) -> Option<Escalation> {
    match (a, b) {
        (Some(a), Some(b)) if b.new && !a.new => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}

struct RedisCounters {
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
    /// Wakes the reconnecting task.
    down: Notify,
    up: AtomicBool,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    window_ms: u64,
    min_repeats: usize,
    distinct: usize,
    window: Duration,
}

impl RedisCounters {
    async fn observe(&self, ids: &[ClientId], o: &Observation<'_>) -> Result<Option<Escalation>, String> {
        let Some(mut conn) = self.conn.lock().expect("redis lock").clone() else {
            return Err("not connected".into());
        };
        let mut call = self.script.prepare_invoke();
        for id in ids {
            let client = ident::hex(id);
            call.key(format!("{}t:{client}:{}", self.prefix, o.fingerprint));
            call.key(format!("{}c:{client}", self.prefix));
        }
        call.arg(self.window_ms)
            .arg(self.min_repeats)
            .arg(self.distinct)
            .arg(u8::from(o.extraction))
            .arg(format!("{:016x}", o.prompt_hash))
            .arg(o.score.to_string())
            .arg(o.rules.join(","));
        let reply = match tokio::time::timeout(self.timeout, call.invoke_async::<Vec<String>>(&mut conn)).await {
            Ok(Ok(v)) if v.len() == ids.len() * 8 => v,
            Ok(Ok(v)) => return Err(format!("unexpected reply of {} fields", v.len())),
            Ok(Err(e)) => return Err(self.drop_connection(e.to_string())),
            Err(_) => return Err(self.drop_connection(format!("no answer within {} ms", self.timeout.as_millis()))),
        };
        let mut best = None;
        for fields in reply.chunks(8) {
            let t = self.escalation(CampaignKind::Template, o.fingerprint, &fields[..4]);
            let c = self.escalation(CampaignKind::Client, o.fingerprint, &fields[4..]);
            best = stronger(best, stronger(t, c));
        }
        Ok(best)
    }

    /// `[new, count, max_score, rules]` as the script returns them.
    fn escalation(&self, kind: CampaignKind, fingerprint: &str, f: &[String]) -> Option<Escalation> {
        let count: usize = f[1].parse().ok().filter(|n| *n > 0)?;
        Some(Escalation {
            kind,
            fingerprint: fingerprint.to_string(),
            count,
            window: self.window,
            rules: f[3].split(',').filter(|r| !r.is_empty()).map(str::to_string).collect(),
            max_score: f[2].parse().unwrap_or(0.0),
            new: f[0] == "1",
        })
    }

    /// Forgets the connection (a timed-out one may be stuck) and wakes the
    /// reconnecting task; returns `why`.
    fn drop_connection(&self, why: String) -> String {
        *self.conn.lock().expect("redis lock") = None;
        self.down.notify_one();
        why
    }

    async fn maintain(&self, metrics: Arc<Metrics>, log: LogSink) {
        let mut backoff = Duration::from_millis(100);
        let mut failures = 0u64;
        loop {
            if self.conn.lock().expect("redis lock").is_some() {
                self.down.notified().await;
                continue;
            }
            // The script is loaded with the connection, so that each
            // evidenced request is one EVALSHA, even on a Redis that has
            // just restarted empty.
            let connected = tokio::time::timeout(self.connect_timeout, async {
                let mut conn = self.client.get_multiplexed_async_connection().await?;
                self.script.prepare_invoke().load_async(&mut conn).await?;
                Ok::<_, redis::RedisError>(conn)
            })
            .await;
            match connected {
                Ok(Ok(conn)) => {
                    *self.conn.lock().expect("redis lock") = Some(conn);
                    self.up.store(true, Ordering::Relaxed);
                    metrics.inc1(Counter::CampaignStore, "event", "connected");
                    log.emit("info", "campaign_store_connected", json!({"after_failures": failures}));
                    backoff = Duration::from_millis(100);
                    failures = 0;
                }
                failed => {
                    self.up.store(false, Ordering::Relaxed);
                    metrics.inc1(Counter::CampaignStore, "event", "connect_failed");
                    if failures == 0 {
                        let error = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => format!("no connection within {} ms", self.connect_timeout.as_millis()),
                        };
                        log.emit(
                            "error",
                            "campaign_store_unreachable",
                            json!({"error": error, "retry": "with backoff"}),
                        );
                    }
                    failures += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// The tracker's rules in Lua, over every identity of a request (see the
/// file's header for its keys, arguments and reply).
const SCRIPT: &str = include_str!("campaign.lua");
