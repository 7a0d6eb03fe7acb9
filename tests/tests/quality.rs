//! Quality gates of the default pack on labelled data. These fail when a
//! pack or engine change makes detection worse than the published numbers.

use distillguard::{default_pack, Label};
use distillguard_host::metrics::{Counts, Item, Report};
use distillguard_tests::{records, Record};

fn report(recs: &[Record], by: &[&str]) -> Report {
    let pack = default_pack();
    let by: Vec<String> = by.iter().map(|s| s.to_string()).collect();
    let mut r = Report::default();
    for rec in recs {
        let item = Item::from_record(rec.fields.as_object().unwrap().clone()).unwrap();
        r.add(&item, &rec.prompt.classify(&pack), &by);
    }
    r
}

fn corpus() -> Vec<Record> {
    let mut v = records("corpus/extraction.jsonl");
    v.extend(records("corpus/benign.jsonl"));
    v
}

fn at_least(name: &str, value: Option<f64>, min: f64, c: &Counts) {
    let v = value.unwrap_or(0.0);
    assert!(v >= min, "{name} {v:.4} < {min} ({c:?})");
}

fn at_most(name: &str, value: Option<f64>, max: f64, c: &Counts) {
    let v = value.unwrap_or(1.0);
    assert!(v <= max, "{name} {v:.4} > {max} ({c:?})");
}

#[test]
fn corpus_quality_bar() {
    let r = report(&corpus(), &["hard"]);
    let o = &r.overall;
    at_least("precision", o.precision(), 0.95, o);
    at_least("recall", o.recall(), 0.85, o);
    at_most("FPR on benign", o.fpr(), 0.02, o);
    let hard_benign = &r.by["hard"]["true"];
    // Hard negatives: FPR over the benign hard items only.
    let hard_neg = Counts { tp: 0, fn_: 0, ..*hard_benign };
    at_most("FPR on hard negatives", hard_neg.fpr(), 0.08, &hard_neg);
}

#[test]
fn labels_are_two_and_only_two() {
    for rec in corpus() {
        assert!(Label::parse(rec.fields["label"].as_str().unwrap()).is_some(), "{}", rec.id);
    }
}

/// Issue 7's bar on the corpus and the team's generalisation set together.
#[test]
fn corpus_and_generalisation_quality_bar() {
    let mut recs = corpus();
    recs.extend(records("generalisation.jsonl"));
    let r = report(&recs, &["hard", "kind"]);
    let o = &r.overall;
    at_least("precision", o.precision(), 0.95, o);
    at_least("recall", o.recall(), 0.90, o);
    at_most("FPR", o.fpr(), 0.015, o);
    let hard = &r.by["hard"]["true"];
    at_most("FPR on hard negatives", hard.fpr(), 0.05, hard);
    for kind in ["obfuscated", "multilingual", "long", "multiturn"] {
        let c = &r.by["kind"][kind];
        at_least(&format!("recall on {kind}"), c.recall(), 0.85, c);
    }
}
