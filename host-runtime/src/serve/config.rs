//! The `serve` configuration file (TOML). Every field has a default, so an
//! empty file plus `--upstream` is a working monitor-mode proxy. See
//! `docs/proxy.md` for the reference.

use anyhow::{bail, Context, Result};
use distillguard::Category;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the proxy does with a prompt that crosses a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Forward everything; log verdicts.
    Monitor,
    /// Forward everything, with `x-distillguard-*` headers on the request to
    /// the upstream and on the response to the client.
    Flag,
    /// Answer 403 in the API's own error shape instead of forwarding.
    Block,
}

impl Mode {
    /// `monitor`, `flag` or `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Monitor => "monitor",
            Mode::Flag => "flag",
            Mode::Block => "block",
        }
    }
}

/// What happens when the classifier fails on a request (trap, fuel, input
/// above the cap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Forward the request unclassified (logged and counted).
    Open,
    /// Answer 503 without forwarding.
    Closed,
}

/// How much a 403 says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockDetail {
    /// The categories, score and rules, in the body and the verdict headers.
    Full,
    /// "Request blocked by distillguard." and no verdict headers: no oracle
    /// for someone tuning a prompt to pass.
    Generic,
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Upstream base URL, `http://host:port` or `https://host` (a path
    /// prefix is allowed); https is verified against the webpki roots.
    pub upstream: String,
    /// Rule pack: a pack directory or a compiled pack file; the embedded
    /// default pack when absent. Watched for changes.
    pub pack: Option<PathBuf>,
    /// Policy mode.
    pub mode: Mode,
    /// Run a pack's own cases before serving it (at start and on reload)
    /// and refuse it if any fails.
    pub check_cases: bool,
    /// Behaviour when the classifier errors.
    pub fail: FailMode,
    /// Threshold for every category [default: the pack's own threshold].
    pub threshold: Option<f64>,
    /// Per-category thresholds, overriding `threshold`; above 1 disables a category.
    pub thresholds: BTreeMap<String, f64>,
    /// Largest request body accepted on a classified route (413 above).
    pub max_body_bytes: usize,
    /// Classified requests held at once (reading, waiting for or running
    /// classification); beyond it the proxy answers 503 at once. Memory is
    /// bounded by `body_budget_bytes`.
    pub max_inflight: usize,
    /// A classified request whose body (its `content-length`, or what has
    /// arrived of a chunked one) is above this many bytes is *big*: it is
    /// charged to `big_lane_budget_bytes` and classified in the big lane.
    pub big_body_bytes: usize,
    /// Big requests classified at once, beside the `pool_size` slots of
    /// the small lane; more wait (holding their bodies, within the big
    /// lane's budget).
    pub big_lane_slots: usize,
    /// Bytes of classified request bodies held in memory at once (being
    /// read, waiting, classified, sent upstream); beyond it 503
    /// `distillguard_overloaded`. Each body is also copied a few times while
    /// it is classified, so memory is a small multiple of this.
    pub body_budget_bytes: usize,
    /// The part of `body_budget_bytes` that big bodies may hold at once,
    /// so small requests always have the rest [default: half of it].
    pub big_lane_budget_bytes: Option<usize>,
    /// A wasm instance whose linear memory grew above this many bytes (it
    /// never shrinks) is dropped from the pool once it is idle after big
    /// requests, and replaced when needed.
    pub retire_instance_memory_bytes: usize,
    /// Time allowed for the upstream's response headers (504 after).
    pub upstream_timeout_secs: f64,
    /// Time allowed for a client to send the body of a classified request
    /// (408 after), so slow senders cannot hold `max_inflight` slots.
    pub body_timeout_secs: f64,
    /// Longest wait between two reads of a classified request's body (408
    /// after), so a trickle cannot hold a slot for all of `body_timeout_secs`.
    pub body_read_timeout_secs: f64,
    /// Time allowed for a request's headers, counted from when the
    /// connection starts waiting for them (so it also bounds a connection
    /// that sends nothing); the connection is closed after it.
    pub header_timeout_secs: f64,
    /// An idle keep-alive connection is closed after this.
    pub keepalive_timeout_secs: f64,
    /// Client connections held at once. At the cap an idle connection (one
    /// between requests or still sending headers) is closed to make room;
    /// when none is idle, the new connection is answered 503 and closed.
    pub max_connections: usize,
    /// Largest single request header, name plus value (431 above).
    pub max_header_bytes: usize,
    /// Classified requests one client (its key, else its IP address) may
    /// hold at once, a share of `max_inflight` (429 beyond).
    pub max_inflight_per_client: usize,
    /// A separate address for `/healthz`, `/readyz` and `/metrics`; when
    /// set, the main listener forwards those paths like any other.
    pub admin_listen: Option<SocketAddr>,
    /// What a 403 says: `full` (categories, score, rules) or `generic`.
    pub block_detail: BlockDetail,
    /// Seconds between checks of the pack's modification time.
    pub reload_poll_secs: f64,
    /// Include the raw prompt text in logs (off: length and keyed hash only).
    pub log_prompts: bool,
    /// Log one line per request (the escalation, reload and error lines are always logged).
    pub log_requests: bool,
    /// Classifier instances kept ready (and classifications run at once).
    pub pool_size: usize,
    /// Client identity.
    pub clients: ClientsConfig,
    /// Campaign detection.
    pub campaign: CampaignConfig,
    /// Rules turned off.
    pub rules: RulesConfig,
}

