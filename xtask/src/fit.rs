//! `cargo xtask fit`: refits the default pack's lexical model
//! (`rules/default/model/lexical.toml`) on the seen labelled sets and the
//! pack's cases. `tests/tests/lexical_model.rs` checks that the committed
//! model is what this writes.

use crate::{distillguard, eval, root};
use std::process::Command;

pub fn fit() -> Result<(), String> {
    let status = Command::new(distillguard())
        .current_dir(root())
        .args(["fit", "rules/default"])
        .args(eval::seen_sets())
        .status()
        .map_err(|e| format!("cannot run distillguard: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("distillguard fit failed: {status}"))
    }
}
