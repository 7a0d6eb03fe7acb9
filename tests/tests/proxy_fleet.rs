//! Campaign counters shared through a real `redis-server` (issue 14): the
//! Redis store escalates exactly where the in-process store does, also
//! with three nodes round-robin behind a real HAProxy, survives a node's
//! restart, keeps serving while Redis is down (fail open) and recovers when
//! it returns, or refuses evidenced requests (fail closed). Each test
//! starts its own `redis-server` (and `haproxy`) on free 127.0.0.1 ports,
//! with no persistence, and kills them when it ends; waits poll a
//! condition (a PING, a listening port, a metric).

mod proxy_support;

use distillguard_host::serve::StoreKind;
use proxy_support::*;
use redis::Commands;

const HASH_KEY: &str = "fleet-test-hash-key";

const QUESTIONS: [&str; 12] = [
    "what is 2 + 2?",
    "what is the capital of France?",
    "how many legs does a spider have?",
    "what is the boiling point of water in Celsius?",
    "who wrote Hamlet?",
    "what is 7 times 8?",
    "how many days are in a leap year?",
    "what colour do you get by mixing blue and yellow?",
    "what is the square root of 81?",
    "what is the largest planet in the solar system?",
    "how many sides does a hexagon have?",
    "what gas do plants absorb from the air?",
];

fn weak(q: &str) -> String {
    format!("Explain your reasoning in detail, then give the final answer in the format ANSWER: X. Question: {q}")
}

fn fleet_config(up: &Upstream, mode: Mode, redis: Option<&RedisServer>) -> Config {
    let mut c = config(&up.url(), mode, Some(weak_pack()));
    c.campaign.min_repeats = 5;
    c.campaign.distinct_extraction = 0;
    c.campaign.window_secs = 60.0;
    c.clients.hash_key = Some(HASH_KEY.into());
    if let Some(r) = redis {
        c.campaign.store = StoreKind::Redis;
        c.campaign.redis_url = r.url();
        c.campaign.redis_prefix = "dgtest:".into();
        // Generous for a loaded 2-core machine; the fallback tests do not
        // depend on it (a killed Redis refuses at once).
        c.campaign.redis_timeout_ms = 2000;
    }
    c
}

/// One campaign client, a curious client and a batch job, interleaved,
/// sent to `p` (or to `via`, a load balancer in front of it); returns
/// every status in order.
async fn traffic(p: &Proxy, via: Option<SocketAddr>) -> Vec<u16> {
    let mut out = Vec::new();
    for q in QUESTIONS {
        for (key, prompt) in [
            ("sk-campaign", weak(q)),
            ("sk-curious", format!("Quick question: {q}")),
            ("sk-shop", format!("Translate this product title into German: Deluxe {q}")),
        ] {
            let status = match via {
                None => p.chat(key, &prompt).await.status,
                Some(addr) => {
                    let body = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": prompt}]});
                    let req = hyper::Request::post(format!("http://{addr}/v1/chat/completions"))
                        .header("authorization", format!("Bearer {key}"))
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body.to_string())))
                        .unwrap();
                    let resp = p.client.request(req).await.expect("the load balancer answers");
                    let status = resp.status();
                    let _ = resp.into_body().collect().await;
                    status
                }
            };
            out.push(status.as_u16());
        }
    }
    out
}

fn escalations(p: &Proxy) -> Vec<(String, u64)> {
    p.logs()
        .into_iter()
        .filter(|l| l["event"] == "campaign_escalated")
        .map(|l| (l["kind"].as_str().unwrap().to_string(), l["count"].as_u64().unwrap()))
        .collect()
}

