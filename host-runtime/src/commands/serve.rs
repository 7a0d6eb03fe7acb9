//! `distillguard serve`: the inline proxy (its code is the library's
//! `serve` module).

use crate::common::Global;
use anyhow::{bail, Result};
use distillguard_host::serve::{ServeArgs, ServeGlobal};
use std::process::ExitCode;

pub fn run(g: &Global, a: ServeArgs) -> Result<ExitCode> {
    if !g.disable_rule.is_empty() {
        bail!("`--disable-rule` does not apply to `serve`: put the selectors in its config file, `[rules] disable = [...]`");
    }
    distillguard_host::serve::run(a, ServeGlobal { pack: g.pack.clone(), limits: g.limits() })
}
