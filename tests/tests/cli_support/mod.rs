//! What the CLI tests share: the binary, run from the repository root, and
//! scratch directories under target/.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("distillguard");
    assert!(path.exists(), "{} is missing: run `cargo build --release -p distillguard-host` first", path.display());
    path
}

/// Runs the binary from the repository root.
pub fn dg(args: &[&str]) -> Output {
    Command::new(bin()).current_dir(root()).args(args).stdin(Stdio::null()).output().unwrap()
}

/// A scratch directory under target/, fresh per name.
pub fn scratch(name: &str) -> PathBuf {
    let d = root().join("target/cli-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
