//! Builds what the binary embeds:
//! - the core-wasm module (`classifier/module`, wasm32-unknown-unknown,
//!   profile `wasm`), by a nested cargo with its own target directory, then
//!   `wasm-opt -Oz` when binaryen is installed (`node_modules/.bin` or PATH);
//! - the default pack (`rules/default`), compiled with this workspace's
//!   classifier;
//! - the web demo: `web-demo/www/**` plus, when `wasm-bindgen` at the pinned
//!   version is on PATH (`cargo xtask setup` installs it), the wasm-bindgen
//!   bundle of `web-demo` as `pkg/`. Without it the demo page says how to
//!   get it, and everything else works.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for p in [
        "classifier/src",
        "classifier/module/src",
        "classifier/Cargo.toml",
        "classifier/module/Cargo.toml",
        "Cargo.lock",
        "rules/default",
        "web-demo/src",
        "web-demo/Cargo.toml",
        "web-demo/www",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=DG_WASM_OPT");

    // The default pack.
    let pack = distillguard::PackCompiler::new()
        .compile(&distillguard::default_pack_source())
        .unwrap_or_else(|e| panic!("rules/default does not compile:\n{e}"));
    std::fs::write(out.join("default.dgpack"), pack.to_bytes()).unwrap();

    // The module.
    let target_dir = target_dir(&out).join("wasm-module");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "-p",
            "distillguard-module",
            "-p",
            "distillguard-web",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm",
            "--target-dir",
        ])
        .arg(&target_dir);
    for (k, _) in std::env::vars() {
        if (k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_MAKEFLAGS")
            || k.starts_with("RUSTFLAGS")
            || k == "RUSTC_WRAPPER"
        {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("RUSTFLAGS").env_remove("CARGO_ENCODED_RUSTFLAGS");
    let status = cmd.status().expect("run cargo for the wasm module");
    if !status.success() {
        panic!(
            "building the core-wasm module failed. If the message above says the target is missing, run:\n    \
             rustup target add wasm32-unknown-unknown"
        );
    }
    let built = target_dir.join("wasm32-unknown-unknown/wasm/distillguard_module.wasm");
    let dest = out.join("distillguard.wasm");
    if !(run_wasm_opt(&root, &built, &dest)) {
        std::fs::copy(&built, &dest).expect("copy wasm module");
    }

    // The web demo.
    let pkg = out.join("web-pkg");
    let _ = std::fs::remove_dir_all(&pkg);
    let web_wasm = target_dir.join("wasm32-unknown-unknown/wasm/distillguard_web.wasm");
    let bindgen = Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&web_wasm)
        .status();
    let mut assets: Vec<(String, PathBuf)> = Vec::new();
    if matches!(bindgen, Ok(s) if s.success()) {
        let bg = pkg.join("distillguard_web_bg.wasm");
        let tmp = pkg.join("opt.wasm");
        if run_wasm_opt(&root, &bg, &tmp) {
            std::fs::rename(&tmp, &bg).expect("replace optimised wasm");
        }
        collect(&pkg, &pkg, "pkg/", &mut assets);
    } else {
        println!("cargo:warning=wasm-bindgen (pinned version) not found: the web demo is embedded without its wasm bundle; run `cargo xtask setup`");
    }
    let www = root.join("web-demo/www");
    collect(&www, &www, "", &mut assets);
    assets.retain(|(rel, _)| !rel.starts_with("pkg/") || rel.starts_with("pkg/distillguard_web"));
    assets.sort();
    assets.dedup_by(|a, b| a.0 == b.0);
    let mut code = String::from("/// Files of the web demo, by path.\npub const WEB_ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &assets {
        code.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    code.push_str("];\n");
    std::fs::write(out.join("web_assets.rs"), code).unwrap();
}

fn collect(dir: &Path, base: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            collect(&path, base, prefix, out);
        } else {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.push((format!("{prefix}{rel}"), path));
        }
    }
}

/// `target/` of the outer build, from OUT_DIR = target/<profile>/build/<pkg>/out.
fn target_dir(out: &Path) -> PathBuf {
    out.ancestors().nth(4).map(Path::to_path_buf).unwrap_or_else(|| out.join("target"))
}

fn run_wasm_opt(root: &Path, input: &Path, output: &Path) -> bool {
    let local = root.join("node_modules/.bin/wasm-opt");
    let exe = std::env::var("DG_WASM_OPT").map(PathBuf::from).unwrap_or(if local.exists() {
        local
    } else {
        PathBuf::from("wasm-opt")
    });
    let status = Command::new(&exe)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg(input)
        .arg("-o")
        .arg(output)
        .status();
    matches!(status, Ok(s) if s.success())
}
