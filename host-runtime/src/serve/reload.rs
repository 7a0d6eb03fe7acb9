//! The serving pack and its hot reload. A new pack is compiled, its own
//! cases are run (any failure refuses it), a fresh pool of instances is
//! built and warmed, and only then swapped in; requests in flight finish on
//! the pool they started with.

use crate::engine::Classifier;
use crate::packs;
use crate::wasm::WasmRuntime;
use anyhow::{bail, Context, Result};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Barrier};

/// One pack, ready to classify.
pub struct Engine {
    /// The pack's classifier: the CLI's `Classifier`, on wasm instances.
    pub classifier: Classifier,
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// The pack's own decision threshold.
    pub threshold: f64,
    /// Number of rules.
    pub rules: usize,
}

/// Loads `path` (or the embedded default pack), runs its cases when
/// `check_cases` (the embedded pack was checked when it was built) and
/// builds a warm pool of `pool_size` instances. Blocking: call off the reactor.
pub fn build_engine(
    runtime: &Arc<WasmRuntime>,
    path: Option<&Path>,
    pool_size: usize,
    check_cases: bool,
    disable: &[String],
) -> Result<Engine> {
    let loaded = packs::load(path)?;
    let report = (check_cases && path.is_some()).then(|| loaded.pack.run_cases());
    if let Some(report) = report.filter(|r| r.failed() > 0) {
        let first: Vec<String> = report
            .results
            .iter()
            .filter(|r| !r.passed)
            .take(3)
            .map(|r| format!("{}:{}: {}", r.file, r.line, r.failures.join("; ")))
            .collect();
        bail!("{} of {} pack cases fail: {}", report.failed(), report.results.len(), first.join(" | "));
    }
    // The pack's cases ran on the pack as written; `[rules] disable` applies to what serves.
    let loaded = packs::disable_rules(loaded, disable)?;
    let classifier = Classifier::wasm(runtime.clone(), &loaded.bytes).context("the wasm guest refused the pack")?;
    if let Classifier::Wasm(pool) = &classifier {
        pool.fill(pool_size).context("cannot make the pool's instances")?;
    }
    warm(&classifier, pool_size);
    let meta = loaded.pack.meta();
    Ok(Engine {
        classifier,
        name: meta.name.clone(),
        version: meta.version.clone(),
        threshold: meta.threshold,
        rules: loaded.pack.rules().len(),
    })
}

/// Runs `n` classifications at once on the pool's `n` ready instances, so
/// each has classified once before the pool serves.
fn warm(classifier: &Classifier, n: usize) {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                barrier.wait();
                let _ = classifier.classify_json("warm up");
            });
        }
    });
}

/// A cheap stamp of a pack path: modification times, sizes and names of
/// every file under it. Changes when any file does.
pub fn stamp(path: &Path) -> Option<u64> {
    fn walk(p: &Path, h: &mut DefaultHasher, depth: usize) -> std::io::Result<()> {
        let meta = std::fs::metadata(p)?;
        p.hash(h);
        meta.len().hash(h);
        meta.modified()?.hash(h);
        if meta.is_dir() && depth < 8 {
            let mut entries: Vec<_> = std::fs::read_dir(p)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for e in entries {
                walk(&e, h, depth + 1)?;
            }
        }
        Ok(())
    }
    let mut h = DefaultHasher::new();
    walk(path, &mut h, 0).ok()?;
    Some(h.finish())
}
