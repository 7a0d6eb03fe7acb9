//! Replays the fuzz corpora (`fuzz/corpus/<target>/`, the seeds) and every
//! crash input the fuzzers found (`fuzz/regressions/<target>/`) through the
//! same checks the fuzz targets run (`fuzz/src/lib.rs`, included here), so
//! plain `cargo test` keeps every fixed crash fixed. The `wasm_abi` inputs
//! are replayed natively here and through wasmtime in
//! `tests/tests/native_vs_wasm_props.rs`.

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let files = inputs(target);
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let name = path.display().to_string();
        if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("{name}: {}", msg.unwrap_or_default());
        }
    }
    files.len()
}

#[test]
fn classify_inputs() {
    assert!(replay("classify", checks::check_classify) >= 10, "the classify seed corpus is missing");
    replay("wasm_abi", checks::check_classify);
}

#[test]
fn normalize_inputs() {
    assert!(replay("normalize", checks::check_normalize) >= 10);
}

#[test]
fn pack_source_inputs() {
    assert!(replay("pack_source", checks::check_pack_source) >= 5);
}

#[test]
fn pack_bytes_inputs() {
    assert!(replay("pack_bytes", checks::check_pack_bytes) >= 2);
}