/// `[rules] disable = ["SPL-001", "RT", "synthetic_data"]`: rules turned off
/// by id, id prefix or category (as `--disable-rule`), like Coraza's
/// `SecRuleRemoveById`. A selector that matches no rule refuses the pack.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Rule selectors.
    pub disable: Vec<String>,
}

/// How clients are identified.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientsConfig {
    /// Identify clients by this request header instead of their API key.
    pub header: Option<String>,
    /// Client keys (API keys, or values of `header`) that are forwarded
    /// without classification. Hashed at load; never logged.
    pub allowlist: Vec<String>,
    /// Key for the keyed hash of client ids and prompts in logs, so hashes
    /// are stable across restarts [default: random per process]. Required
    /// with `[campaign] store = "redis"`: every node must hash alike.
    pub hash_key: Option<String>,
    /// Which credential names the client when `header` is not set.
    pub credential: Credential,
    /// A second escalation key: a request header set by the edge (a
    /// client-IP prefix, an account id), counted as a client of its own, so
    /// that rotating API keys from one source are still counted together.
    /// The edge must overwrite it; a client that can set it can spread its
    /// requests over several sources.
    pub source_header: Option<String>,
}

/// The credential that identifies a client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credential {
    /// The one the upstream authenticates on the route: `x-api-key` on
    /// `/v1/messages`, the bearer token of `authorization` on the OpenAI
    /// routes (the other one when only it is sent). Both sent with
    /// different values is a conflict (400).
    #[default]
    Route,
    /// Always the bearer token of `authorization` (`x-api-key` is ignored).
    Authorization,
    /// Always `x-api-key` (`authorization` is ignored).
    XApiKey,
}

/// Where campaign counters live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// In this process: each node of a fleet counts on its own.
    #[default]
    Memory,
    /// In Redis (or Valkey), shared by every node that points at it.
    Redis,
}

/// Campaign detection: repetition of one template by one client.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignConfig {
    /// On or off.
    pub enabled: bool,
    /// Sliding window, seconds.
    pub window_secs: f64,
    /// Escalate at this many prompts of one template fingerprint, each with
    /// evidence, from one client within the window.
    pub min_repeats: usize,
    /// A prompt counts as evidence when a rule fired and its score is at
    /// least this (below the single-prompt threshold).
    pub evidence_floor: f64,
    /// Also escalate a client that sent this many distinct
    /// extraction-labelled prompts within the window (0 disables).
    pub distinct_extraction: usize,
    /// Action on escalation [default: `mode`].
    pub action: Option<Mode>,
    /// Most (client, template) and client entries kept; least recently
    /// used ones are dropped beyond it.
    pub max_entries: usize,
    /// `memory` (this process) or `redis` (shared by a fleet).
    pub store: StoreKind,
    /// `redis://host:port/db` for `store = "redis"`.
    pub redis_url: String,
    /// Prefix of every key written to Redis.
    pub redis_prefix: String,
    /// Longest wait for Redis's answer to one evidenced request; past it
    /// the request is counted locally and the connection is rebuilt.
    pub redis_timeout_ms: u64,
    /// Longest wait for a connection to Redis.
    pub redis_connect_timeout_ms: u64,
    /// When Redis cannot be reached: `open` counts on this node's own
    /// counters, `closed` answers 503 to evidenced requests.
    pub fail: FailMode,
}

