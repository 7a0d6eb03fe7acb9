//! Campaign detection: one client repeating one template with evidence, or
//! sending many distinct extraction prompts, within a sliding window.
//!
//! Repetition alone is not guilt (a shop translating product titles through
//! one template is a batch job), so only prompts that carry evidence are
//! counted: a rule fired and the score reached the evidence floor. Prompts
//! without evidence cost no memory here at all.
//!
//! Memory is bounded whatever the number of clients: at most `max_entries`
//! (client, template) entries and as many client entries, each holding at
//! most `min_repeats` (resp. `distinct_extraction`) timestamps; beyond the
//! cap the least recently used eighth is dropped.

use super::config::CampaignConfig;
use super::ident::ClientId;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which kind of campaign tripped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignKind {
    /// One template fingerprint repeated with evidence.
    Template,
    /// Many distinct extraction-labelled prompts.
    Client,
}

impl CampaignKind {
    /// `template` or `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::Template => "template",
            CampaignKind::Client => "client",
        }
    }
}

/// An escalated request: what tipped it.
#[derive(Clone, Debug, PartialEq)]
pub struct Escalation {
    /// Kind.
    pub kind: CampaignKind,
    /// The template fingerprint (for `Client`, this request's).
    pub fingerprint: String,
    /// Evidenced prompts of the template (or distinct extraction prompts)
    /// from the client within the window, this one included. It keeps
    /// counting while the campaign lasts (the window holds only
    /// `min_repeats` timestamps, so past the tip the count is of every
    /// evidenced request since the campaign tipped, plus the ones that
    /// tipped it).
    pub count: usize,
    /// The window.
    pub window: Duration,
    /// Rules that fired across those prompts (at most 16).
    pub rules: Vec<String>,
    /// Highest score among them.
    pub max_score: f64,
    /// True only for the request that tipped it (the escalation is logged
    /// and counted once).
    pub new: bool,
}

/// One classified prompt, as the tracker sees it.
#[derive(Clone, Copy)]
pub struct Observation<'a> {
    /// The client.
    pub client: ClientId,
    /// Template fingerprint.
    pub fingerprint: &'a str,
    /// Verdict score.
    pub score: f64,
    /// Fired rule ids.
    pub rules: &'a [String],
    /// The policy labelled it extraction on its own.
    pub extraction: bool,
    /// Keyed hash of the prompt text (distinctness).
    pub prompt_hash: u64,
}

struct TemplateEntry {
    hits: VecDeque<Instant>,
    rules: BTreeSet<String>,
    max_score: f64,
    escalated: bool,
    /// Evidenced prompts counted since it tipped (with the ones that tipped it).
    count: usize,
    used: u64,
}

struct ClientEntry {
    prompts: VecDeque<(Instant, u64)>,
    escalated_until: Option<Instant>,
    /// Prompts counted since it tipped (with the ones that tipped it).
    count: usize,
    rules: BTreeSet<String>,
    max_score: f64,
    used: u64,
}

struct State {
    templates: HashMap<(ClientId, String), TemplateEntry>,
    clients: HashMap<ClientId, ClientEntry>,
    tick: u64,
}

/// The tracker. Thread-safe; one short lock per evidenced request.
pub struct CampaignTracker {
    config: CampaignConfig,
    window: Duration,
    state: Mutex<State>,
}

const MAX_RULES: usize = 16;

impl CampaignTracker {
    /// A tracker with this configuration.
    pub fn new(config: CampaignConfig) -> CampaignTracker {
        let window = Duration::from_secs_f64(config.window_secs);
        CampaignTracker {
            config,
            window,
            state: Mutex::new(State { templates: HashMap::new(), clients: HashMap::new(), tick: 0 }),
        }
    }

    /// Entries held now: (client, template) and client.
    pub fn entries(&self) -> (usize, usize) {
        let s = self.state.lock().expect("campaign lock");
        (s.templates.len(), s.clients.len())
    }

    /// Whether `o` counts at all: tracking is on, a rule fired and the
    /// score reached the evidence floor.
    pub fn evidenced(&self, o: &Observation<'_>) -> bool {
        self.config.enabled && !o.rules.is_empty() && o.score >= self.config.evidence_floor
    }

