//! Evaluation on labelled data: precision, recall, F1 and false-positive
//! rate, overall, per category and per any field of the records.

use crate::prompt::Prompt;
use distillguard::{Label, Verdict};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One labelled record.
#[derive(Clone, Debug)]
pub struct Item {
    /// `id` field, if any.
    pub id: Option<String>,
    /// The prompt: `text`, or `messages` with roles.
    pub prompt: Prompt,
    /// The prompt for people (segments as `role: text`).
    pub text: String,
    /// Gold label.
    pub label: Label,
    /// Gold category (positives).
    pub category: Option<String>,
    /// All fields, for `--by`.
    pub fields: Map<String, Value>,
}

impl Item {
    /// Reads a record: `label`, and `text` or `messages` (see
    /// [`Prompt::from_record`]), are required.
    pub fn from_record(m: Map<String, Value>) -> Result<Item, String> {
        let prompt = Prompt::from_record(&m)?;
        let text = prompt.display();
        let label = m.get("label").and_then(Value::as_str).ok_or("missing string field `label`")?;
        let label =
            Label::parse(label).ok_or_else(|| format!("label `{label}` is neither `extraction` nor `benign`"))?;
        let id = m.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        let category = m.get("category").and_then(Value::as_str).map(str::to_string);
        Ok(Item { id, prompt, text, label, category, fields: m })
    }
}

/// A confusion matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Extraction called extraction.
    pub tp: usize,
    /// Benign called extraction.
    pub fp: usize,
    /// Benign called benign.
    pub tn: usize,
    /// Extraction called benign.
    #[serde(rename = "fn")]
    pub fn_: usize,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Counts {
    fn add(&mut self, gold: Label, predicted: Label) {
        match (gold, predicted) {
            (Label::Extraction, Label::Extraction) => self.tp += 1,
            (Label::Benign, Label::Extraction) => self.fp += 1,
            (Label::Benign, Label::Benign) => self.tn += 1,
            (Label::Extraction, Label::Benign) => self.fn_ += 1,
        }
    }
    /// Items counted.
    pub fn n(&self) -> usize {
        self.tp + self.fp + self.tn + self.fn_
    }
    /// TP / (TP + FP); `None` when nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }
    /// TP / (TP + FN); `None` without positives.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        Some(if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) })
    }
    /// FP / (FP + TN); `None` without negatives.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn)
    }
}

#[derive(Serialize)]
struct Rates {
    n: usize,
    #[serde(flatten)]
    counts: Counts,
    precision: Option<f64>,
    recall: Option<f64>,
    f1: Option<f64>,
    fpr: Option<f64>,
}

impl From<&Counts> for Rates {
    fn from(c: &Counts) -> Rates {
        let r4 = |x: Option<f64>| x.map(|v| (v * 10_000.0).round() / 10_000.0);
        Rates {
            n: c.n(),
            counts: *c,
            precision: r4(c.precision()),
            recall: r4(c.recall()),
            f1: r4(c.f1()),
            fpr: r4(c.fpr()),
        }
    }
}

/// Per category: detection (label-level) and attribution (top category).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    /// Items of this gold category.
    pub n: usize,
    /// Of those, labelled extraction (any category).
    pub detected: usize,
    /// Items whose top category is this one and that are labelled extraction.
    pub predicted: usize,
    /// Of those, gold category matches.
    pub correct: usize,
}

/// A miss or false alarm, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Mistake {
    /// Record id.
    pub id: Option<String>,
    /// `fn` (missed extraction) or `fp` (false alarm).
    pub kind: &'static str,
    /// Gold category.
    pub category: Option<String>,
    /// Score given.
    pub score: f64,
    /// Rules that fired.
    pub rules: Vec<String>,
    /// Start of the text.
    pub text: String,
}

