//! wasm-bindgen bindings for the web demo (being written).
use wasm_bindgen::prelude::*;

/// The classifier version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
