//! One interface over the two engines: wasmtime (the default, what edge
//! proxies run) and native (in-process, for comparison).

use crate::wasm::{HostError, HostLimits, WasmPool, WasmRuntime};
use distillguard::{Pack, Verdict};
use std::sync::Arc;

/// Which engine classifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The core-wasm module under wasmtime.
    Wasm,
    /// The classifier compiled into this binary.
    Native,
}

/// A ready classifier for one pack.
pub enum Classifier {
    /// In-process.
    Native {
        /// The pack.
        pack: Arc<Pack>,
        /// Input cap, as for wasm.
        max_input_bytes: usize,
    },
    /// Through wasmtime.
    Wasm(WasmPool),
}

impl Classifier {
    /// Builds the engine for a pack given as native pack + compiled bytes.
    pub fn new(kind: EngineKind, pack: Pack, bytes: &[u8], limits: HostLimits) -> Result<Classifier, HostError> {
        Ok(match kind {
            EngineKind::Native => Classifier::Native { pack: Arc::new(pack), max_input_bytes: limits.max_input_bytes },
            EngineKind::Wasm => {
                let runtime = Arc::new(WasmRuntime::embedded(limits)?);
                Classifier::Wasm(WasmPool::new(runtime, bytes)?)
            }
        })
    }

    /// The verdict as JSON (byte-identical across engines).
    pub fn classify_json(&self, text: &str) -> Result<String, HostError> {
        match self {
            Classifier::Native { pack, max_input_bytes } => {
                if text.len() > *max_input_bytes {
                    return Err(HostError::InputTooLarge { len: text.len(), cap: *max_input_bytes });
                }
                Ok(pack.classify(text).to_json())
            }
            Classifier::Wasm(pool) => pool.classify_json(text.as_bytes()),
        }
    }

    /// The verdict, parsed.
    pub fn classify(&self, text: &str) -> Result<Verdict, HostError> {
        match self {
            Classifier::Native { pack, max_input_bytes } => {
                if text.len() > *max_input_bytes {
                    return Err(HostError::InputTooLarge { len: text.len(), cap: *max_input_bytes });
                }
                Ok(pack.classify(text))
            }
            Classifier::Wasm(_) => {
                let json = self.classify_json(text)?;
                serde_json::from_str(&json).map_err(|e| HostError::Trap(format!("guest verdict does not parse: {e}")))
            }
        }
    }
}
