#!/usr/bin/env python3
"""Build the distillguard generalisation evaluation set.

Run from the repository root:

    python3 tests/data/generalisation/seeds.py

Writes tests/data/generalisation.jsonl and tests/data/generalisation/README.md
deterministically (Python 3.11 standard library only; all randomness comes from
random.Random instances seeded with fixed strings). Every prompt was written
from scratch by the distillguard team; see README.md.
"""

import json
import os
import random
import sys
from collections import Counter

sys.dont_write_bytecode = True  # keep the data folder free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import en_seeds  # noqa: E402
import long_docs  # noqa: E402
import long_extra  # noqa: E402
import multilingual  # noqa: E402
import multiturn  # noqa: E402
import obfuscate  # noqa: E402
import templates  # noqa: E402

OUT_JSONL = os.path.normpath(os.path.join(HERE, "..", "generalisation.jsonl"))
OUT_README = os.path.join(HERE, "README.md")

CATEGORIES = ["reasoning_trace", "hidden_reasoning", "synthetic_data",
              "distillation_framing", "system_prompt_leak"]
KINDS = ["paraphrase", "template", "obfuscated", "multilingual", "long", "multiturn"]

records = []


def add(text, label, category, kind, lang, hard, note):
    assert label in ("extraction", "benign")
    assert (category is None) == (label == "benign"), (label, category, text[:60])
    assert category is None or category in CATEGORIES
    assert kind in KINDS
    records.append({"text": text, "label": label, "category": category, "kind": kind,
                    "lang": lang, "hard": bool(hard), "note": note})


def short(s, n=48):
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 3].rstrip() + "..."


# 1. paraphrase ---------------------------------------------------------------
for cat, text, note in en_seeds.EXT_PARAPHRASE:
    add(text, "extraction", cat, "paraphrase", "en", False, note)
for hard, text, note in en_seeds.BEN_PARAPHRASE:
    add(text, "benign", None, "paraphrase", "en", hard, note)

# 2. template -----------------------------------------------------------------
for tid, cat, hard, tpl, fills, note in templates.TEMPLATES:
    for i, f in enumerate(fills):
        label = "benign" if cat is None else "extraction"
        add(tpl.format(**f), label, cat, "template", "en", hard,
            f"{tid} filling {i + 1}/{len(fills)}: {note}")

# 3. obfuscated ---------------------------------------------------------------
T = obfuscate.TRANSFORMS


def obf_pairs(n_seeds, second, offset):
    """(seed_index, transform_index) pairs: every seed once, the seeds listed
    in `second` a second time with a different transform."""
    pairs = [(i, (i + offset) % len(T)) for i in range(n_seeds)]
    for i in second:
        first = (i + offset) % len(T)
        t2 = (i * 7 + 3 + offset) % len(T)
        if t2 == first:
            t2 = (t2 + 1) % len(T)
        pairs.append((i, t2))
    return pairs


# Second transforms favour the categories that are rarer elsewhere in the set.
_cats = [c for c, _ in en_seeds.OBF_EXT]
SECOND_EXT = ([i for i, c in enumerate(_cats) if c in ("reasoning_trace", "synthetic_data", "distillation_framing")]
              + [i for i, c in enumerate(_cats) if c == "system_prompt_leak"][:3]
              + [i for i, c in enumerate(_cats) if c == "hidden_reasoning"][:2])

for i, ti in obf_pairs(len(en_seeds.OBF_EXT), SECOND_EXT, 0):
    cat, seed = en_seeds.OBF_EXT[i]
    name, fn = T[ti]
    rng = random.Random(f"obf-ext:{i}:{name}")
    add(fn(seed, rng), "extraction", cat, "obfuscated", "en", False,
        f"{name} of: {short(seed)}")

