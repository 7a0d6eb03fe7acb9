//! `distillguard check`: validate a pack, run its cases, gate on corpora.

use crate::{evaluate, read_items, verdict_text, Global};
use anyhow::Result;
use clap::{Args, ValueEnum};
use distillguard::cases::check_case;
use distillguard::{Label, PackCompiler};
use distillguard_host::engine::Classifier;
use distillguard_host::metrics::Report;
use distillguard_host::packs;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Junit,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Pack directory.
    dir: PathBuf,
    /// Labelled JSONL corpora to evaluate (P/R/F1), gated by --min-precision / --min-recall.
    #[arg(long)]
    corpus: Vec<PathBuf>,
    /// Benign JSONL corpora for the false-positive gate (records labelled extraction are skipped).
    #[arg(long)]
    benign: Vec<PathBuf>,
    /// Fail when the false-positive rate on --benign (or --corpus) exceeds this.
    #[arg(long)]
    max_fpr: Option<f64>,
    /// Fail when precision on --corpus is below this.
    #[arg(long)]
    min_precision: Option<f64>,
    /// Fail when recall on --corpus is below this.
    #[arg(long)]
    min_recall: Option<f64>,
    /// Fail when a rule has fewer than this many positive or negative cases.
    #[arg(long, default_value_t = 0)]
    min_cases: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

struct Gate {
    name: String,
    passed: bool,
    detail: String,
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn run(g: &Global, a: CheckArgs) -> Result<ExitCode> {
    let src = packs::read_pack_dir(&a.dir)?;
    let pack = match PackCompiler::new().compile(&src) {
        Ok(p) => p,
        Err(errors) => {
            match a.format {
                CheckFormat::Json => {
                    let list: Vec<_> = errors
                        .0
                        .iter()
                        .map(|e| {
                            let loc = e.location();
                            serde_json::json!({"code": e.code().as_str(), "message": e.message(), "note": e.note(),
                                "file": loc.map(|l| &l.file), "line": loc.map(|l| l.line), "column": loc.map(|l| l.column)})
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&serde_json::json!({"ok": false, "errors": list}))?);
                }
                CheckFormat::Junit => {
                    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"compile\" tests=\"1\" failures=\"1\">\n");
                    let _ = writeln!(
                        s,
                        "<testcase name=\"compile {}\"><failure message=\"{} error(s)\">{}</failure></testcase>",
                        xml(&a.dir.display().to_string()),
                        errors.0.len(),
                        xml(&packs::render_errors(&errors, &src))
                    );
                    s.push_str("</testsuite>\n</testsuites>");
                    println!("{s}");
                }
                CheckFormat::Text => eprintln!(
                    "{}\n\n{}: {} error(s)",
                    packs::render_errors(&errors, &src),
                    a.dir.display(),
                    errors.0.len()
                ),
            }
            return Ok(ExitCode::from(1));
        }
    };
    let bytes = pack.to_bytes();
    let warnings: Vec<String> = pack.warnings().iter().map(|w| w.message().to_string()).collect();
    let cases = pack.cases().to_vec();
    let rules: Vec<String> = pack.rules().iter().map(|r| r.id.clone()).collect();
    let meta = pack.meta().clone();
    let engine = Classifier::new(g.engine, pack, &bytes, g.limits())?;

    // Cases.
    let mut results = Vec::new();
    for case in &cases {
        let v = match case.segments() {
            None => engine.classify(&case.text)?,
            Some(segments) => engine.classify_segments(&segments)?,
        };
        let failures = check_case(case, &v);
        results.push((case, v, failures));
    }
    let coverage: Vec<(String, usize, usize)> = rules
        .iter()
        .map(|r| {
            (
                r.clone(),
                cases.iter().filter(|c| c.rules.contains(r)).count(),
                cases.iter().filter(|c| c.not_rules.contains(r)).count(),
            )
        })
        .collect();

