//! What the commands share: global options, reading inputs and labelled
//! records, verdict text, paths as a user sees them, and diagnostics.

use anyhow::{Context, Result};
use clap::Args;
use distillguard::{ErrorCode, Label, Verdict};
use distillguard_host::engine::{Classifier, EngineKind};
use distillguard_host::evaluation::{Item, Report};
use distillguard_host::input::{parse_jsonl, Line};
use distillguard_host::packs::{self, LoadedPack};
use distillguard_host::wasm::{Budget, HostLimits};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Options every verb takes.
#[derive(Args, Clone)]
pub struct Global {
    /// Rule pack: a pack directory or a compiled pack file [default: the embedded default pack].
    #[arg(long, global = true, value_name = "PATH")]
    pub pack: Option<PathBuf>,
    /// Engine that classifies.
    #[arg(long, global = true, value_enum, default_value = "wasm")]
    pub engine: EngineKind,
    /// Turn rules off (repeatable): a rule id (`SPL-001`), an id prefix (`SPL`) or a category
    /// (`system_prompt_leak`). A selector that matches no rule is an error (H008).
    #[arg(long = "disable-rule", global = true, value_name = "SELECTOR")]
    pub disable_rule: Vec<String>,
    /// Largest input accepted, in bytes.
    #[arg(long, global = true, default_value_t = HostLimits::default().max_input_bytes)]
    pub max_input: usize,
    /// Memory cap per wasm instance, in MiB.
    #[arg(long, global = true, default_value_t = HostLimits::default().max_memory_bytes >> 20)]
    pub max_memory_mib: usize,
    /// Deadline per request for the wasm engine, in milliseconds (plus --deadline-ms-per-mib).
    #[arg(long, global = true, default_value_t = Budget::DEADLINE_MS)]
    pub deadline_ms: u64,
    /// Deadline per MiB of input, in milliseconds.
    #[arg(long, global = true, default_value_t = Budget::DEADLINE_MS_PER_MIB)]
    pub deadline_ms_per_mib: u64,
    /// Bound each request by fuel instead of a deadline: deterministic (the same input runs out the same
    /// way on every machine), but slower. Fuel per request [default with --fuel-per-byte: 200000000].
    #[arg(long, global = true)]
    pub fuel: Option<u64>,
    /// Fuel per input byte (selects fuel, as --fuel does) [default with --fuel: 20000].
    #[arg(long, global = true)]
    pub fuel_per_byte: Option<u64>,
}

impl Global {
    pub fn limits(&self) -> HostLimits {
        let budget = match (self.fuel, self.fuel_per_byte) {
            (None, None) => Budget::Deadline { base_ms: self.deadline_ms, ms_per_mib: self.deadline_ms_per_mib },
            (base, per_byte) => {
                Budget::Fuel { base: base.unwrap_or(Budget::FUEL), per_byte: per_byte.unwrap_or(Budget::FUEL_PER_BYTE) }
            }
        };
        HostLimits {
            max_input_bytes: self.max_input,
            max_memory_bytes: self.max_memory_mib << 20,
            budget,
            ..HostLimits::default()
        }
    }

    /// Loads a pack (`--pack` when `path` is `None`), less the disabled rules.
    pub fn load(&self, path: Option<&Path>) -> Result<LoadedPack> {
        packs::disable_rules(packs::load(path.or(self.pack.as_deref()))?, &self.disable_rule)
    }

    /// Builds the engine for a loaded pack.
    pub fn engine(&self, loaded: LoadedPack) -> Result<Classifier> {
        Ok(Classifier::new(self.engine, loaded.pack, &loaded.bytes, self.limits())?)
    }

    /// Loads `--pack` and builds the engine.
    pub fn classifier(&self) -> Result<Classifier> {
        self.engine(self.load(None)?)
    }
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("error[H004]: cannot read stdin")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("error[H004]: cannot read {}", path.display()))
}

