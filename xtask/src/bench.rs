//! `cargo xtask bench`: distillguard side by side with the tools users would
//! pick instead, in one run on the same texts, and `BENCHMARKS.md` from it.
//!
//! Steps (everything lands in `target/bench/`, nothing in the repository but
//! `BENCHMARKS.md`):
//!
//! 1. build `distillguard` and the `stages` example (release);
//! 2. a Python venv in `target/bench-venv` with the peers from PyPI
//!    (`yara-x`, `hyperscan`, at pinned versions);
//! 3. `xtask/bench/peers.py prep`: the corpus as one JSONL, the workload
//!    (texts and 200 B / 2 KB / 20 KB prompts), synthetic packs of 100 to 50k
//!    phrases;
//! 4. `distillguard export --format yara|regex|literals`: the same terms for the peers;
//! 5. `distillguard bench --json`: native and wasmtime (throughput, the corpus
//!    repeated to ~50 MB, latency, compile, load, memory), then the scaling
//!    runs (prompt 100 B to 1 MB, cut from the whole corpus and from its
//!    texts with and without deobfuscation triggers, as `stages FILE
//!    projections` tells them apart; pack 100 to 50k phrases);
//! 6. callgrind instruction counts of native classification (if valgrind is installed);
//! 7. `web-demo/tests/bench.mjs`: the same module and pack in headless Chromium;
//! 8. `peers.py peer yara-x|hyperscan|re`, each in its own process;
//! 9. `peers.py report`: `BENCHMARKS.md`.
//!
//! Bounded to a few minutes on 2 cores. `DG_BENCH_SECONDS` (default 2) is
//! the time budget per measurement, `DG_BENCH_REPEAT_MB` (default 50) the
//! size of the repeated workload.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Peer versions installed into the venv (PyPI).
const PEERS: &[&str] = &["yara-x==1.23.0", "hyperscan==0.9.1"];

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", crate::describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot run {}: {e}", crate::describe(cmd)))?;
    status.success().then_some(()).ok_or_else(|| format!("`{}` failed with {status}", crate::describe(cmd)))
}

/// Runs `cmd` with its stdout written to `file`.
fn run_to(cmd: &mut Command, file: &Path) -> Result<(), String> {
    let out = std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
    run(cmd.stdout(Stdio::from(out)))
}

fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(if out.stdout.is_empty() { &out.stderr } else { &out.stdout }).to_string();
    text.lines().next().map(|l| l.trim().to_string())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Instructions callgrind counted for `stages FILE classify`.
fn callgrind_instructions(stages: &Path, file: &Path) -> Result<u64, String> {
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]).arg(stages).arg(file).arg("classify");
    eprintln!("$ {}", crate::describe(&cmd));
    let out = cmd.output().map_err(|e| format!("cannot run valgrind: {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("valgrind failed: {err}"));
    }
    err.lines()
        .find_map(|l| l.split("Collected :").nth(1).and_then(|n| n.trim().parse().ok()))
        .ok_or_else(|| format!("no instruction count in callgrind's output: {err}"))
}

