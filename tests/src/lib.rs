//! Shared helpers for the cross-crate tests.

use distillguard_host::prompt::Prompt;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `tests/data/...`
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// One labelled record.
pub struct Record {
    /// `id`.
    pub id: String,
    /// `text`, or `messages` with roles.
    pub prompt: Prompt,
    /// `label == "extraction"`.
    pub extraction: bool,
    /// The whole record.
    pub fields: Value,
}

/// Reads a labelled JSONL file.
pub fn records(rel: &str) -> Vec<Record> {
    let text = std::fs::read_to_string(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("valid JSONL");
            let prompt =
                Prompt::from_record(v.as_object().expect("an object")).unwrap_or_else(|e| panic!("{rel}: {e}"));
            Record {
                id: v["id"].as_str().unwrap_or("").to_string(),
                prompt,
                extraction: v["label"] == "extraction",
                fields: v,
            }
        })
        .collect()
}

/// Every `*.jsonl` file of a directory under `tests/data`, in name order.
pub fn records_in(dir: &str) -> Vec<Record> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| records(&format!("{dir}/{}", f.file_name().unwrap().to_string_lossy()))).collect()
}

/// The shared corpus (both batches), the team's generalisation set and the
/// probe rounds: every labelled record written or collected for tuning.
pub fn all_records() -> Vec<Record> {
    let mut v = records_in("corpus");
    v.extend(records("generalisation.jsonl"));
    v.extend(records_in("probes"));
    v
}