impl Default for CampaignConfig {
    fn default() -> CampaignConfig {
        CampaignConfig {
            enabled: true,
            window_secs: 300.0,
            min_repeats: 10,
            evidence_floor: crate::evaluation::EVIDENCE_FLOOR,
            distinct_extraction: 10,
            action: None,
            max_entries: 100_000,
            store: StoreKind::Memory,
            redis_url: String::new(),
            redis_prefix: "dg:".into(),
            redis_timeout_ms: 50,
            redis_connect_timeout_ms: 500,
            fail: FailMode::Open,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            upstream: String::new(),
            pack: None,
            mode: Mode::Monitor,
            check_cases: true,
            fail: FailMode::Open,
            threshold: None,
            thresholds: BTreeMap::new(),
            max_body_bytes: 4 << 20,
            max_inflight: 1024,
            big_body_bytes: 256 << 10,
            big_lane_slots: 1,
            body_budget_bytes: 64 << 20,
            big_lane_budget_bytes: None,
            retire_instance_memory_bytes: 64 << 20,
            upstream_timeout_secs: 300.0,
            body_timeout_secs: 60.0,
            body_read_timeout_secs: 10.0,
            header_timeout_secs: 10.0,
            keepalive_timeout_secs: 30.0,
            max_connections: 512,
            max_header_bytes: 8192,
            max_inflight_per_client: 64,
            admin_listen: None,
            block_detail: BlockDetail::Full,
            reload_poll_secs: 1.0,
            log_prompts: false,
            log_requests: true,
            pool_size: std::thread::available_parallelism().map_or(2, |n| n.get()).max(2),
            clients: ClientsConfig::default(),
            campaign: CampaignConfig::default(),
            rules: RulesConfig::default(),
        }
    }
}

