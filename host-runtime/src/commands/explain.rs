//! `distillguard explain CODE`: an error code's page from the registry
//! (`distillguard::ErrorCode`); `--all --format markdown` is docs/errors.md.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use distillguard::ErrorCode;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Markdown,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// The code, e.g. `E004` (case does not matter).
    #[arg(required_unless_present = "all")]
    code: Option<String>,
    /// Every code.
    #[arg(long, conflicts_with = "code")]
    all: bool,
    /// Output format (`--all --format markdown` writes docs/errors.md).
    #[arg(long, value_enum, default_value = "text")]
    format: ExplainFormat,
}

pub fn run(a: ExplainArgs) -> Result<ExitCode> {
    if a.all {
        match a.format {
            ExplainFormat::Markdown => print!("{}", ErrorCode::markdown()),
            ExplainFormat::Text => {
                for c in ErrorCode::ALL {
                    println!("{}", c.explain());
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let asked = a.code.unwrap_or_default();
    let Some(code) = ErrorCode::parse(&asked) else {
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        let hint = distillguard::closest(&asked, &all).map_or(String::new(), |h| format!(" (did you mean `{h}`?)"));
        bail!(
            "error[{}]: no error code `{asked}`{hint}; `distillguard explain --all` lists them",
            ErrorCode::UnknownCode
        );
    };
    match a.format {
        ExplainFormat::Text => print!("{}", code.explain()),
        ExplainFormat::Markdown => {
            let p = code.page();
            print!(
                "## {}\n\n**{}.** {}\n\nExample:\n\n```\n{}\n```\n\nFix: {}\n",
                code,
                code.title(),
                p.meaning,
                p.example,
                p.fix
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}
