//! From a verdict (and a campaign escalation) to an action.

use super::campaign::Escalation;
use super::config::{Config, Mode};
use distillguard::{Category, Verdict};

/// The outcome for one classified request.
#[derive(Clone, Debug)]
pub struct Decision {
    /// Categories whose score reached their threshold.
    pub tripped: Vec<Category>,
    /// The campaign this request belongs to, if escalated.
    pub escalation: Option<Escalation>,
    /// What to do; `None` when nothing tripped (forward as is).
    pub action: Option<Mode>,
}

impl Decision {
    /// `extraction` when a threshold tripped or a campaign escalated.
    pub fn label(&self) -> &'static str {
        if self.tripped.is_empty() && self.escalation.is_none() {
            "benign"
        } else {
            "extraction"
        }
    }
}

/// Categories of `verdict` at or over their threshold.
pub fn tripped(verdict: &Verdict, config: &Config, pack_threshold: f64) -> Vec<Category> {
    Category::ALL
        .into_iter()
        .filter(|c| verdict.categories.get(c).is_some_and(|s| *s >= config.threshold_for(*c, pack_threshold)))
        .collect()
}

fn rank(m: Mode) -> u8 {
    match m {
        Mode::Monitor => 0,
        Mode::Flag => 1,
        Mode::Block => 2,
    }
}

/// The action: `mode` for a tripped prompt, `[campaign].action` (default
/// `mode`) for an escalated one, the stronger when both.
pub fn decide(tripped: Vec<Category>, escalation: Option<Escalation>, config: &Config) -> Decision {
    let mut action = None;
    if !tripped.is_empty() {
        action = Some(config.mode);
    }
    if escalation.is_some() {
        let a = config.campaign.action.unwrap_or(config.mode);
        if action.is_none_or(|b| rank(a) > rank(b)) {
            action = Some(a);
        }
    }
    Decision { tripped, escalation, action }
}