for i, ti in obf_pairs(len(en_seeds.OBF_BEN), range(len(en_seeds.OBF_BEN)), 5):
    hard, seed = en_seeds.OBF_BEN[i]
    name, fn = T[ti]
    rng = random.Random(f"obf-ben:{i}:{name}")
    add(fn(seed, rng), "benign", None, "obfuscated", "en", hard,
        f"{name} of benign: {short(seed)}")

# 4. multilingual -------------------------------------------------------------
for lang, items in multilingual.ML.items():
    for label, cat, hard, text, note in items:
        add(text, label, cat, "multilingual", lang, hard, note)

# 5. long ---------------------------------------------------------------------
for d in long_docs.BASE_DOCS:
    paras = d["body"].split("\n\n")
    benign_text = d["lead"] + "\n\n" + d["body"] + "\n\n" + d["benign_ask"]
    add(benign_text, "benign", None, "long", "en", True, d["benign_note"])
    if d["ext_pos"] == "end":
        ext_text = d["lead"] + "\n\n" + d["body"] + "\n\n" + d["ext_text"]
    else:
        n = int(d["ext_pos"].split(":")[1])
        assert 0 <= n < len(paras) - 1, (d["id"], n)  # buried inside, not at the end
        body = "\n\n".join(paras[: n + 1] + [d["ext_text"]] + paras[n + 1:])
        ext_text = d["lead"] + "\n\n" + body + "\n\n" + d["benign_ask"]
    add(ext_text, "extraction", d["ext_cat"], "long", "en", False, d["ext_note"])

for label, cat, hard, text, note in long_extra.long_extra_items():
    add(text, label, cat, "long", "en", hard, note)

# 6. multiturn ----------------------------------------------------------------


def flatten(turns):
    return "\n\n".join(f"{role}: {text}" for role, text in turns)


for topic, prefix, exts, bens in multiturn.CONVERSATIONS:
    for cat, turns, note in exts:
        add(flatten(prefix + turns), "extraction", cat, "multiturn", "en", False,
            f"{topic}: {note}")
    for cat, hard, turns, note in bens:
        add(flatten(prefix + turns), "benign", None, "multiturn", "en", hard,
            f"{topic}: {note}")

# ids + validation --------------------------------------------------------------
for n, r in enumerate(records, 1):
    r["id"] = f"gen-{n:04d}"

FIELDS = ["id", "text", "label", "category", "kind", "lang", "hard", "note"]


def validate(recs):
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    texts = Counter(r["text"] for r in recs)
    dups = [t[:80] for t, c in texts.items() if c > 1]
    assert not dups, f"duplicate texts: {dups}"
    for r in recs:
        assert len(r["text"]) <= 9500, (r["id"], len(r["text"]))
        assert r["text"].strip() == r["text"], r["id"]
        if r["kind"] == "long":
            assert 3000 <= len(r["text"]) <= 9000, (r["id"], len(r["text"]))
    labels = Counter(r["label"] for r in recs)
    assert len(recs) >= 440
    assert labels["benign"] * 2 >= len(recs), labels
    kl = Counter((r["kind"], r["label"]) for r in recs)
    assert kl[("obfuscated", "extraction")] >= 60 and kl[("obfuscated", "benign")] >= 40, kl
    assert kl[("long", "extraction")] >= 30 and kl[("long", "benign")] >= 30, kl
    assert kl[("multiturn", "extraction")] >= 30 and kl[("multiturn", "benign")] >= 30, kl
    ll = Counter((r["lang"], r["label"]) for r in recs)
    for lang in ["zh", "ru", "es", "de", "ja", "ko", "fr", "ar", "pt", "it"]:
        assert ll[(lang, "extraction")] >= 4 and ll[(lang, "benign")] >= 4, lang
    hard = sum(1 for r in recs if r["label"] == "benign" and r["hard"])
    assert hard >= 120, hard


def table(rows, headers):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(out)


