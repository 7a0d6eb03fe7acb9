//! `distillguard`: classify prompts, check and compile rule packs, evaluate
//! on labelled data, benchmark. Runs the core-wasm module under wasmtime by
//! default (`--engine native` for the in-process classifier).
//!
//! Exit codes (like grep): 0 benign / success, 1 extraction found / check
//! failed, 2 error.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use distillguard::{Label, Verdict};
use distillguard_host::engine::{Classifier, EngineKind};
use distillguard_host::input::{parse_jsonl, Line};
use distillguard_host::metrics::{Item, Report};
use distillguard_host::packs;
use distillguard_host::prompt::Prompt;
use distillguard_host::wasm::HostLimits;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod check;
mod export;

#[derive(Parser)]
#[command(name = "distillguard", version, about = "Spot model-distillation and reasoning-extraction prompts.")]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every verb takes.
#[derive(Args, Clone)]
pub struct Global {
    /// Rule pack: a pack directory or a compiled pack file [default: the embedded default pack].
    #[arg(long, global = true, value_name = "PATH")]
    pack: Option<PathBuf>,
    /// Engine that classifies.
    #[arg(long, global = true, value_enum, default_value = "wasm")]
    engine: EngineKind,
    /// Largest input accepted, in bytes.
    #[arg(long, global = true, default_value_t = HostLimits::default().max_input_bytes)]
    max_input: usize,
    /// Memory cap per wasm instance, in MiB.
    #[arg(long, global = true, default_value_t = HostLimits::default().max_memory_bytes >> 20)]
    max_memory_mib: usize,
    /// Fuel per request for the wasm engine (plus --fuel-per-byte per input byte).
    #[arg(long, global = true, default_value_t = HostLimits::default().fuel_base)]
    fuel: u64,
    /// Fuel per input byte.
    #[arg(long, global = true, default_value_t = HostLimits::default().fuel_per_byte)]
    fuel_per_byte: u64,
}

impl Global {
    pub fn limits(&self) -> HostLimits {
        HostLimits {
            max_input_bytes: self.max_input,
            max_memory_bytes: self.max_memory_mib << 20,
            fuel_base: self.fuel,
            fuel_per_byte: self.fuel_per_byte,
            ..HostLimits::default()
        }
    }

    /// Loads the pack and builds the engine.
    pub fn classifier(&self) -> Result<Classifier> {
        let loaded = packs::load(self.pack.as_deref())?;
        Ok(Classifier::new(self.engine, loaded.pack, &loaded.bytes, self.limits())?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Classify a text (argument), stdin, or a JSONL file (`text` field, `id` passed through).
    Classify(ClassifyArgs),
    /// Validate a pack, run its cases, optionally gate on labelled corpora.
    Check(check::CheckArgs),
    /// Compile a pack directory into one verified binary file.
    Compile {
        /// Pack directory.
        dir: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Precision, recall, F1 and FPR on labelled JSONL (`text`, `label`, optional `category`).
    Eval(EvalArgs),
    /// Throughput and latency, wasm vs native.
    Bench(bench::BenchArgs),
    /// Inline reverse proxy in front of an OpenAI/Anthropic-compatible API (monitor / flag / block).
    Serve(distillguard_host::serve::ServeArgs),
    /// Write the pack's lexicons as a YARA rule file, a regex alternation or a literal list.
    Export(export::ExportArgs),
    /// Serve the rule-authoring web demo on 127.0.0.1.
    Demo {
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Jsonl,
}

#[derive(Args)]
struct ClassifyArgs {
    /// The text; read from stdin when absent and no --input is given.
    text: Option<String>,
    /// JSONL file (`-` for stdin): per line a `text` field, or `messages` with roles
    /// (OpenAI chat or Anthropic shape, with Anthropic's top-level `system`); `id` is passed through.
    #[arg(long, short)]
    input: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
struct EvalArgs {
    /// Labelled JSONL files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also break results down by this field (repeatable), e.g. `hard`, `kind`, `lang`.
    #[arg(long)]
    by: Vec<String>,
    /// List misses and false alarms with their evidence.
    #[arg(long)]
    misses: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Title for the markdown/html report.
    #[arg(long, default_value = "distillguard evaluation")]
    title: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Markdown,
    Html,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Classify(a) => classify(&cli.global, a),
        Command::Check(a) => check::run(&cli.global, a),
        Command::Compile { dir, output } => compile(&dir, &output),
        Command::Eval(a) => eval(&cli.global, a),
        Command::Bench(a) => bench::run(&cli.global, a),
        Command::Export(a) => export::run(&cli.global, a),
        Command::Demo { port } => demo(port),
        Command::Serve(a) => distillguard_host::serve::run(
            a,
            distillguard_host::serve::ServeGlobal { pack: cli.global.pack.clone(), limits: cli.global.limits() },
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(2)
        }
    }
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("cannot read stdin")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
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

fn with_id(id: Option<&serde_json::Value>, verdict_json: &str) -> String {
    match id {
        Some(id) => format!("{{\"id\":{},{}", id, &verdict_json[1..]),
        None => verdict_json.to_string(),
    }
}

fn classify(g: &Global, a: ClassifyArgs) -> Result<ExitCode> {
    let engine = g.classifier()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any_extraction = false;
    let mut errors = 0usize;
    type Entry = (Option<serde_json::Value>, Result<Prompt, String>, Option<String>);
    let texts: Vec<Entry> = if let Some(path) = &a.input {
        let bytes = read_input(path)?;
        parse_jsonl(&bytes)
            .into_iter()
            .map(|(n, line, warning)| {
                let warning = warning.map(|w| format!("{}:{n}: warning: {w}", path.display()));
                let (id, text) = match line {
                    Line::Record(mut m) => {
                        let id = m.remove("id");
                        let prompt = Prompt::from_record(&m).map_err(|why| format!("{}:{n}: {why}", path.display()));
                        (id, prompt)
                    }
                    Line::Bad(why) => (None, Err(format!("{}:{n}: {why}", path.display()))),
                };
                (id, text, warning)
            })
            .collect()
    } else {
        let text = match a.text {
            Some(t) => t,
            None => {
                let bytes = read_input(Path::new("-"))?;
                String::from_utf8(bytes).map_err(|e| {
                    anyhow::anyhow!("error[E202]: stdin is not valid UTF-8 at byte {}", e.utf8_error().valid_up_to())
                })?
            }
        };
        vec![(None, Ok(Prompt::Text(text)), None)]
    };
    let many = a.input.is_some();
    let mut json_items = Vec::new();
    for (id, text, warning) in texts {
        if let Some(w) = warning {
            eprintln!("{w}");
        }
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                errors += 1;
                continue;
            }
        };
        let json = match engine.classify_prompt_json(&text) {
            Ok(j) => j,
            Err(e) => {
                let at = id.as_ref().map_or(String::new(), |i| format!("id {i}: "));
                eprintln!("{at}{e}");
                errors += 1;
                continue;
            }
        };
        let verdict: Verdict = serde_json::from_str(&json).context("verdict JSON")?;
        any_extraction |= verdict.label == Label::Extraction;
        match a.format {
            Format::Text => {
                let prefix = id
                    .as_ref()
                    .map_or(String::new(), |i| format!("{}\t", i.as_str().map_or(i.to_string(), str::to_string)));
                writeln!(out, "{prefix}{}", verdict_text(&verdict))?;
            }
            Format::Jsonl => writeln!(out, "{}", with_id(id.as_ref(), &json))?,
            Format::Json if many => {
                json_items.push(serde_json::from_str::<serde_json::Value>(&with_id(id.as_ref(), &json))?)
            }
            Format::Json => {
                writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&json)?)?)?
            }
        }
    }
    if many && a.format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&json_items)?)?;
    }
    Ok(ExitCode::from(if errors > 0 {
        2
    } else if any_extraction {
        1
    } else {
        0
    }))
}

