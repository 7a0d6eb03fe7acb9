//! `cargo xtask <verb>`: the project's automation, one place for what CI does.
//!
//! - `setup`: installs what the tests need, idempotently, and only what is
//!   missing: the wasm32 target, npm packages (playwright-core, workerd, openai), Debian's
//!   Chromium and the Noto CJK fonts (so screenshots show every language),
//!   and Debian's `redis-server` and `haproxy` (the proxy's fleet tests
//!   start their own).
//!   No wasm-bindgen CLI: the build script uses the same code as a crate.
//! - `test`: `setup`, then builds (one profile: release), runs
//!   `cargo test --workspace`, checks every pack under `rules/`, runs the
//!   browser tests and the edge tests (the npm package in workerd, Node and
//!   Chromium), printing the wall time of each stage. This is what
//!   `.ci/run` calls.
//! - `eval`: regenerates `EVALUATION.md` and `test-output/evaluation.html`.
//! - `bench`: regenerates `BENCHMARKS.md` (distillguard native, wasmtime and
//!   Chromium against YARA-X, Hyperscan and Python `re` on the same patterns).
//! - `fuzz [SECONDS]`: runs every cargo-fuzz target for SECONDS (default 60).
//! - `js-artefacts`: puts the core module and the default pack into the npm
//!   package (`packages/js/src/`); `js`: that, then `npm pack` into `target/js/`.
//! - `bench-edge`: measures the npm package in workerd and rewrites the
//!   workerd section of `BENCHMARKS.md` (`bench` keeps that section as it is).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod cv;
mod edge;
mod eval;
mod fit;
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

fn setup() -> Result<()> {
    // The toolchain file names the target, but rustup does not install it here.
    if output(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_some_and(|t| !t.contains("wasm32-unknown-unknown"))
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if !NPM_PACKAGES.iter().all(|p| root().join("node_modules").join(p).join("package.json").exists()) {
        run(Command::new("npm").current_dir(root()).args(["ci", "--no-audit", "--no-fund"]))?;
    }
    // redis-server and haproxy: the proxy's fleet tests start their own (tests/tests/proxy_fleet.rs).
    let missing: Vec<&str> = [
        ("chromium", "/usr/bin/chromium"),
        ("fonts-noto-cjk", NOTO_CJK),
        ("redis-server", "/usr/bin/redis-server"),
        ("haproxy", "/usr/sbin/haproxy"),
    ]
    .into_iter()
    .filter(|(_, path)| !Path::new(path).exists())
    .map(|(package, _)| package)
    .collect();
    if !missing.is_empty() {
        // Try without refreshing the package lists first: on a machine whose
        // lists are current this saves the slowest step.
        let install = || Command::new("apt-get").args(["install", "-y"]).args(&missing).status();
        if !install().is_ok_and(|s| s.success()) {
            run(Command::new("apt-get").arg("update"))?;
            run(Command::new("apt-get").args(["install", "-y"]).args(&missing))?;
        }
    }
    Ok(())
}

/// The packages whose tests share the `distillguard` binary's dependency graph.
const MAIN_GRAPH: [&str; 4] = ["distillguard", "distillguard-module", "distillguard-host", "distillguard-tests"];

/// The npm packages the tests need (`npm ci` installs them from package-lock.json).
const NPM_PACKAGES: [&str; 3] = ["playwright-core", "workerd", "openai"];

/// A file of Debian's `fonts-noto-cjk`.
const NOTO_CJK: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// Runs one stage of the test command and prints its wall time.
fn stage(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    eprintln!("xtask: stage `{name}`");
    let started = std::time::Instant::now();
    let result = f();
    let outcome = if result.is_ok() { "done" } else { "FAILED" };
    eprintln!("xtask: stage `{name}` {outcome} in {:.1} s", started.elapsed().as_secs_f64());
    result
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
    let started = std::time::Instant::now();
    stage("setup", setup)?;
    stage("build", build)?;
    stage("rust tests", || {
        // Two cargo invocations, because cargo unifies features over the
        // packages it builds: the web bindings pull `syn` features that
        // would otherwise rebuild every proc macro and the whole wasmtime
        // stack a second time. This way the tests reuse the `build` stage's
        // artefacts, and the bindings' native tests build their own small graph.
        run(cargo().args(["test", "--release"]).args(MAIN_GRAPH.iter().flat_map(|p| ["-p", p])))?;
        run(cargo().args(["test", "--release", "-p", "distillguard-web", "-p", "xtask"]))
    })?;
    stage("pack check", || {
        for pack in packs()? {
            run(Command::new(distillguard()).current_dir(root()).arg("check").arg(&pack).args(["--min-cases", "2"]))?;
        }
        Ok(())
    })?;
    stage("browser", || web::browser_tests(&root(), &distillguard()))?;
    stage("edge", || edge::tests(&root(), &distillguard()))?;
    eprintln!("xtask: all stages passed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

const USAGE: &str =
    "usage: cargo xtask <setup|test|eval|fit|cv [public|hand]|bench|bench-edge|js|js-artefacts|fuzz [SECONDS]>";

fn main() -> ExitCode {
    let verb = std::env::args().nth(1).unwrap_or_default();
    let result = match verb.as_str() {
        "setup" => setup(),
        "test" => test(),
        "eval" => build().and_then(|()| eval::report()),
        "fit" => build().and_then(|()| fit::fit()),
        "cv" => {
            let mode = std::env::args().nth(2).unwrap_or_else(|| "public".to_string());
            build().and_then(|()| cv::cv(&mode))
        }
        "bench" => setup().and_then(|()| build()).and_then(|()| bench::bench(&root())),
        "js-artefacts" => edge::artefacts(&root()),
        "js" => edge::artefacts(&root()).and_then(|()| edge::pack(&root())).map(|_| ()),
        "bench-edge" => setup().and_then(|()| edge::bench(&root())),
        "fuzz" => {
            let seconds = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(60);
            fuzz::fuzz(&root(), seconds)
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
