//! Hostile packs: huge lexicons, a million phrases, deep nesting, the largest
//! distances, thousands of rules, hand-made compiled packs. Each is either
//! compiled within a documented time and memory budget or refused with a
//! clear error (E010, E015, E104), quickly, and never by a crash, a stack
//! overflow or running out of memory. The limits are documented in
//! `docs/pack-format.md` ("Limits").
//!
//! Memory is measured with a counting global allocator (peak bytes allocated
//! during the operation); the tests in this file run one at a time so the
//! counts are their own. Time budgets are generous (debug builds, a shared
//! 2-core machine); the figures in the docs come from a release build:
//! `cargo test --release -p distillguard --test hostile_packs -- --nocapture`.

use distillguard::condition::{MAX_DEPTH, MAX_DISTANCE};
use distillguard::{ErrorCode, Errors, Label, Limits, Pack, PackCompiler, PackSource};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;

/// Runs `f`, returning its result, the time it took and the peak memory it
/// allocated above what was live when it started.
fn measure<T>(what: &str, f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    eprintln!("{what}: {:.2} s, peak {:.1} MiB", took.as_secs_f64(), peak as f64 / MIB as f64);
    (out, took, peak)
}

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pack with lexicons `l0..ln` (files given) and one rule per `when`.
fn pack<D: AsRef<str>>(lexicons: &[(D, String)], whens: &[String]) -> PackSource {
    let mut toml = String::from("[pack]\nname = \"hostile\"\nversion = \"1.0.0\"\nthreshold = 0.5\n\n[lexicons]\n");
    let mut src = PackSource::new();
    for (i, (decl, text)) in lexicons.iter().enumerate() {
        let decl = decl.as_ref();
        toml.push_str(&format!("l{i} = {decl}\n"));
        let file = decl.split('"').nth(1).expect("a quoted file name");
        src.add(file, text.clone());
    }
    for (i, when) in whens.iter().enumerate() {
        toml.push_str(&format!(
            "\n[[rule]]\nid = \"H-{i:03}\"\ncategory = \"synthetic_data\"\nweight = 0.5\ndescription = \"r\"\nwhen = '''{when}'''\n"
        ));
    }
    src.add("pack.toml", toml);
    src
}

fn err(r: Result<Pack, Errors>) -> Errors {
    match r {
        Ok(p) => panic!("compiled, expected an error: {p:?}"),
        Err(e) => e,
    }
}

/// A word of letters only (digits would be numbers): `i` in base 26.
fn word(mut i: usize) -> String {
    let mut w = String::from("q");
    loop {
        w.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            return w;
        }
    }
}

#[test]
fn a_huge_lexicon_under_the_limit_compiles_within_budget() {
    let _g = serial();
    // 150,000 terms: single words, two-word phrases and prefixes, in 3 lexicons.
    let words: String = (0..100_000).map(|i| word(i) + "\n").collect();
    let phrases: String = (0..40_000).map(|i| format!("{} {}\n", word(i), word(i + 7))).collect();
    let prefixes: String = (0..10_000).map(|i| format!("{}x*\n", word(i))).collect();
    let src =
        pack(&[("\"a.txt\"", words), ("\"b.txt\"", phrases), ("\"c.txt\"", prefixes)], &["l0 and l1 and l2".into()]);
    let (p, took, peak) = measure("150k terms: compile", || PackCompiler::new().compile(&src));
    let p = p.unwrap_or_else(|e| panic!("{e}"));
    assert!(p.term_count() > 149_000, "{}", p.term_count()); // a few prefixes equal words
    assert!(took < Duration::from_secs(60), "compile took {took:?}");
    assert!(peak < 1024 * MIB, "compile peaked at {} MiB", peak / MIB);
    let bytes = p.to_bytes();
    let (loaded, took, _) = measure("150k terms: load", || Pack::from_bytes(&bytes).unwrap());
    assert!(took < Duration::from_secs(30), "load took {took:?}");
    let text = format!("{} then {} {} and {}xyz", word(99_999), word(5), word(12), word(3));
    assert_eq!(loaded.classify(&text).label, Label::Extraction);
}

