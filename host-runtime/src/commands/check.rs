//! `distillguard check`: validate a pack, run its cases, gate on corpora.
//!
//! Every run builds one [`CheckReport`], errors included, and writes it in
//! the chosen format; so `--format json|junit|sarif` always writes a
//! well-formed document, even when the pack cannot be read.

use crate::common::{evaluate, read_items, repo_path, shown_path, verdict_text, xml, Diag, Global, Skipped};
use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use distillguard::cases::check_case;
use distillguard::{ErrorCode, Label, Severity};
use distillguard_host::evaluation::{Item, Report};
use distillguard_host::input::{parse_jsonl, Line};
use distillguard_host::packs::{self, LoadedPack};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Junit,
    Sarif,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Pack directory, or files inside packs (what a pre-commit hook passes): each pack is
    /// checked once. More than one pack needs `--format text`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(skip)]
    dir: PathBuf,
    /// Labelled JSONL corpora to evaluate (P/R/F1): the data of --min-precision / --min-recall.
    #[arg(long)]
    corpus: Vec<PathBuf>,
    /// Benign JSONL corpora for the false-positive gate (records labelled extraction are left out).
    #[arg(long)]
    benign: Vec<PathBuf>,
    /// Fail when the false-positive rate on --benign (else on --corpus's benign records) exceeds this.
    #[arg(long)]
    max_fpr: Option<f64>,
    /// Fail when precision on --corpus is below this (needs --corpus).
    #[arg(long)]
    min_precision: Option<f64>,
    /// Fail when recall on --corpus is below this (needs --corpus).
    #[arg(long)]
    min_recall: Option<f64>,
    /// Fail when a rule has fewer than this many positive or negative cases.
    #[arg(long, default_value_t = 0)]
    min_cases: usize,
    /// Warnings fail the check too.
    #[arg(long)]
    strict: bool,
    /// Accept malformed corpus records (skipped, reported) instead of failing (H007).
    #[arg(long)]
    allow_skipped: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
    /// Write the report to this file instead of stdout (text diagnostics still go to stderr).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

struct Gate {
    name: String,
    /// The data it measured, e.g. `--benign a.jsonl`.
    data: String,
    passed: bool,
    detail: String,
    /// Why it failed: H011 (beyond the bound), H006 (no items), H007 (skipped records).
    code: ErrorCode,
}

struct CaseResult {
    /// The case file, joined to the pack directory.
    file: PathBuf,
    /// The case file inside the pack.
    name: String,
    line: usize,
    failures: Vec<String>,
    code: ErrorCode,
    got: String,
    label: Option<Label>,
    expected: Label,
    fired: Vec<String>,
    text: String,
    seconds: f64,
}

/// Everything one `check` found.
struct CheckReport {
    dir: PathBuf,
    pack: Option<(String, String)>,
    diags: Vec<Diag>,
    cases: Vec<CaseResult>,
    coverage: Vec<(String, usize, usize)>,
    corpus: Option<Report>,
    alarms: Vec<String>,
    gates: Vec<Gate>,
    /// A failure that stopped the check (I/O, usage): exit 2.
    fatal: Option<Diag>,
    strict: bool,
    seconds: f64,
}

impl CheckReport {
    fn name(&self) -> String {
        match &self.pack {
            Some((n, _)) => n.clone(),
            None => self.dir.file_name().map_or_else(|| shown_path(&self.dir), |n| n.to_string_lossy().into_owned()),
        }
    }
    fn errors(&self) -> impl Iterator<Item = &Diag> {
        self.diags.iter().filter(|d| !d.is_warning())
    }
    fn warnings(&self) -> impl Iterator<Item = &Diag> {
        self.diags.iter().filter(|d| d.is_warning())
    }
    fn failed_cases(&self) -> usize {
        self.cases.iter().filter(|c| !c.failures.is_empty()).count()
    }
    fn failed_gates(&self) -> usize {
        self.gates.iter().filter(|g| !g.passed).count()
    }
    fn exit_code(&self) -> u8 {
        if self.fatal.is_some() {
            2
        } else if self.errors().next().is_some()
            || self.failed_cases() > 0
            || self.failed_gates() > 0
            || (self.strict && self.warnings().next().is_some())
        {
            1
        } else {
            0
        }
    }
}