impl Config {
    /// Parses a configuration; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            // "unknown field `campain`, expected one of `listen`, ...": name the closest.
            let msg = e.message();
            let hint = msg.strip_prefix("unknown field `").and_then(|rest| {
                let (name, rest) = rest.split_once('`')?;
                let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
                distillguard::closest(name, &expected).map(|h| format!("\n  = note: did you mean `{h}`?"))
            });
            anyhow::anyhow!("{origin}: {e}{}", hint.unwrap_or_default())
        })?;
        Ok(config)
    }

    /// Reads a configuration file. A relative `pack` path is taken relative
    /// to the file's directory.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut config = Config::from_toml(&text, &path.display().to_string())?;
        if let (Some(pack), Some(dir)) = (&config.pack, path.parent()) {
            if pack.is_relative() {
                config.pack = Some(dir.join(pack));
            }
        }
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<()> {
        if self.upstream.is_empty() {
            bail!("no upstream: set `upstream = \"http://host:port\"` in the config or pass --upstream");
        }
        let uri: hyper::Uri =
            self.upstream.parse().with_context(|| format!("upstream {:?} is not a URL", self.upstream))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => bail!("upstream {:?} must start with http:// or https://", self.upstream),
        }
        if uri.authority().is_none() {
            bail!("upstream {:?} has no host", self.upstream);
        }
        for (name, t) in &self.thresholds {
            if Category::parse(name).is_none() {
                bail!(
                    "[thresholds]: unknown category {name:?}; expected one of {}",
                    Category::ALL.map(|c| c.as_str()).join(", ")
                );
            }
            if !(t.is_finite() && *t >= 0.0) {
                bail!("[thresholds].{name} must be a number >= 0");
            }
        }
        if let Some(t) = self.threshold {
            if !(t.is_finite() && t >= 0.0) {
                bail!("threshold must be a number >= 0");
            }
        }
        if self.max_body_bytes == 0 {
            bail!("max_body_bytes must be > 0");
        }
        if !(self.upstream_timeout_secs > 0.0 && self.upstream_timeout_secs.is_finite()) {
            bail!("upstream_timeout_secs must be > 0");
        }
        if !(self.body_timeout_secs > 0.0 && self.body_timeout_secs.is_finite()) {
            bail!("body_timeout_secs must be > 0");
        }
        for (name, v) in [
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("header_timeout_secs", self.header_timeout_secs),
            ("keepalive_timeout_secs", self.keepalive_timeout_secs),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                bail!("{name} must be > 0");
            }
        }
        if self.max_connections == 0 || self.max_inflight_per_client == 0 {
            bail!("max_connections and max_inflight_per_client must be > 0");
        }
        if self.max_header_bytes < 1024 {
            bail!("max_header_bytes must be >= 1024");
        }
        if !(self.reload_poll_secs > 0.0 && self.reload_poll_secs.is_finite()) {
            bail!("reload_poll_secs must be > 0");
        }
        if self.max_inflight == 0 {
            bail!("max_inflight must be > 0");
        }
        if self.pool_size == 0 {
            bail!("pool_size must be > 0");
        }
        self.validate_budget()?;
        let c = &self.campaign;
        if c.enabled {
            if !(c.window_secs > 0.0 && c.window_secs.is_finite()) {
                bail!("[campaign].window_secs must be > 0");
            }
            if c.min_repeats < 2 {
                bail!("[campaign].min_repeats must be >= 2");
            }
            if c.max_entries == 0 {
                bail!("[campaign].max_entries must be > 0");
            }
            if c.store == StoreKind::Redis {
                if !(c.redis_url.starts_with("redis://") || c.redis_url.starts_with("valkey://")) {
                    bail!("[campaign].store = \"redis\" needs redis_url = \"redis://host:port/db\"");
                }
                if self.clients.hash_key.is_none() {
                    bail!("[campaign].store = \"redis\" needs [clients].hash_key, the same on every node, or no two nodes count a client alike");
                }
                if c.redis_timeout_ms == 0 || c.redis_connect_timeout_ms == 0 {
                    bail!("[campaign].redis_timeout_ms and redis_connect_timeout_ms must be > 0");
                }
            }
        }
        for (key, h) in [("header", &self.clients.header), ("source_header", &self.clients.source_header)] {
            if let Some(h) = h {
                hyper::header::HeaderName::from_bytes(h.as_bytes())
                    .with_context(|| format!("[clients].{key} {h:?} is not a header name"))?;
            }
        }
        Ok(())
    }

    /// The body budget and the big lane: every body `max_body_bytes` allows
    /// must fit, and big bodies must leave room for small ones.
    fn validate_budget(&self) -> Result<()> {
        let big_lane_budget_bytes = self.big_lane_budget();
        if self.big_body_bytes == 0 || self.big_lane_slots == 0 || self.retire_instance_memory_bytes == 0 {
            bail!("big_body_bytes, big_lane_slots and retire_instance_memory_bytes must be > 0");
        }
        if self.max_body_bytes > u32::MAX as usize {
            bail!("max_body_bytes must be at most {} (4 GiB - 1)", u32::MAX);
        }
        if self.body_budget_bytes > tokio::sync::Semaphore::MAX_PERMITS {
            bail!("body_budget_bytes must be at most {}", tokio::sync::Semaphore::MAX_PERMITS);
        }
        if self.body_budget_bytes < self.max_body_bytes {
            bail!(
                "body_budget_bytes ({}) is below max_body_bytes ({}): a body the cap allows could never be held",
                self.body_budget_bytes,
                self.max_body_bytes
            );
        }
        if big_lane_budget_bytes > self.body_budget_bytes {
            bail!(
                "big_lane_budget_bytes ({}) is above body_budget_bytes ({}): it is a part of it",
                big_lane_budget_bytes,
                self.body_budget_bytes
            );
        }
        if self.big_body_bytes < self.max_body_bytes {
            if big_lane_budget_bytes < self.max_body_bytes {
                bail!(
                    "big_lane_budget_bytes ({}) is below max_body_bytes ({}): a body the cap allows could never be held",
                    big_lane_budget_bytes,
                    self.max_body_bytes
                );
            }
            if self.body_budget_bytes - big_lane_budget_bytes < self.big_body_bytes {
                bail!(
                    "body_budget_bytes - big_lane_budget_bytes ({}) is below big_body_bytes ({}): big bodies could leave no room for a small one",
                    self.body_budget_bytes - big_lane_budget_bytes,
                    self.big_body_bytes
                );
            }
        }
        Ok(())
    }

    /// `big_lane_budget_bytes`, or half of `body_budget_bytes`.
    pub fn big_lane_budget(&self) -> usize {
        self.big_lane_budget_bytes.unwrap_or(self.body_budget_bytes / 2)
    }

    /// The upstream timeout.
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.upstream_timeout_secs)
    }

    /// Seconds as a duration.
    pub fn secs(v: f64) -> Duration {
        Duration::from_secs_f64(v)
    }

    /// The threshold for a category given the pack's own threshold.
    pub fn threshold_for(&self, category: Category, pack_threshold: f64) -> f64 {
        self.thresholds.get(category.as_str()).copied().or(self.threshold).unwrap_or(pack_threshold)
    }
}
