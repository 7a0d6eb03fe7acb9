//! Load test for `distillguard serve` (a benchmark, not a test).
//!
//! Starts a small upstream in-process, starts the real `distillguard serve`
//! binary in front of it (block mode, the embedded default pack, request
//! logs to a file), then sends an open-loop schedule of chat-completion
//! requests with ~2 KB benign prompts, each one both directly to the upstream
//! and through the proxy, in the same run. Prints requests/s, errors, the
//! latency of both paths and what the proxy adds at p50/p99, and the proxy's
//! RSS at start and end.
//!
//! With `--redis redis://127.0.0.1:6379/0`, a second proxy with
//! `[campaign] store = "redis"` runs beside the first (memory store), and
//! every request goes to all three paths in the same run. `--pack DIR`
//! serves another pack, and `--evidence 1` ends every prompt with a weak
//! capture format ("ANSWER: X"), so that with the test pack
//! (`tests/data/proxy/weak`) each request carries evidence and the Redis
//! proxy makes one round trip for it; escalated campaigns are only
//! monitored (`[campaign] action = "monitor"`), so they stay 200.
//!
//! ```text
//! cargo build --release -p distillguard-host --examples
//! target/release/examples/loadgen --rate 1000 --secs 60
//! target/release/examples/loadgen --rate 1000 --secs 30 --redis redis://127.0.0.1:6379/0 \
//!     --pack tests/data/proxy/weak --evidence 1
//! ```

mod common;
use common::{free_port, rss_kib};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    rate: u64,
    secs: u64,
    prompt_bytes: usize,
    bin: PathBuf,
    clients: usize,
    redis: Option<String>,
    pack: Option<PathBuf>,
    evidence: bool,
}

fn args() -> Args {
    let exe = std::env::current_exe().expect("current exe");
    let mut a = Args {
        rate: 1000,
        secs: 60,
        prompt_bytes: 2048,
        bin: exe.parent().and_then(|p| p.parent()).map(|p| p.join("distillguard")).expect("target dir"),
        clients: 100,
        redis: None,
        pack: None,
        evidence: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--rate" => a.rate = v.parse().expect("--rate N"),
            "--secs" => a.secs = v.parse().expect("--secs N"),
            "--prompt-bytes" => a.prompt_bytes = v.parse().expect("--prompt-bytes N"),
            "--bin" => a.bin = v.into(),
            "--clients" => a.clients = v.parse().expect("--clients N"),
            "--redis" => a.redis = Some(v),
            "--pack" => a.pack = Some(std::fs::canonicalize(&v).expect("--pack DIR exists")),
            "--evidence" => a.evidence = v == "1",
            _ => panic!(
                "unknown option {k}; options: --rate --secs --prompt-bytes --bin --clients --redis URL --pack DIR --evidence 1"
            ),
        }
    }
    a
}

const SENTENCES: &[&str] = &[
    "Our team is planning a small offsite in the mountains next spring.",
    "Please suggest a few activities that work for twelve people with mixed fitness levels.",
    "We would also like a rough budget for food, transport and a cabin for two nights.",
    "Some of us are vegetarian and one person has a nut allergy.",
    "The group enjoys board games, short hikes and cooking together in the evening.",
    "Keep the tone friendly and practical, and mention anything we should book early.",
    "Last year the weather turned cold quickly, so indoor options would help too.",
    "A short packing list at the end would be appreciated.",
];