/// The pack directory of a path: itself, or the nearest ancestor with a
/// `pack.toml` (for a file inside a pack).
fn pack_dir(p: &Path) -> PathBuf {
    if p.is_dir() {
        return p.to_path_buf();
    }
    p.ancestors().skip(1).find(|a| a.join("pack.toml").is_file()).map_or_else(|| p.to_path_buf(), Path::to_path_buf)
}

pub fn run(g: &Global, mut a: CheckArgs) -> Result<ExitCode> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for p in &a.paths {
        let d = pack_dir(p);
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    if dirs.len() > 1 && a.format != CheckFormat::Text {
        anyhow::bail!("{} packs named: --format json, junit and sarif take one pack per run", dirs.len());
    }
    let mut worst = 0;
    for d in dirs {
        a.dir = d;
        worst = worst.max(run_one(g, &a)?);
    }
    Ok(ExitCode::from(worst))
}

fn run_one(g: &Global, a: &CheckArgs) -> Result<u8> {
    let started = Instant::now();
    let mut report = CheckReport {
        dir: a.dir.clone(),
        pack: None,
        diags: Vec::new(),
        cases: Vec::new(),
        coverage: Vec::new(),
        corpus: None,
        alarms: Vec::new(),
        gates: Vec::new(),
        fatal: None,
        strict: a.strict,
        seconds: 0.0,
    };
    if let Err(e) = check(g, a, &mut report) {
        report.fatal = Some(Diag::from_anyhow(&e, ErrorCode::Io));
    }
    report.seconds = started.elapsed().as_secs_f64();
    let code = report.exit_code();
    let doc = match a.format {
        CheckFormat::Text => text(&report),
        CheckFormat::Json => serde_json::to_string_pretty(&to_json(&report))? + "\n",
        CheckFormat::Junit => junit(&report),
        CheckFormat::Sarif => serde_json::to_string_pretty(&sarif(&report))? + "\n",
    };
    if a.format == CheckFormat::Text || a.output.is_some() {
        // Diagnostics as rustc renders them, for people and CI logs.
        for d in &report.diags {
            eprintln!("{}\n", d.rendered);
        }
        if let Some(f) = &report.fatal {
            eprintln!("{}", f.rendered);
        }
    }
    match &a.output {
        Some(path) => std::fs::write(path, doc)
            .map_err(|e| anyhow!("error[{}]: cannot write {}: {e}", ErrorCode::Io, path.display()))?,
        None => print!("{doc}"),
    }
    Ok(code)
}

fn usage(code: ErrorCode, msg: String) -> anyhow::Error {
    anyhow!("error[{code}]: {msg}")
}

