//! The embedded default pack: compiles, its cases pass, every rule is
//! covered by at least two positive and two negative cases, and the
//! compiled form round-trips byte for byte.

use distillguard::{default_pack, Category, Pack};

#[test]
fn cases_pass_and_cover_every_rule() {
    let pack = default_pack();
    let report = pack.run_cases();
    let failed: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{}:{}: {}", r.file, r.line, r.failures.join("; ")))
        .collect();
    assert!(failed.is_empty(), "{} failing cases:\n{}", failed.len(), failed.join("\n"));
    let under: Vec<String> =
        report.under_covered(2).iter().map(|c| format!("{} {}+/{}-", c.rule, c.positive, c.negative)).collect();
    assert!(under.is_empty(), "rules with fewer than 2 positive and 2 negative cases: {under:?}");
}

#[test]
fn covers_all_categories() {
    let pack = default_pack();
    for c in Category::ALL {
        assert!(pack.rules().iter().any(|r| r.category == c), "no rule for {c}");
    }
}

#[test]
fn compiled_pack_round_trips() {
    let pack = default_pack();
    let bytes = pack.to_bytes();
    let again = Pack::from_bytes(&bytes).unwrap();
    assert_eq!(again.to_bytes(), bytes);
    assert_eq!(bytes, distillguard_host::packs::DEFAULT_PACK, "embedded default pack is stale");
}
