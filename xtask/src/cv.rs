//! `cargo xtask cv [public|hand]`: how well the pack generalises to text it
//! was not fitted on. Each fold is scored by the default pack with a model
//! fitted on every other seen set and the other folds; prints the pooled
//! counts. Public records count twice in the fit, as in `cargo xtask fit`.
//! Used to choose how the model is fitted and which pack changes
//! hold (docs/pack-format.md, "Fitting"); the final sets play no part.
//!
//! - `public` (the default): the public training sets collected from
//!   distinct repositories (`tests/data/public/tune-N.jsonl`, N >= 10), five
//!   folds by repository.
//! - `hand`: the hand-written training files (`tests/data/probes/*.jsonl`),
//!   five folds by file (file k of the sorted list in fold k mod 5): a writer's
//!   round is never split, so a fold's phrasings are new to the model.
//!
//! Every record's outcome in its fold (tp/fp/tn/fn, score, the rules that
//! fired) goes to `target/xtask-cv/verdicts.jsonl`, for reading the errors.

use crate::{distillguard, eval, fit, root};
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

fn lines(file: &str) -> Result<Vec<(usize, String)>, String> {
    let text = std::fs::read_to_string(root().join(file)).map_err(|e| format!("{file}: {e}"))?;
    Ok(text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(n, l)| (n + 1, l.to_string())).collect())
}

pub fn cv(mode: &str) -> Result<(), String> {
    let seen = eval::seen_sets();
    let (split, rest): (Vec<String>, Vec<String>) = match mode {
        "public" => seen.into_iter().partition(|f| distinct_repositories(f)),
        "hand" => seen.into_iter().partition(|f| f.starts_with("tests/data/probes/")),
        other => return Err(format!("cv: unknown split `{other}` (public or hand)")),
    };
    let mut records: Vec<(u64, String)> = Vec::new();
    for (k, f) in split.iter().enumerate() {
        for (n, line) in lines(f)? {
            let fold = if mode == "hand" {
                k as u64 % FOLDS
            } else {
                let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| format!("{f}:{n}: {e}"))?;
                fold_of(v["source"]["repo"].as_str().ok_or_else(|| format!("{f}:{n}: no source.repo"))?)
            };
            records.push((fold, line));
        }
    }
    let dir = root().join("target/xtask-cv");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut counts = [0u64; 4];
    // One line per record: how it fared in its fold, for reading the errors.
    let mut listing = String::new();
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
            .args(rest.iter().filter(|f| fit::is_public(f)))
            .arg(&train)
            .args((mode == "public").then_some(&train))
            .output()
            .map_err(|e| format!("cannot run distillguard: {e}"))?;
        if !fit.status.success() {
            return Err(format!("fit failed: {}", String::from_utf8_lossy(&fit.stderr)));
        }
        let out = Command::new(distillguard())
            .current_dir(root())
            .args(["--engine", "native", "classify", "--format", "jsonl", "--pack"])
            .arg(&pack)
            .arg("--input")
            .arg(&test)
            .output()
            .map_err(|e| format!("cannot run distillguard: {e}"))?;
        let verdicts = String::from_utf8_lossy(&out.stdout);
        let tested: Vec<&String> = records.iter().filter(|(f, _)| *f == k).map(|(_, l)| l).collect();
        if verdicts.lines().count() != tested.len() {
            return Err(format!("classify gave {} verdicts for {} records", verdicts.lines().count(), tested.len()));
        }
        for (line, verdict) in tested.into_iter().zip(verdicts.lines()) {
            let rec: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            let v: serde_json::Value = serde_json::from_str(verdict).map_err(|e| format!("classify output: {e}"))?;
            let truth = rec["label"] == "extraction";
            let flagged = v["label"] == "extraction";
            // tp, fp, tn, fn: the index into `counts` and the listing's name.
            let (i, outcome) = match (truth, flagged) {
                (true, true) => (0, "tp"),
                (false, true) => (1, "fp"),
                (false, false) => (2, "tn"),
                (true, false) => (3, "fn"),
            };
            counts[i] += 1;
            let mut rules: Vec<&str> =
                v["evidence"].as_array().into_iter().flatten().filter_map(|e| e["rule"].as_str()).collect();
            rules.sort_unstable();
            rules.dedup();
            listing.push_str(&format!(
                "{}\n",
                serde_json::json!({"id": rec["id"], "outcome": outcome, "fold": k, "category": rec["category"],
                    "kind": rec["kind"], "score": v["score"], "rules": rules})
            ));
        }
    }
    let verdicts = dir.join("verdicts.jsonl");
    std::fs::write(&verdicts, listing).map_err(|e| e.to_string())?;
    let [tp, fp, tn, fn_] = counts;
    let ratio = |a: u64, b: u64| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    println!(
        "{} records of {} file(s) ({} folds by {}): precision {p:.3} recall {r:.3} F1 {:.3} FPR {:.3} (tp {tp} fp {fp} tn {tn} fn {fn_})",
        records.len(),
        split.len(),
        FOLDS,
        if mode == "hand" { "file" } else { "repository" },
        2.0 * p * r / (p + r),
        ratio(fp, fp + tn),
    );
    println!("per record (id, outcome, fold, score, rules): {}", verdicts.display());
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