/// The check itself; `Err` is a failure that stops it (I/O, usage).
fn check(g: &Global, a: &CheckArgs, r: &mut CheckReport) -> Result<()> {
    // Every gate names the data it needs, before anything runs.
    for (flag, given) in [("--min-precision", a.min_precision), ("--min-recall", a.min_recall)] {
        if given.is_some() && a.corpus.is_empty() {
            return Err(usage(
                ErrorCode::GateWithoutData,
                format!("{flag} needs labelled data: pass --corpus FILE.jsonl (records with `text` and `label`)"),
            ));
        }
    }
    if a.max_fpr.is_some() && a.corpus.is_empty() && a.benign.is_empty() {
        return Err(usage(
            ErrorCode::GateWithoutData,
            "--max-fpr needs benign data: pass --benign FILE.jsonl or --corpus FILE.jsonl".into(),
        ));
    }
    if !a.benign.is_empty() && a.max_fpr.is_none() {
        return Err(usage(
            ErrorCode::GateWithoutData,
            "--benign is the data of the false-positive gate: pass --max-fpr too (e.g. --max-fpr 0.02)".into(),
        ));
    }

    let (src, result) = packs::compile_source(&a.dir)?;
    let pack = match result {
        Ok(p) => p,
        Err(errors) => {
            r.diags = errors.0.iter().map(|e| Diag::from_pack_error(e, &a.dir, &src)).collect();
            return Ok(());
        }
    };
    r.diags = pack.warnings().iter().map(|w| Diag::from_pack_error(w, &a.dir, &src)).collect();
    r.pack = Some((pack.meta().name.clone(), pack.meta().version.clone()));
    let loaded = packs::disable_rules(LoadedPack { bytes: pack.to_bytes(), pack }, &g.disable_rule)?;
    let cases = loaded.pack.cases().to_vec();
    let rules: Vec<String> = loaded.pack.rules().iter().map(|r| r.id.clone()).collect();
    let engine = g.engine(loaded)?;

    // Cases. A case the engine refuses (too large, out of fuel) fails alone.
    for case in &cases {
        let t = Instant::now();
        let v = match case.segments() {
            None => engine.classify(&case.text),
            Some(segments) => engine.classify_segments(&segments),
        };
        let seconds = t.elapsed().as_secs_f64();
        let mut result = CaseResult {
            file: a.dir.join(&case.file),
            name: case.file.clone(),
            line: case.line,
            failures: Vec::new(),
            code: ErrorCode::CaseFailed,
            got: String::new(),
            label: None,
            expected: case.label,
            fired: Vec::new(),
            text: case.text.chars().take(160).collect::<String>().replace('\n', " "),
            seconds,
        };
        match v {
            Ok(v) => {
                result.failures = check_case(case, &v);
                result.got = verdict_text(&v);
                result.label = Some(v.label);
                result.fired = v.evidence.iter().map(|e| e.rule.clone()).collect();
            }
            Err(e) => {
                let d = Diag::from_anyhow(&anyhow!("{e}"), ErrorCode::GuestTrap);
                result.code = d.code;
                result.failures = vec![d.rendered];
            }
        }
        r.cases.push(result);
    }
    r.coverage = rules
        .iter()
        .map(|id| {
            (
                id.clone(),
                cases.iter().filter(|c| c.rules.contains(id)).count(),
                cases.iter().filter(|c| c.not_rules.contains(id)).count(),
            )
        })
        .collect();

    // Gates.
    if a.min_cases > 0 {
        let under: Vec<String> = r
            .coverage
            .iter()
            .filter(|(_, p, n)| *p < a.min_cases || *n < a.min_cases)
            .map(|(id, p, n)| format!("{id} ({p}+/{n}-)"))
            .collect();
        let (passed, detail, code) = if rules.is_empty() {
            (false, "the pack has no rules: a gate over zero rules fails".to_string(), ErrorCode::EmptyGate)
        } else if under.is_empty() {
            (true, format!("all {} rules covered", rules.len()), ErrorCode::GateFailed)
        } else {
            (false, format!("under-covered: {}", under.join(", ")), ErrorCode::GateFailed)
        };
        r.gates.push(Gate {
            name: format!("every rule has >= {} positive and negative cases", a.min_cases),
            data: "the pack's cases".into(),
            passed,
            detail,
            code,
        });
    }
    let fmt = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.4}"));
    let files =
        |flag: &str, f: &[PathBuf]| f.iter().map(|p| format!("{flag} {}", shown_path(p))).collect::<Vec<_>>().join(" ");
    if !a.corpus.is_empty() {
        let data = files("--corpus", &a.corpus);
        let (items, skipped) = read_items(&a.corpus)?;
        skipped_gate(r, a, &data, &skipped);
        let report = evaluate(&engine, &items, &[])?;
        let o = report.overall;
        if let Some(min) = a.min_precision {
            r.gates.push(measured(
                format!("precision >= {min}"),
                &data,
                o.tp + o.fp,
                "items flagged",
                o.precision().is_some_and(|p| p >= min),
                format!("precision {} ({} of {} flagged items are extraction)", fmt(o.precision()), o.tp, o.tp + o.fp),
            ));
        }
        if let Some(min) = a.min_recall {
            r.gates.push(measured(
                format!("recall >= {min}"),
                &data,
                o.tp + o.fn_,
                "extraction items",
                o.recall().is_some_and(|x| x >= min),
                format!("recall {} ({} of {} extraction items flagged)", fmt(o.recall()), o.tp, o.tp + o.fn_),
            ));
        }
        if let (Some(max), true) = (a.max_fpr, a.benign.is_empty()) {
            r.gates.push(measured(
                format!("FPR <= {max}"),
                &data,
                o.fp + o.tn,
                "benign items",
                o.fpr().is_some_and(|f| f <= max),
                format!("FPR {} ({} of {} benign items flagged)", fmt(o.fpr()), o.fp, o.fp + o.tn),
            ));
        }
        r.corpus = Some(report);
    }
    if let (false, Some(max)) = (a.benign.is_empty(), a.max_fpr) {
        let data = files("--benign", &a.benign);
        let (items, skipped) = read_items_benign(&a.benign)?;
        skipped_gate(r, a, &data, &skipped);
        let mut report = Report::default();
        for item in &items {
            let v = engine.classify_prompt(&item.prompt)?;
            if v.label == Label::Extraction {
                r.alarms.push(format!(
                    "{}: {}",
                    item.id.as_deref().unwrap_or("-"),
                    verdict_text(&v).lines().next().unwrap_or("")
                ));
            }
            report.add(item, &v, &[]);
        }
        let o = report.overall;
        r.gates.push(measured(
            format!("false-positive rate on benign corpora <= {max}"),
            &data,
            o.n(),
            "benign prompts",
            o.fpr().is_some_and(|f| f <= max),
            format!("FPR {} ({} of {} benign prompts flagged)", fmt(o.fpr()), o.fp, o.n()),
        ));
    }
    Ok(())
}

