#!/usr/bin/env python3
"""Does a learned lexical scorer generalise where the rules do not? (session 3)

Trains logistic regressions on every labelled set the pack authors have seen
(shared corpus, generalisation set, probe rounds, public tune sets) and scores
them on the fresh sets nobody tuned on (held-out rounds I-L, public heldout-8),
beside the pack's own verdicts:

- rule hits as features (a fitted weight per rule, design.md's "logistic layer");
- TF-IDF word 1-2-grams and char 3-5-grams;
- the char model blended with the pack's score (mean of the two), and used as
  a veto (pack says extraction and model probability >= 0.2).

Not a test and not part of the build: an experiment whose numbers are quoted
in notes/generalisation.md. Needs scikit-learn (a venv:
`python3 -m venv /tmp/skv && /tmp/skv/bin/pip install scikit-learn`) and a
built binary. Run from the repository root:

    cargo build --release -p distillguard-host
    /tmp/skv/bin/python notes/experiments/lexical_model.py
"""
import glob
import json
import subprocess

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

BIN = "target/release/distillguard"


def load(path):
    recs = [json.loads(line) for line in open(path) if line.strip()]
    out = subprocess.run(
        [BIN, "--engine", "native", "classify", "--pack", "rules/default", "--format", "jsonl", "-i", path],
        capture_output=True, text=True,  # exit status 1 means "some prompt is extraction"
    ).stdout
    verdicts = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(recs) == len(verdicts), path
    return list(zip(recs, verdicts))


def text(rec):
    if "text" in rec:
        return rec["text"]
    parts = []
    for m in rec["messages"]:
        c = m["content"]
        c = c if isinstance(c, str) else " ".join(x.get("text", "") for x in c)
        parts.append(f"[{m['role']}] {c}")
    return "\n".join(parts)


def labels(items):
    return np.array([r["label"] == "extraction" for r, _ in items])


def metrics(pred, y):
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    f1 = 2 * p * r / max(p + r, 1e-9)
    return f"P {p:.3f}  R {r:.3f}  F1 {f1:.3f}  FPR {fp / max(fp + tn, 1):.3f}"


seen = (glob.glob("tests/data/corpus/*.jsonl") + ["tests/data/generalisation.jsonl"]
        + sorted(glob.glob("tests/data/probes/*.jsonl")) + sorted(glob.glob("tests/data/public/tune*.jsonl")))
train = [item for f in seen for item in load(f)]
fresh = {
    "rounds I-K": [item for k in "IJK" for item in load(f"tests/data/picking/round-{k}.jsonl")],
    "round L": load("tests/data/picking/round-L.jsonl"),
    "public heldout-8": load("tests/data/picking/public-8.jsonl"),
}
y = labels(train)
rules = sorted({e["rule"] for _, v in train for e in v["evidence"]})
col = {r: i for i, r in enumerate(rules)}


def rule_features(items):
    m = np.zeros((len(items), len(rules)))
    for i, (_, v) in enumerate(items):
        for e in v["evidence"]:
            if e["rule"] in col:
                m[i, col[e["rule"]]] = 1
    return m


print(f"trained on {len(train)} seen items ({int(y.sum())} extraction)\n")
fitted = LogisticRegression(C=1, max_iter=3000).fit(rule_features(train), y)
char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True, max_features=300000)
word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200000)
models = {}
for name, vec in (("char 3-5", char), ("word 1-2", word)):
    models[name] = (vec, LogisticRegression(C=10, max_iter=3000).fit(vec.fit_transform([text(r) for r, _ in train]), y))

for name, items in fresh.items():
    yy = labels(items)
    score = np.array([v["score"] for _, v in items])
    prob = {k: m.predict_proba(vec.transform([text(r) for r, _ in items]))[:, 1] for k, (vec, m) in models.items()}
    print(f"{name} ({len(items)} items)")
    print(f"  pack as shipped           {metrics(score >= 0.5, yy)}")
    print(f"  refitted rule weights     {metrics(fitted.predict_proba(rule_features(items))[:, 1] >= 0.5, yy)}")
    for k, p in prob.items():
        print(f"  tf-idf {k:<18} {metrics(p >= 0.5, yy)}")
    p = prob["char 3-5"]
    print(f"  mean(pack, char model)    {metrics((score + p) / 2 >= 0.5, yy)}")
    print(f"  pack, char model veto 0.2 {metrics((score >= 0.5) & (p >= 0.2), yy)}")
    print()
