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
//! With `--big-clients N` it runs issue 13's fairness scenario instead: N
//! clients (one key each) send `--big-bytes` prompts (4 MB), one after the
//! other, until `--big-per-client` of them each were answered 200 (a 503 is
//! retried after its `retry-after`) or `--secs` ran out, while one more client sends
//! ~2 KB requests at `--rate` per second until they are done (or `--secs`
//! ran out). It prints what the big requests got (200, 503, other), the
//! p50/p99 of the small requests, and the proxy's peak RSS (sampled every
//! 20 ms) and its RSS `--settle-secs` after the burst. `--serve-config
//! 'key = value'` adds a line to the proxy's config (repeatable), so one
//! build can be run with different settings.
//!
//! ```text
//! cargo build --release -p distillguard-host --examples
//! target/release/examples/loadgen --rate 1000 --secs 60
//! target/release/examples/loadgen --big-clients 64 --big-per-client 2 --rate 50 --secs 60
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
    big_clients: usize,
    big_bytes: usize,
    big_per_client: usize,
    settle_secs: u64,
    serve_config: Vec<String>,
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
        big_clients: 0,
        big_bytes: 4_000_000,
        big_per_client: 2,
        settle_secs: 5,
        serve_config: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--help" || k == "-h" {
            println!("{}", USAGE);
            std::process::exit(0);
        }
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
            "--big-clients" => a.big_clients = v.parse().expect("--big-clients N"),
            "--big-bytes" => a.big_bytes = v.parse().expect("--big-bytes N"),
            "--big-per-client" => a.big_per_client = v.parse().expect("--big-per-client N"),
            "--settle-secs" => a.settle_secs = v.parse().expect("--settle-secs N"),
            "--serve-config" => a.serve_config.push(v),
            _ => panic!("unknown option {k}\n{USAGE}"),
        }
    }
    a
}