/// A gate over `n` items: zero items fail it (H006), else `passed` decides (H011).
fn measured(name: String, data: &str, n: usize, what: &str, passed: bool, detail: String) -> Gate {
    if n == 0 {
        return Gate {
            name,
            data: data.into(),
            passed: false,
            detail: format!("0 {what} in {data}: a gate over no data fails"),
            code: ErrorCode::EmptyGate,
        };
    }
    Gate { name, data: data.into(), passed, detail, code: ErrorCode::GateFailed }
}

/// Records dropped as malformed fail a gate of their own unless `--allow-skipped`.
fn skipped_gate(r: &mut CheckReport, a: &CheckArgs, data: &str, skipped: &Skipped) {
    if skipped.count() == 0 {
        return;
    }
    r.gates.push(Gate {
        name: format!("no malformed records in {data}"),
        data: data.into(),
        passed: a.allow_skipped,
        detail: format!(
            "{} record(s) skipped{}: {}",
            skipped.count(),
            if a.allow_skipped { " (--allow-skipped)" } else { "; fix them or pass --allow-skipped" },
            skipped.lines.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
        ),
        code: ErrorCode::SkippedRecords,
    });
}

/// Benign corpora: records labelled `extraction` are left out, records
/// without a label count as benign; malformed records are skipped.
fn read_items_benign(files: &[PathBuf]) -> Result<(Vec<Item>, Skipped)> {
    let mut items = Vec::new();
    let mut skipped = Skipped::default();
    for path in files {
        let bytes = crate::common::read_input(path)?;
        for (n, line, _) in parse_jsonl(&bytes) {
            let why = match line {
                Line::Record(mut m) => {
                    m.entry("label").or_insert_with(|| "benign".into());
                    match Item::from_record(m) {
                        Ok(i) if i.label == Label::Benign => {
                            items.push(i);
                            continue;
                        }
                        Ok(_) => continue,
                        Err(why) => why,
                    }
                }
                Line::Bad(why) => why,
            };
            let msg = format!("{}:{n}: skipped: {why}", path.display());
            eprintln!("{msg}");
            skipped.lines.push(msg);
        }
    }
    Ok((items, skipped))
}

