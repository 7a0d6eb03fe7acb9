//! `distillguard bench`: throughput and latency, wasm vs native, in one run.
//! Timings on a shared machine are noisy: compare the ratios, which are
//! measured side by side.

use crate::common::{read_records, Global};
use anyhow::{bail, Result};
use clap::Args;
use distillguard::Pack;
use distillguard_host::engine::Classifier;
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
    /// Prompt sizes for the latency figures, in bytes (cut from the workload).
    #[arg(long, value_delimiter = ',', default_value = "200,2000,20000")]
    sizes: Vec<usize>,
    /// Fewest timed calls per latency figure, whatever the time budget.
    #[arg(long, default_value_t = 200)]
    min_samples: usize,
    /// Also time one pass over the workload repeated to this many MB.
    #[arg(long, value_name = "MB")]
    repeat_to_mb: Option<f64>,
    /// Only the latency figures (no throughput, compile or memory figures).
    #[arg(long)]
    latency_only: bool,
    /// Also write the core-wasm module and the compiled pack measured here to
    /// DIR/distillguard.wasm and DIR/pack.dgpack (so other hosts, e.g. a
    /// browser, can run the very same bytes).
    #[arg(long, value_name = "DIR")]
    write_artifacts: Option<PathBuf>,
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
    prompt_from(size, texts, 0)
}

/// Most distinct prompts timed per size.
const DISTINCT_PROMPTS: usize = 16;

/// Up to [`DISTINCT_PROMPTS`] different prompts of `size` bytes, each cut
/// from the workload starting at another text (as many as the workload
/// holds without repeating itself much). Timing one prompt over and over
/// measures a prompt the CPU has learnt by heart: a repeated 2 KB prompt
/// ran up to twice as fast per byte as a stream of different ones, which
/// made cost per byte seem to double from 2 KB to 10 KB.
fn prompts_of(size: usize, texts: &[String]) -> Vec<String> {
    let total: usize = texts.iter().map(|t| t.len() + 1).sum();
    let k = (total / size.max(1)).clamp(1, DISTINCT_PROMPTS);
    (0..k).map(|j| prompt_from(size, texts, j * texts.len() / k)).collect()
}

