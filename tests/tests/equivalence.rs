//! Every labelled item (corpus, generalisation set, probe rounds; plain
//! text and `messages` with roles), and long prompts made of them with and
//! without deobfuscation triggers, give byte-identical verdict JSON natively
//! and through wasmtime.

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
    // Long prompts: the corpus joined to ~300 KB, as it is and with
    // leetspeak, homoglyph and spelled-out words spliced in every ~2 KB, so
    // the deobfuscated projection is built in many windows.
    let mut joined = String::new();
    for r in records.iter().filter_map(|r| if let Prompt::Text(t) = &r.prompt { Some(t) } else { None }) {
        if joined.len() > 300_000 {
            break;
        }
        joined.push_str(r);
        joined.push('\n');
    }
    let triggers = ["pr0mpt", "ѕуѕtеm", "s y s t e m", "pr0мpt", "r3v34l"];
    let mut spliced = String::new();
    for (i, line) in joined.split_inclusive('\n').enumerate() {
        spliced.push_str(line);
        if i % 8 == 0 {
            spliced.push_str(triggers[i % triggers.len()]);
            spliced.push(' ');
        }
    }
    for long in [&joined, &spliced] {
        let (a, b) = (native.classify(long).to_json(), pool.classify_json(long.as_bytes()).unwrap());
        assert!(a == b, "a {} byte prompt differs:\n native {a}\n wasm   {b}", long.len());
    }
    assert_eq!(pool.stats().replaced, 0);
}