/// Splits `corpus` (JSON lines with a `text`) into the ASCII texts for which
/// the classifier builds no projection beside `text` and the texts for which
/// it builds one, as `stages FILE projections` reports them; returns the
/// paths of the two files written in `out`.
fn split_by_projections(stages: &Path, corpus: &Path, out: &Path) -> Result<(PathBuf, PathBuf), String> {
    let mut cmd = Command::new(stages);
    cmd.arg(corpus).arg("projections");
    eprintln!("$ {}", crate::describe(&cmd));
    let listing = cmd.output().map_err(|e| format!("cannot run {}: {e}", crate::describe(&cmd)))?;
    if !listing.status.success() {
        return Err(format!("`{}` failed: {}", crate::describe(&cmd), String::from_utf8_lossy(&listing.stderr)));
    }
    let listing = String::from_utf8(listing.stdout).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let records: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let kinds: Vec<&str> = listing.lines().collect();
    if records.len() != kinds.len() {
        return Err(format!("{} texts in {} but {} lines from stages", records.len(), corpus.display(), kinds.len()));
    }
    let (mut plain, mut triggering) = (String::new(), String::new());
    for (record, kinds) in records.iter().zip(&kinds) {
        // `{"bytes": N}` alone: only the `text` projection. Texts joined into
        // a long prompt can trigger what none triggers alone (lookalike
        // letters read as Latin once the prompt is mostly Latin), so the
        // plain half is ASCII only.
        let half = if kinds.contains(", ") {
            &mut triggering
        } else if record.is_ascii() {
            &mut plain
        } else {
            continue;
        };
        half.push_str(record);
        half.push('\n');
    }
    let paths = (out.join("corpus-plain.jsonl"), out.join("corpus-triggering.jsonl"));
    std::fs::write(&paths.0, plain).map_err(|e| e.to_string())?;
    std::fs::write(&paths.1, triggering).map_err(|e| e.to_string())?;
    Ok(paths)
}

/// The 1-minute load average (Linux), to tell how busy the machine was.
fn loadavg() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next().map(str::to_string))
}

