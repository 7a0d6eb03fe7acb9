//! Every item of the corpus and of the generalisation set gives
//! byte-identical verdict JSON natively and through wasmtime.

use distillguard::Pack;
use distillguard_host::packs::DEFAULT_PACK;
use distillguard_host::wasm::{HostLimits, WasmPool, WasmRuntime};
use distillguard_tests::all_records;
use std::sync::Arc;

#[test]
fn native_and_wasmtime_verdicts_are_byte_identical() {
    let native = Pack::from_bytes(DEFAULT_PACK).unwrap();
    let runtime = Arc::new(WasmRuntime::embedded(HostLimits::default()).unwrap());
    let pool = WasmPool::new(runtime, DEFAULT_PACK).unwrap();
    let records = all_records();
    assert!(records.len() > 1500);
    let mut differ = Vec::new();
    for r in &records {
        let a = native.classify(&r.text).to_json();
        let b = pool.classify_json(r.text.as_bytes()).unwrap();
        if a != b {
            differ.push(format!("{}:\n native {a}\n wasm   {b}", r.id));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        records.len(),
        differ[..differ.len().min(3)].join("\n")
    );
    assert_eq!(pool.stats().replaced, 0);
}
