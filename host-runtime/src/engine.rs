//! One interface over the two engines: wasmtime (the default, what edge
//! proxies run) and native (in-process, for comparison).

use crate::prompt::Prompt;
use crate::wasm::{HostError, HostLimits, PoolStats, WasmPool, WasmRuntime};
use distillguard::{Pack, Segment, Verdict};
use std::sync::Arc;

/// Which engine classifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The core-wasm module under wasmtime.
    Wasm,
    /// The classifier compiled into this binary.
    Native,
}

/// A ready classifier for one pack: what every host calls (the CLI's
/// verbs and `serve`, whose hot reload builds a new one per pack).
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
            EngineKind::Wasm => Classifier::wasm(Arc::new(WasmRuntime::embedded(limits)?), bytes)?,
        })
    }

    /// A wasm classifier for a compiled pack on an existing runtime (the
    /// module compiled once, shared by every pack a proxy reloads).
    pub fn wasm(runtime: Arc<WasmRuntime>, bytes: &[u8]) -> Result<Classifier, HostError> {
        Ok(Classifier::Wasm(WasmPool::new(runtime, bytes)?))
    }

    /// Instance counts of the wasm pool (`None` for the native engine).
    pub fn pool_stats(&self) -> Option<PoolStats> {
        match self {
            Classifier::Native { .. } => None,
            Classifier::Wasm(pool) => Some(pool.stats()),
        }
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

    /// The verdict of a prompt with roles as JSON (byte-identical across
    /// engines). The input cap applies to the segments' total length.
    pub fn classify_segments_json(&self, segments: &[Segment<'_>]) -> Result<String, HostError> {
        match self {
            Classifier::Native { pack, max_input_bytes } => {
                Ok(pack.classify_segments(capped(segments, *max_input_bytes)?).to_json())
            }
            Classifier::Wasm(pool) => pool.classify_segments_json(&distillguard::encode_segments(segments)),
        }
    }

    /// The verdict of a prompt with roles, parsed.
    pub fn classify_segments(&self, segments: &[Segment<'_>]) -> Result<Verdict, HostError> {
        match self {
            Classifier::Native { pack, max_input_bytes } => {
                Ok(pack.classify_segments(capped(segments, *max_input_bytes)?))
            }
            Classifier::Wasm(_) => parse(&self.classify_segments_json(segments)?),
        }
    }

    /// The verdict of a prompt (text or segments) as JSON.
    pub fn classify_prompt_json(&self, prompt: &Prompt) -> Result<String, HostError> {
        match prompt {
            Prompt::Text(t) => self.classify_json(t),
            Prompt::Segments(_) => self.classify_segments_json(&prompt.segments()),
        }
    }

    /// The verdict of a prompt (text or segments), parsed.
    pub fn classify_prompt(&self, prompt: &Prompt) -> Result<Verdict, HostError> {
        match prompt {
            Prompt::Text(t) => self.classify(t),
            Prompt::Segments(_) => self.classify_segments(&prompt.segments()),
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
            Classifier::Wasm(_) => parse(&self.classify_json(text)?),
        }
    }
}

/// The segments, when their total length is within the input cap.
fn capped<'a, 's>(segments: &'s [Segment<'a>], cap: usize) -> Result<&'s [Segment<'a>], HostError> {
    let len: usize = segments.iter().map(|s| s.text.len()).sum();
    if len > cap {
        return Err(HostError::InputTooLarge { len, cap });
    }
    Ok(segments)
}

fn parse(json: &str) -> Result<Verdict, HostError> {
    serde_json::from_str(json).map_err(|e| HostError::Trap(format!("guest verdict does not parse: {e}")))
}
