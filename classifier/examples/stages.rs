//! Times the classifier's stages on the texts of a JSONL file:
//! `cargo run --release -p distillguard --example stages -- FILE.jsonl`.
//! With a second argument `classify` it only classifies every text once,
//! for instruction counts: `valgrind --tool=callgrind target/release/examples/stages FILE classify`
//! (`rules` instead of `classify`: the same without the pack's lexical model).
//! With `projections` it prints, per text, the projections built beside
//! `text` and their sizes in bytes (JSON lines).
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: stages FILE.jsonl");
    let texts: Vec<String> = std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let pack = distillguard::default_pack();
    if std::env::args().nth(2).as_deref() == Some("classify") {
        for t in &texts {
            std::hint::black_box(pack.classify(t));
        }
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("rules") {
        let rules = pack.without_lexical_model().expect("the same pack loads");
        for t in &texts {
            std::hint::black_box(rules.classify(t));
        }
        return;
    }
    let norm = distillguard::normalize::Normalizer::new(pack.meta().steps);
    if std::env::args().nth(2).as_deref() == Some("projections") {
        // Per text, the projections built beside `text` and their sizes, as
        // JSON lines (`cargo xtask bench` splits the corpus by them).
        for t in &texts {
            let scan = pack.scan(t);
            let mut line = format!("{{\"bytes\": {}", t.len());
            for p in &scan.projections[1..] {
                line.push_str(&format!(", \"{:?}\": {}", p.kind, p.text.len()));
            }
            println!("{line}}}");
        }
        return;
    }
    let time = |name: &str, f: &dyn Fn(&str)| {
        let t = Instant::now();
        for t in &texts {
            f(t);
        }
        let s = t.elapsed().as_secs_f64();
        println!("{name:<10} {:>8.1} MB/s  {:>8.1} us/text", bytes as f64 / s / 1e6, s * 1e6 / texts.len() as f64);
    };
    time("project", &|t| {
        std::hint::black_box(norm.project(t));
    });
    time("tokenize", &|t| {
        std::hint::black_box(distillguard::matcher::tokenize(t));
    });
    time("scan", &|t| {
        std::hint::black_box(pack.scan(t));
    });
    time("classify", &|t| {
        std::hint::black_box(pack.classify(t));
    });
    let hits: usize = texts.iter().map(|t| pack.scan(t).hits.len()).sum();
    println!("hits per KB: {:.1}", hits as f64 / bytes as f64 * 1000.0);
}
