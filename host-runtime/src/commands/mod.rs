//! The commands, one file each, and the dispatch.

use crate::common::Global;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod bench;
pub mod check;
pub mod classify;
pub mod compile;
pub mod demo;
pub mod diff;
pub mod eval;
pub mod explain;
pub mod export;
pub mod fit;
pub mod serve;

#[derive(Parser)]
#[command(
    name = "distillguard",
    version,
    about = "Spot model-distillation and reasoning-extraction prompts.",
    after_help = "Exit codes: 0 ok, 1 findings or failures, 2 usage or I/O error. `distillguard explain CODE` explains an error code."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Classify a text (argument), stdin, or a JSONL file (`text` field, `id` passed through).
    Classify(classify::ClassifyArgs),
    /// Validate a pack, run its cases, optionally gate on labelled corpora.
    Check(check::CheckArgs),
    /// Compile a pack directory into one verified binary file.
    Compile(compile::CompileArgs),
    /// Fit the pack's lexical model on labelled JSONL and the pack's cases.
    Fit(fit::FitArgs),
    /// Precision, recall, F1 and FPR on labelled JSONL (`text`, `label`, optional `category`).
    Eval(eval::EvalArgs),
    /// Verdicts that flip between two packs on JSONL prompts, with the rules behind each flip.
    Diff(diff::DiffArgs),
    /// Print the page of an error code (what it means, an example, the fix).
    Explain(explain::ExplainArgs),
    /// Throughput and latency, wasm vs native.
    Bench(bench::BenchArgs),
    /// Inline reverse proxy in front of an OpenAI/Anthropic-compatible API (monitor / flag / block).
    Serve(distillguard_host::serve::ServeArgs),
    /// Write the pack's lexicons as a YARA rule file, a regex alternation or a literal list.
    Export(export::ExportArgs),
    /// Serve the rule-authoring web demo on 127.0.0.1.
    Demo(demo::DemoArgs),
}

/// Parses the command line and runs the command; an error is exit code 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let g = &cli.global;
    let result = match cli.command {
        Command::Classify(a) => classify::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::Compile(a) => compile::run(g, a),
        Command::Eval(a) => eval::run(g, a),
        Command::Fit(a) => fit::run(g, a),
        Command::Diff(a) => diff::run(g, a),
        Command::Explain(a) => explain::run(a),
        Command::Bench(a) => bench::run(g, a),
        Command::Export(a) => export::run(g, a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(g, a),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`| head`): not an error of ours, nothing to say.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether writing the output failed because its reader closed the pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