/// The whole evaluation.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Overall.
    pub overall: Counts,
    /// Per gold category.
    pub categories: BTreeMap<String, CategoryCounts>,
    /// Per field, per value.
    pub by: BTreeMap<String, BTreeMap<String, Counts>>,
    /// Misses and false alarms.
    pub mistakes: Vec<Mistake>,
    /// Rule id -> (fired on positives, fired on negatives).
    pub rule_hits: BTreeMap<String, (usize, usize)>,
    /// Positives with evidence a campaign counter sees: some rule fired and
    /// the score reached [`EVIDENCE_FLOOR`].
    pub evidenced: usize,
    /// Benign items with such evidence: each one a campaign counter counts
    /// against an innocent client (a chat app whose users all say "hi"
    /// repeats one template).
    pub benign_evidenced: usize,
}

/// The score from which a verdict counts as (weak) evidence: `serve`'s
/// default campaign evidence floor.
pub const EVIDENCE_FLOOR: f64 = 0.15;

fn field_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn snippet(text: &str, max: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut s: String = flat.chars().take(max).collect();
    s.push('…');
    s
}

impl Report {
    /// Share of positives with evidence at or above [`EVIDENCE_FLOOR`].
    pub fn evidence_coverage(&self) -> Option<f64> {
        ratio(self.evidenced, self.overall.tp + self.overall.fn_)
    }

    /// Share of benign items with evidence at or above [`EVIDENCE_FLOOR`].
    pub fn benign_evidence_rate(&self) -> Option<f64> {
        ratio(self.benign_evidenced, self.overall.tn + self.overall.fp)
    }

    /// Adds one item and its verdict.
    pub fn add(&mut self, item: &Item, verdict: &Verdict, by: &[String]) {
        self.overall.add(item.label, verdict.label);
        if !verdict.evidence.is_empty() && verdict.score >= EVIDENCE_FLOOR {
            match item.label {
                Label::Extraction => self.evidenced += 1,
                Label::Benign => self.benign_evidenced += 1,
            }
        }
        for f in by {
            let v = field_value(item.fields.get(f));
            self.by.entry(f.clone()).or_default().entry(v).or_default().add(item.label, verdict.label);
        }
        let top = verdict.top_category().map(|c| c.as_str().to_string());
        if let Some(cat) = &item.category {
            let c = self.categories.entry(cat.clone()).or_default();
            c.n += 1;
            if verdict.label == Label::Extraction {
                c.detected += 1;
            }
        }
        if verdict.label == Label::Extraction {
            if let Some(t) = &top {
                let c = self.categories.entry(t.clone()).or_default();
                c.predicted += 1;
                if item.category.as_deref() == Some(t.as_str()) {
                    c.correct += 1;
                }
            }
        }
        for e in &verdict.evidence {
            let h = self.rule_hits.entry(e.rule.clone()).or_default();
            match item.label {
                Label::Extraction => h.0 += 1,
                Label::Benign => h.1 += 1,
            }
        }
        if item.label != verdict.label {
            self.mistakes.push(Mistake {
                id: item.id.clone(),
                kind: if item.label == Label::Extraction { "fn" } else { "fp" },
                category: item.category.clone(),
                score: verdict.score,
                rules: verdict.evidence.iter().map(|e| e.rule.clone()).collect(),
                text: snippet(&item.text, 160),
            });
        }
    }

    /// The report as JSON.
    pub fn to_json(&self, with_mistakes: bool) -> Value {
        let cats: BTreeMap<&String, Value> = self
            .categories
            .iter()
            .map(|(k, c)| {
                let r4 = |x: Option<f64>| x.map(|v| (v * 10_000.0).round() / 10_000.0);
                (
                    k,
                    serde_json::json!({
                        "n": c.n, "detected": c.detected, "recall": r4(ratio(c.detected, c.n)),
                        "predicted": c.predicted, "attribution_precision": r4(ratio(c.correct, c.predicted)),
                    }),
                )
            })
            .collect();
        let by: BTreeMap<&String, BTreeMap<&String, Rates>> =
            self.by.iter().map(|(f, m)| (f, m.iter().map(|(v, c)| (v, Rates::from(c))).collect())).collect();
        let mut v = serde_json::json!({
            "overall": Rates::from(&self.overall),
            "evidence_coverage": self.evidence_coverage().map(|v| (v * 10_000.0).round() / 10_000.0),
            "benign_evidence_rate": self.benign_evidence_rate().map(|v| (v * 10_000.0).round() / 10_000.0),
            "categories": cats,
            "by": by,
            "rules": self.rule_hits.iter().map(|(r, (p, n))| (r.clone(), serde_json::json!({"positives": p, "negatives": n}))).collect::<Map<_, _>>(),
        });
        if with_mistakes {
            v["mistakes"] = serde_json::to_value(&self.mistakes).expect("serialisable");
        }
        v
    }