/// Human-readable verdict.
pub fn verdict_text(v: &Verdict) -> String {
    let mut s = format!("{}  score {}  {}", v.label, v.score, v.fingerprint);
    if let Some(c) = v.top_category() {
        s.push_str(&format!("  {c}"));
    }
    for e in &v.evidence {
        let at = |sp: &distillguard::Span| match (sp.segment, sp.role) {
            (Some(i), Some(r)) => format!("{}#{i} ", r.as_str()),
            _ => String::new(),
        };
        let spans: Vec<String> =
            e.spans.iter().map(|sp| format!("{:?} [{}{}..{}]", sp.text, at(sp), sp.start, sp.end)).collect();
        s.push_str(&format!("\n  {} ({}, {}) via {}: {}", e.rule, e.category, e.weight, e.via, spans.join(", ")));
    }
    s
}

/// A verdict's JSON with the record's `id` first.
pub fn with_id(id: Option<&Value>, verdict_json: &str) -> String {
    match id {
        Some(id) => format!("{{\"id\":{},{}", id, &verdict_json[1..]),
        None => verdict_json.to_string(),
    }
}

/// Records of JSONL files that were malformed and skipped, with why.
#[derive(Default)]
pub struct Skipped {
    /// `file:line: why`, one per skipped record.
    pub lines: Vec<String>,
}

impl Skipped {
    pub fn count(&self) -> usize {
        self.lines.len()
    }

    /// Exit 1 with an error line when records were skipped and the caller
    /// did not pass `--allow-skipped` (`eval` and `diff` agree with `check`).
    pub fn failure(&self, allow_skipped: bool) -> Option<std::process::ExitCode> {
        if self.count() == 0 || allow_skipped {
            return None;
        }
        eprintln!(
            "error[{}]: {} malformed record(s) skipped; fix them or pass --allow-skipped",
            distillguard::ErrorCode::SkippedRecords,
            self.count()
        );
        Some(std::process::ExitCode::from(1))
    }
}

/// One record of a JSONL file: an optional gold label.
pub struct Record {
    /// Where it is, `file:line`.
    pub at: String,
    pub item: Item,
    /// Whether the record had a `label` (else `item.label` is a placeholder).
    pub labelled: bool,
}

/// Reads JSONL files into records. With `need_label`, a record without a
/// valid `label` is skipped; otherwise an absent label is allowed. Bad lines
/// are reported on stderr and counted.
pub fn read_records(files: &[PathBuf], need_label: bool) -> Result<(Vec<Record>, Skipped)> {
    let mut records = Vec::new();
    let mut skipped = Skipped::default();
    for path in files {
        let bytes = read_input(path)?;
        for (n, line, warning) in parse_jsonl(&bytes) {
            let at = format!("{}:{n}", path.display());
            if let Some(w) = warning {
                eprintln!("{at}: warning: {w}");
            }
            let parsed = match line {
                Line::Record(mut m) => {
                    let labelled = m.contains_key("label");
                    if !labelled && !need_label {
                        m.insert("label".into(), Value::from("benign"));
                    }
                    Item::from_record(m).map(|item| (item, labelled))
                }
                Line::Bad(why) => Err(why),
            };
            match parsed {
                Ok((item, labelled)) => records.push(Record { at, item, labelled }),
                Err(why) => {
                    let msg = format!("{at}: skipped: {why}");
                    eprintln!("{msg}");
                    skipped.lines.push(msg);
                }
            }
        }
    }
    Ok((records, skipped))
}

/// Reads labelled JSONL files into items; bad lines are reported and counted.
pub fn read_items(files: &[PathBuf]) -> Result<(Vec<Item>, Skipped)> {
    let (records, skipped) = read_records(files, true)?;
    Ok((records.into_iter().map(|r| r.item).collect(), skipped))
}

/// Classifies every item into a report.
pub fn evaluate(engine: &Classifier, items: &[Item], by: &[String]) -> Result<Report> {
    let mut report = Report::default();
    for item in items {
        let v = engine
            .classify_prompt(&item.prompt)
            .with_context(|| format!("classifying {}", item.id.as_deref().unwrap_or("an item")))?;
        report.add(item, &v, by);
    }
    Ok(report)
}

/// Whether a verdict flags.
pub fn flags(v: &Verdict) -> bool {
    v.label == Label::Extraction
}

