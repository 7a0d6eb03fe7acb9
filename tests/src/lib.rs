//! Shared helpers for the cross-crate tests.

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
    /// `text`.
    pub text: String,
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
            Record {
                id: v["id"].as_str().unwrap_or("").to_string(),
                text: v["text"].as_str().expect("text").to_string(),
                extraction: v["label"] == "extraction",
                fields: v,
            }
        })
        .collect()
}

/// The shared corpus (extraction + benign) followed by the team's generalisation set.
pub fn all_records() -> Vec<Record> {
    let mut v = records("corpus/extraction.jsonl");
    v.extend(records("corpus/benign.jsonl"));
    v.extend(records("generalisation.jsonl"));
    v
}
