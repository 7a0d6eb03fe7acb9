//! The npm package `distillguard` (`packages/js`) and the edge-worker
//! example (`examples/edge-worker`), tested in workerd, Node and Chromium.
//!
//! - `artefacts`: the core module and the compiled default pack, exactly the
//!   bytes the `distillguard` binary embeds: the host's build script writes
//!   them to its `OUT_DIR`, which cargo reports (`--message-format json`);
//!   they are copied into `packages/js/src/` (git-ignored) when they differ.
//! - `pack`: `npm pack` of the package into `target/js/`.
//! - `tests`: `examples/edge-worker/test/edge.mjs` (workerd and Node, against
//!   a fake API on loopback) and `packages/js/test/browser.mjs` (Chromium).
//! - `bench`: `examples/edge-worker/test/bench.mjs`, the workerd section of
//!   `BENCHMARKS.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds the host (a no-op when fresh) and copies the module and the pack
/// into `packages/js/src/`.
pub fn artefacts(root: &Path) -> Result<(), String> {
    let mut cmd = crate::cargo();
    cmd.args(["build", "--release", "-p", "distillguard-host", "--message-format", "json-render-diagnostics"]);
    eprintln!("$ {}", crate::describe(&cmd));
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{}` failed with {}", crate::describe(&cmd), out.status));
    }
    let out_dir = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"reason\":\"build-script-executed\"") && l.contains("distillguard-host"))
        .find_map(out_dir)
        .ok_or("cargo reported no build-script output for distillguard-host")?;
    let dir = root.join("packages/js/src");
    for (from, to) in [("distillguard.wasm", "distillguard.wasm"), ("default.dgpack", "default-pack.bin")] {
        let bytes = std::fs::read(out_dir.join(from)).map_err(|e| format!("{}: {e}", out_dir.join(from).display()))?;
        let target = dir.join(to);
        if std::fs::read(&target).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&target, &bytes).map_err(|e| format!("{}: {e}", target.display()))?;
            eprintln!("js: wrote {} ({} bytes)", target.display(), bytes.len());
        }
    }
    Ok(())
}

/// The `out_dir` of one `build-script-executed` message.
fn out_dir(line: &str) -> Option<PathBuf> {
    let rest = &line[line.find("\"out_dir\":\"")? + "\"out_dir\":\"".len()..];
    let value = &rest[..rest.find('"')?];
    Some(PathBuf::from(value.replace("\\\\", "\\")))
}

/// `npm pack` into `target/js/`; returns the tarball.
pub fn pack(root: &Path) -> Result<PathBuf, String> {
    let dest = root.join("target/js");
    std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut cmd = Command::new("npm");
    cmd.current_dir(root.join("packages/js"))
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&dest)
        .env("DG_ARTEFACTS_READY", "1");
    eprintln!("$ {}", crate::describe(&cmd));
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run npm: {e}"))?;
    if !out.status.success() {
        return Err(format!("`npm pack` failed with {}", out.status));
    }
    let name = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
    let tarball = dest.join(&name);
    if name.is_empty() || !tarball.exists() {
        return Err(format!("`npm pack` named no tarball (stdout: {name:?})"));
    }
    eprintln!("js: packed {}", tarball.display());
    Ok(tarball)
}

/// The package's and the example's tests; `distillguard` gives the native verdicts.
pub fn tests(root: &Path, distillguard: &Path) -> Result<(), String> {
    for dep in ["workerd", "openai"] {
        if !root.join("node_modules").join(dep).exists() {
            return Err(format!("node_modules/{dep} is missing: run `cargo xtask setup` (or `npm ci`)"));
        }
    }
    artefacts(root)?;
    let tarball = pack(root)?;
    crate::run(
        Command::new("node")
            .current_dir(root)
            .arg("examples/edge-worker/test/edge.mjs")
            .arg(distillguard)
            .arg(&tarball),
    )?;
    if Path::new("/usr/bin/chromium").exists() {
        crate::run(Command::new("node").current_dir(root).arg("packages/js/test/browser.mjs").arg(distillguard))
    } else {
        Err("/usr/bin/chromium is missing: run `cargo xtask setup`".into())
    }
}

/// Measures the package in workerd and rewrites the workerd section of `BENCHMARKS.md`.
pub fn bench(root: &Path) -> Result<(), String> {
    artefacts(root)?;
    let tarball = pack(root)?;
    crate::run(Command::new("node").current_dir(root).arg("examples/edge-worker/test/bench.mjs").arg(&tarball))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_out_dir_of_a_build_script_message() {
        let line = r#"{"reason":"build-script-executed","package_id":"path+file:///w/host-runtime#distillguard-host@0.1.0","linked_libs":[],"out_dir":"/w/target/release/build/distillguard-host-1/out"}"#;
        assert_eq!(
            super::out_dir(line).unwrap(),
            std::path::Path::new("/w/target/release/build/distillguard-host-1/out")
        );
    }
}