/// The current directory, as an absolute path.
fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// `path` relative to `base` (with `..` when it lies outside it); `/`
/// separators.
fn relative_to(path: &Path, base: &Path) -> String {
    let abs = if path.is_absolute() { path.to_path_buf() } else { cwd().join(path) };
    let (abs, base) = (normalise(&abs), normalise(base));
    let (a, b): (Vec<_>, Vec<_>) = (abs.components().collect(), base.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return abs.to_string_lossy().replace('\\', "/");
    }
    let mut shown = PathBuf::new();
    for _ in common..b.len() {
        shown.push("..");
    }
    for c in &a[common..] {
        shown.push(c);
    }
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// Drops `.` and resolves `..` lexically (paths named on a command line
/// need not exist, and symlinks should stay as the user wrote them).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A path as the user can click it: relative to the current directory.
/// Prints a pack's compile errors as diagnostics and a count, on stderr
/// (`compile` and `fit`: pack errors are findings, exit 1).
pub fn print_pack_errors(
    errors: &distillguard::Errors,
    dir: &Path,
    src: &distillguard::PackSource,
) -> std::process::ExitCode {
    for e in &errors.0 {
        eprintln!("{}\n", Diag::from_pack_error(e, dir, src).rendered);
    }
    eprintln!("{}: {} error(s)", shown_path(dir), errors.0.len());
    std::process::ExitCode::from(1)
}

pub fn shown_path(path: &Path) -> String {
    relative_to(path, &cwd())
}

/// The repository root: the nearest ancestor of the current directory with
/// a `.git`, else the current directory.
pub fn repo_root() -> PathBuf {
    let cwd = cwd();
    cwd.ancestors().find(|a| a.join(".git").exists()).map_or(cwd.clone(), Path::to_path_buf)
}

/// A path relative to the repository root (what SARIF's `%SRCROOT%` means).
pub fn repo_path(path: &Path) -> String {
    relative_to(path, &repo_root())
}

/// One diagnostic of a command: a registry code, a message, and where.
#[derive(Clone, Debug)]
pub struct Diag {
    pub code: ErrorCode,
    pub message: String,
    pub note: Option<String>,
    /// The file as given on the command line's terms (joined to the pack
    /// directory), not yet made relative.
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The rendered form (rustc-like, with the source line), for text output.
    pub rendered: String,
}

impl Diag {
    /// A pack error or warning, its file inside `pack_dir`.
    pub fn from_pack_error(e: &distillguard::Error, pack_dir: &Path, src: &distillguard::PackSource) -> Diag {
        let loc = e.location();
        let source = loc.and_then(|l| src.get(&l.file));
        let rendered = e.clone().relocate(|f| shown_path(&pack_dir.join(f))).render(source);
        Diag {
            code: e.code(),
            message: e.message().to_string(),
            note: e.note().map(str::to_string),
            file: loc.map(|l| pack_dir.join(&l.file)),
            line: loc.map(|l| l.line),
            column: loc.map(|l| l.column),
            rendered,
        }
    }

    /// A failure of the command itself (I/O, usage): the code is read from
    /// an `error[CODE]` in the message, else `fallback`.
    pub fn from_anyhow(e: &anyhow::Error, fallback: ErrorCode) -> Diag {
        let text = format!("{e:#}");
        let code = text
            .find("error[")
            .and_then(|i| text[i + 6..].split(']').next())
            .and_then(ErrorCode::parse)
            .unwrap_or(fallback);
        let message = match text.find("]: ") {
            Some(i) if text.starts_with("error[") => text[i + 3..].to_string(),
            _ => text.clone(),
        };
        let rendered = if text.starts_with("error[") { text.clone() } else { format!("error[{code}]: {text}") };
        Diag { code, message, note: None, file: None, line: None, column: None, rendered }
    }

    pub fn is_warning(&self) -> bool {
        self.code.severity() == distillguard::Severity::Warning
    }

    /// `file:line:col` as the user sees it (cwd-relative), if located.
    pub fn position(&self) -> Option<String> {
        let f = shown_path(self.file.as_ref()?);
        Some(match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{f}:{l}:{c}"),
            (Some(l), None) => format!("{f}:{l}"),
            _ => f,
        })
    }

    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "code": self.code.as_str(),
            "severity": if self.is_warning() { "warning" } else { "error" },
            "title": self.code.title(),
            "message": self.message,
            "note": self.note,
            "file": self.file.as_deref().map(shown_path),
            "line": self.line,
            "column": self.column,
        })
    }
}

/// Escapes text for XML attributes and content (control characters dropped).
pub fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