    /// Records one prompt at `now`; returns the escalation if this request
    /// belongs to an escalated campaign.
    pub fn observe(&self, o: &Observation<'_>, now: Instant) -> Option<Escalation> {
        let c = &self.config;
        if !self.evidenced(o) {
            return None;
        }
        let since = now.checked_sub(self.window);
        let in_window = |t: &Instant| since.is_none_or(|s| *t > s);
        let mut guard = self.state.lock().expect("campaign lock");
        let state = &mut *guard;
        state.tick += 1;
        let tick = state.tick;

        // Per client: distinct extraction-labelled prompts.
        let mut client_escalation = None;
        if c.distinct_extraction > 0 {
            let entry = state.clients.entry(o.client).or_insert_with(|| ClientEntry {
                prompts: VecDeque::new(),
                escalated_until: None,
                count: 0,
                rules: BTreeSet::new(),
                max_score: 0.0,
                used: 0,
            });
            entry.used = tick;
            while entry.prompts.front().is_some_and(|(t, _)| !in_window(t)) {
                entry.prompts.pop_front();
            }
            if entry.escalated_until.is_some_and(|u| u <= now) {
                entry.escalated_until = None;
                entry.rules.clear();
                entry.max_score = 0.0;
            }
            if o.extraction {
                if let Some(p) = entry.prompts.iter_mut().find(|(_, h)| *h == o.prompt_hash) {
                    p.0 = now;
                } else {
                    if entry.prompts.len() == c.distinct_extraction {
                        entry.prompts.pop_front();
                    }
                    entry.prompts.push_back((now, o.prompt_hash));
                }
                merge_rules(&mut entry.rules, o.rules);
                entry.max_score = entry.max_score.max(o.score);
            }
            let mut new = false;
            if entry.escalated_until.is_none() && entry.prompts.len() >= c.distinct_extraction {
                entry.escalated_until = Some(now + self.window);
                entry.count = entry.prompts.len();
                new = true;
            } else if entry.escalated_until.is_some() && o.extraction {
                entry.count += 1;
            }
            if entry.escalated_until.is_some() {
                client_escalation = Some(Escalation {
                    kind: CampaignKind::Client,
                    fingerprint: o.fingerprint.to_string(),
                    count: entry.count,
                    window: self.window,
                    rules: entry.rules.iter().cloned().collect(),
                    max_score: entry.max_score,
                    new,
                });
            }
        }

        // Per (client, template): evidenced repeats.
        let key = (o.client, o.fingerprint.to_string());
        let entry = state.templates.entry(key).or_insert_with(|| TemplateEntry {
            hits: VecDeque::new(),
            rules: BTreeSet::new(),
            max_score: 0.0,
            escalated: false,
            count: 0,
            used: 0,
        });
        entry.used = tick;
        while entry.hits.front().is_some_and(|t| !in_window(t)) {
            entry.hits.pop_front();
        }
        if entry.hits.is_empty() {
            entry.escalated = false;
            entry.rules.clear();
            entry.max_score = 0.0;
        }
        if entry.hits.len() == c.min_repeats {
            entry.hits.pop_front();
        }
        entry.hits.push_back(now);
        merge_rules(&mut entry.rules, o.rules);
        entry.max_score = entry.max_score.max(o.score);
        let template_escalation = if entry.hits.len() >= c.min_repeats {
            let new = !entry.escalated;
            entry.escalated = true;
            entry.count = if new { entry.hits.len() } else { entry.count + 1 };
            Some(Escalation {
                kind: CampaignKind::Template,
                fingerprint: o.fingerprint.to_string(),
                count: entry.count,
                window: self.window,
                rules: entry.rules.iter().cloned().collect(),
                max_score: entry.max_score,
                new,
            })
        } else {
            None
        };

        evict(&mut state.templates, c.max_entries, |e| e.used);
        evict(&mut state.clients, c.max_entries, |e| e.used);
        // A newly tipped escalation wins, so it is logged; template first.
        super::store::stronger(template_escalation, client_escalation)
    }
}