fn text(r: &CheckReport) -> String {
    let mut s = String::new();
    if let Some((name, version)) = &r.pack {
        let _ = writeln!(s, "pack {name} {version}: {} rules, {} cases", r.coverage.len(), r.cases.len());
    }
    for c in r.cases.iter().filter(|c| !c.failures.is_empty()) {
        let _ = writeln!(
            s,
            "FAIL {}:{}: {}\n     text: {}\n     got:  {}",
            shown_path(&c.file),
            c.line,
            c.failures.join("; "),
            c.text,
            c.got.replace('\n', "\n           ")
        );
    }
    if r.pack.is_some() {
        let _ = writeln!(s, "cases: {} passed, {} failed", r.cases.len() - r.failed_cases(), r.failed_cases());
        let _ = writeln!(s, "coverage (positive/negative cases per rule):");
        for (id, p, n) in &r.coverage {
            let _ = writeln!(s, "  {id:<10} {p:>3} / {n:<3}");
        }
    }
    if let Some(c) = &r.corpus {
        let _ = write!(s, "corpus:\n{}", c.to_text(false));
    }
    for alarm in &r.alarms {
        let _ = writeln!(s, "false alarm: {alarm}");
    }
    for g in &r.gates {
        let _ = writeln!(s, "{} {} [{}]: {}", if g.passed { "PASS" } else { "FAIL" }, g.name, g.data, g.detail);
    }
    let errors = r.errors().count();
    let warnings = r.warnings().count();
    if errors > 0 {
        let _ = writeln!(s, "{}: {errors} error(s)", shown_path(&r.dir));
    }
    if warnings > 0 {
        let _ = writeln!(s, "{warnings} warning(s){}", if r.strict { " (--strict: they fail the check)" } else { "" });
    }
    let _ = writeln!(
        s,
        "{}",
        match r.exit_code() {
            0 => "ok",
            1 => "check failed",
            _ => "check could not run",
        }
    );
    s
}

fn to_json(r: &CheckReport) -> Value {
    json!({
        "ok": r.exit_code() == 0,
        "exit_code": r.exit_code(),
        "pack": r.pack.as_ref().map(|(n, v)| json!({"name": n, "version": v})),
        "dir": shown_path(&r.dir),
        "fatal": r.fatal.as_ref().map(Diag::to_json),
        "errors": r.errors().map(Diag::to_json).collect::<Vec<_>>(),
        "warnings": r.warnings().map(Diag::to_json).collect::<Vec<_>>(),
        "strict": r.strict,
        "cases": r.cases.iter().map(|c| json!({
            "file": shown_path(&c.file), "line": c.line, "expected": c.expected, "passed": c.failures.is_empty(),
            "failures": c.failures, "code": (!c.failures.is_empty()).then(|| c.code.as_str()),
            "label": c.label, "rules": c.fired, "seconds": c.seconds})).collect::<Vec<_>>(),
        "coverage": r.coverage.iter().map(|(id, p, n)| json!({"rule": id, "positive": p, "negative": n})).collect::<Vec<_>>(),
        "corpus": r.corpus.as_ref().map(|c| c.to_json(false)),
        "gates": r.gates.iter().map(|g| json!({"name": g.name, "data": g.data, "passed": g.passed, "detail": g.detail,
            "code": (!g.passed).then(|| g.code.as_str())})).collect::<Vec<_>>(),
        "seconds": r.seconds,
    })
}