fn prompt(i: usize, bytes: usize, evidence: bool) -> String {
    let tail = if evidence { " Give the final answer in the format ANSWER: X." } else { "" };
    let bytes = bytes.saturating_sub(tail.len());
    let mut s = format!("Request {i}. ");
    let mut k = i;
    while s.len() < bytes {
        s.push_str(SENTENCES[k % SENTENCES.len()]);
        s.push(' ');
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    s.truncate(bytes);
    s.push_str(tail);
    s
}

const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Here is a plan for your offsite."},"finish_reason":"stop"}],"usage":{"prompt_tokens":500,"completion_tokens":9,"total_tokens":509}}"#;

async fn upstream_handler(req: Request) -> Response {
    let _ = req.into_body().collect().await;
    Response::builder().header("content-type", "application/json").body(Body::from(ANSWER)).expect("response")
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
struct Tally {
    latencies_us: Mutex<Vec<u64>>,
    errors: AtomicU64,
    non_200: AtomicU64,
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run(a));
}

async fn run(a: Args) {
    // Upstream.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
    let up = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(upstream_handler)).await.expect("upstream");
    });

    // Proxies: the real binary, with the memory store and, with --redis,
    // with the Redis store.
    let client: Client<HttpConnector, Full<Bytes>> = {
        let mut c = HttpConnector::new();
        c.set_nodelay(true);
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build(c)
    };
    let dir = std::env::temp_dir().join(format!("dg-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut stores = vec![("memory", String::new())];
    if let Some(url) = &a.redis {
        stores.push((
            "redis",
            format!(
                "store = \"redis\"\nredis_url = \"{url}\"\nredis_prefix = \"dg-loadgen-{}:\"\n",
                std::process::id()
            ),
        ));
    }
    let mut children = Vec::new();
    let mut proxies = Vec::new();
    for (name, store) in &stores {
        let config = dir.join(format!("serve-{name}.toml"));
        let pack = a.pack.as_ref().map_or(String::new(), |p| format!("pack = {:?}\n", p.display().to_string()));
        std::fs::write(
            &config,
            format!(
                "mode = \"block\"\nlog_requests = true\n{pack}[clients]\nhash_key = \"loadgen\"\n[campaign]\naction = \"monitor\"\n{store}"
            ),
        )
        .expect("config");
        let log_path = dir.join(format!("proxy-{name}.log"));
        let proxy_addr = free_port();
        let mut child = Command::new(&a.bin)
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--listen", &proxy_addr.to_string(), "--upstream", &format!("http://{up}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", a.bin.display()));
        let health = format!("http://{proxy_addr}/healthz");
        let t = Instant::now();
        loop {
            let req = hyper::Request::get(&health).body(Full::new(Bytes::new())).expect("request");
            if let Ok(r) = client.request(req).await {
                if r.status().is_success() {
                    break;
                }
            }
            if t.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("the proxy did not come up; see {}", log_path.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        proxies.push((*name, proxy_addr, child.id(), log_path));
        children.push(child);
    }

    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..1000)
            .map(|i| {
                Bytes::from(
                    serde_json::json!({"model": "m", "messages": [
                        {"role": "system", "content": "You are a helpful travel and events assistant."},
                        {"role": "user", "content": prompt(i, a.prompt_bytes, a.evidence)}]})
                    .to_string(),
                )
            })
            .collect(),
    );
    let mut targets = vec![format!("http://{up}/v1/chat/completions")];
    targets.extend(proxies.iter().map(|(_, addr, _, _)| format!("http://{addr}/v1/chat/completions")));
    let targets = Arc::new(targets);
    let tallies_for = |n: usize| Arc::new((0..n).map(|_| Tally::default()).collect::<Vec<_>>());

    // Warm-up (not counted): 2 s at the target rate.
    schedule(&client, &targets, &bodies, a.rate, 2, a.clients, tallies_for(targets.len())).await;
    let pids: Vec<u32> = proxies.iter().map(|p| p.2).collect();
    let rss_start: Vec<u64> = pids.iter().map(|p| rss_kib(*p)).collect();
    for ((name, _, pid, _), rss) in proxies.iter().zip(&rss_start) {
        println!("proxy ({name} store) pid {pid}, RSS after warm-up: {} MiB", *rss as f64 / 1024.0);
    }

    let tallies = tallies_for(targets.len());
    let sampler = {
        let (secs, pids) = (a.secs, pids.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            for _ in 0..secs / 10 {
                tokio::time::sleep(Duration::from_secs(10)).await;
                samples.push(pids.iter().map(|p| rss_kib(*p)).collect::<Vec<_>>());
            }
            samples
        })
    };
    let t = Instant::now();
    schedule(&client, &targets, &bodies, a.rate, a.secs, a.clients, tallies.clone()).await;
    let wall = t.elapsed().as_secs_f64();
    let rss_end: Vec<u64> = pids.iter().map(|p| rss_kib(*p)).collect();
    let samples = sampler.await.unwrap_or_default();

    let mut names = vec!["direct".to_string()];
    names.extend(proxies.iter().map(|(n, ..)| format!("proxy ({n})")));
    let mut stats = Vec::new();
    for (name, tally) in names.iter().zip(tallies.iter()) {
        let mut l = tally.latencies_us.lock().expect("lock").clone();
        l.sort_unstable();
        let (p50, p90, p99, p999, max) = (
            percentile(&l, 0.5),
            percentile(&l, 0.9),
            percentile(&l, 0.99),
            percentile(&l, 0.999),
            *l.last().unwrap_or(&0),
        );
        println!(
            "{name:>14}: {} ok in {wall:.1} s = {:.0} req/s, errors {}, non-200 {}, latency us p50 {p50} p90 {p90} p99 {p99} p99.9 {p999} max {max}",
            l.len(),
            l.len() as f64 / wall,
            tally.errors.load(Ordering::Relaxed),
            tally.non_200.load(Ordering::Relaxed),
        );
        stats.push((p50, p99));
    }
    for (i, name) in names.iter().enumerate().skip(1) {
        println!(
            " added by {name}: p50 {} us, p99 {} us",
            stats[i].0 as i64 - stats[0].0 as i64,
            stats[i].1 as i64 - stats[0].1 as i64
        );
    }
    if stats.len() == 3 {
        println!(
            " redis store vs memory store: p50 {:+} us, p99 {:+} us",
            stats[2].0 as i64 - stats[1].0 as i64,
            stats[2].1 as i64 - stats[1].1 as i64
        );
    }
    for (i, (name, addr, _, log_path)) in proxies.iter().enumerate() {
        println!(
            "   RSS ({name}): start {:.1} MiB, end {:.1} MiB, every 10 s: {:?} MiB",
            rss_start[i] as f64 / 1024.0,
            rss_end[i] as f64 / 1024.0,
            samples.iter().map(|k| (k[i] as f64 / 102.4).round() / 10.0).collect::<Vec<_>>()
        );
        let metrics = {
            let req =
                hyper::Request::get(format!("http://{addr}/metrics")).body(Full::new(Bytes::new())).expect("request");
            match client.request(req).await {
                Ok(r) => {
                    String::from_utf8_lossy(&r.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default())
                        .to_string()
                }
                Err(_) => String::new(),
            }
        };
        for l in metrics.lines().filter(|l| {
            l.starts_with("distillguard_classify_seconds_sum")
                || l.starts_with("distillguard_classify_seconds_count")
                || l.starts_with("distillguard_verdicts_total")
                || l.starts_with("distillguard_campaign_store")
                || l.starts_with("distillguard_campaign_requests_total")
        }) {
            println!("  {l}");
        }
        let log_lines = std::fs::read_to_string(log_path).map(|s| s.lines().count()).unwrap_or(0);
        println!("  proxy log lines: {log_lines} ({})", log_path.display());
    }
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Sends `rate` requests per second to each target for `secs` seconds
/// (open loop: request i is sent at i/rate whatever happened to the others).
async fn schedule(
    client: &Client<HttpConnector, Full<Bytes>>,
    targets: &Arc<Vec<String>>,
    bodies: &Arc<Vec<Bytes>>,
    rate: u64,
    secs: u64,
    clients: usize,
    tallies: Arc<Vec<Tally>>,
) {
    let total = rate * secs;
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total as usize * 2);
    for i in 0..total {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate as f64)).await;
        // Rotate which path goes first so none is favoured.
        let n = targets.len();
        for k in (0..n).map(|j| (j + i as usize) % n) {
            let client = client.clone();
            let uri = targets[k].clone();
            let body = bodies[i as usize % bodies.len()].clone();
            let tallies = tallies.clone();
            let key = format!("Bearer sk-load-{}", i as usize % clients);
            tasks.push(tokio::spawn(async move {
                let req = hyper::Request::post(uri)
                    .header("content-type", "application/json")
                    .header("authorization", key)
                    .body(Full::new(body))
                    .expect("request");
                let t = Instant::now();
                match client.request(req).await {
                    Ok(r) => {
                        let ok = r.status() == hyper::StatusCode::OK;
                        let _ = r.into_body().collect().await;
                        let us = t.elapsed().as_micros() as u64;
                        if ok {
                            tallies[k].latencies_us.lock().expect("lock").push(us);
                        } else {
                            tallies[k].non_200.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        tallies[k].errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
}