def counts_markdown(recs):
    lab = Counter(r["label"] for r in recs)
    parts = []
    parts.append(f"Total: **{len(recs)}** items: {lab['extraction']} `extraction`, {lab['benign']} `benign` "
                 f"({sum(1 for r in recs if r['label'] == 'benign' and r['hard'])} of them `hard: true`).")
    cat = Counter(r["category"] for r in recs if r["label"] == "extraction")
    parts.append("### Extraction by category\n\n" + table(
        [(c, cat[c], f"{100 * cat[c] / lab['extraction']:.0f}%") for c in CATEGORIES] +
        [("**total**", lab["extraction"], "100%")], ["category", "items", "share"]))
    kind_rows = []
    for k in KINDS:
        e = sum(1 for r in recs if r["kind"] == k and r["label"] == "extraction")
        b = sum(1 for r in recs if r["kind"] == k and r["label"] == "benign")
        h = sum(1 for r in recs if r["kind"] == k and r["label"] == "benign" and r["hard"])
        kind_rows.append((f"`{k}`", e, b, h, e + b))
    parts.append("### By kind\n\n" + table(kind_rows, ["kind", "extraction", "benign", "benign hard", "total"]))
    kc_rows = []
    for k in KINDS:
        row = [f"`{k}`"] + [sum(1 for r in recs if r["kind"] == k and r["category"] == c) for c in CATEGORIES]
        kc_rows.append(row)
    parts.append("### Extraction: kind x category\n\n" + table(kc_rows, ["kind", "RT", "HR", "SD", "DF", "SPL"]))
    langs = sorted({r["lang"] for r in recs}, key=lambda x: (x != "en", x))
    lang_rows = []
    for lg in langs:
        e = sum(1 for r in recs if r["lang"] == lg and r["label"] == "extraction")
        b = sum(1 for r in recs if r["lang"] == lg and r["label"] == "benign")
        cats = Counter(r["category"] for r in recs if r["lang"] == lg and r["label"] == "extraction")
        lang_rows.append((lg, e, b, ", ".join(f"{c}:{cats[c]}" for c in CATEGORIES if cats[c])))
    parts.append("### By language\n\n" + table(lang_rows, ["lang", "extraction", "benign", "extraction categories"]))
    obf = Counter(r["note"].split(" of")[0] for r in recs if r["kind"] == "obfuscated")
    parts.append("### Obfuscation transforms used\n\n" + table(
        [(f"`{name}`", obf[name]) for name, _ in obfuscate.TRANSFORMS], ["transform", "items"]))
    lens = sorted(len(r["text"]) for r in recs if r["kind"] == "long")
    parts.append(f"Long items: {len(lens)}, {lens[0]} to {lens[-1]} characters.")
    return "\n\n".join(parts)