const USAGE: &str = "loadgen [options]
  --rate N            requests per second (the small requests' rate with --big-clients) [1000]
  --secs N            length of the run (at most, with --big-clients) [60]
  --prompt-bytes N    size of the normal prompts [2048]
  --clients N         client keys of the normal requests [100]
  --bin PATH          the distillguard binary [next to this example's directory]
  --redis URL         also run a proxy with the Redis campaign store
  --pack DIR          serve this pack
  --evidence 1        end every prompt with a weak capture format
  --big-clients N     issue 13's scenario: N clients sending big prompts, one client sending normal ones [0: off]
  --big-bytes N       size of the big prompts [4000000]
  --big-per-client N  answered (200) big requests per big client [2]
  --settle-secs N     wait after the burst before the last RSS reading [5]
  --serve-config L    a line added to the proxy's config, e.g. 'big_lane_slots = 2' (repeatable)";

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
    if let Some(url) = a.redis.as_ref().filter(|_| a.big_clients == 0) {
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
        let extra: String = a.serve_config.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(
            &config,
            format!(
                "mode = \"block\"\nlog_requests = true\n{pack}{extra}[clients]\nhash_key = \"loadgen\"\n[campaign]\naction = \"monitor\"\n{store}"
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
    if a.big_clients > 0 {
        let (_, addr, pid, log) = &proxies[0];
        fairness(&a, &client, *addr, *pid, log).await;
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        return;
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

/// Issue 13's scenario: `big_clients` clients send big prompts while one
/// more client sends small ones; the small ones' latency and the proxy's
/// RSS are what count.
async fn fairness(
    a: &Args,
    client: &Client<HttpConnector, Full<Bytes>>,
    proxy: std::net::SocketAddr,
    pid: u32,
    log: &std::path::Path,
) {
    let chat = |text: String| {
        Bytes::from(serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]}).to_string())
    };
    let big = chat(prompt(0, a.big_bytes, false));
    let small: Vec<Bytes> = (0..100).map(|i| chat(prompt(i, a.prompt_bytes, false))).collect();
    let uri = format!("http://{proxy}/v1/chat/completions");
    let post = move |uri: &str, key: String, body: Bytes| {
        hyper::Request::post(uri)
            .header("content-type", "application/json")
            .header("authorization", key)
            .body(Full::new(body))
            .expect("request")
    };
    // Warm-up: the pool's instances and the connections.
    for b in small.iter().take(20) {
        if let Ok(r) = client.request(post(&uri, "Bearer sk-small".into(), b.clone())).await {
            let _ = r.into_body().collect().await;
        }
    }
    let rss_before = rss_kib(pid);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_before));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(a.secs);
    // Status -> count for the big requests (0: no response).
    let big_status: Arc<Mutex<std::collections::BTreeMap<u16, u64>>> = Default::default();
    let t = Instant::now();
    let bigs: Vec<_> = (0..a.big_clients)
        .map(|c| {
            let (client, uri, big, status) = (client.clone(), uri.clone(), big.clone(), big_status.clone());
            let n = a.big_per_client;
            tokio::spawn(async move {
                // Until `n` were classified and forwarded (200), or time is up;
                // a 503 is retried after its `retry-after`, as SDKs do.
                let mut ok = 0;
                while ok < n && Instant::now() < deadline {
                    let (code, retry) =
                        match client.request(post(&uri, format!("Bearer sk-big-{c}"), big.clone())).await {
                            Ok(r) => {
                                let retry = r
                                    .headers()
                                    .get("retry-after")
                                    .and_then(|v| v.to_str().ok()?.parse::<f64>().ok())
                                    .unwrap_or(1.0);
                                let s = r.status().as_u16();
                                let _ = r.into_body().collect().await;
                                (s, retry)
                            }
                            Err(_) => (0, 1.0),
                        };
                    *status.lock().expect("lock").entry(code).or_default() += 1;
                    if code == 200 {
                        ok += 1;
                    } else {
                        tokio::time::sleep(Duration::from_secs_f64(retry)).await;
                    }
                }
            })
        })
        .collect();
    let bigs_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The small client is another client: its own connection pool on its
    // own thread, so it does not queue behind the big clients' writes here.
    let smalls = {
        let (uri, bigs_done) = (uri.clone(), bigs_done.clone());
        let rate = a.rate.max(1);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let client: Client<HttpConnector, Full<Bytes>> = {
                    let mut c = HttpConnector::new();
                    c.set_nodelay(true);
                    Client::builder(TokioExecutor::new()).build(c)
                };
                let tally = Arc::new(Tally::default());
                let start = tokio::time::Instant::now();
                let mut tasks = Vec::new();
                let mut i = 0u64;
                while !bigs_done.load(Ordering::Relaxed) && Instant::now() < deadline {
                    tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate as f64)).await;
                    let (client, tally) = (client.clone(), tally.clone());
                    let req = post(&uri, "Bearer sk-small".into(), small[i as usize % small.len()].clone());
                    tasks.push(tokio::spawn(async move {
                        let t = Instant::now();
                        match client.request(req).await {
                            Ok(r) => {
                                let ok = r.status() == hyper::StatusCode::OK;
                                let _ = r.into_body().collect().await;
                                if ok {
                                    tally.latencies_us.lock().expect("lock").push(t.elapsed().as_micros() as u64);
                                } else {
                                    tally.non_200.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Err(_) => {
                                tally.errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }));
                    i += 1;
                }
                for t in tasks {
                    let _ = t.await;
                }
                tally
            })
        })
    };
    for b in bigs {
        let _ = b.await;
    }
    let burst = t.elapsed().as_secs_f64();
    bigs_done.store(true, Ordering::Relaxed);
    let tally = smalls.join().expect("small sender");
    tokio::time::sleep(Duration::from_secs(a.settle_secs)).await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let rss_after = rss_kib(pid);

    let mut l = tally.latencies_us.lock().expect("lock").clone();
    l.sort_unstable();
    println!(
        "big: {} clients x {} answered requests of {} B prompts in {burst:.1} s; statuses {:?} (0 = no response)",
        a.big_clients,
        a.big_per_client,
        a.big_bytes,
        big_status.lock().expect("lock")
    );
    println!(
        "small ({} B prompts, {} req/s, one client): {} ok, non-200 {}, errors {}, latency ms p50 {:.1} p90 {:.1} p99 {:.1} max {:.1}",
        a.prompt_bytes,
        a.rate,
        l.len(),
        tally.non_200.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        percentile(&l, 0.5) as f64 / 1e3,
        percentile(&l, 0.9) as f64 / 1e3,
        percentile(&l, 0.99) as f64 / 1e3,
        *l.last().unwrap_or(&0) as f64 / 1e3,
    );
    // The proxy's own view (its log's total_ms), without the client side.
    let mut inside: Vec<u64> = std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "request" && v["status"] == 200)
        .filter(|v| v["prompt_len"].as_u64().is_some_and(|n| n < 4 * a.prompt_bytes as u64))
        .filter_map(|v| v["total_ms"].as_f64().map(|ms| (ms * 1e3) as u64))
        .collect();
    inside.sort_unstable();
    println!(
        "small, in the proxy's log (total_ms, warm-up included): {} requests, p50 {:.1} p99 {:.1} max {:.1} ms",
        inside.len(),
        percentile(&inside, 0.5) as f64 / 1e3,
        percentile(&inside, 0.99) as f64 / 1e3,
        *inside.last().unwrap_or(&0) as f64 / 1e3
    );
    println!(
        "proxy RSS: before {:.1} MiB, peak {:.1} MiB, {} s after the burst {:.1} MiB",
        rss_before as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0,
        a.settle_secs,
        rss_after as f64 / 1024.0
    );
    let req = hyper::Request::get(format!("http://{proxy}/metrics")).body(Full::new(Bytes::new())).expect("request");
    if let Ok(r) = client.request(req).await {
        let text = r.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        for l in String::from_utf8_lossy(&text).lines().filter(|l| {
            l.starts_with("distillguard_rejected_total")
                || l.starts_with("distillguard_wasm_instances")
                || l.starts_with("distillguard_body_bytes")
                || l.starts_with("distillguard_classify_seconds_count")
        }) {
            println!("  {l}");
        }
    }
}
