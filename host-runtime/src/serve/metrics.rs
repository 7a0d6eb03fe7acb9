//! Prometheus text exposition, by hand: a few labelled counters and two
//! latency histograms need no client library.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram with fixed buckets (seconds).
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_ns: AtomicU64,
    count: AtomicU64,
}

const CLASSIFY_BOUNDS: &[f64] =
    &[0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];
const UPSTREAM_BOUNDS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|b| s <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_ns.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Every metric the proxy exports.
pub struct Metrics {
    counters: Mutex<BTreeMap<(Counter, String), u64>>,
    /// Time to classify one request's prompt.
    pub classify: Histogram,
    /// Time to the upstream's response headers.
    pub upstream: Histogram,
}

/// A counter the proxy exports. The enum is the only place a metric name
/// is written, so a misspelled name is a compile error rather than a
/// counter missing from `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    /// Requests received, by route.
    Requests,
    /// Classified requests by policy label.
    Verdicts,
    /// Classified requests by tripped category.
    VerdictCategories,
    /// Rule firings.
    RuleHits,
    /// What the proxy did with a classified request.
    Actions,
    /// 403 (or 503 fail-closed) answers, by reason.
    Blocked,
    /// Campaigns newly escalated.
    CampaignEscalations,
    /// Requests belonging to an escalated campaign.
    CampaignRequests,
    /// Classifier failures.
    ClassifierErrors,
    /// Requests refused before classification.
    Rejected,
    /// Upstream failures.
    UpstreamErrors,
    /// Allowlisted requests.
    Allowlisted,
    /// Pack reloads.
    PackReloads,
    /// Connections refused or closed by the connection layer.
    Connections,
    /// The shared campaign store (Redis): fallbacks and reconnections.
    CampaignStore,
}

impl Counter {
    /// Every counter, in `/metrics` order.
    pub const ALL: [Counter; 15] = [
        Counter::Requests,
        Counter::Verdicts,
        Counter::VerdictCategories,
        Counter::RuleHits,
        Counter::Actions,
        Counter::Blocked,
        Counter::CampaignEscalations,
        Counter::CampaignRequests,
        Counter::ClassifierErrors,
        Counter::Rejected,
        Counter::UpstreamErrors,
        Counter::Allowlisted,
        Counter::PackReloads,
        Counter::Connections,
        Counter::CampaignStore,
    ];

    /// The Prometheus name.
    pub fn name(self) -> &'static str {
        match self {
            Counter::Requests => "distillguard_requests_total",
            Counter::Verdicts => "distillguard_verdicts_total",
            Counter::VerdictCategories => "distillguard_verdict_categories_total",
            Counter::RuleHits => "distillguard_rule_hits_total",
            Counter::Actions => "distillguard_actions_total",
            Counter::Blocked => "distillguard_blocked_total",
            Counter::CampaignEscalations => "distillguard_campaign_escalations_total",
            Counter::CampaignRequests => "distillguard_campaign_requests_total",
            Counter::ClassifierErrors => "distillguard_classifier_errors_total",
            Counter::Rejected => "distillguard_rejected_total",
            Counter::UpstreamErrors => "distillguard_upstream_errors_total",
            Counter::Allowlisted => "distillguard_allowlisted_total",
            Counter::PackReloads => "distillguard_pack_reloads_total",
            Counter::Connections => "distillguard_connections_total",
            Counter::CampaignStore => "distillguard_campaign_store_total",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Counter::Requests => "Requests received, by route (`other` is passed through unclassified).",
            Counter::Verdicts => "Classified requests by policy label.",
            Counter::VerdictCategories => "Classified requests by category over its threshold.",
            Counter::RuleHits => "Rule firings on classified requests.",
            Counter::Actions => "What the proxy did with a classified request.",
            Counter::Blocked => "Requests answered 403 (or 503 fail-closed), by reason.",
            Counter::CampaignEscalations => "Campaigns newly escalated, by kind.",
            Counter::CampaignRequests => "Requests that belonged to an escalated campaign, by kind.",
            Counter::ClassifierErrors => "Classifier failures (trap, fuel, input cap).",
            Counter::Rejected => "Requests refused before classification, by reason.",
            Counter::UpstreamErrors => "Upstream failures, by kind (`stream_cut`: a response body cut off mid-stream).",
            Counter::Allowlisted => "Requests from allowlisted clients (not classified).",
            Counter::PackReloads => "Pack reload attempts, by result.",
            Counter::CampaignStore => {
                "Campaign store events (`fallback`: an evidenced request counted locally or refused because Redis did not answer, `connected`, `connect_failed`)."
            }
            Counter::Connections => {
                "Connections by event (`accepted`, `refused` at max_connections, `evicted` idle at the cap, `idle_timeout`, `accept_error`)."
            }
        }
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Metrics {
        Metrics {
            counters: Mutex::new(BTreeMap::new()),
            classify: Histogram::new(CLASSIFY_BOUNDS),
            upstream: Histogram::new(UPSTREAM_BOUNDS),
        }
    }

    /// Adds 1 to `counter{labels}`; `labels` is already rendered (`k="v",...`).
    pub fn inc(&self, counter: Counter, labels: String) {
        *self.counters.lock().expect("metrics lock").entry((counter, labels)).or_insert(0) += 1;
    }

    /// Adds 1 to `counter{key="value"}`.
    pub fn inc1(&self, counter: Counter, key: &str, value: &str) {
        self.inc(counter, format!("{key}=\"{}\"", escape(value)));
    }

    /// Prometheus text format; `gauges` are appended as-is (consecutive
    /// entries of one name share the first one's HELP).
    pub fn render(&self, gauges: &[(&str, &str, String, f64)]) -> String {
        let mut out = String::new();
        let counters = self.counters.lock().expect("metrics lock").clone();
        for counter in Counter::ALL {
            let (name, help) = (counter.name(), counter.help());
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((c, labels), v) in counters.range((counter, String::new())..) {
                if *c != counter {
                    break;
                }
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        }
        self.classify.render(&mut out, "distillguard_classify_seconds", "Time to classify a request's prompt text.");
        self.upstream.render(
            &mut out,
            "distillguard_upstream_seconds",
            "Time from forwarding to the upstream's response headers.",
        );
        let mut last = "";
        for (name, help, labels, v) in gauges {
            // One HELP and TYPE for consecutive gauges of one name (a labelled family).
            if *name != last {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            }
            last = name;
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        }
        out
    }
}

/// Escapes a label value.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