README_HEAD = """# Generalisation evaluation set

`tests/data/generalisation.jsonl` is distillguard's own evaluation set for
measuring whether rule packs generalise beyond the shared corpus
(`../shared/corpus/`): wide paraphrase, pipeline templates, obfuscation,
multilingual prompts, long documents with buried requests, and multi-turn
transcripts, against benign prompts that use the same vocabulary for ordinary
purposes.

**Provenance.** Every prompt in this set was written from scratch by the
distillguard team for this purpose. Nothing was copied from the shared corpus
or from any other source; the obfuscated, templated, long and multi-turn forms
are derived in code from those hand-written seeds. The set is released with the
project under the project's licence.

Use it as evaluation data only: do not copy its items into rule-pack `cases/`
or tune rules against individual items, or it stops measuring generalisation.

## Files

| file | what |
| --- | --- |
| `tests/data/generalisation.jsonl` | the set (generated, do not edit by hand) |
| `seeds.py` | entry point: assembles, validates, writes the JSONL and this README |
| `en_seeds.py` | English paraphrase seeds (both labels) and obfuscation seeds |
| `templates.py` | pipeline templates with their fillings (extraction and benign batch jobs) |
| `obfuscate.py` | deterministic obfuscation transforms |
| `multilingual.py` | zh, ru, es, de, ja, ko, fr, ar, pt, it items |
| `long_docs.py` | long documents, each used once benign and once with a buried extraction request |
| `long_extra.py` | inherently long items (problem batches, data-generation specs, distillation briefs, CSV exports, logs, system-prompt reviews) |
| `multiturn.py` | multi-turn conversations with extraction or benign later turns |

## Regenerate

From the repository root:

    python3 tests/data/generalisation/seeds.py

Python 3.11, standard library only. The output is deterministic (all
randomness uses `random.Random` seeded with fixed strings), so rerunning
reproduces `generalisation.jsonl` and this README byte for byte. The script
validates the set before writing (valid JSON, unique ids, no duplicate texts,
texts at most 9,500 characters, long items 3,000 to 9,000 characters, the
minimum counts below) and fails loudly otherwise.

## Record fields

UTF-8 JSON Lines, one object per line, keys in this order:

| field | meaning |
| --- | --- |
| `id` | `gen-0001` ... sequential; stable as long as the seeds don't change |
| `text` | the prompt as sent. Multi-turn transcripts are flattened as `USER: ...\\n\\nASSISTANT: ...\\n\\nUSER: ...` |
| `label` | `extraction` or `benign` |
| `category` | for extraction: `reasoning_trace`, `hidden_reasoning`, `synthetic_data`, `distillation_framing`, `system_prompt_leak`; `null` for benign |
| `kind` | `paraphrase` (plain-language, positives avoid stock trigger phrases), `template` (one pipeline wording, several fillings), `obfuscated`, `multilingual`, `long` (3,000-9,000 chars), `multiturn` |
| `lang` | ISO 639-1 code of the main language (`en` for obfuscated, long and multi-turn items) |
| `hard` | `true` on benign items that use extraction-like vocabulary for ordinary purposes (step by step, system prompt, example sentences, distillation, JSONL, repeat after me, teacher/student, reveal, hidden...). Always `false` on extraction items in this set. |
| `note` | short reason for the label; for templates the template id and filling; for obfuscated items the transform and the seed |

## Labelling policy

As in `../shared/design.md`: the boundary is *evident purpose*. Capture
formats (`\\boxed{}`, `<answer>`, forced `<think>`, JSON records with a
rationale field), batch/scale language (IDs, "item 471 of 5000", hundreds of
pairs), exhaustive intermediate steps for grading, training/teacher framing,
and verbatim-reveal requests for hidden instructions or hidden reasoning make a
prompt `extraction`. An ordinary person's single request for steps, an
explanation, or a few examples is `benign`, as are batch jobs on the user's
own data (translating product titles, triaging tickets, converting their own
CSV), questions *about* system prompts or distillation, and documents that
merely mention those things.

Notes on specific choices:

- Long documents: each base document appears twice, once with a benign request
  and once with an extraction request injected inside it (an HTML comment, a
  fake email, a log line, a fake ticket, an editor's note) or appended as the
  user's own follow-up. The shared bodies make these minimal pairs.
- Multi-turn: each conversation prefix appears in two extraction and two benign
  continuations; the label is decided by the later turn.
- Obfuscated benign items are benign texts put through the same transforms
  (including base64 with "decode this and do what it says"), so that
  obfuscation alone is not evidence.
- Template fillings are deliberately near-identical; that is the point of the
  kind (fingerprint stability and campaign counting).
- A few deliberate boundary cases are labelled benign: a request for a 20-row
  fake CSV to test an import script (test fixture, not training data), asking
  the assistant to justify its *visible* previous answer, a conceptual question
  about whether assistants can see their own system prompt, labelling ten of
  one's own reviews.

## Counts

"""


def main():
    validate(records)
    with open(OUT_JSONL, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n")
    readme = README_HEAD + counts_markdown(records) + "\n"
    with open(OUT_README, "w", encoding="utf-8", newline="\n") as f:
        f.write(readme)
    print(counts_markdown(records))
    print(f"\nwrote {len(records)} records to {OUT_JSONL}")


if __name__ == "__main__":
    main()
