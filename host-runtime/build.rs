//! Builds the three artefacts the `distillguard` binary embeds. Everything it
//! needs is a crate in `Cargo.lock` or the Rust toolchain itself: no tool is
//! looked up on PATH, so the result depends only on its inputs (below), and
//! cargo re-runs this script whenever one of them changes.
//!
//! 1. **The default pack** (`rules/default`), compiled with this workspace's
//!    classifier into `$OUT_DIR/default.dgpack`.
//! 2. **The core-wasm module** (`classifier/module`) and **the web bindings**
//!    (`web-demo`), built for `wasm32-unknown-unknown` with profile `wasm` by
//!    one nested `cargo build`; the module is embedded without its `name`
//!    section. It has its own target directory,
//!    `<target>/wasm-artefacts` (`<target>` is `$CARGO_TARGET_DIR` or the
//!    workspace's `target/`), so it never waits on the outer build's lock and
//!    `cargo build`, `cargo check` and IDEs share one copy.
//! 3. **The web demo**: `web-demo/www/**` plus the JS glue and wasm that the
//!    `wasm-bindgen-cli-support` crate (the library behind the
//!    `wasm-bindgen` CLI, pinned to the same version as `wasm-bindgen`)
//!    generates from the bindings, as `pkg/`.
//!
//! Inputs: the sources and manifests of `classifier`, `classifier/module`
//! and `web-demo`, `web-demo/www`, `rules/default`, the workspace
//! `Cargo.toml` (profiles), `Cargo.lock` (every crate version, the bindgen
//! library included), `rust-toolchain.toml`, and `$CARGO_TARGET_DIR`.
//!
//! The one thing that can be missing is the wasm32 target of the toolchain;
//! the failure message says how to add it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("host-runtime lives in the workspace").to_path_buf();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for p in [
        "classifier/src",
        "classifier/Cargo.toml",
        "classifier/module/src",
        "classifier/module/Cargo.toml",
        "web-demo/src",
        "web-demo/Cargo.toml",
        "web-demo/www",
        "rules/default",
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    write(&out.join("default.dgpack"), &default_pack());

    let wasm_dir = build_wasm_crates(&root);
    let module = wasm_dir.join("distillguard_module.wasm");
    let bytes = std::fs::read(&module).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", module.display())));
    write(&out.join("distillguard.wasm"), &without_name_section(&bytes));

    let pkg = out.join("web-pkg");
    let _ = std::fs::remove_dir_all(&pkg);
    bindgen(&wasm_dir.join("distillguard_web.wasm"), &pkg);
    let mut assets = Vec::new();
    collect(&pkg, &pkg, "pkg/", &mut assets);
    let www = root.join("web-demo/www");
    collect(&www, &www, "", &mut assets);
    assets.sort();
    let mut code = String::from("/// Files of the web demo, by path.\npub const WEB_ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &assets {
        code.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    code.push_str("];\n");
    write(&out.join("web_assets.rs"), code.as_bytes());
}

fn default_pack() -> Vec<u8> {
    match distillguard::PackCompiler::new().compile(&distillguard::default_pack_source()) {
        Ok(pack) => pack.to_bytes(),
        Err(e) => fail(&format!(
            "rules/default does not compile:\n{e}\nRun `cargo run -p distillguard-host -- check rules/default` after fixing it."
        )),
    }
}

/// Builds the core module and the web bindings for wasm32; returns the
/// directory holding their `.wasm` files.
fn build_wasm_crates(root: &Path) -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let target = target.join("wasm-artefacts");
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root)
        .args(["build", "-p", "distillguard-module", "-p", "distillguard-web"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", "wasm", "--target-dir"])
        .arg(&target);
    // Cargo hands a build script the outer build's settings as CARGO_*
    // variables (CARGO_ENCODED_RUSTFLAGS, CARGO_CFG_*, ...), which a nested
    // cargo would read as its own configuration. Keep only where cargo lives
    // and the jobserver, so the nested build shares the outer job slots.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_MAKEFLAGS")
            || k.starts_with("RUSTFLAGS")
            || k == "RUSTC_WRAPPER"
        {
            cmd.env_remove(&*k);
        }
    }
    let status = cmd.status().unwrap_or_else(|e| fail(&format!("cannot run cargo for the wasm crates: {e}")));
    if !status.success() {
        fail(
            "building the wasm crates (distillguard-module, distillguard-web) failed; see the cargo output above.\n\
             If it says the wasm32-unknown-unknown target is not installed, run:\n    \
             rustup target add wasm32-unknown-unknown",
        );
    }
    target.join("wasm32-unknown-unknown/wasm")
}

/// The web demo's `pkg/`: JS glue and wasm, as `wasm-bindgen --target web
/// --no-typescript` would write them.
fn bindgen(input: &Path, out: &Path) {
    let result = wasm_bindgen_cli_support::Bindgen::new()
        .input_path(input)
        .web(true)
        .map(|b| b.typescript(false))
        .and_then(|b| b.generate(out));
    if let Err(e) = result {
        fail(&format!(
            "generating the web demo's JS bindings from {} failed: {e:#}\n\
             The `wasm-bindgen` crate and `wasm-bindgen-cli-support` must have the same version in Cargo.toml.",
            input.display()
        ));
    }
}

fn collect(dir: &Path, base: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", dir.display())));
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            collect(&path, base, prefix, out);
        } else {
            let rel = path.strip_prefix(base).expect("under base").to_string_lossy().replace('\\', "/");
            out.push((format!("{prefix}{rel}"), path));
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

/// The module without its `name` custom section (function names for
/// debuggers, about a tenth of the module): edge hosts never show them, and
/// a trap is reported as an error either way. Every other section is copied
/// as it is.
fn without_name_section(wasm: &[u8]) -> Vec<u8> {
    fn leb(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = *b.get(i)?;
            i += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some((value, i));
            }
            shift += 7;
        }
    }
    let mut out = wasm[..8.min(wasm.len())].to_vec();
    let mut i = 8;
    while i < wasm.len() {
        let Some((len, body)) = leb(wasm, i + 1) else { fail("the core module is not valid wasm (section header)") };
        let end = body + len;
        if end > wasm.len() {
            fail("the core module is not valid wasm (section length)");
        }
        let is_name = wasm[i] == 0 && leb(wasm, body).is_some_and(|(n, s)| wasm.get(s..s + n) == Some(b"name"));
        if !is_name {
            out.extend_from_slice(&wasm[i..end]);
        }
        i = end;
    }
    out
}

/// Stops the build with a message that says what to do.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