    /// The report as text tables.
    pub fn to_text(&self, with_mistakes: bool) -> String {
        let pct = |x: Option<f64>| x.map_or("   -  ".to_string(), |v| format!("{:6.4}", v));
        let mut s = String::new();
        let o = &self.overall;
        let _ = writeln!(
            s,
            "overall   n={:<5} precision {}  recall {}  F1 {}  FPR {}   (tp {} fp {} tn {} fn {})",
            o.n(),
            pct(o.precision()),
            pct(o.recall()),
            pct(o.f1()),
            pct(o.fpr()),
            o.tp,
            o.fp,
            o.tn,
            o.fn_
        );
        if let Some(c) = self.evidence_coverage() {
            let _ = writeln!(
                s,
                "evidence  {} of {} positives ({c:.4}) carry evidence with score >= {EVIDENCE_FLOOR}",
                self.evidenced,
                o.tp + o.fn_
            );
        }
        if let Some(c) = self.benign_evidence_rate() {
            let _ = writeln!(
                s,
                "          {} of {} benign ({c:.4}) do too: a campaign counter counts them",
                self.benign_evidenced,
                o.tn + o.fp
            );
        }
        if !self.categories.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<22} {:>5} {:>9} {:>8}   {:>9} {:>12}",
                "category", "n", "detected", "recall", "predicted", "attribution"
            );
            for (k, c) in &self.categories {
                let _ = writeln!(
                    s,
                    "{:<22} {:>5} {:>9} {:>8}   {:>9} {:>12}",
                    k,
                    c.n,
                    c.detected,
                    pct(ratio(c.detected, c.n)),
                    c.predicted,
                    pct(ratio(c.correct, c.predicted))
                );
            }
        }
        for (f, m) in &self.by {
            let _ = writeln!(
                s,
                "\nby {f:<19} {:>5} {:>9} {:>8} {:>8} {:>8}   tp/fp/tn/fn",
                "n", "precision", "recall", "F1", "FPR"
            );
            for (v, c) in m {
                let _ = writeln!(
                    s,
                    "   {:<19} {:>5} {:>9} {:>8} {:>8} {:>8}   {}/{}/{}/{}",
                    snippet(v, 19),
                    c.n(),
                    pct(c.precision()),
                    pct(c.recall()),
                    pct(c.f1()),
                    pct(c.fpr()),
                    c.tp,
                    c.fp,
                    c.tn,
                    c.fn_
                );
            }
        }
        if with_mistakes && !self.mistakes.is_empty() {
            let _ = writeln!(s, "\nmisses and false alarms ({}):", self.mistakes.len());
            for m in &self.mistakes {
                let _ = writeln!(
                    s,
                    "  {} {:<14} {:<20} score {:.4} rules [{}]\n      {}",
                    m.kind,
                    m.id.as_deref().unwrap_or("-"),
                    m.category.as_deref().unwrap_or("-"),
                    m.score,
                    m.rules.join(","),
                    m.text
                );
            }
        }
        s
    }

    /// The report's tables (overall, categories, each `--by` field, and the
    /// mistakes), as header + rows of cells: what the Markdown and HTML
    /// renderings share.
    fn tables(&self) -> Vec<Table> {
        let f = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.4}"));
        let cells = |v: &[&dyn std::fmt::Display]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let o = &self.overall;
        let mut tables = vec![Table {
            title: "Overall".into(),
            header: cells(&[
                &"n",
                &"precision",
                &"recall",
                &"F1",
                &"FPR",
                &"evidence",
                &"benign evidence",
                &"tp",
                &"fp",
                &"tn",
                &"fn",
            ]),
            rows: vec![cells(&[
                &o.n(),
                &f(o.precision()),
                &f(o.recall()),
                &f(o.f1()),
                &f(o.fpr()),
                &f(self.evidence_coverage()),
                &f(self.benign_evidence_rate()),
                &o.tp,
                &o.fp,
                &o.tn,
                &o.fn_,
            ])],
        }];
        if !self.categories.is_empty() {
            tables.push(Table {
                title: "Categories".into(),
                header: cells(&[&"category", &"n", &"detected", &"recall", &"predicted", &"attribution precision"]),
                rows: self
                    .categories
                    .iter()
                    .map(|(k, c)| {
                        cells(&[
                            k,
                            &c.n,
                            &c.detected,
                            &f(ratio(c.detected, c.n)),
                            &c.predicted,
                            &f(ratio(c.correct, c.predicted)),
                        ])
                    })
                    .collect(),
            });
        }
        for (field, m) in &self.by {
            tables.push(Table {
                title: format!("By {field}"),
                header: cells(&[field, &"n", &"precision", &"recall", &"F1", &"FPR", &"tp/fp/tn/fn"]),
                rows: m
                    .iter()
                    .map(|(v, c)| {
                        let counts = format!("{}/{}/{}/{}", c.tp, c.fp, c.tn, c.fn_);
                        cells(&[v, &c.n(), &f(c.precision()), &f(c.recall()), &f(c.f1()), &f(c.fpr()), &counts])
                    })
                    .collect(),
            });
        }
        tables
    }

    fn mistakes_table(&self) -> Table {
        let rows = self
            .mistakes
            .iter()
            .map(|m| {
                vec![
                    m.kind.to_string(),
                    m.id.as_deref().unwrap_or("–").to_string(),
                    m.category.as_deref().unwrap_or("–").to_string(),
                    format!("{:.4}", m.score),
                    m.rules.join(", "),
                    m.text.clone(),
                ]
            })
            .collect();
        let header = ["kind", "id", "category", "score", "rules", "text"].map(String::from).to_vec();
        Table { title: format!("Misses and false alarms ({})", self.mistakes.len()), header, rows }
    }

    /// The report as Markdown tables (for `EVALUATION.md`).
    pub fn to_markdown(&self, with_mistakes: bool) -> String {
        let mut s = String::new();
        for t in self.tables() {
            t.markdown(&mut s);
        }
        if with_mistakes && !self.mistakes.is_empty() {
            let t = self.mistakes_table();
            let _ = writeln!(s, "<details><summary>{}</summary>\n", t.title);
            t.markdown(&mut s);
            s.pop();
            s.push_str("\n</details>\n");
        }
        s
    }

    /// The report as one self-contained HTML page.
    pub fn to_html(&self, title: &str) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
            body{{font:14px system-ui,sans-serif;margin:2em;max-width:80em}}table{{border-collapse:collapse;margin:1em 0}}\
            td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}td:first-child,th:first-child{{text-align:left}}\
            td:last-child{{text-align:left;max-width:50em}}</style></head><body><h1>{}</h1>",
            html(title),
            html(title)
        );
        for t in self.tables() {
            t.html(&mut s);
        }
        self.mistakes_table().html(&mut s);
        s.push_str("</body></html>\n");
        s
    }
}

/// A titled table of text cells, rendered as Markdown or HTML.
struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn markdown(&self, s: &mut String) {
        let _ = writeln!(s, "| {} |\n|{}", self.header.join(" | "), "---|".repeat(self.header.len()));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        s.push('\n');
    }

    fn html(&self, s: &mut String) {
        let _ = write!(s, "<h2>{}</h2><table><tr>", html(&self.title));
        for h in &self.header {
            let _ = write!(s, "<th>{}</th>", html(h));
        }
        s.push_str("</tr>");
        for row in &self.rows {
            s.push_str("<tr>");
            for c in row {
                let _ = write!(s, "<td>{}</td>", html(c));
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