#[test]
fn terms_above_the_limit_are_e015_before_the_expensive_work() {
    let _g = serial();
    let words: String = (0..250_000).map(|i| word(i) + "\n").collect();
    let src = pack(&[("\"a.txt\"", words)], &["l0".into()]);
    let (e, took, peak) = measure("250k terms: refuse", || err(PackCompiler::new().compile(&src)));
    assert_eq!(e.first().code(), ErrorCode::LimitExceeded, "{e}");
    assert!(e.to_string().contains("more than 200000 lexicon terms"), "{e}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(peak < 512 * MIB, "{} MiB", peak / MIB);
}

#[test]
fn a_million_phrases_are_refused_quickly_and_in_bounded_memory() {
    let _g = serial();
    // ~17 MB of phrases: inside the source-size limit, far above the term limit.
    let phrases: String = (0..1_000_000).map(|i| format!("{} {}\n", word(i), word(i / 3))).collect();
    assert!(phrases.len() < Limits::default().max_source_bytes);
    let src = pack(&[("\"p.txt\"", phrases)], &["l0".into()]);
    let (e, took, peak) = measure("1M phrases: refuse", || err(PackCompiler::new().compile(&src)));
    assert_eq!(e.first().code(), ErrorCode::LimitExceeded, "{e}");
    // Only the first 200,001 terms are ever normalised: time and memory are
    // those of the limit, not of the million.
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(peak < 512 * MIB, "{} MiB", peak / MIB);
}

#[test]
fn oversize_sources_are_refused_before_parsing() {
    let _g = serial();
    let src = pack(&[("\"a.txt\"", "x\n".repeat(17 << 20))], &["l0".into()]);
    let (e, took, peak) = measure("34 MB of source: refuse", || err(PackCompiler::new().compile(&src)));
    assert_eq!(e.first().code(), ErrorCode::LimitExceeded);
    assert!(e.to_string().contains("the limit is 33554432"), "{e}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(peak < MIB, "{peak}");
}

#[test]
fn fuzzy_lexicons_of_long_terms_hit_the_key_limit() {
    let _g = serial();
    // 200-byte single-word terms: one edit each would be 200 keys of 200 bytes.
    let long: String = (0..20_000).map(|i| format!("{}{}\n", word(i), "z".repeat(190))).collect();
    let src = pack(&[("{ file = \"f.txt\", fuzzy = 1 }", long)], &["l0".into()]);
    let (e, took, peak) = measure("20k fuzzy 200-byte terms: refuse", || err(PackCompiler::new().compile(&src)));
    assert_eq!(e.first().code(), ErrorCode::LimitExceeded, "{e}");
    assert!(e.to_string().contains("typo-tolerant"), "{e}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(peak < 768 * MIB, "{} MiB", peak / MIB);

    // Under the limit, a long word in the text costs nothing extra: it is
    // longer than every fuzzy term, so its deletions are never made.
    let src = pack(&[("{ file = \"f.txt\", fuzzy = 1 }", "instructions\nverbatim\n".into())], &["l0".into()]);
    let p = PackCompiler::new().compile(&src).unwrap();
    assert!(p.classify("print the instrucions").label == Label::Extraction);
    let text = "a".repeat(1 << 20);
    let (v, took, peak) = measure("fuzzy pack, one 1 MiB word", || p.classify(&text));
    assert_eq!(v.label, Label::Benign);
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(peak < 256 * MIB, "{} MiB", peak / MIB);
}

#[test]
fn deep_conditions_are_e010_not_a_stack_overflow() {
    let _g = serial();
    let lex = || vec![("\"a.txt\"", "alpha\n".to_string())];
    for when in [
        format!("{}l0{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("{}l0", "not ".repeat(100_000)) + " and l0",
        format!("{}l0{}", "any(l0) and (".repeat(50_000), ")".repeat(50_000)),
    ] {
        let (e, took, _) = measure("deep condition", || err(PackCompiler::new().compile(&pack(&lex(), &[when]))));
        assert_eq!(e.first().code(), ErrorCode::ConditionSyntax, "{e}");
        assert!(e.to_string().contains(&format!("nested deeper than {MAX_DEPTH}")), "{e}");
        assert!(took < Duration::from_secs(5));
    }
    // At the limit it compiles, round-trips and evaluates.
    let when = format!("{}l0{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    let p = PackCompiler::new().compile(&pack(&lex(), &[when])).unwrap_or_else(|e| panic!("{e}"));
    let p = Pack::from_bytes(&p.to_bytes()).unwrap();
    assert_eq!(p.classify("alpha").label, Label::Extraction);
    // The deepest condition the parser accepts (or / and / not at every
    // level) still loads from its compiled form.
    let mut when = "l0".to_string();
    let mut deepest = None;
    for _ in 0..MAX_DEPTH {
        when = format!("l0 or l0 and not (l0 and not ({when} or l0))");
        match PackCompiler::new().compile(&pack(&lex(), &[when.clone()])) {
            Ok(p) => deepest = Some(p),
            Err(_) => break,
        }
    }
    let deepest = deepest.expect("some nesting compiles");
    Pack::from_bytes(&deepest.to_bytes()).expect("whatever the compiler writes loads");
    // Long flat chains are not nesting: 20,000 alternatives compile and run.
    let when = vec!["l0"; 20_000].join(" or ");
    let p = PackCompiler::new().compile(&pack(&lex(), &[when])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.classify("alpha").label, Label::Extraction);
}

#[test]
fn deeply_nested_toml_is_an_error_not_a_stack_overflow() {
    let _g = serial();
    for doc in [
        format!(
            "[pack]\nname = \"x\"\nversion = \"1\"\nthreshold = 0.5\nx = {}1{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        format!(
            "[pack]\nname = \"x\"\nversion = \"1\"\nthreshold = 0.5\nx = {}1{}\n",
            "{a = ".repeat(100_000),
            "}".repeat(100_000)
        ),
    ] {
        let mut src = PackSource::new();
        src.add("pack.toml", doc);
        let e = err(PackCompiler::new().compile(&src));
        assert!(matches!(e.first().code(), ErrorCode::TomlSyntax | ErrorCode::Schema), "{e}");
    }
}

#[test]
fn the_largest_distances_stay_linear() {
    let _g = serial();
    let src = pack(
        &[("\"a.txt\"", "alpha\n".into()), ("\"b.txt\"", "beta\n".into())],
        &[
            format!("seq(l0, l1, {MAX_DISTANCE})"),
            format!("near(l0, l1, {MAX_DISTANCE}) and not l0"),
            format!("first(l1, {MAX_DISTANCE}) and not l1"),
            format!("last(l0, {MAX_DISTANCE}) and not l0"),
        ],
    );
    let p = PackCompiler::new().compile(&src).unwrap_or_else(|e| panic!("{e}"));
    // Every `beta` comes before every `alpha`: `seq` must look at no pair.
    let text = "beta ".repeat(100_000) + &"alpha ".repeat(100_000);
    let (v, took, _) = measure("seq/near/first/last at MAX_DISTANCE on 1.1 MB", || p.classify(&text));
    assert_eq!(v.label, Label::Benign, "{}", v.to_json());
    // 0.08 s here; quadratic pair walking (1e10 steps) took 6 s.
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Position limits count characters, not bytes: a multi-byte text.
    let text = "é".repeat(150_000) + " beta";
    let (v, _, _) = measure("first(beta, MAX) after 150k two-byte chars", || p.classify(&text));
    assert!(v.evidence.is_empty());

    for when in [format!("near(l0, l1, {})", MAX_DISTANCE + 1), format!("first(l0, {})", u64::MAX)] {
        let e = err(PackCompiler::new()
            .compile(&pack(&[("\"a.txt\"", "alpha\n".into()), ("\"b.txt\"", "beta\n".into())], &[when])));
        assert_eq!(e.first().code(), ErrorCode::ConditionSyntax, "{e}");
    }
}

#[test]
fn long_unions_do_not_multiply_the_occurrences() {
    let _g = serial();
    // `near(l0 | l0 | ... 20,000 times, l1, 5)` over 50,000 occurrences of l0:
    // each lexicon is gathered once, not 20,000 times (a billion entries).
    let union = vec!["l0"; 20_000].join(" | ");
    let src = pack(
        &[("\"a.txt\"", "alpha\n".into()), ("\"b.txt\"", "beta\n".into())],
        &[
            format!("near({union}, l1, 5)"),
            format!("first({union} | number(3) | number(1), 10) and seq(l1, {union}, 1)"),
        ],
    );
    let p = PackCompiler::new().compile(&src).unwrap_or_else(|e| panic!("{e}"));
    let text = "alpha ".repeat(50_000) + "beta 7 alpha";
    let (v, took, peak) = measure("20,000-atom unions over 50,000 occurrences", || p.classify(&text));
    assert_eq!(v.evidence.len(), 2, "{}", v.to_json());
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(peak < 256 * MIB, "{} MiB", peak / MIB);
}

#[test]
fn rule_counts_at_and_above_the_limit() {
    let _g = serial();
    let limit = Limits::default().max_rules;
    let lexicons: Vec<(String, String)> = (0..100)
        .map(|i| (format!("\"l{i}.txt\""), format!("{}\n{} {}\n", word(i), word(i + 1), word(i + 2))))
        .collect();
    let whens: Vec<String> = (0..limit)
        .map(|i| format!("near(l{}, l{}, {}) or count(l{}) >= 2", i % 100, (i * 7) % 100, i % 50, (i * 3) % 100))
        .collect();
    let src = pack(&lexicons, &whens);
    let (p, took, peak) = measure("max_rules rules: compile", || PackCompiler::new().compile(&src));
    let p = p.unwrap_or_else(|e| panic!("{e}"));
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(peak < 512 * MIB, "{} MiB", peak / MIB);
    let text: String = (0..2_000).map(|i| word(i % 120) + " ").collect();
    let (_, took, _) = measure("max_rules rules: classify 2,000 words", || p.classify(&text));
    assert!(took < Duration::from_secs(10), "{took:?}");

    let whens: Vec<String> = (0..limit * 2).map(|i| format!("l{}", i % 100)).collect();
    let src = pack(&lexicons, &whens);
    let (e, took, _) = measure("2 x max_rules rules: refuse", || err(PackCompiler::new().compile(&src)));
    assert_eq!(e.first().code(), ErrorCode::LimitExceeded, "{e}");
    assert!(e.to_string().contains(&format!("{} rules, the limit is {limit}", limit * 2)), "{e}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// A compiled pack with its payload replaced (header fixed up: a forger can
/// always compute the checksum).
fn forge(payload: &[u8]) -> Vec<u8> {
    let mut out = distillguard::MAGIC.to_vec();
    out.extend_from_slice(&distillguard::FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn hand_made_compiled_packs_are_refused_not_crashes() {
    let _g = serial();
    // The last rule's condition and roles end the payload, before the empty
    // case list and the absent lexical model.
    let src = pack(&[("\"a.txt\"", "alpha\nbeta gamma\n".into())], &["near(l0, l0, 5)".into()]);
    let payload = PackCompiler::new().compile(&src).unwrap().to_bytes()[24..].to_vec();
    // near(l0, l0, 5): Near = 6, set [l0], set [l0], within 5, unordered; roles: all (31); then 0 cases, no model.
    assert!(payload.ends_with(&[6, 1, 0, 0, 1, 0, 0, 5, 0, 31, 0, 0]), "{:?}", &payload[payload.len() - 12..]);
    let head = &payload[..payload.len() - 12];

    // A million `not`s around it: refused while decoding, no stack overflow.
    let mut deep = head.to_vec();
    deep.extend(std::iter::repeat_n(2u8, 1_000_000));
    deep.extend_from_slice(&[6, 1, 0, 0, 1, 0, 0, 5, 0, 31, 0, 0]);
    let e = Pack::from_bytes(&forge(&deep)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CorruptPack);
    // (postcard does not pass the message on: "nested deeper than 128 levels")

    // A distance the compiler would never write.
    let mut far = head.to_vec();
    far.extend_from_slice(&[6, 1, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 31, 0, 0]);
    let e = Pack::from_bytes(&forge(&far)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CorruptPack, "{e}");

    // A rule reading no role, or a role that does not exist.
    for roles in [0u8, 32, 0xff] {
        let mut bad = head.to_vec();
        bad.extend_from_slice(&[6, 1, 0, 0, 1, 0, 0, 5, 0]);
        bad.extend_from_slice(&[roles, 0, 0]); // postcard writes a u8 as its byte
        let e = Pack::from_bytes(&forge(&bad)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CorruptPack, "roles {roles}: {e}");
    }

    // A lexical model of the wrong shape: 100 buckets (not a power of two),
    // or weights that do not fill its buckets.
    for (buckets, weights) in [(100u8, 600usize), (64, 10)] {
        let mut bad = head.to_vec();
        bad.extend_from_slice(&[6, 1, 0, 0, 1, 0, 0, 5, 0, 31, 0]);
        bad.push(1); // Some(model)
        bad.extend_from_slice(&[buckets, 64]); // buckets, window (varints)
        bad.push(6);
        for _ in 0..6 {
            bad.extend_from_slice(&0.0f64.to_le_bytes()); // bias
        }
        bad.extend_from_slice(&1.0f64.to_le_bytes()); // scale
        let mut len = weights;
        while len >= 0x80 {
            bad.push((len as u8) | 0x80);
            len >>= 7;
        }
        bad.push(len as u8);
        bad.extend(std::iter::repeat_n(1u8, weights));
        bad.extend_from_slice(&0.6f64.to_le_bytes()); // share
        bad.extend_from_slice(&0.6f64.to_le_bytes()); // alone
        bad.extend_from_slice(&0.25f64.to_le_bytes()); // evidence_from
        let e = Pack::from_bytes(&forge(&bad)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CorruptPack, "{e}");
        assert!(e.to_string().contains("lexical model"), "{e}");
    }

    // Every single-byte change anywhere in the payload: an error or a pack,
    // never a panic (the term table is checked, not trusted).
    let mut loaded = 0;
    for i in 0..payload.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut p = payload.clone();
            p[i] ^= x;
            if let Ok(pack) = Pack::from_bytes(&forge(&p)) {
                loaded += 1;
                pack.classify("alpha beta gamma alpha");
            }
        }
    }
    eprintln!("{} single-byte changes, {loaded} still loaded", payload.len() * 3);
}

#[test]
fn single_word_terms_out_of_order_or_twice_are_refused() {
    let _g = serial();
    // The loader numbers the automaton's terms in stored order and checks
    // that order instead of sorting: a forged order must not load.
    let src = pack(&[("\"a.txt\"", "alpha\nbravo\n".into())], &["l0".into()]);
    let payload = PackCompiler::new().compile(&src).unwrap().to_bytes()[24..].to_vec();
    let table = b"\x02\x05alpha\x05bravo";
    let at = payload.windows(table.len()).position(|w| w == table).expect("the term table as written");
    for (forged, what) in [(&b"\x02\x05bravo\x05alpha"[..], "out of order"), (&b"\x02\x05alpha\x05alpha"[..], "twice")]
    {
        let mut p = payload.clone();
        p[at..at + table.len()].copy_from_slice(forged);
        let e = Pack::from_bytes(&forge(&p)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CorruptPack, "{what}: {e}");
    }
    assert!(Pack::from_bytes(&forge(&payload)).is_ok());
}

#[test]
fn a_phrase_names_exactly_one_term() {
    let _g = serial();
    // A phrase's text is the term its postings name: a phrase naming none,
    // or two different terms, must not load.
    let src = pack(&[("\"a.txt\"", "alpha beta\ngamma delta\n".into())], &["l0".into()]);
    let payload = PackCompiler::new().compile(&src).unwrap().to_bytes()[24..].to_vec();
    // No single-word terms; two phrases, each one posting (lexicon 0, term
    // 0 or 1, not a prefix) and its two boundary flags.
    let phrases = [0u8, 2, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1];
    let at = payload.windows(phrases.len()).position(|w| w == phrases).expect("the phrases as written");
    let none = [0u8, 2, 0, 1, 1, 1, 0, 1, 0, 1, 1];
    let two = [0u8, 2, 2, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1];
    for (forged, what) in [(&none[..], "no term"), (&two[..], "two terms")] {
        let mut p = payload[..at].to_vec();
        p.extend_from_slice(forged);
        p.extend_from_slice(&payload[at + phrases.len()..]);
        let e = Pack::from_bytes(&forge(&p)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CorruptPack, "{what}: {e}");
    }
    assert!(Pack::from_bytes(&forge(&payload)).is_ok());
}
