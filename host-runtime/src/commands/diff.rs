//! `distillguard diff PACK_A PACK_B FILE.jsonl...`: the verdicts that flip
//! between two packs, with the rules behind each flip, and precision /
//! recall / FPR before and after. The rule author's review tool; the
//! Markdown form is for a pull-request comment.

use crate::common::{flags, read_records, shown_path, Global};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use distillguard::{ErrorCode, Label, Verdict};
use distillguard_host::evaluation::Counts;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The pack before: a directory or a compiled file.
    pack_a: PathBuf,
    /// The pack after.
    pack_b: PathBuf,
    /// JSONL prompts (`text` or `messages`; `label` optional, used for the metrics; `id` shown).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    /// Accept malformed records (skipped, reported) instead of failing (H007).
    #[arg(long)]
    allow_skipped: bool,
}

struct Flip {
    id: String,
    at: String,
    gold: Option<Label>,
    a: Verdict,
    b: Verdict,
    /// Rules that fired under A and not under B: why A flagged (or B did not).
    only_a: Vec<String>,
    /// Rules that fired under B and not under A.
    only_b: Vec<String>,
    text: String,
}

fn rules(v: &Verdict) -> BTreeSet<String> {
    v.evidence.iter().map(|e| e.rule.clone()).collect()
}

fn add(c: &mut Counts, gold: Label, flagged: bool) {
    match (gold, flagged) {
        (Label::Extraction, true) => c.tp += 1,
        (Label::Extraction, false) => c.fn_ += 1,
        (Label::Benign, true) => c.fp += 1,
        (Label::Benign, false) => c.tn += 1,
    }
}

/// Exit 0 when no verdict flips, 1 when some do (a finding, like `grep`) or
/// when records were skipped as malformed (as `eval` and `check`), unless
/// `--allow-skipped`.
pub fn run(g: &Global, a: DiffArgs) -> Result<ExitCode> {
    let load = |p: &PathBuf| -> Result<(String, distillguard_host::engine::Classifier)> {
        let loaded = g.load(Some(p))?;
        let name = format!("{} {} ({})", loaded.pack.meta().name, loaded.pack.meta().version, shown_path(p));
        Ok((name, g.engine(loaded)?))
    };
    let (name_a, engine_a) = load(&a.pack_a)?;
    let (name_b, engine_b) = load(&a.pack_b)?;
    let (records, skipped) = read_records(&a.files, false)?;
    if records.is_empty() {
        bail!("error[{}]: no records in {:?}", ErrorCode::EmptyGate, a.files);
    }
    let (mut before, mut after) = (Counts::default(), Counts::default());
    let mut flips = Vec::new();
    let mut labelled = 0;
    for rec in &records {
        let va = engine_a.classify_prompt(&rec.item.prompt)?;
        let vb = engine_b.classify_prompt(&rec.item.prompt)?;
        if rec.labelled {
            labelled += 1;
            add(&mut before, rec.item.label, flags(&va));
            add(&mut after, rec.item.label, flags(&vb));
        }
        if va.label != vb.label {
            let (ra, rb) = (rules(&va), rules(&vb));
            flips.push(Flip {
                id: rec.item.id.clone().unwrap_or_else(|| rec.at.clone()),
                at: rec.at.clone(),
                gold: rec.labelled.then_some(rec.item.label),
                only_a: ra.difference(&rb).cloned().collect(),
                only_b: rb.difference(&ra).cloned().collect(),
                a: va,
                b: vb,
                text: rec.item.text.chars().take(120).collect::<String>().replace('\n', " "),
            });
        }
    }
    let out = match a.format {
        DiffFormat::Text => text(&name_a, &name_b, records.len(), labelled, &flips, &before, &after),
        DiffFormat::Markdown => markdown(&name_a, &name_b, records.len(), labelled, &flips, &before, &after),
        DiffFormat::Json => {
            serde_json::to_string_pretty(&to_json(&name_a, &name_b, records.len(), labelled, &flips, &before, &after))?
                + "\n"
        }
    };
    print!("{out}");
    if let Some(code) = skipped.failure(a.allow_skipped) {
        return Ok(code);
    }
    Ok(ExitCode::from(u8::from(!flips.is_empty())))
}