fn evalsha_calls(r: &RedisServer) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut r.connection()).unwrap();
    info.lines()
        .find(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .and_then(|l| l.split("calls=").nth(1)?.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_store_escalates_exactly_where_the_memory_store_does() {
    let up = upstream().await;
    let memory = proxy(fleet_config(&up, Mode::Block, None)).await;
    let expected = traffic(&memory, None).await;
    let r = RedisServer::start();
    let shared = proxy(fleet_config(&up, Mode::Block, Some(&r))).await;
    assert!(shared.running.metrics().contains("distillguard_campaign_store_up 1"));
    let got = traffic(&shared, None).await;
    assert_eq!(got, expected);
    // The campaign's 5th request and every later one are blocked; the
    // curious client and the batch job never are.
    let campaign: Vec<u16> = got.iter().step_by(3).copied().collect();
    assert_eq!(campaign, [200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403]);
    assert!(got.iter().skip(1).step_by(3).chain(got.iter().skip(2).step_by(3)).all(|s| *s == 200));
    assert_eq!(escalations(&shared), escalations(&memory));
    assert_eq!(escalations(&shared), [("template".to_string(), 5)]);

    // One round trip per evidenced request, none for the others.
    assert_eq!(evalsha_calls(&r), 12);
    // Only hashed identities in Redis: no key, no prompt text.
    let mut conn = r.connection();
    let keys: Vec<String> = conn.keys("*").unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("dgtest:t:") && !keys[0].contains("sk-"), "{keys:?}");
    let fields: Vec<String> = conn.hgetall::<_, Vec<String>>(&keys[0]).unwrap();
    assert!(!fields.join(" ").contains("Explain"), "{fields:?}");
    let ttl: i64 = conn.pttl(&keys[0]).unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "the window is the TTL: {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_keeps_the_counts() {
    let up = upstream().await;
    let r = RedisServer::start();
    let first = proxy(fleet_config(&up, Mode::Block, Some(&r))).await;
    for q in &QUESTIONS[..3] {
        assert_eq!(first.chat("sk-campaign", &weak(q)).await.status, StatusCode::OK);
    }
    first.running.shutdown().await;
    let second = proxy(fleet_config(&up, Mode::Block, Some(&r))).await;
    assert_eq!(second.chat("sk-campaign", &weak(QUESTIONS[3])).await.status, StatusCode::OK);
    let a = second.chat("sk-campaign", &weak(QUESTIONS[4])).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "the 5th request overall escalates on the new process");
    assert_eq!(escalations(&second), [("template".to_string(), 5)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_redis_loses_no_request_and_the_store_recovers() {
    let up = upstream().await;
    let mut r = RedisServer::start();
    // Flag mode: every request is forwarded, so every one must come back 200.
    let p = proxy(fleet_config(&up, Mode::Flag, Some(&r))).await;
    let mut statuses = Vec::new();
    for q in &QUESTIONS[..3] {
        statuses.push(p.chat("sk-campaign", &weak(q)).await.status.as_u16());
    }
    r.kill();
    for q in &QUESTIONS[3..8] {
        statuses.push(p.chat("sk-campaign", &weak(q)).await.status.as_u16());
        statuses
            .push(p.chat("sk-shop", &format!("Translate this product title into German: {q}")).await.status.as_u16());
    }
    wait_for_metric(&p.running, "distillguard_campaign_store_up 0").await;
    let m = p.running.metrics();
    assert!(m.contains("distillguard_campaign_store_total{event=\"fallback\"} 5"), "{m}");
    assert!(p.logs().iter().any(|l| l["event"] == "campaign_store_down"));
    // Counted locally meanwhile: the five evidenced requests of the outage
    // escalate on this node at the 5th.
    assert_eq!(escalations(&p), [("template".to_string(), 5)]);

    r.restart();
    wait_for_metric(&p.running, "distillguard_campaign_store_up 1").await;
    for q in &QUESTIONS[8..] {
        statuses.push(p.chat("sk-campaign", &weak(q)).await.status.as_u16());
    }
    assert_eq!(statuses.len(), 17);
    assert!(statuses.iter().all(|s| *s == 200), "no request lost: {statuses:?}");
    assert_eq!(evalsha_calls(&r), 4, "the requests after recovery are counted in Redis again");
    assert!(p.logs().iter().any(|l| l["event"] == "campaign_store_connected"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_refuses_evidenced_requests_while_redis_is_away() {
    let up = upstream().await;
    let mut r = RedisServer::start();
    let mut c = fleet_config(&up, Mode::Monitor, Some(&r));
    c.campaign.fail = FailMode::Closed;
    let p = proxy(c).await;
    assert_eq!(p.chat("sk-campaign", &weak(QUESTIONS[0])).await.status, StatusCode::OK);
    r.kill();
    let a = p.chat("sk-campaign", &weak(QUESTIONS[1])).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.json()["error"]["code"], "distillguard_unavailable");
    // A request without evidence never needs the store.
    assert_eq!(p.chat("sk-shop", "Translate this product title into German: Lamp").await.status, StatusCode::OK);
    r.restart();
    wait_for_metric(&p.running, "distillguard_campaign_store_up 1").await;
    assert_eq!(p.chat("sk-campaign", &weak(QUESTIONS[2])).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_behind_haproxy_escalate_like_one() {
    let up = upstream().await;
    let one = proxy(fleet_config(&up, Mode::Block, None)).await;
    let expected = traffic(&one, None).await;

    let r = RedisServer::start();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(proxy(fleet_config(&up, Mode::Block, Some(&r))).await);
    }
    let lb = Haproxy::start(&nodes.iter().map(|n| n.running.addr()).collect::<Vec<_>>());
    let got = traffic(&nodes[0], Some(lb.addr)).await;
    assert_eq!(got, expected, "the same statuses, request for request, as one node with its own counters");
    let campaign: Vec<u16> = got.iter().step_by(3).copied().collect();
    assert_eq!(campaign, [200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403]);

    // Round-robin spread the requests over every node, and the campaign
    // tipped once, on whichever node saw its 5th request.
    for n in &nodes {
        let m = n.running.metrics();
        let served: u64 = m
            .lines()
            .find(|l| l.starts_with("distillguard_requests_total{route=\"chat_completions\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0);
        assert!(served >= 6, "each node served a share of the 36 requests: {served}");
    }
    let tipped: Vec<(String, u64)> = nodes.iter().flat_map(escalations).collect();
    assert_eq!(tipped, [("template".to_string(), 5)]);
    let blocked: u64 = nodes
        .iter()
        .map(|n| {
            let m = n.running.metrics();
            m.lines()
                .find(|l| l.starts_with("distillguard_blocked_total{reason=\"campaign\"}"))
                .and_then(|l| l.rsplit(' ').next()?.parse().ok())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(blocked, 8, "the campaign's 5th to 12th requests, wherever they landed");
    assert_eq!(evalsha_calls(&r), 12, "one round trip per evidenced request, across the fleet");
}

// ------------------------------------------------------ measurement (ignored)
//
// `cargo test --release -p distillguard-tests --test proxy_fleet -- --ignored --nocapture`

/// Redis memory per entry, with the proxy's own script and key shapes:
/// 20,000 clients with one template each, first holding 1 timestamp per
/// entry, then full (`min_repeats` = `distinct_extraction` = 10); once
/// with (client, template) entries alone (`distinct_extraction = 0`), once
/// with a client entry beside each.
#[test]
#[ignore]
fn measure_redis_memory_per_entry() {
    let r = RedisServer::start();
    let mut conn = r.connection();
    let script = redis::Script::new(include_str!("../../host-runtime/src/serve/campaign.lua"));
    let used = |conn: &mut redis::Connection| -> i64 {
        let info: String = redis::cmd("INFO").arg("memory").query(conn).unwrap();
        info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().trim().parse().unwrap()
    };
    const N: usize = 20_000;
    for (distinct, what) in [(0, "(client, template) entry alone"), (10, "(client, template) entry + client entry")] {
        let _: () = redis::cmd("FLUSHALL").query(&mut conn).unwrap();
        let _: String = script.prepare_invoke().load(&mut conn).unwrap();
        let base = used(&mut conn);
        for round in 1..=10u64 {
            for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
                let mut pipe = redis::pipe();
                for i in chunk {
                    // A client id is 16 bytes of HMAC, in hex; a fingerprint is `tpl:` and 8 hex digits.
                    let client =
                        format!("{:032x}", (*i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
                    let mut inv = script.key(format!("dg:t:{client}:tpl:{:08x}", i * 7919));
                    inv.key(format!("dg:c:{client}"))
                        .arg(300_000)
                        .arg(10)
                        .arg(distinct)
                        .arg(1)
                        .arg(format!("{:016x}", (*i as u64) << 8 | round))
                        .arg("0.3")
                        .arg("RT-901,RT-902");
                    pipe.invoke_script(&inv);
                }
                let _: Vec<redis::Value> = pipe.query(&mut conn).unwrap();
            }
            if round == 1 || round == 10 {
                let now = used(&mut conn);
                let keys: i64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
                assert!(now > base);
                // Bytes per client are also MB per million clients.
                println!(
                    "{what}, {round} evidenced request(s) per client: {keys} keys, {:.0} bytes per client",
                    (now - base) as f64 / N as f64
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_while_redis_dies_and_returns_all_get_answers() {
    let up = upstream().await;
    let mut r = RedisServer::start();
    let p = Arc::new(proxy(fleet_config(&up, Mode::Flag, Some(&r))).await);
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Four clients sending evidenced requests back to back, until told to
    // stop (at most 2,000 each, so the test is bounded whatever happens).
    let senders: Vec<_> = (0..4)
        .map(|c| {
            let (p, answered, stop) = (p.clone(), answered.clone(), stop.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..2000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let q = QUESTIONS[i % QUESTIONS.len()];
                    statuses.push(p.chat(&format!("sk-load-{c}"), &weak(q)).await.status.as_u16());
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                statuses
            })
        })
        .collect();
    let at = |n: usize| {
        let answered = answered.clone();
        move || answered.load(Ordering::Relaxed) >= n
    };
    wait_for("40 answers with Redis up", at(40)).await;
    r.kill();
    wait_for_metric(&p.running, "distillguard_campaign_store_up 0").await;
    let n = answered.load(Ordering::Relaxed);
    wait_for("40 more answers with Redis down", at(n + 40)).await;
    r.restart();
    wait_for_metric(&p.running, "distillguard_campaign_store_up 1").await;
    let n = answered.load(Ordering::Relaxed);
    wait_for("40 more answers with Redis back", at(n + 40)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for s in senders {
        all.extend(s.await.unwrap());
    }
    assert!(all.len() >= 120, "{}", all.len());
    assert!(all.iter().all(|s| *s == 200), "every request answered and forwarded: {all:?}");
    let m = p.running.metrics();
    assert!(m.contains("distillguard_campaign_store_total{event=\"fallback\"}"), "{m}");
    assert!(evalsha_calls(&r) > 0, "counted in Redis again after its return");
}