fn merge_rules(into: &mut BTreeSet<String>, rules: &[String]) {
    for r in rules {
        if into.len() >= MAX_RULES {
            break;
        }
        if !into.contains(r) {
            into.insert(r.clone());
        }
    }
}

/// Drops the least recently used eighth when the map is over `cap`.
fn evict<K: Clone + Eq + Hash, V>(map: &mut HashMap<K, V>, cap: usize, used: impl Fn(&V) -> u64) {
    if map.len() <= cap {
        return;
    }
    let drop_n = (map.len() - cap).max(cap / 8).max(1);
    let mut ages: Vec<(u64, K)> = map.iter().map(|(k, v)| (used(v), k.clone())).collect();
    ages.select_nth_unstable_by_key(drop_n - 1, |(u, _)| *u);
    for (_, k) in ages.into_iter().take(drop_n) {
        map.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(min_repeats: usize, distinct: usize, max_entries: usize) -> CampaignTracker {
        CampaignTracker::new(CampaignConfig {
            min_repeats,
            distinct_extraction: distinct,
            max_entries,
            window_secs: 10.0,
            ..CampaignConfig::default()
        })
    }

    fn obs<'a>(client: u8, fp: &'a str, score: f64, rules: &'a [String], extraction: bool, h: u64) -> Observation<'a> {
        Observation { client: [client; 16], fingerprint: fp, score, rules, extraction, prompt_hash: h }
    }

    #[test]
    fn repeats_with_evidence_escalate_once_within_window() {
        let t = tracker(3, 0, 100);
        let rules = vec!["RT-001".to_string()];
        let now = Instant::now();
        assert!(t.observe(&obs(1, "tpl:a", 0.3, &rules, false, 1), now).is_none());
        assert!(t.observe(&obs(1, "tpl:a", 0.3, &rules, false, 2), now).is_none());
        let e = t.observe(&obs(1, "tpl:a", 0.3, &rules, false, 3), now).unwrap();
        assert!(e.new && e.count == 3 && e.rules == rules);
        let e = t.observe(&obs(1, "tpl:a", 0.3, &rules, false, 4), now).unwrap();
        assert!(!e.new && e.count == 4, "the count goes on past min_repeats: {e:?}");
        assert_eq!(t.observe(&obs(1, "tpl:a", 0.3, &rules, false, 5), now).unwrap().count, 5);
        // Another client is independent; no evidence is never counted.
        assert!(t.observe(&obs(2, "tpl:a", 0.3, &rules, false, 1), now).is_none());
        for i in 0..10 {
            assert!(t.observe(&obs(3, "tpl:b", 0.0, &[], false, i), now).is_none());
        }
        // Out of the window it starts over.
        let later = now + Duration::from_secs(11);
        assert!(t.observe(&obs(1, "tpl:a", 0.3, &rules, false, 5), later).is_none());
    }

    #[test]
    fn distinct_extraction_prompts_escalate_the_client() {
        let t = tracker(100, 3, 100);
        let rules = vec!["SPL-001".to_string()];
        let now = Instant::now();
        assert!(t.observe(&obs(1, "tpl:1", 0.9, &rules, true, 1), now).is_none());
        assert!(t.observe(&obs(1, "tpl:2", 0.9, &rules, true, 1), now).is_none(), "same prompt is not distinct");
        assert!(t.observe(&obs(1, "tpl:3", 0.9, &rules, true, 2), now).is_none());
        let e = t.observe(&obs(1, "tpl:4", 0.9, &rules, true, 3), now).unwrap();
        assert_eq!((e.kind, e.count, e.new), (CampaignKind::Client, 3, true));
    }

    #[test]
    fn memory_is_bounded() {
        let t = tracker(5, 5, 1000);
        let rules = vec!["RT-001".to_string()];
        let now = Instant::now();
        for i in 0..20_000u32 {
            let mut o = obs(0, "tpl:x", 0.3, &rules, true, 1);
            o.client[..4].copy_from_slice(&i.to_le_bytes());
            t.observe(&o, now);
        }
        let (templates, clients) = t.entries();
        assert!(templates <= 1000 && clients <= 1000, "{templates} {clients}");
    }
}