    // Gates.
    let mut gates = Vec::new();
    if a.min_cases > 0 {
        let under: Vec<String> = coverage
            .iter()
            .filter(|(_, p, n)| *p < a.min_cases || *n < a.min_cases)
            .map(|(r, p, n)| format!("{r} ({p}+/{n}-)"))
            .collect();
        gates.push(Gate {
            name: format!("every rule has >= {} positive and negative cases", a.min_cases),
            passed: under.is_empty(),
            detail: if under.is_empty() {
                "all covered".into()
            } else {
                format!("under-covered: {}", under.join(", "))
            },
        });
    }
    let mut corpus_report = None;
    if !a.corpus.is_empty() {
        let (items, _) = read_items(&a.corpus)?;
        let report = evaluate(&engine, &items, &[])?;
        let o = report.overall;
        let fmt = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.4}"));
        if let Some(min) = a.min_precision {
            let p = o.precision().unwrap_or(0.0);
            gates.push(Gate {
                name: format!("precision >= {min}"),
                passed: p >= min,
                detail: format!("precision {}", fmt(o.precision())),
            });
        }
        if let Some(min) = a.min_recall {
            let r = o.recall().unwrap_or(0.0);
            gates.push(Gate {
                name: format!("recall >= {min}"),
                passed: r >= min,
                detail: format!("recall {}", fmt(o.recall())),
            });
        }
        if let (Some(max), true) = (a.max_fpr, a.benign.is_empty()) {
            let f = o.fpr().unwrap_or(0.0);
            gates.push(Gate {
                name: format!("FPR <= {max}"),
                passed: f <= max,
                detail: format!("FPR {} ({} of {} benign)", fmt(o.fpr()), o.fp, o.fp + o.tn),
            });
        }
        corpus_report = Some(report);
    }
    let mut benign_alarms = Vec::new();
    if !a.benign.is_empty() {
        let (items, _) = read_items_benign(&a.benign)?;
        let mut report = Report::default();
        for item in &items {
            let v = engine.classify_prompt(&item.prompt)?;
            if v.label == Label::Extraction {
                benign_alarms.push(format!(
                    "{}: {}",
                    item.id.as_deref().unwrap_or("-"),
                    verdict_text(&v).lines().next().unwrap_or("")
                ));
            }
            report.add(item, &v, &[]);
        }
        let o = report.overall;
        let fpr = o.fpr().unwrap_or(0.0);
        let max = a.max_fpr.unwrap_or(1.0);
        gates.push(Gate {
            name: format!("false-positive rate on benign corpora <= {max}"),
            passed: fpr <= max,
            detail: format!("FPR {fpr:.4} ({} of {} benign prompts flagged)", o.fp, o.n()),
        });
    }

    let failed_cases = results.iter().filter(|(_, _, f)| !f.is_empty()).count();
    let failed_gates = gates.iter().filter(|g| !g.passed).count();
    let ok = failed_cases == 0 && failed_gates == 0;
    match a.format {
        CheckFormat::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "pack {} {}: {} rules, {} cases", meta.name, meta.version, rules.len(), cases.len());
            for w in &warnings {
                let _ = writeln!(s, "warning: {w}");
            }
            for (case, v, failures) in &results {
                if !failures.is_empty() {
                    let _ = writeln!(
                        s,
                        "FAIL {}:{}: {}\n     text: {}\n     got:  {}",
                        case.file,
                        case.line,
                        failures.join("; "),
                        case.text.chars().take(160).collect::<String>().replace('\n', " "),
                        verdict_text(v).replace('\n', "\n           ")
                    );
                }
            }
            let _ = writeln!(s, "cases: {} passed, {} failed", results.len() - failed_cases, failed_cases);
            let _ = writeln!(s, "coverage (positive/negative cases per rule):");
            for (r, p, n) in &coverage {
                let _ = writeln!(s, "  {r:<10} {p:>3} / {n:<3}");
            }
            if let Some(r) = &corpus_report {
                let _ = write!(s, "corpus:\n{}", r.to_text(false));
            }
            for alarm in &benign_alarms {
                let _ = writeln!(s, "false alarm: {alarm}");
            }
            for g in &gates {
                let _ = writeln!(s, "{} {}: {}", if g.passed { "PASS" } else { "FAIL" }, g.name, g.detail);
            }
            let _ = writeln!(s, "{}", if ok { "ok" } else { "check failed" });
            print!("{s}");
        }
        CheckFormat::Json => {
            let v = serde_json::json!({
                "ok": ok,
                "pack": {"name": meta.name, "version": meta.version},
                "warnings": warnings,
                "cases": results.iter().map(|(c, v, f)| serde_json::json!({
                    "file": c.file, "line": c.line, "expected": c.label, "passed": f.is_empty(), "failures": f,
                    "label": v.label, "rules": v.evidence.iter().map(|e| &e.rule).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                "coverage": coverage.iter().map(|(r, p, n)| serde_json::json!({"rule": r, "positive": p, "negative": n})).collect::<Vec<_>>(),
                "corpus": corpus_report.as_ref().map(|r| r.to_json(false)),
                "gates": gates.iter().map(|g| serde_json::json!({"name": g.name, "passed": g.passed, "detail": g.detail})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        CheckFormat::Junit => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
            let _ = writeln!(
                s,
                "<testsuite name=\"{} cases\" tests=\"{}\" failures=\"{}\">",
                xml(&meta.name),
                results.len(),
                failed_cases
            );
            for (case, _, failures) in &results {
                let name = format!("{}:{}", case.file, case.line);
                if failures.is_empty() {
                    let _ = writeln!(s, "<testcase name=\"{}\"/>", xml(&name));
                } else {
                    let _ = writeln!(
                        s,
                        "<testcase name=\"{}\"><failure message=\"{}\"/></testcase>",
                        xml(&name),
                        xml(&failures.join("; "))
                    );
                }
            }
            s.push_str("</testsuite>\n");
            let _ = writeln!(
                s,
                "<testsuite name=\"{} gates\" tests=\"{}\" failures=\"{}\">",
                xml(&meta.name),
                gates.len(),
                failed_gates
            );
            for g in &gates {
                if g.passed {
                    let _ = writeln!(s, "<testcase name=\"{}\"/>", xml(&g.name));
                } else {
                    let _ = writeln!(
                        s,
                        "<testcase name=\"{}\"><failure message=\"{}\"/></testcase>",
                        xml(&g.name),
                        xml(&g.detail)
                    );
                }
            }
            s.push_str("</testsuite>\n</testsuites>");
            println!("{s}");
        }
    }
    Ok(ExitCode::from(if ok { 0 } else { 1 }))
}

/// Benign corpora: records labelled `extraction` are skipped, records without
/// a label count as benign.
fn read_items_benign(files: &[PathBuf]) -> Result<(Vec<distillguard_host::metrics::Item>, usize)> {
    let mut items = Vec::new();
    let mut bad = 0;
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        for (n, line, _) in distillguard_host::input::parse_jsonl(&bytes) {
            match line {
                distillguard_host::input::Line::Record(mut m) => {
                    m.entry("label").or_insert_with(|| "benign".into());
                    match distillguard_host::metrics::Item::from_record(m) {
                        Ok(i) if i.label == Label::Benign => items.push(i),
                        Ok(_) => {}
                        Err(why) => {
                            eprintln!("{}:{n}: skipped: {why}", path.display());
                            bad += 1;
                        }
                    }
                }
                distillguard_host::input::Line::Bad(why) => {
                    eprintln!("{}:{n}: skipped: {why}", path.display());
                    bad += 1;
                }
            }
        }
    }
    Ok((items, bad))
}
