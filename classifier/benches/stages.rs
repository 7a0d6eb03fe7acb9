//! Criterion benchmarks of the classifier's stages on the shared corpus:
//! `cargo bench -p distillguard --bench stages`.
//!
//! - `normalize`: the projections of a prompt (NFKC, case folding,
//!   confusables, de-spacing, leetspeak, base64), with offset maps;
//! - `scan`: normalisation plus lexicon matching (the matching stage);
//! - `classify`: scan plus rule evaluation, scoring and the verdict
//!   (the score stage is `classify` minus `scan`);
//! - `compile_default_pack`: `PackCompiler::compile` on the embedded source;
//! - `load_default_pack`: `Pack::from_bytes` (verify, decode, build automata).
//!
//! Prompts are cut from `tests/data/corpus/*.jsonl` at 200 B, 2 KB and
//! 20 KB, the sizes `BENCHMARKS.md` reports.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use distillguard::{default_pack, default_pack_source, normalize::Normalizer, Pack, PackCompiler};
use std::hint::black_box;
use std::path::Path;

/// The corpus texts (`text` fields), in file order.
fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| std::fs::read_to_string(f).expect("corpus file").lines().map(str::to_string).collect::<Vec<_>>())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

/// A prompt of about `size` bytes: corpus texts joined by newlines, cut at a
/// char boundary (the same cut as `distillguard bench`).
fn prompt_of(size: usize, texts: &[String]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < size {
        s.push_str(&texts[i % texts.len()]);
        s.push('\n');
        i += 1;
    }
    let mut end = size;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

fn stages(c: &mut Criterion) {
    let texts = corpus();
    let pack = default_pack();
    let normalizer = Normalizer::new(pack.meta().steps);
    for (name, f) in [
        ("normalize", &(|t: &str| drop(black_box(normalizer.project(t)))) as &dyn Fn(&str)),
        ("scan", &|t: &str| drop(black_box(pack.scan(t)))),
        ("classify", &|t: &str| drop(black_box(pack.classify(t)))),
    ] {
        let mut group = c.benchmark_group(name);
        for size in [200usize, 2_000, 20_000] {
            let prompt = prompt_of(size, &texts);
            group.throughput(Throughput::Bytes(prompt.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(size), prompt.as_str(), |b, p| b.iter(|| f(p)));
        }
        group.finish();
    }
}

fn pack_costs(c: &mut Criterion) {
    let source = default_pack_source();
    let bytes = default_pack().to_bytes();
    let mut group = c.benchmark_group("pack");
    group.sample_size(20);
    group.bench_function("compile_default_pack", |b| {
        b.iter(|| black_box(PackCompiler::new().compile(black_box(&source)).expect("default pack compiles")))
    });
    group.bench_function("load_default_pack", |b| {
        b.iter(|| black_box(Pack::from_bytes(black_box(&bytes)).expect("default pack loads")))
    });
    group.finish();
}

criterion_group!(benches, stages, pack_costs);
criterion_main!(benches);