/// One `<testcase>`; `problem` is (element, type, message, body).
fn testcase(
    s: &mut String,
    classname: &str,
    name: &str,
    at: Option<(&Path, usize)>,
    seconds: f64,
    problem: Option<(&str, &str, &str, &str)>,
) {
    let _ = write!(s, "    <testcase classname=\"{}\" name=\"{}\"", xml(classname), xml(name));
    if let Some((file, line)) = at {
        let _ = write!(s, " file=\"{}\" line=\"{line}\"", xml(&shown_path(file)));
    }
    let _ = write!(s, " time=\"{seconds:.6}\"");
    match problem {
        None => s.push_str("/>\n"),
        Some((element, kind, message, body)) => {
            let _ = writeln!(
                s,
                ">\n      <{element} type=\"{}\" message=\"{}\">{}</{element}>\n    </testcase>",
                xml(kind),
                xml(message),
                xml(body)
            );
        }
    }
}

fn junit(r: &CheckReport) -> String {
    let pack = r.name();
    let mut suites = String::new();
    let mut total = (0usize, 0usize, 0usize); // tests, failures, errors
    let mut suite = |name: &str, body: String, tests: usize, failures: usize, errors: usize, seconds: f64| {
        total.0 += tests;
        total.1 += failures;
        total.2 += errors;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{seconds:.6}\">\n{body}  </testsuite>\n",
            xml(name)
        );
    };
    if let Some(f) = &r.fatal {
        let mut b = String::new();
        testcase(&mut b, &pack, "check", None, r.seconds, Some(("error", f.code.as_str(), &f.message, &f.rendered)));
        suite(&format!("{pack}.check"), b, 1, 0, 1, r.seconds);
    }
    // Pack diagnostics: one test per error (and per warning under --strict).
    let shown: Vec<&Diag> = r.diags.iter().filter(|d| !d.is_warning() || r.strict).collect();
    if r.fatal.is_none() {
        let mut b = String::new();
        if shown.is_empty() {
            testcase(&mut b, &pack, "compile", Some((&r.dir.join("pack.toml"), 1)), 0.0, None);
        }
        for d in &shown {
            let name = format!("{} {}", d.code, d.position().unwrap_or_else(|| shown_path(&r.dir)));
            let at = d.file.as_deref().map(|f| (f, d.line.unwrap_or(1)));
            testcase(&mut b, &pack, &name, at, 0.0, Some(("failure", d.code.as_str(), &d.message, &d.rendered)));
        }
        suite(&format!("{pack}.compile"), b, shown.len().max(1), shown.len(), 0, 0.0);
    }
    if r.pack.is_some() {
        let mut b = String::new();
        for c in &r.cases {
            let name = format!("{}:{}", c.name, c.line);
            let problem = (!c.failures.is_empty()).then(|| c.failures.join("; "));
            let body = problem.as_ref().map(|p| format!("{p}\ntext: {}\ngot: {}", c.text, c.got));
            testcase(
                &mut b,
                &pack,
                &name,
                Some((&c.file, c.line)),
                c.seconds,
                problem.as_deref().zip(body.as_deref()).map(|(p, body)| ("failure", c.code.as_str(), p, body)),
            );
        }
        let secs = r.cases.iter().map(|c| c.seconds).sum();
        suite(&format!("{pack}.cases"), b, r.cases.len(), r.failed_cases(), 0, secs);
        if !r.gates.is_empty() {
            let mut b = String::new();
            for g in &r.gates {
                let problem = (!g.passed).then_some(("failure", g.code.as_str(), g.detail.as_str(), g.detail.as_str()));
                testcase(&mut b, &format!("{pack}.gates"), &format!("{} [{}]", g.name, g.data), None, 0.0, problem);
            }
            suite(&format!("{pack}.gates"), b, r.gates.len(), r.failed_gates(), 0, 0.0);
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"distillguard check {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.6}\">\n{suites}</testsuites>\n",
        xml(&shown_path(&r.dir)),
        total.0,
        total.1,
        total.2,
        r.seconds
    )
}

/// Where the docs of a code live, for SARIF's `helpUri`.
fn help_uri(code: ErrorCode) -> String {
    format!("https://github.com/distillguard/distillguard/blob/main/docs/errors.md#{}", code.as_str().to_lowercase())
}

