//! `distillguard eval`: precision, recall, F1 and FPR on labelled JSONL.

use crate::common::{evaluate, read_items, Global};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use distillguard::ErrorCode;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct EvalArgs {
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
    /// Accept malformed records (skipped, reported on stderr) instead of failing (H007).
    #[arg(long)]
    allow_skipped: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
    Html,
}

/// Exit 1 when records were skipped (as `check`'s gates fail), unless
/// `--allow-skipped`; 2 when nothing could be read.
pub fn run(g: &Global, a: EvalArgs) -> Result<ExitCode> {
    let engine = g.classifier()?;
    let (items, skipped) = read_items(&a.files)?;
    if items.is_empty() {
        bail!("error[{}]: no labelled items in {:?}", ErrorCode::EmptyGate, a.files);
    }
    let report = evaluate(&engine, &items, &a.by)?;
    match a.format {
        ReportFormat::Text => print!("{}", report.to_text(a.misses)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report.to_json(a.misses))?),
        ReportFormat::Markdown => print!("{}", report.to_markdown(a.misses)),
        ReportFormat::Html => print!("{}", report.to_html(&a.title)),
    }
    if let Some(code) = skipped.failure(a.allow_skipped) {
        return Ok(code);
    }
    Ok(ExitCode::SUCCESS)
}
