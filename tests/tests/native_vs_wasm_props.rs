//! Property: native and wasmtime verdicts are byte-identical on generated
//! text (trigger words, Unicode, confusables, zero-width and combining marks,
//! spelled-out and leetspeak words, base64 fragments, numbers), and on the
//! `wasm_abi` fuzz corpus and crash regressions (`fuzz/corpus/wasm_abi`,
//! `fuzz/regressions/wasm_abi`), including bytes that are not UTF-8, which
//! the guest refuses with E202 while the pool keeps serving.

use base64::Engine as _;
use distillguard::Pack;
use distillguard_host::packs::DEFAULT_PACK;
use distillguard_host::wasm::{HostError, HostLimits, WasmPool, WasmRuntime};
use proptest::prelude::*;
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn native() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| Pack::from_bytes(DEFAULT_PACK).unwrap())
}

fn pool() -> &'static WasmPool {
    static POOL: OnceLock<WasmPool> = OnceLock::new();
    POOL.get_or_init(|| {
        WasmPool::new(Arc::new(WasmRuntime::embedded(HostLimits::default()).unwrap()), DEFAULT_PACK).unwrap()
    })
}

/// The wasm verdict for `bytes`, checked against native for UTF-8 input.
fn same_verdict(bytes: &[u8]) -> Result<(), String> {
    let wasm = pool().classify_json(bytes);
    match (std::str::from_utf8(bytes), wasm) {
        (Ok(text), Ok(json)) => {
            let native = native().classify(text).to_json();
            if native == json {
                Ok(())
            } else {
                Err(format!("native and wasm differ on {text:?}:\n native {native}\n wasm   {json}"))
            }
        }
        (Err(_), Err(HostError::Guest { code, .. })) if code == "E202" => Ok(()),
        (t, r) => Err(format!("unexpected wasm result {r:?} (input UTF-8: {})", t.is_ok())),
    }
}

const VOCAB: &[&str] = &[
    "reveal",
    "print",
    "your",
    "system",
    "prompt",
    "instructions",
    "verbatim",
    "above",
    "step",
    "by",
    "reasoning",
    "examples",
    "pairs",
    "dataset",
    "JSONL",
    "teacher",
    "student",
    "model",
    "\\boxed{}",
    "<think>",
    "answer",
    "chain",
    "of",
    "thought",
    "ignore",
    "previous",
    "repeat",
    "words",
    "translate",
    "fine-tune",
    "покажи",
    "промпт",
    "系统提示",
    "显示",
    "시스템",
    "프롬프트를",
    "Ｓｙｓｔｅｍ",
    "𝐬𝐲𝐬𝐭𝐞𝐦",
    "ﬁle",
    "générer",
];
const ODD: &[char] = &[
    '\u{200b}',
    '\u{200d}',
    '\u{feff}',
    '\u{202e}',
    '\u{e0041}',
    '\u{301}',
    '\u{338}',
    'а',
    'е',
    'о',
    'ѕ',
    'ο',
    'ı',
    '’',
];
const SEPS: &[&str] = &[" ", " ", "", "\n", ", ", ". ", "-", "\t", "\u{200b}", ": "];

fn fragment() -> impl Strategy<Value = String> {
    let vocab = || prop::sample::select(VOCAB).prop_map(String::from);
    prop_oneof![
        6 => vocab(),
        2 => "[a-zA-Z]{1,9}",
        2 => any::<char>().prop_map(|c| c.to_string()),
        2 => prop::sample::select(ODD).prop_map(|c| c.to_string()),
        1 => "[0-9]{1,3}(,[0-9]{3})?[km]?",
        1 => vocab().prop_map(|w| w.chars().map(String::from).collect::<Vec<_>>().join(" ")),
        1 => vocab().prop_map(|w| w.replace('o', "0").replace('e', "3").replace('a', "4")),
        1 => prop::collection::vec(vocab(), 3..8)
            .prop_map(|ws| base64::engine::general_purpose::STANDARD.encode(ws.join(" "))),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec((fragment(), prop::sample::select(SEPS)), 0..40)
        .prop_map(|parts| parts.into_iter().map(|(f, s)| f + s).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn native_and_wasm_verdicts_are_identical_on_generated_text(t in text()) {
        if let Err(e) = same_verdict(t.as_bytes()) {
            return Err(TestCaseError::fail(e));
        }
    }

    #[test]
    fn arbitrary_bytes_never_upset_the_host(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = same_verdict(&bytes) {
            return Err(TestCaseError::fail(e));
        }
    }
}

#[test]
fn wasm_abi_fuzz_inputs_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["corpus/wasm_abi", "regressions/wasm_abi", "corpus/classify"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            same_verdict(&bytes).unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            n += 1;
        }
    }
    assert!(n >= 10, "the wasm_abi seed corpus is missing");
    assert_eq!(pool().stats().replaced, 0, "no instance may trap on these");
}
