//! `cargo xtask fuzz [SECONDS]`: a bounded run of every fuzz target in
//! `fuzz/` (cargo-fuzz, libFuzzer, the nightly toolchain), `SECONDS` each
//! (default 60), with debug assertions on so integer overflow counts as a crash.
//!
//! - Seeds come from `fuzz/corpus/<target>/` (kept in the repo, small); what
//!   the fuzzer discovers goes to `target/fuzz/corpus/<target>/`, so the
//!   repository's corpus only changes by hand.
//! - A crash is copied to `fuzz/regressions/<target>/`, where
//!   `classifier/tests/fuzz_regressions.rs` replays it on every `cargo test`;
//!   the run then fails, naming the file.
//! - `DG_FUZZ_TARGETS=classify,normalize` picks targets; `wasm_abi` builds
//!   wasmtime with coverage instrumentation, slow the first time (~10 min).
//! - Every target but `wasm_abi` runs on nightly with AddressSanitizer.
//!   `wasm_abi` runs on the pinned stable toolchain without a sanitizer: the
//!   host's build script builds the core-wasm module for wasm32 with the
//!   toolchain it runs under, and only stable has that target installed.
//!
//! Prints executions per target. Not part of `cargo xtask test`: too slow.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Every fuzz target, in the order they run.
pub const TARGETS: &[&str] = &["pack_source", "pack_bytes", "normalize", "classify", "wasm_abi"];

fn ok(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Rustup's `cargo` (so `+nightly` works), not the toolchain's own binary.
fn cargo_nightly() -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly").env_remove("RUSTUP_TOOLCHAIN").env_remove("CARGO");
    c
}

/// Rustup's `cargo` with the toolchain `rust-toolchain.toml` pins.
fn cargo_pinned() -> Command {
    let mut c = Command::new("cargo");
    c.env_remove("RUSTUP_TOOLCHAIN").env_remove("CARGO");
    c
}

/// Installs cargo-fuzz when missing, runs each target for `seconds`, and
/// reports executions per target. Fails on the first crash, after saving it.
pub fn fuzz(root: &Path, seconds: u64) -> Result<(), String> {
    if !ok(cargo_nightly().arg("--version")) {
        return Err("the fuzz targets need the nightly toolchain: `rustup toolchain install nightly`".into());
    }
    if !ok(Command::new("cargo").args(["fuzz", "--version"])) {
        crate::run(Command::new("cargo").args(["install", "cargo-fuzz"]))?;
    }
    let wanted = std::env::var("DG_FUZZ_TARGETS").unwrap_or_default();
    let targets: Vec<&str> =
        TARGETS.iter().copied().filter(|t| wanted.is_empty() || wanted.split(',').any(|w| w.trim() == *t)).collect();
    if targets.is_empty() {
        return Err(format!("DG_FUZZ_TARGETS={wanted} names no target; targets: {}", TARGETS.join(", ")));
    }
    let fuzz_dir = root.join("fuzz");
    let work = root.join("target/fuzz");
    let mut summary = Vec::new();
    for target in targets {
        let corpus = work.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        let artifacts = fuzz_dir.join("artifacts").join(target);
        let _ = std::fs::remove_dir_all(&artifacts);
        let log_path = work.join(format!("{target}.log"));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut cmd = if target == "wasm_abi" { cargo_pinned() } else { cargo_nightly() };
        cmd.current_dir(&fuzz_dir).args(["fuzz", "run", "--debug-assertions"]);
        if target == "wasm_abi" {
            cmd.args(["--sanitizer", "none"]);
        } else {
            cmd.arg("--no-default-features"); // the others need no wasmtime
        }
        cmd.arg(target)
            .arg(&corpus)
            .arg(fuzz_dir.join("corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .args(["-max_len=8192", "-print_final_stats=1"])
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        eprintln!("$ {} (log: {})", crate::describe(&cmd), log_path.display());
        let started = Instant::now();
        let status = cmd.status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let runs = text
            .lines()
            .filter_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .next_back()
            .or_else(|| {
                text.lines()
                    .filter_map(|l| l.strip_prefix("Done ").and_then(|r| r.split(' ').next()?.parse().ok()))
                    .next_back()
            });
        if !status.success() {
            let saved = save_crashes(&artifacts, &fuzz_dir.join("regressions").join(target))?;
            let tail: Vec<&str> = text.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(format!(
                "fuzz target `{target}` failed ({status}); crash inputs saved: [{}]\n{}",
                saved.join(", "),
                tail.join("\n")
            ));
        }
        let runs = runs.ok_or_else(|| format!("`{target}`: no execution count in {}", log_path.display()))?;
        eprintln!("fuzz {target}: {runs} executions in {:.0} s, no crash", started.elapsed().as_secs_f64());
        summary.push(format!("{target:<12} {runs:>10} executions"));
    }
    eprintln!("\nfuzz summary ({seconds} s per target):\n{}", summary.join("\n"));
    Ok(())
}

/// Copies libFuzzer's crash/timeout/oom files into the regression folder.
fn save_crashes(artifacts: &Path, regressions: &Path) -> Result<Vec<String>, String> {
    let mut saved = Vec::new();
    let Ok(entries) = std::fs::read_dir(artifacts) else { return Ok(saved) };
    std::fs::create_dir_all(regressions).map_err(|e| format!("{}: {e}", regressions.display()))?;
    for e in entries.flatten() {
        let dest = regressions.join(e.file_name());
        std::fs::copy(e.path(), &dest).map_err(|err| format!("{}: {err}", dest.display()))?;
        saved.push(dest.display().to_string());
    }
    Ok(saved)
}