/// A prompt of `size` bytes: the texts from index `first` on, joined by
/// newlines (wrapping around), cut at a character boundary.
fn prompt_from(size: usize, texts: &[String], first: usize) -> String {
    let mut s = String::new();
    let mut i = first;
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

/// One pass over the workload with one engine or stage.
type Pass<'a> = Box<dyn Fn(&str) -> Result<()> + 'a>;

/// Throughput in MB/s of each pass, measured round-robin (one pass over
/// `texts` each, in turn) so that all of them see the same machine load:
/// on a shared machine the ratios are then meaningful even when the
/// absolute figures drift. Stops after `budget` per pass, or once each has
/// covered `min_bytes` (for the repeated workload).
fn interleaved(passes: &[Pass<'_>], texts: &[String], budget: Duration, min_bytes: usize) -> Result<Vec<(f64, usize)>> {
    let total: usize = texts.iter().map(String::len).sum();
    let mut spent = vec![Duration::ZERO; passes.len()];
    let mut bytes = 0usize;
    let start = Instant::now();
    loop {
        for (pass, spent) in passes.iter().zip(&mut spent) {
            let t = Instant::now();
            for text in texts {
                pass(text)?;
            }
            *spent += t.elapsed();
        }
        bytes += total;
        let enough = if min_bytes > 0 { bytes >= min_bytes } else { start.elapsed() >= budget * passes.len() as u32 };
        if enough {
            break;
        }
    }
    Ok(spent.iter().map(|d| (bytes as f64 / d.as_secs_f64() / 1e6, bytes)).collect())
}

/// Resident set size of this process, in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// Linear-memory size of one guest instance after loading the pack, and
/// after classifying `prompt` (the guest's memory only grows), in bytes.
fn wasm_memory(pack: &[u8], prompt: &str) -> Result<(usize, usize)> {
    wasm_memory_inner(pack, prompt).map_err(|e| anyhow::anyhow!("measuring guest memory: {e:#}"))
}

fn wasm_memory_inner(pack: &[u8], prompt: &str) -> wasmtime::Result<(usize, usize)> {
    use wasmtime::{Engine, Instance, Module, Store, TypedFunc};
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| wasmtime::format_err!("no memory export"))?;
    let alloc: TypedFunc<u32, u32> = instance.get_typed_func(&mut store, "dg_alloc")?;
    let free: TypedFunc<(u32, u32), ()> = instance.get_typed_func(&mut store, "dg_free")?;
    let load: TypedFunc<(u32, u32), u32> = instance.get_typed_func(&mut store, "dg_load_pack")?;
    let classify: TypedFunc<(u32, u32), u32> = instance.get_typed_func(&mut store, "dg_classify")?;
    let call = |store: &mut Store<()>, f: &TypedFunc<(u32, u32), u32>, input: &[u8]| -> wasmtime::Result<u32> {
        let ptr = alloc.call(&mut *store, input.len() as u32)?;
        memory.write(&mut *store, ptr as usize, input)?;
        let status = f.call(&mut *store, (ptr, input.len() as u32))?;
        free.call(&mut *store, (ptr, input.len() as u32))?;
        Ok(status)
    };
    if call(&mut store, &load, pack)? != 0 {
        wasmtime::bail!("the guest refused the pack");
    }
    let after_load = memory.data_size(&store);
    call(&mut store, &classify, prompt.as_bytes())?;
    Ok((after_load, memory.data_size(&store)))
}

fn latencies(engine: &Classifier, prompts: &[String], budget: Duration, min_samples: usize) -> Result<Vec<Duration>> {
    // Warm up: each prompt at least once.
    for prompt in prompts.iter().cycle().take(min_samples.clamp(1, 20).max(prompts.len())) {
        engine.classify_json(prompt)?;
    }
    let mut v = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || v.len() < min_samples {
        let prompt = &prompts[v.len() % prompts.len()];
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
    let loaded = g.load(None)?;
    let texts: Vec<String> = if a.files.is_empty() {
        loaded.pack.cases().iter().map(|c| c.text.clone()).collect()
    } else {
        read_records(&a.files, false)?.0.into_iter().map(|r| r.item.text).collect()
    };
    if texts.is_empty() {
        bail!("no texts to benchmark");
    }
    if let Some(dir) = &a.write_artifacts {
        for (name, bytes) in [("distillguard.wasm", MODULE), ("pack.dgpack", &loaded.bytes[..])] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
    }
    let budget = Duration::from_secs_f64(a.seconds);
    let limits = HostLimits { max_input_bytes: usize::MAX >> 1, ..g.limits() };
    let total_bytes: usize = texts.iter().map(String::len).sum();

    // Load costs.
    let t = Instant::now();
    let runtime = Arc::new(WasmRuntime::embedded(limits)?);
    let module_compile = t.elapsed();
    let mut loads = Vec::new();
    let rss_before = rss_kib();
    let mut kept = Vec::new();
    for _ in 0..if a.latency_only { 1 } else { 20 } {
        let t = Instant::now();
        kept.push(Pack::from_bytes(&loaded.bytes)?);
        loads.push(t.elapsed());
    }
    let rss_per_pack_kib = rss_kib().saturating_sub(rss_before) / kept.len() as u64;
    drop(kept);
    loads.sort();
    let pool = WasmPool::new(runtime.clone(), &loaded.bytes)?;
    let mut inst = Vec::new();
    for _ in 0..if a.latency_only { 1 } else { 20 } {
        inst.push(pool.measure_instantiate()?);
    }
    inst.sort();

    // Compiling the pack from source (when there is a source).
    let source = match g.pack.as_deref() {
        None => Some(distillguard::default_pack_source()),
        Some(p) if p.is_dir() => Some(packs::read_pack_dir(p)?),
        Some(_) => None,
    };
    let mut compiles = Vec::new();
    if let (Some(src), false) = (&source, a.latency_only) {
        let start = Instant::now();
        while compiles.len() < 3 || (start.elapsed() < budget / 2 && compiles.len() < 50) {
            let t = Instant::now();
            std::hint::black_box(distillguard::PackCompiler::new().compile(src).map_err(|e| anyhow::anyhow!("{e}"))?);
            compiles.push(t.elapsed());
        }
        compiles.sort();
    }

    let native_pack = Arc::new(Pack::from_bytes(&loaded.bytes)?);
    let native = Classifier::Native { pack: native_pack.clone(), max_input_bytes: limits.max_input_bytes };
    let wasm = Classifier::Wasm(pool);

    let mut report = json!({
        "workload": {"texts": texts.len(), "bytes": total_bytes},
        "pack": {"name": loaded.pack.meta().name, "version": loaded.pack.meta().version,
                 "rules": loaded.pack.rules().len(), "lexicons": loaded.pack.lexicons().len(), "terms": loaded.pack.term_count()},
        "module_bytes": MODULE.len(),
        "pack_bytes": loaded.bytes.len(),
        "module_compile_ms": (module_compile.as_secs_f64() * 1e4).round() / 10.0,
        "pack_load_native_us_p50": us(percentile(&loads, 0.5)),
        "instantiate_and_load_wasm_us_p50": us(percentile(&inst, 0.5)),
    });
    if !compiles.is_empty() {
        report["pack_compile_native_us_p50"] = json!(us(percentile(&compiles, 0.5)));
        report["pack_compile_runs"] = json!(compiles.len());
    }
    let mut native_mbs = 0.0;
    let mut wasm_mbs = 0.0;
    if !a.latency_only {
        report["native_rss_per_loaded_pack_kib"] = json!(rss_per_pack_kib);
        let largest = prompt_of(a.sizes.iter().copied().max().unwrap_or(20_000), &texts);
        let (after_load, after_classify) = wasm_memory(&loaded.bytes, &largest)?;
        report["wasm_memory_bytes"] = json!({"after_load": after_load, "after_largest_prompt": after_classify, "largest_prompt_bytes": largest.len()});
        let normalizer = distillguard::normalize::Normalizer::new(native_pack.meta().steps);
        let passes: Vec<Pass<'_>> = vec![
            Box::new(|t| native.classify_json(t).map(drop).map_err(Into::into)),
            Box::new(|t| wasm.classify_json(t).map(drop).map_err(Into::into)),
            Box::new(|t| {
                std::hint::black_box(native_pack.scan(t));
                Ok(())
            }),
            Box::new(|t| {
                std::hint::black_box(normalizer.project(t));
                Ok(())
            }),
        ];
        let mbs = interleaved(&passes, &texts, budget, 0)?;
        (native_mbs, wasm_mbs) = (mbs[0].0, mbs[1].0);
        report["throughput_mb_s"] = json!({"native": round1(native_mbs), "wasm": round1(wasm_mbs),
                            "native_scan_only": round1(mbs[2].0), "native_normalize_only": round1(mbs[3].0),
                            "wasm_over_native": (wasm_mbs / native_mbs * 1000.0).round() / 1000.0,
                            "measured": "round-robin, one corpus pass per engine in turn"});
        if let Some(mb) = a.repeat_to_mb {
            let r = interleaved(&passes[..2], &texts, budget, (mb * 1e6) as usize)?;
            let (n, w) = (r[0].0, r[1].0);
            report["repeated"] = json!({"bytes": r[0].1, "native_mb_s": round1(n), "wasm_mb_s": round1(w),
                                        "wasm_over_native": (w / n * 1000.0).round() / 1000.0});
        }
    }
    let mut lat = Vec::new();
    for &size in &a.sizes {
        let p = prompts_of(size, &texts);
        let n = latencies(&native, &p, budget / 2, a.min_samples)?;
        let w = latencies(&wasm, &p, budget / 2, a.min_samples)?;
        lat.push((size, n, w));
    }
    report["latency_us"] = json!(lat
        .iter()
        .map(|(size, n, w)| json!({
            "prompt_bytes": size,
            "native": {"p50": us(percentile(n, 0.5)), "p99": us(percentile(n, 0.99)), "samples": n.len()},
            "wasm": {"p50": us(percentile(w, 0.5)), "p99": us(percentile(w, 0.99)), "samples": w.len()},
        }))
        .collect::<Vec<_>>());
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
        if !compiles.is_empty() {
            println!("pack compile from source (native) p50 {} us", report["pack_compile_native_us_p50"]);
        }
        if !a.latency_only {
            println!(
                "throughput: native {:.1} MB/s (scan only {}), wasm {:.1} MB/s, wasm/native {:.3}",
                native_mbs,
                report["throughput_mb_s"]["native_scan_only"],
                wasm_mbs,
                wasm_mbs / native_mbs
            );
            println!("wasm linear memory: {}", report["wasm_memory_bytes"]);
            if let Some(r) = report.get("repeated") {
                println!("repeated workload: {r}");
            }
        }
        for (size, n, w) in &lat {
            println!(
                "latency {:>7} B: native p50 {:>9} us p99 {:>9} us | wasm p50 {:>9} us p99 {:>9} us",
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

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