/// Runs every benchmark and writes `BENCHMARKS.md` at `root`.
pub fn bench(root: &Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    let load_at_start = loadavg();
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let cargo = || {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.current_dir(root);
        c
    };
    run(cargo().args(["build", "--release", "-p", "distillguard-host"]))?;
    run(cargo().args(["build", "--release", "-p", "distillguard", "--example", "stages"]))?;
    let dg: PathBuf = root.join("target/release/distillguard");
    let stages = root.join("target/release/examples/stages");

    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(PEERS))?;
    let peers_py = root.join("xtask/bench/peers.py");
    let py = |args: &[&str]| {
        let mut c = Command::new(&python);
        c.current_dir(root).arg(&peers_py).args(args);
        c
    };
    let out_s = out.to_str().ok_or("target/bench is not UTF-8")?;
    let root_s = root.to_str().ok_or("the workspace path is not UTF-8")?;
    run(&mut py(&["prep", root_s, out_s]))?;
    let corpus = out.join("corpus.jsonl");

    for (format, file) in [("yara", "default.yar"), ("regex", "default.regex"), ("literals", "default.lits")] {
        run(Command::new(&dg).args(["export", "--format", format, "-o"]).arg(out.join(file)))?;
    }

    let seconds = std::env::var("DG_BENCH_SECONDS").unwrap_or_else(|_| "2".into());
    let repeat_mb = std::env::var("DG_BENCH_REPEAT_MB").unwrap_or_else(|_| "50".into());
    run_to(
        Command::new(&dg)
            .args(["bench", "--json", "--seconds", &seconds, "--repeat-to-mb", &repeat_mb, "--write-artifacts"])
            .arg(&out)
            .arg(&corpus),
        &out.join("dg.json"),
    )?;
    // Prompt scaling on the corpus as it is, and on its texts split by
    // whether they make the classifier build a projection beside `text`
    // (deobfuscated, decoded base64, rot13, reversed): prompts cut from
    // either half never or always trigger that work, at every size.
    let (plain, triggering) = split_by_projections(&stages, &corpus, &out)?;
    for (name, file) in [("", &corpus), ("-plain", &plain), ("-triggering", &triggering)] {
        run_to(
            Command::new(&dg)
                .args(["bench", "--json", "--latency-only", "--seconds", "0.6", "--min-samples", "5"])
                .args(["--sizes", "100,1000,2000,10000,100000,1000000"])
                .arg(file),
            &out.join(format!("dg-prompt-scaling{name}.json")),
        )?;
    }
    for n in [100, 1000, 10000, 50000] {
        run_to(
            Command::new(&dg)
                .arg("--pack")
                .arg(out.join(format!("packs/p{n}")))
                .args(["bench", "--json", "--seconds", "0.5", "--sizes", "2000", "--min-samples", "50"])
                .arg(&corpus),
            &out.join(format!("dg-pack-{n}.json")),
        )?;
    }

    let has_valgrind = first_line(Command::new("valgrind").arg("--version")).is_some();
    if has_valgrind {
        let empty = out.join("empty.jsonl");
        std::fs::write(&empty, "").map_err(|e| e.to_string())?;
        let base = callgrind_instructions(&stages, &empty)?;
        let total = callgrind_instructions(&stages, &corpus)?;
        std::fs::write(
            out.join("callgrind.json"),
            format!(
                "{{\"classify_instructions\": {}, \"compile_instructions\": {base}}}\n",
                total.saturating_sub(base)
            ),
        )
        .map_err(|e| e.to_string())?;
    } else {
        eprintln!("bench: valgrind is not installed (apt-get install valgrind): no instruction counts");
        let _ = std::fs::remove_file(out.join("callgrind.json"));
    }

    let browser_ok = Path::new("/usr/bin/chromium").exists() && root.join("node_modules/playwright-core").exists();
    let _ = std::fs::remove_file(out.join("browser.json"));
    if browser_ok {
        // A browser that does not come up is reported, not fatal: the other figures stand.
        let browser = run(Command::new("node")
            .current_dir(root)
            .arg(root.join("web-demo/tests/bench.mjs"))
            .arg(&dg)
            .arg(out.join("workload.json"))
            .arg(out.join("distillguard.wasm"))
            .arg(out.join("pack.dgpack"))
            .arg(out.join("browser.json"))
            .env("DG_BENCH_SECONDS", &seconds)
            .env("DG_BENCH_REPEAT_MB", &repeat_mb));
        if let Err(e) = browser {
            eprintln!("bench: warning: the browser run failed, BENCHMARKS.md will have no browser figures: {e}");
        }
    } else {
        eprintln!("bench: Chromium or playwright-core missing (cargo xtask setup): no browser figures");
    }

    for peer in ["yara-x", "hyperscan", "re"] {
        run_to(
            py(&["peer", peer, out_s]).env("DG_BENCH_SECONDS", &seconds).env("DG_BENCH_REPEAT_MB", &repeat_mb),
            &out.join(format!("peer-{peer}.json")),
        )?;
    }

    let yar = std::fs::read_to_string(out.join("default.yar")).map_err(|e| e.to_string())?;
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let wasmtime = std::fs::read_to_string(root.join("Cargo.lock")).ok().and_then(|l| {
        l.split("name = \"wasmtime\"\nversion = \"").nth(1).and_then(|r| r.split('"').next()).map(str::to_string)
    });
    let fields = [
        ("date", first_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))),
        ("host", first_line(Command::new("uname").args(["-srm"]))),
        ("cpu", Some(cpu)),
        ("cores", std::thread::available_parallelism().ok().map(|n| n.to_string())),
        ("rustc", first_line(Command::new("rustc").arg("-V"))),
        ("wasmtime", wasmtime),
        ("python", first_line(Command::new(&python).arg("--version"))),
        ("chromium", first_line(Command::new("/usr/bin/chromium").arg("--version"))),
        ("node", first_line(Command::new("node").arg("--version"))),
        ("valgrind", first_line(Command::new("valgrind").arg("--version"))),
        ("yara_inexact_rules", Some(yar.matches("// not expressible in YARA").count().to_string())),
        ("duration_s", Some(format!("{:.0}", started.elapsed().as_secs_f64()))),
        ("loadavg_start", load_at_start),
        ("loadavg_end", loadavg()),
    ];
    let env: Vec<String> = fields
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{}: {}", json_string(k), json_string(v))))
        .collect();
    std::fs::write(out.join("env.json"), format!("{{{}}}\n", env.join(", "))).map_err(|e| e.to_string())?;

    run(&mut py(&["report", root_s, out_s]))?;
    eprintln!("bench: wrote {} in {:.0} s", root.join("BENCHMARKS.md").display(), started.elapsed().as_secs_f64());
    Ok(())
}
