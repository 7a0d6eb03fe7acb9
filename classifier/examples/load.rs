//! Loads a compiled pack N times, for the cost of `Pack::from_bytes`:
//! `cargo run --release -p distillguard --example load -- N [PACK.dgpack]`
//! (without a file: the default pack, compiled first). Instruction counts of
//! the load alone:
//! `valgrind --tool=callgrind --toggle-collect='distillguard::pack::Pack::from_bytes' target/release/examples/load 1`.
use std::time::Instant;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let bytes = match std::env::args().nth(2) {
        Some(path) => std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        None => distillguard::default_pack().to_bytes(),
    };
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(distillguard::Pack::from_bytes(std::hint::black_box(&bytes)).expect("the pack loads"));
    }
    println!("{:.2} ms per load ({} bytes, {n} loads)", t.elapsed().as_secs_f64() * 1e3 / n as f64, bytes.len());
}
