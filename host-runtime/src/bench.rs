//! `distillguard bench`: throughput and latency, wasm vs native, in one run.
//! Timings on a shared machine are noisy: compare the ratios, which are
//! measured side by side.

use crate::{read_items, Global};
use anyhow::{bail, Result};
use clap::Args;
use distillguard::Pack;
use distillguard_host::engine::{Classifier, EngineKind};
use distillguard_host::packs;
use distillguard_host::wasm::{HostLimits, WasmPool, WasmRuntime, MODULE};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    /// JSONL files whose `text` fields are the workload [default: the pack's case texts].
    files: Vec<PathBuf>,
    /// Time budget per measurement, in seconds.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Output JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A prompt of about `size` bytes cut from the workload at a char boundary.
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

fn throughput(engine: &Classifier, texts: &[String], budget: Duration) -> Result<f64> {
    let total: usize = texts.iter().map(String::len).sum();
    let start = Instant::now();
    let mut bytes = 0usize;
    loop {
        for t in texts {
            engine.classify_json(t)?;
        }
        bytes += total;
        if start.elapsed() >= budget {
            break;
        }
    }
    Ok(bytes as f64 / start.elapsed().as_secs_f64() / 1e6)
}

fn latencies(engine: &Classifier, prompt: &str, budget: Duration) -> Result<Vec<Duration>> {
    for _ in 0..20 {
        engine.classify_json(prompt)?; // warm up
    }
    let mut v = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || v.len() < 200 {
        let t = Instant::now();
        engine.classify_json(prompt)?;
        v.push(t.elapsed());
        if v.len() >= 200_000 {
            break;
        }
    }
    v.sort();
    Ok(v)
}

fn us(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e7).round() / 10.0
}

pub fn run(g: &Global, a: BenchArgs) -> Result<ExitCode> {
    let loaded = packs::load(g.pack.as_deref())?;
    let texts: Vec<String> = if a.files.is_empty() {
        loaded.pack.cases().iter().map(|c| c.text.clone()).collect()
    } else {
        read_items(&a.files)?.0.into_iter().map(|i| i.text).collect()
    };
    if texts.is_empty() {
        bail!("no texts to benchmark");
    }
    let budget = Duration::from_secs_f64(a.seconds);
    let limits = HostLimits { max_input_bytes: usize::MAX >> 1, ..g.limits() };

    // Load costs.
    let t = Instant::now();
    let runtime = Arc::new(WasmRuntime::embedded(limits)?);
    let module_compile = t.elapsed();
    let mut loads = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let _ = Pack::from_bytes(&loaded.bytes)?;
        loads.push(t.elapsed());
    }
    loads.sort();
    let pool = WasmPool::new(runtime.clone(), &loaded.bytes)?;
    let mut inst = Vec::new();
    for _ in 0..20 {
        inst.push(pool.measure_instantiate()?);
    }
    inst.sort();

    let native = Classifier::new(EngineKind::Native, Pack::from_bytes(&loaded.bytes)?, &loaded.bytes, limits)?;
    let wasm = Classifier::Wasm(pool);

    let native_mbs = throughput(&native, &texts, budget)?;
    let wasm_mbs = throughput(&wasm, &texts, budget)?;
    let mut lat = Vec::new();
    for size in [200usize, 2_000, 20_000] {
        let p = prompt_of(size, &texts);
        let n = latencies(&native, &p, budget / 2)?;
        let w = latencies(&wasm, &p, budget / 2)?;
        lat.push((size, n, w));
    }
    let total_bytes: usize = texts.iter().map(String::len).sum();
    let report = json!({
        "workload": {"texts": texts.len(), "bytes": total_bytes},
        "module_bytes": MODULE.len(),
        "pack_bytes": loaded.bytes.len(),
        "module_compile_ms": (module_compile.as_secs_f64() * 1e4).round() / 10.0,
        "pack_load_native_us_p50": us(percentile(&loads, 0.5)),
        "instantiate_and_load_wasm_us_p50": us(percentile(&inst, 0.5)),
        "throughput_mb_s": {"native": (native_mbs * 10.0).round() / 10.0, "wasm": (wasm_mbs * 10.0).round() / 10.0,
                            "wasm_over_native": (wasm_mbs / native_mbs * 1000.0).round() / 1000.0},
        "latency_us": lat.iter().map(|(size, n, w)| json!({
            "prompt_bytes": size,
            "native": {"p50": us(percentile(n, 0.5)), "p99": us(percentile(n, 0.99)), "samples": n.len()},
            "wasm": {"p50": us(percentile(w, 0.5)), "p99": us(percentile(w, 0.99)), "samples": w.len()},
        })).collect::<Vec<_>>(),
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("workload: {} texts, {} bytes", texts.len(), total_bytes);
        println!(
            "module: {} bytes, compiled pack: {} bytes, module compile {} ms",
            MODULE.len(),
            loaded.bytes.len(),
            report["module_compile_ms"]
        );
        println!(
            "pack load (native) p50 {} us; instantiate + load pack (wasm) p50 {} us",
            report["pack_load_native_us_p50"], report["instantiate_and_load_wasm_us_p50"]
        );
        println!(
            "throughput: native {:.1} MB/s, wasm {:.1} MB/s, wasm/native {:.3}",
            native_mbs,
            wasm_mbs,
            wasm_mbs / native_mbs
        );
        for (size, n, w) in &lat {
            println!(
                "latency {:>6} B: native p50 {:>8} us p99 {:>8} us | wasm p50 {:>8} us p99 {:>8} us",
                size,
                us(percentile(n, 0.5)),
                us(percentile(n, 0.99)),
                us(percentile(w, 0.5)),
                us(percentile(w, 0.99))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