fn sarif(r: &CheckReport) -> Value {
    let mut codes: Vec<ErrorCode> = Vec::new();
    let mut results = Vec::new();
    let location = |file: &Path, line: Option<usize>, column: Option<usize>| {
        let mut physical = json!({"artifactLocation": {"uri": repo_path(file), "uriBaseId": "%SRCROOT%"}});
        if let Some(l) = line.filter(|l| *l > 0) {
            let mut region = json!({"startLine": l});
            if let Some(c) = column.filter(|c| *c > 0) {
                region["startColumn"] = json!(c);
            }
            physical["region"] = region;
        }
        json!({"physicalLocation": physical})
    };
    let mut push = |code: ErrorCode, level: &str, message: String, loc: Option<Value>, props: Value| {
        if !codes.contains(&code) {
            codes.push(code);
        }
        let mut result = json!({
            "ruleId": code.as_str(),
            "level": level,
            "message": {"text": message},
            "properties": props,
        });
        if let Some(l) = loc {
            result["locations"] = json!([l]);
        }
        results.push(result);
    };
    if let Some(f) = &r.fatal {
        push(f.code, "error", f.message.clone(), Some(location(&r.dir, None, None)), json!({}));
    }
    for d in &r.diags {
        let level = match (d.code.severity(), r.strict) {
            (Severity::Error, _) | (Severity::Warning, true) => "error",
            (Severity::Warning, false) => "warning",
        };
        let message = match &d.note {
            Some(n) => format!("{}: {} ({n})", d.code.title(), d.message),
            None => format!("{}: {}", d.code.title(), d.message),
        };
        let loc = location(d.file.as_deref().unwrap_or(&r.dir.join("pack.toml")), d.line, d.column);
        push(d.code, level, message, Some(loc), json!({}));
    }
    for c in r.cases.iter().filter(|c| !c.failures.is_empty()) {
        let fired =
            if c.fired.is_empty() { "no rule fired".to_string() } else { format!("fired: {}", c.fired.join(", ")) };
        push(
            c.code,
            "error",
            format!("case {}:{} failed: {}; {fired}", c.name, c.line, c.failures.join("; ")),
            Some(location(&c.file, Some(c.line), Some(1))),
            json!({"rules": c.fired, "expected": c.expected, "label": c.label}),
        );
    }
    for g in r.gates.iter().filter(|g| !g.passed) {
        push(
            g.code,
            "error",
            format!("gate failed: {} [{}]: {}", g.name, g.data, g.detail),
            Some(location(&r.dir.join("pack.toml"), None, None)),
            json!({"gate": g.name, "data": g.data}),
        );
    }
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            let p = c.page();
            json!({
                "id": c.as_str(),
                "name": c.title(),
                "shortDescription": {"text": c.title()},
                "fullDescription": {"text": p.meaning},
                "help": {"text": format!("{} Example: {}", p.fix, p.example)},
                "helpUri": help_uri(*c),
                "defaultConfiguration": {"level": if c.severity() == Severity::Warning { "warning" } else { "error" }},
            })
        })
        .collect();
    // Results point at their rule by index as well as id.
    for res in &mut results {
        let id = res["ruleId"].as_str().unwrap_or_default().to_string();
        if let Some(i) = codes.iter().position(|c| c.as_str() == id) {
            res["ruleIndex"] = json!(i);
        }
    }
    let root = crate::common::repo_root();
    let root_uri = format!("file://{}/", root.to_string_lossy().trim_end_matches('/'));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "distillguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/distillguard/distillguard",
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
            "invocations": [{"executionSuccessful": r.fatal.is_none(), "exitCode": r.exit_code()}],
            "results": results,
            "properties": {
                "pack": r.pack.as_ref().map(|(n, v)| json!({"name": n, "version": v})),
                "cases": {"passed": r.cases.len() - r.failed_cases(), "failed": r.failed_cases()},
            },
        }],
    })
}
