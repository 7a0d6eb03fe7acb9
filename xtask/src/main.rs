//! `cargo xtask <verb>`: the project's automation, one place for what CI does.
//!
//! - `setup`: installs what the tests need, idempotently: the wasm32 target,
//!   wasm-bindgen-cli at the version pinned in Cargo.toml, npm packages
//!   (playwright-core, binaryen), Debian's Chromium.
//! - `test`: `setup`, then builds (one profile: release), runs
//!   `cargo test --workspace`, checks every pack under `rules/`, and runs the
//!   browser tests. This is what `.ci/run` calls.
//! - `eval`: regenerates `EVALUATION.md` and `test-output/evaluation.html`.
//! - `bench`: regenerates `BENCHMARKS.md` (distillguard native, wasmtime and
//!   Chromium against YARA-X, Hyperscan and Python `re` on the same patterns).
//! - `fuzz [SECONDS]`: runs every cargo-fuzz target for SECONDS (default 60).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod eval;
mod fuzz;
mod web;

type Result<T> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed with {status}", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().to_string();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// The wasm-bindgen version pinned (`=x.y.z`) in the workspace manifest.
fn pinned_wasm_bindgen() -> Result<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).map_err(|e| e.to_string())?;
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("wasm-bindgen = \"="))
        .map(|v| v.trim_end_matches('"').to_string())
        .ok_or_else(|| "Cargo.toml does not pin wasm-bindgen with `=`".to_string())
}

fn setup() -> Result<()> {
    // The toolchain file names the target, but rustup does not install it here.
    if output(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_some_and(|t| !t.contains("wasm32-unknown-unknown"))
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let want = pinned_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if !have.ends_with(&want) {
        // Without --locked: with it, a dependency version missing from the registry fails the install.
        run(cargo().args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    let node_ok = root().join("node_modules/playwright-core/package.json").exists()
        && root().join("node_modules/binaryen/package.json").exists();
    if !node_ok {
        run(Command::new("npm").current_dir(root()).args(["install", "--no-audit", "--no-fund"]))?;
    }
    if !Path::new("/usr/bin/chromium").exists() {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get").args(["install", "-y", "chromium"]))?;
    }
    Ok(())
}

fn packs() -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("rules"))
        .map_err(|e| format!("rules/: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("pack.toml").exists())
        .collect();
    v.sort();
    Ok(v)
}

fn distillguard() -> PathBuf {
    root().join("target/release/distillguard")
}

fn build() -> Result<()> {
    run(cargo().args(["build", "--release", "-p", "distillguard-host"]))
}

fn test() -> Result<()> {
    setup()?;
    build()?;
    run(cargo().args(["test", "--release", "--workspace"]))?;
    for pack in packs()? {
        run(Command::new(distillguard()).current_dir(root()).arg("check").arg(&pack).args(["--min-cases", "2"]))?;
    }
    web::browser_tests(&root(), &distillguard())?;
    Ok(())
}

fn main() -> ExitCode {
    let verb = std::env::args().nth(1).unwrap_or_default();
    let result = match verb.as_str() {
        "setup" => setup(),
        "test" => test(),
        "eval" => build().and_then(|()| eval::report()),
        "bench" => setup().and_then(|()| build()).and_then(|()| bench::bench(&root())),
        "fuzz" => {
            let seconds = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(60);
            fuzz::fuzz(&root(), seconds)
        }
        _ => Err("usage: cargo xtask <setup|test|eval|bench|fuzz [SECONDS]>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