fn rate(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.4}"))
}

fn metrics(c: &Counts) -> Value {
    json!({"precision": c.precision(), "recall": c.recall(), "f1": c.f1(), "fpr": c.fpr(),
        "tp": c.tp, "fp": c.fp, "tn": c.tn, "fn": c.fn_})
}

fn why(f: &Flip) -> String {
    let mut parts = Vec::new();
    if !f.only_a.is_empty() {
        parts.push(format!("only A fired {}", f.only_a.join(", ")));
    }
    if !f.only_b.is_empty() {
        parts.push(format!("only B fired {}", f.only_b.join(", ")));
    }
    if parts.is_empty() {
        parts.push("same rules, different scores".into());
    }
    parts.join("; ")
}

fn gold(f: &Flip) -> &'static str {
    f.gold.map_or("-", Label::as_str)
}

fn text(a: &str, b: &str, n: usize, labelled: usize, flips: &[Flip], before: &Counts, after: &Counts) -> String {
    let mut s = format!("A: {a}\nB: {b}\n{n} prompts, {} flipped\n", flips.len());
    for f in flips {
        let _ = writeln!(
            s,
            "FLIP {} ({}): {} {} -> {} {} (gold {}): {}\n     text: {}",
            f.id,
            f.at,
            f.a.label,
            f.a.score,
            f.b.label,
            f.b.score,
            gold(f),
            why(f),
            f.text
        );
    }
    if labelled > 0 {
        let _ = writeln!(s, "on {labelled} labelled prompts:     before  after");
        for (name, x, y) in [
            ("precision", before.precision(), after.precision()),
            ("recall", before.recall(), after.recall()),
            ("F1", before.f1(), after.f1()),
            ("FPR", before.fpr(), after.fpr()),
        ] {
            let _ = writeln!(s, "  {name:<10} {:>22} {:>6}", rate(x), rate(y));
        }
    }
    s
}

fn markdown(a: &str, b: &str, n: usize, labelled: usize, flips: &[Flip], before: &Counts, after: &Counts) -> String {
    let cell = |t: &str| t.replace('|', "\\|").replace('`', "'");
    let mut s = format!(
        "### distillguard diff\n\n**A:** {}  \n**B:** {}\n\n{n} prompts, **{} flipped**.\n\n",
        cell(a),
        cell(b),
        flips.len()
    );
    if labelled > 0 {
        let _ = writeln!(s, "| on {labelled} labelled | before | after |\n| --- | --- | --- |");
        for (name, x, y) in [
            ("precision", before.precision(), after.precision()),
            ("recall", before.recall(), after.recall()),
            ("F1", before.f1(), after.f1()),
            ("FPR", before.fpr(), after.fpr()),
        ] {
            let _ = writeln!(s, "| {name} | {} | {} |", rate(x), rate(y));
        }
        s.push('\n');
    }
    if !flips.is_empty() {
        s.push_str("| id | gold | A | B | why | text |\n| --- | --- | --- | --- | --- | --- |\n");
        for f in flips {
            let _ = writeln!(
                s,
                "| {} | {} | {} {} | {} {} | {} | {} |",
                cell(&f.id),
                gold(f),
                f.a.label,
                f.a.score,
                f.b.label,
                f.b.score,
                cell(&why(f)),
                cell(&f.text)
            );
        }
    }
    s
}

fn to_json(a: &str, b: &str, n: usize, labelled: usize, flips: &[Flip], before: &Counts, after: &Counts) -> Value {
    json!({
        "a": a, "b": b, "prompts": n, "labelled": labelled,
        "before": metrics(before), "after": metrics(after),
        "flips": flips.iter().map(|f| json!({
            "id": f.id, "at": f.at, "gold": f.gold,
            "a": {"label": f.a.label, "score": f.a.score},
            "b": {"label": f.b.label, "score": f.b.score},
            "only_a": f.only_a, "only_b": f.only_b, "text": f.text,
        })).collect::<Vec<_>>(),
    })
}
