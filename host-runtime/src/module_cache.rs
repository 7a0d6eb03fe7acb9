//! A disk cache of the compiled core module, so that a CLI call does not pay
//! Cranelift's compile (0.4-2 s on a small machine) every time it starts.
//!
//! The cache lives in `$DISTILLGUARD_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/distillguard`, else `~/.cache/distillguard`;
//! `DISTILLGUARD_CACHE_DIR=off` (or empty) turns it off. A file is named after
//! a hash of the module bytes and of the engine's compatibility key (wasmtime
//! version, compiler settings, CPU features), and carries a checksum of its
//! contents: a file that does not match is ignored and replaced. Any failure
//! to read or write the cache falls back to compiling; the cache can never
//! make a run fail.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::{Engine, Module};

/// First bytes of a cache file.
const MAGIC: &[u8; 8] = b"DGCWASM1";

/// Where compiled modules are cached, if anywhere.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os("DISTILLGUARD_CACHE_DIR") {
        Some(d) if d.is_empty() || d == "off" => None,
        Some(d) => Some(PathBuf::from(d)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("distillguard")),
    }
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The cache file for `wasm` compiled by `engine`, under `dir`.
fn file_for(dir: &Path, engine: &Engine, wasm: &[u8]) -> PathBuf {
    let mut h = DefaultHasher::new();
    wasm.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    dir.join(format!("module-{:016x}.cwasm", h.finish()))
}

/// The module compiled from `wasm`: from the cache when a valid entry is
/// there, otherwise compiled and (best effort) written to the cache.
pub fn load(engine: &Engine, wasm: &[u8], dir: Option<&Path>) -> wasmtime::Result<Module> {
    let Some(dir) = dir else { return Module::new(engine, wasm) };
    let path = file_for(dir, engine, wasm);
    if let Some(module) = read(engine, &path) {
        return Ok(module);
    }
    let module = Module::new(engine, wasm)?;
    if let Ok(serialized) = module.serialize() {
        write(dir, &path, &serialized);
    }
    Ok(module)
}

fn read(engine: &Engine, path: &Path) -> Option<Module> {
    let bytes = std::fs::read(path).ok()?;
    let valid = bytes.len() > 16 && bytes[..8] == MAGIC[..] && bytes[8..16] == checksum(&bytes[16..]).to_le_bytes()[..];
    if !valid {
        let _ = std::fs::remove_file(path);
        return None;
    }
    // SAFETY: `Module::deserialize` requires bytes that `Module::serialize`
    // produced. These did: the file is written only by `write` below, its
    // name binds it to these module bytes and this engine's compatibility
    // key (wasmtime also refuses an incompatible version or configuration),
    // and its checksum rules out a torn or corrupted write. The directory is
    // the user's own cache; whoever can write there can already replace the
    // binary itself.
    match unsafe { Module::deserialize(engine, &bytes[16..]) } {
        Ok(m) => Some(m),
        Err(_) => {
            let _ = std::fs::remove_file(path);
            None
        }
    }
}

fn write(dir: &Path, path: &Path, serialized: &[u8]) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut bytes = Vec::with_capacity(16 + serialized.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&checksum(serialized).to_le_bytes());
    bytes.extend_from_slice(serialized);
    // Write aside, then rename: a reader never sees half a file, and two
    // processes filling the cache at once both leave a whole one.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{n}", std::process::id()));
    if std::fs::write(&tmp, &bytes).is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(module (func (export "f") (result i32) i32.const 7))`, encoded.
    const WASM: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // types: () -> i32
        0x03, 0x02, 0x01, 0x00, // functions: one of type 0
        0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // exports: "f" = function 0
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x07, 0x0b, // code: i32.const 7
    ];

    fn engine() -> Engine {
        Engine::default()
    }

    fn call_f(engine: &Engine, module: &Module) -> i32 {
        let mut store = wasmtime::Store::new(engine, ());
        let instance = wasmtime::Instance::new(&mut store, module, &[]).unwrap();
        instance.get_typed_func::<(), i32>(&mut store, "f").unwrap().call(&mut store, ()).unwrap()
    }

    #[test]
    fn a_second_load_comes_from_the_cache_and_a_damaged_file_is_replaced() {
        let dir = std::env::temp_dir().join(format!("dg-module-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let engine = engine();
        let wasm = WASM.to_vec();
        let first = load(&engine, &wasm, Some(&dir)).unwrap();
        assert_eq!(call_f(&engine, &first), 7);
        let path = file_for(&dir, &engine, &wasm);
        let written = std::fs::read(&path).expect("the compiled module is cached");
        assert_eq!(&written[..8], MAGIC);

        let second = load(&engine, &wasm, Some(&dir)).unwrap();
        assert_eq!(call_f(&engine, &second), 7);

        // A flipped byte fails the checksum: the entry is recompiled and rewritten.
        let mut damaged = written.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        std::fs::write(&path, &damaged).unwrap();
        let third = load(&engine, &wasm, Some(&dir)).unwrap();
        assert_eq!(call_f(&engine, &third), 7);
        assert_eq!(std::fs::read(&path).unwrap(), written);

        // Junk and a truncated file are misses too, never errors.
        for junk in [&b"DGCWASM1"[..], b"not a module at all, just text"] {
            std::fs::write(&path, junk).unwrap();
            assert_eq!(call_f(&engine, &load(&engine, &wasm, Some(&dir)).unwrap()), 7);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_a_directory_or_with_an_unwritable_one_it_compiles() {
        let engine = engine();
        let wasm = WASM.to_vec();
        assert_eq!(call_f(&engine, &load(&engine, &wasm, None).unwrap()), 7);
        let file = std::env::temp_dir().join(format!("dg-module-cache-file-{}", std::process::id()));
        std::fs::write(&file, b"a file, not a directory").unwrap();
        assert_eq!(call_f(&engine, &load(&engine, &wasm, Some(&file.join("sub"))).unwrap()), 7);
        let _ = std::fs::remove_file(&file);
    }
}
