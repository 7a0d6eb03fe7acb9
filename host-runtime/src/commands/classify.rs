//! `distillguard classify`: one text, stdin, or a JSONL file of prompts.

use crate::common::{read_input, verdict_text, with_id, Global};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use distillguard::{Label, Verdict};
use distillguard_host::input::{parse_jsonl, Line};
use distillguard_host::prompt::Prompt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Jsonl,
}

#[derive(Args)]
pub struct ClassifyArgs {
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

pub fn run(g: &Global, a: ClassifyArgs) -> Result<ExitCode> {
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
