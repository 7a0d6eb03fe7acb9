//! Fuzz target `wasm_abi`: arbitrary bytes through the wasmtime host and the
//! guest's C ABI (`WasmPool::classify_json`). The host never panics; valid
//! UTF-8 gives exactly the native verdict JSON; anything else is a guest
//! error (E202 for bad UTF-8), and the pool keeps serving.
#![no_main]

use distillguard_host::packs::DEFAULT_PACK;
use distillguard_host::wasm::{HostError, HostLimits, WasmPool, WasmRuntime};
use std::sync::{Arc, OnceLock};

fn pool() -> &'static WasmPool {
    static POOL: OnceLock<WasmPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let runtime = Arc::new(WasmRuntime::embedded(HostLimits::default()).expect("module compiles"));
        WasmPool::new(runtime, DEFAULT_PACK).expect("default pack loads")
    })
}

fn native() -> &'static distillguard::Pack {
    static PACK: OnceLock<distillguard::Pack> = OnceLock::new();
    PACK.get_or_init(|| distillguard::Pack::from_bytes(DEFAULT_PACK).expect("default pack loads"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(distillguard_fuzz::MAX_TEXT)];
    match (pool().classify_json(data), std::str::from_utf8(data)) {
        (Ok(json), Ok(text)) => assert_eq!(json, distillguard_fuzz::check_classify_with(native(), text)),
        (Err(HostError::Guest { code, .. }), Err(_)) => assert_eq!(code, "E202"),
        (r, t) => panic!("wasm {r:?} for input that is{} UTF-8", if t.is_ok() { "" } else { " not" }),
    }
});
