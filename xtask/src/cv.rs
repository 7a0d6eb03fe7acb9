//! `cargo xtask cv`: how well the lexical model generalises to repositories
//! it was not fitted on. The public training sets collected from distinct
//! repositories (`tests/data/public/tune-N.jsonl`, N >= 10) are split into five
//! folds by repository; each fold is scored by the default pack with a model
//! fitted on every other seen set and the other folds. Prints the pooled
//! counts. Used to choose how the model is fitted (docs/pack-format.md,
//! "Fitting"); the final sets play no part.

use crate::{distillguard, eval, root};
use std::path::Path;
use std::process::Command;

const FOLDS: u64 = 5;

/// FNV-1a of the repository name: a fold that does not depend on file order.
fn fold_of(repo: &str) -> u64 {
    repo.to_lowercase().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
        % FOLDS
}

/// `tests/data/public/tune-N.jsonl` with N >= 10: the sets whose collectors
/// excluded every repository of the earlier sets.
fn distinct_repositories(file: &str) -> bool {
    file.strip_prefix("tests/data/public/tune-")
        .and_then(|rest| rest.strip_suffix(".jsonl"))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n >= 10)
}

pub fn cv() -> Result<(), String> {
    let seen = eval::seen_sets();
    let (split, rest): (Vec<String>, Vec<String>) =
        seen.into_iter().partition(|f| distinct_repositories(f));
    let mut records: Vec<(u64, String)> = Vec::new();
    for f in &split {
        let text = std::fs::read_to_string(root().join(f)).map_err(|e| format!("{f}: {e}"))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{f}:{}: {e}", n + 1))?;
            let repo = v["source"]["repo"].as_str().ok_or_else(|| format!("{f}:{}: no source.repo", n + 1))?;
            records.push((fold_of(repo), line.to_string()));
        }
    }
    let dir = root().join("target/xtask-cv");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (mut tp, mut fp, mut tn, mut fn_) = (0u64, 0u64, 0u64, 0u64);
    for k in 0..FOLDS {
        let write = |name: &str, keep: &dyn Fn(u64) -> bool| -> Result<String, String> {
            let lines: String = records.iter().filter(|(f, _)| keep(*f)).map(|(_, l)| format!("{l}\n")).collect();
            let path = dir.join(name);
            std::fs::write(&path, lines).map_err(|e| e.to_string())?;
            Ok(path.display().to_string())
        };
        let train = write("train.jsonl", &|f| f != k)?;
        let test = write("test.jsonl", &|f| f == k)?;
        let pack = dir.join("pack");
        let _ = std::fs::remove_dir_all(&pack);
        copy_dir(&root().join("rules/default"), &pack)?;
        let fit = Command::new(distillguard())
            .current_dir(root())
            .arg("fit")
            .arg(&pack)
            .args(&rest)
            .arg(&train)
            .output()
            .map_err(|e| format!("cannot run distillguard: {e}"))?;
        if !fit.status.success() {
            return Err(format!("fit failed: {}", String::from_utf8_lossy(&fit.stderr)));
        }
        let out = Command::new(distillguard())
            .current_dir(root())
            .args(["--engine", "native", "eval", "--format", "json", "--pack"])
            .arg(&pack)
            .arg(&test)
            .output()
            .map_err(|e| format!("cannot run distillguard: {e}"))?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("eval output: {e}"))?;
        let count = |key: &str| v["overall"][key].as_u64().unwrap_or(0);
        (tp, fp, tn, fn_) = (tp + count("tp"), fp + count("fp"), tn + count("tn"), fn_ + count("fn"));
    }
    let ratio = |a: u64, b: u64| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    println!(
        "{} records of {} ({} folds by repository): precision {p:.3} recall {r:.3} F1 {:.3} FPR {:.3} (tp {tp} fp {fp} tn {tn} fn {fn_})",
        records.len(),
        split.join(", "),
        FOLDS,
        2.0 * p * r / (p + r),
        ratio(fp, fp + tn),
    );
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| e.to_string())?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
