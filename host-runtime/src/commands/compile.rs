//! `distillguard compile DIR -o FILE`: one verified binary pack.

use crate::common::{print_pack_errors, Diag, Global};
use anyhow::{Context, Result};
use clap::Args;
use distillguard_host::packs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CompileArgs {
    /// Pack directory.
    dir: PathBuf,
    /// Output file.
    #[arg(short, long)]
    output: PathBuf,
}

/// Pack errors exit 1, as in `check`; I/O errors exit 2.
pub fn run(g: &Global, a: CompileArgs) -> Result<ExitCode> {
    let (src, result) = packs::compile_source(&a.dir)?;
    let pack = match result {
        Ok(p) => p,
        Err(errors) => return Ok(print_pack_errors(&errors, &a.dir, &src)),
    };
    for w in pack.warnings() {
        eprintln!("{}\n", Diag::from_pack_error(w, &a.dir, &src).rendered);
    }
    let pack = packs::disable_rules(packs::LoadedPack { bytes: Vec::new(), pack }, &g.disable_rule)?.pack;
    let bytes = pack.to_bytes();
    std::fs::write(&a.output, &bytes).with_context(|| format!("error[H004]: cannot write {}", a.output.display()))?;
    eprintln!(
        "compiled {} {} ({} rules, {} lexicons, {} terms, {} cases) -> {} ({} bytes)",
        pack.meta().name,
        pack.meta().version,
        pack.rules().len(),
        pack.lexicons().len(),
        pack.term_count(),
        pack.cases().len(),
        a.output.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}
