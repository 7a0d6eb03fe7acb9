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
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Time to classify one request's prompt.
    pub classify: Histogram,
    /// Time to the upstream's response headers.
    pub upstream: Histogram,
}

const HELP: &[(&str, &str)] = &[
    ("distillguard_requests_total", "Requests received, by route (`other` is passed through unclassified)."),
    ("distillguard_verdicts_total", "Classified requests by policy label."),
    ("distillguard_verdict_categories_total", "Classified requests by category over its threshold."),
    ("distillguard_rule_hits_total", "Rule firings on classified requests."),
    ("distillguard_actions_total", "What the proxy did with a classified request."),
    ("distillguard_blocked_total", "Requests answered 403 (or 503 fail-closed), by reason."),
    ("distillguard_campaign_escalations_total", "Campaigns newly escalated, by kind."),
    ("distillguard_campaign_requests_total", "Requests that belonged to an escalated campaign, by kind."),
    ("distillguard_classifier_errors_total", "Classifier failures (trap, fuel, input cap)."),
    ("distillguard_rejected_total", "Requests refused before classification, by reason."),
    ("distillguard_upstream_errors_total", "Upstream failures, by kind."),
    ("distillguard_allowlisted_total", "Requests from allowlisted clients (not classified)."),
    ("distillguard_pack_reloads_total", "Pack reload attempts, by result."),
];

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

    /// Adds 1 to `name{labels}`; `labels` is already rendered (`k="v",...`).
    pub fn inc(&self, name: &'static str, labels: String) {
        *self.counters.lock().expect("metrics lock").entry((name, labels)).or_insert(0) += 1;
    }

    /// Adds 1 to `name{key="value"}`.
    pub fn inc1(&self, name: &'static str, key: &str, value: &str) {
        self.inc(name, format!("{key}=\"{}\"", escape(value)));
    }

    /// Prometheus text format; `gauges` are appended as-is.
    pub fn render(&self, gauges: &[(&str, &str, String, f64)]) -> String {
        let mut out = String::new();
        let counters = self.counters.lock().expect("metrics lock").clone();
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((n, labels), v) in counters.range((*name, String::new())..) {
                if n != name {
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
        for (name, help, labels, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
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