fn demo(port: u16) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    rt.block_on(distillguard_host::demo::serve(addr, |a| eprintln!("web demo on http://{a}/ (Ctrl-C to stop)")))?;
    Ok(ExitCode::SUCCESS)
}

fn compile(dir: &Path, output: &Path) -> Result<ExitCode> {
    let pack = packs::compile_dir(dir)?;
    let bytes = pack.to_bytes();
    std::fs::write(output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    for w in pack.warnings() {
        eprintln!("warning: {}", w.message());
    }
    eprintln!(
        "compiled {} {} ({} rules, {} lexicons, {} terms, {} cases) -> {} ({} bytes)",
        pack.meta().name,
        pack.meta().version,
        pack.rules().len(),
        pack.lexicons().len(),
        pack.term_count(),
        pack.cases().len(),
        output.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads labelled JSONL files into items; bad lines are reported and skipped.
pub fn read_items(files: &[PathBuf]) -> Result<(Vec<Item>, usize)> {
    let mut items = Vec::new();
    let mut bad = 0;
    for path in files {
        let bytes = read_input(path)?;
        for (n, line, warning) in parse_jsonl(&bytes) {
            if let Some(w) = warning {
                eprintln!("{}:{n}: warning: {w}", path.display());
            }
            let parsed = match line {
                Line::Record(m) => Item::from_record(m),
                Line::Bad(why) => Err(why),
            };
            match parsed {
                Ok(item) => items.push(item),
                Err(why) => {
                    eprintln!("{}:{n}: skipped: {why}", path.display());
                    bad += 1;
                }
            }
        }
    }
    Ok((items, bad))
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

fn eval(g: &Global, a: EvalArgs) -> Result<ExitCode> {
    let engine = g.classifier()?;
    let (items, bad) = read_items(&a.files)?;
    if items.is_empty() {
        bail!("no labelled items in {:?}", a.files);
    }
    let report = evaluate(&engine, &items, &a.by)?;
    match a.format {
        ReportFormat::Text => print!("{}", report.to_text(a.misses)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report.to_json(a.misses))?),
        ReportFormat::Markdown => print!("{}", report.to_markdown(a.misses)),
        ReportFormat::Html => print!("{}", report.to_html(&a.title)),
    }
    Ok(ExitCode::from(if bad > 0 { 2 } else { 0 }))
}
