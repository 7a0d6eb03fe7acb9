//! Every labelled item (corpus, generalisation set, probe rounds; plain
//! text and `messages` with roles) gives byte-identical verdict JSON
//! natively and through wasmtime.

use distillguard::Pack;
use distillguard_host::packs::DEFAULT_PACK;
use distillguard_host::prompt::Prompt;
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
    let mut segmented = 0;
    for r in &records {
        let (a, b) = match &r.prompt {
            Prompt::Text(t) => (native.classify(t).to_json(), pool.classify_json(t.as_bytes()).unwrap()),
            Prompt::Segments(_) => {
                segmented += 1;
                let segments = r.prompt.segments();
                let framed = distillguard::encode_segments(&segments);
                (native.classify_segments(&segments).to_json(), pool.classify_segments_json(&framed).unwrap())
            }
        };
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
    assert!(segmented >= 50, "only {segmented} items with roles");
    assert_eq!(pool.stats().replaced, 0);
}
