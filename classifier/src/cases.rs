//! Running a pack's own cases.

use crate::pack::{Case, Label, Pack};
use crate::verdict::Verdict;
use serde::Serialize;

/// The outcome of one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Case file inside the pack.
    pub file: String,
    /// Line of the case.
    pub line: usize,
    /// Expected label.
    pub expected: Label,
    /// Whether every expectation held.
    pub passed: bool,
    /// What did not hold, one line each.
    pub failures: Vec<String>,
    /// The verdict the case got.
    pub verdict: Verdict,
}

/// How many cases name a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCoverage {
    /// Rule id.
    pub rule: String,
    /// Cases that require it to fire.
    pub positive: usize,
    /// Cases that require it not to fire.
    pub negative: usize,
}

/// Every case's result plus per-rule coverage.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    /// One per case, in pack order.
    pub results: Vec<CaseResult>,
    /// One per rule, in pack order.
    pub coverage: Vec<RuleCoverage>,
}

impl CaseReport {
    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// Rules with fewer than `min` positive or `min` negative cases.
    pub fn under_covered(&self, min: usize) -> Vec<&RuleCoverage> {
        self.coverage.iter().filter(|c| c.positive < min || c.negative < min).collect()
    }
}

/// Checks one case against its verdict.
pub fn check_case(case: &Case, verdict: &Verdict) -> Vec<String> {
    let mut failures = Vec::new();
    if verdict.label != case.label {
        failures.push(format!("expected {}, got {} (score {})", case.label, verdict.label, verdict.score));
    }
    if let Some(cat) = case.category {
        if verdict.top_category() != Some(cat) {
            let got = verdict.top_category().map_or("none".to_string(), |c| c.to_string());
            failures.push(format!("expected top category {cat}, got {got}"));
        }
    }
    for r in &case.rules {
        if !verdict.fired(r) {
            failures.push(format!("rule {r} should fire but did not"));
        }
    }
    for r in &case.not_rules {
        if verdict.fired(r) {
            failures.push(format!("rule {r} fired but should not"));
        }
    }
    if let Some(below) = case.score_below {
        if verdict.score >= below {
            failures.push(format!("score {} should be below {below}", verdict.score));
        }
    }
    failures
}

impl Pack {
    /// Runs every case shipped with the pack.
    ///
    /// ```
    /// let report = distillguard::default_pack().run_cases();
    /// assert_eq!(report.failed(), 0);
    /// ```
    pub fn run_cases(&self) -> CaseReport {
        let results = self
            .cases()
            .iter()
            .map(|case| {
                let verdict = match case.segments() {
                    None => self.classify(&case.text),
                    Some(segments) => self.classify_segments(&segments),
                };
                let failures = check_case(case, &verdict);
                CaseResult {
                    file: case.file.clone(),
                    line: case.line,
                    expected: case.label,
                    passed: failures.is_empty(),
                    failures,
                    verdict,
                }
            })
            .collect();
        let coverage = self
            .rules()
            .iter()
            .map(|rule| RuleCoverage {
                rule: rule.id.clone(),
                positive: self.cases().iter().filter(|c| c.rules.contains(&rule.id)).count(),
                negative: self.cases().iter().filter(|c| c.not_rules.contains(&rule.id)).count(),
            })
            .collect();
        CaseReport { results, coverage }
    }
}
