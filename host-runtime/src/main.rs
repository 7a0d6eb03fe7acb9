//! `distillguard`: classify prompts, check and compile rule packs, evaluate
//! on labelled data, diff two packs, benchmark, serve. Runs the core-wasm
//! module under wasmtime by default (`--engine native` for the in-process
//! classifier). One file per command under `commands/`.
//!
//! Exit codes: 0 ok (benign, check passed), 1 findings or failures
//! (extraction found, a case, gate or pack error failed), 2 usage or I/O.

mod commands;
mod common;

fn main() -> std::process::ExitCode {
    commands::main()
}
