//! Evaluating rule conditions over a [`Scan`].

use crate::bitset::{self, ones};
use crate::condition::{Atom, Cmp, Expr, Set, MAX_DISTANCE};
use crate::matcher::{Hit, Scan};
use std::ops::Range;

/// At most this many occurrences per set are reported as evidence.
const MAX_WITNESSES: usize = 8;

/// Checks that every lexicon index is below `n` and every distance within
/// [`MAX_DISTANCE`] (for loading untrusted packs: the compiler guarantees both).
pub(crate) fn check_indices(expr: &Expr<u32>, n: u32) -> Result<(), ()> {
    let set_ok = |s: &Set<u32>| s.0.iter().all(|a| !matches!(a, Atom::Lexicon(l) if *l >= n));
    let ok = match expr {
        Expr::Any(s) | Expr::Count { set: s, .. } => set_ok(s),
        Expr::Position { set: s, chars, .. } => set_ok(s) && *chars <= MAX_DISTANCE,
        Expr::All(v) => v.iter().all(set_ok),
        Expr::Near { a, b, within, .. } => set_ok(a) && set_ok(b) && *within <= MAX_DISTANCE,
        Expr::Not(e) => return check_indices(e, n),
        Expr::And(v) | Expr::Or(v) => return v.iter().try_for_each(|e| check_indices(e, n)),
    };
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

/// Evaluation context: the hits a rule may see (all of a [`Scan`]'s, or
/// those in the segments whose roles the rule counts), the original text and
/// its segments.
pub(crate) struct Ctx<'a> {
    /// Lexicon hits, grouped by lexicon.
    pub hits: &'a [Hit],
    /// `hits[by_lexicon[i]]` are the hits of lexicon `i`.
    pub by_lexicon: &'a [Range<usize>],
    /// Number tokens.
    pub numbers: &'a [Hit],
    /// The original text (segments joined).
    pub text: &'a str,
    /// Byte ranges of the segments in `text`, in order; never empty.
    pub segments: &'a [Range<usize>],
    /// Which lexicons have hits here, for the rules' [`Gate`]s.
    pub presence: &'a Presence,
}

/// Which lexicons of a context have hits, as bits, and the largest number
/// token: found once per context, so that a rule whose first needed sets are
/// absent is turned away by a few mask tests (most rules, on most texts).
#[derive(Debug, Default)]
pub(crate) struct Presence {
    lexicons: Vec<u64>,
    max_number: Option<u64>,
}

impl Presence {
    /// The presence of `hits` (of `lexicons` lexicons) and of `numbers`.
    /// (From the hits, not from the ranges by lexicon: a text has far fewer
    /// hits than the pack has lexicons.)
    pub fn of(hits: &[Hit], lexicons: usize, numbers: &[Hit]) -> Presence {
        let mut bits = vec![0u64; lexicons.div_ceil(64)];
        for h in hits {
            let l = h.lexicon as usize;
            if l / 64 < bits.len() {
                bitset::set(&mut bits, l);
            }
        }
        Presence { lexicons: bits, max_number: numbers.iter().map(|h| h.term).max() }
    }
}

/// A set of a condition as bits: [`Ctx::present`] against a [`Presence`].
#[derive(Clone, Debug)]
struct SetMask {
    /// (word index, bits) of the set's lexicons, one entry per word used.
    words: Box<[(u32, u64)]>,
    /// The smallest minimum of the set's number atoms.
    min_number: Option<u64>,
}

impl SetMask {
    fn of(set: &Set<u32>) -> SetMask {
        let mut words: Vec<(u32, u64)> = Vec::new();
        let mut min_number: Option<u64> = None;
        for a in &set.0 {
            match *a {
                Atom::Lexicon(l) => {
                    let (w, bit) = (l / 64, 1u64 << (l % 64));
                    match words.iter_mut().find(|(i, _)| *i == w) {
                        Some((_, bits)) => *bits |= bit,
                        None => words.push((w, bit)),
                    }
                }
                Atom::Number(m) => min_number = Some(min_number.map_or(m, |n| n.min(m))),
            }
        }
        SetMask { words: words.into(), min_number }
    }

    /// [`Ctx::present`]: some lexicon of the set has hits, or some number
    /// token reaches a minimum of the set.
    fn present(&self, p: &Presence) -> bool {
        self.words.iter().any(|&(w, bits)| p.lexicons.get(w as usize).is_some_and(|&have| have & bits != 0))
            || self.min_number.is_some_and(|min| p.max_number.is_some_and(|max| max >= min))
    }
}

/// What a rule's condition needs present before it is worth evaluating: the
/// sets of its first leaf under a chain of `and`s (`((a near b) and not c)
/// and not d` needs `a` and `b`), built once when a pack loads.
#[derive(Clone, Debug)]
pub(crate) struct Gate {
    needs: Vec<SetMask>,
}

impl Gate {
    /// The gate of condition `e`.
    pub fn of(e: &Expr<u32>) -> Gate {
        let (a, b) = first_needed(e);
        Gate { needs: a.into_iter().chain(b).map(SetMask::of).collect() }
    }

    /// Whether every set the condition needs first is present.
    pub(crate) fn open(&self, p: &Presence) -> bool {
        self.needs.iter().all(|s| s.present(p))
    }
}

/// The rules' gates turned around: per lexicon, the rules whose first or
/// second needed set holds it. A text's presence then opens its rules by
/// visiting only the lexicons it has, instead of testing every rule's gate
/// ([`GateIndex::open`]; most rules of a pack are closed on most texts).
#[derive(Clone, Debug, Default)]
pub(crate) struct GateIndex {
    rules: usize,
    /// Per needed set (first, second): rules that need none there.
    free: [Vec<u64>; 2],
    /// `by_lexicon[l][k]`: the rules whose needed set `k` holds lexicon `l`.
    by_lexicon: Vec<[Vec<u32>; 2]>,
    /// Per needed set: (rule, smallest number) for sets with number atoms.
    numbers: [Vec<(u32, u64)>; 2],
}

impl GateIndex {
    /// The index of `gates`, one per rule in order.
    pub fn of(gates: &[Gate]) -> GateIndex {
        let words = gates.len().div_ceil(64);
        let mut index =
            GateIndex { rules: gates.len(), free: [vec![0; words], vec![0; words]], ..GateIndex::default() };
        for (r, gate) in gates.iter().enumerate() {
            for k in 0..2 {
                let Some(set) = gate.needs.get(k) else {
                    bitset::set(&mut index.free[k], r);
                    continue;
                };
                for &(w, bits) in set.words.iter() {
                    for l in ones(w as usize, bits) {
                        if index.by_lexicon.len() <= l {
                            index.by_lexicon.resize_with(l + 1, Default::default);
                        }
                        index.by_lexicon[l][k].push(r as u32);
                    }
                }
                if let Some(min) = set.min_number {
                    index.numbers[k].push((r as u32, min));
                }
            }
        }
        index
    }

    /// The rules whose gates `presence` opens, as bits (rule `r` at bit `r %
    /// 64` of word `r / 64`): exactly those for which [`Gate::open`] holds.
    pub fn open(&self, presence: &Presence) -> Vec<u64> {
        // Both needed sets' bits in one allocation (first, then second), the
        // first half kept: one allocation a text instead of three.
        let words = self.free[0].len();
        let mut both = Vec::with_capacity(2 * words);
        both.extend_from_slice(&self.free[0]);
        both.extend_from_slice(&self.free[1]);
        let (first, second) = both.split_at_mut(words);
        let mut open = [first, second];
        for (w, &have) in presence.lexicons.iter().enumerate() {
            for l in ones(w, have) {
                let Some(rules) = self.by_lexicon.get(l) else { break };
                for (open, rules) in open.iter_mut().zip(rules) {
                    for &r in rules {
                        bitset::set(open, r as usize);
                    }
                }
            }
        }
        if let Some(max) = presence.max_number {
            for (open, numbers) in open.iter_mut().zip(&self.numbers) {
                for &(r, min) in numbers {
                    if max >= min {
                        bitset::set(open, r as usize);
                    }
                }
            }
        }
        let [first, second] = open;
        for (a, b) in first.iter_mut().zip(second.iter()) {
            *a &= b;
        }
        both.truncate(words);
        debug_assert_eq!(both.len(), self.rules.div_ceil(64));
        both
    }
}

impl<'a> Ctx<'a> {
    /// A context over every hit of a scan, whose presence is `presence`
    /// (`Presence::of(&scan.hits, scan.by_lexicon.len(), &scan.numbers)`).
    pub fn new(scan: &'a Scan, text: &'a str, segments: &'a [Range<usize>], presence: &'a Presence) -> Ctx<'a> {
        Ctx { hits: &scan.hits, by_lexicon: &scan.by_lexicon, numbers: &scan.numbers, text, segments, presence }
    }

    fn lexicon(&self, l: u32) -> &'a [Hit] {
        self.by_lexicon.get(l as usize).map_or(&[], |r| &self.hits[r.clone()])
    }

    /// Whether some atom of `set` occurs: a lexicon with hits, or a number
    /// token reaching a minimum (the largest, kept in the presence, reaches
    /// it if any does: one compare instead of a walk over the numbers).
    fn present(&self, set: &Set<u32>) -> bool {
        set.0.iter().any(|a| match a {
            Atom::Lexicon(l) => self.by_lexicon.get(*l as usize).is_some_and(|r| r.start < r.end),
            Atom::Number(min) => self.presence.max_number.is_some_and(|max| max >= *min),
        })
    }

    /// Occurrences of a set, sorted by position. A set of one lexicon gives
    /// that lexicon's own hits, without copying.
    fn occurrences(&self, set: &Set<u32>) -> Occ<'a> {
        if let [Atom::Lexicon(l)] = set.0.as_slice() {
            return Occ::Slice(self.lexicon(*l));
        }
        if let [Atom::Number(min)] = set.0.as_slice() {
            return Occ::Refs(self.numbers.iter().filter(|h| h.term >= *min).collect());
        }
        // Each lexicon once, and number tokens once (at the smallest minimum):
        // `a | a | a ...` ten thousand times must not copy every hit of `a`
        // ten thousand times. Sets written by people are short: look back
        // linearly; long generated ones get a set.
        let mut seen = std::collections::BTreeSet::new();
        let mut first_time = |i: usize, l: u32| {
            if set.0.len() <= 16 {
                !set.0[..i].contains(&Atom::Lexicon(l))
            } else {
                seen.insert(l)
            }
        };
        let min_number = set.0.iter().filter_map(|a| if let Atom::Number(m) = a { Some(*m) } else { None }).min();
        // Room for every hit of the set's lexicons and every number, at
        // most all the context's (a lexicon repeated in the set is counted
        // again here, not gathered again): one allocation, not one per
        // doubling.
        let room = set
            .0
            .iter()
            .map(|a| match a {
                Atom::Lexicon(l) => self.lexicon(*l).len(),
                Atom::Number(_) => 0,
            })
            .sum::<usize>()
            .min(self.hits.len())
            + if min_number.is_some() { self.numbers.len() } else { 0 };
        let mut v: Vec<&Hit> = Vec::with_capacity(room);
        let mut numbers_done = false;
        for (i, a) in set.0.iter().enumerate() {
            match a {
                Atom::Lexicon(l) if first_time(i, *l) => v.extend(self.lexicon(*l)),
                Atom::Lexicon(_) => {}
                Atom::Number(_) if !numbers_done => {
                    numbers_done = true;
                    let min = min_number.unwrap_or(0);
                    v.extend(self.numbers.iter().filter(|h| h.term >= min));
                }
                Atom::Number(_) => {}
            }
        }
        v.sort_by_key(|h| (h.tok.0, h.orig.0, h.orig.1));
        Occ::Refs(v)
    }

    /// Whether condition `e`, whose gate is `gate` ([`Gate::of`]), holds.
    pub fn eval(&self, gate: &Gate, e: &Expr<u32>) -> bool {
        // Most conditions of most rules fail at their first leaf: test its
        // sets against the context's presence bits before paying a call per node.
        gate.open(self.presence) && self.holds(e)
    }

    fn holds(&self, e: &Expr<u32>) -> bool {
        // What gathers occurrences is called out of line: inlined, it made
        // every call of this recursion save and restore a large frame
        // (callgrind: its prologue and epilogue were 4% of classify).
        match e {
            Expr::Any(s) => self.present(s),
            Expr::All(v) => v.iter().all(|s| self.present(s)),
            Expr::Not(e) => !self.holds(e),
            Expr::And(v) => v.iter().all(|e| self.holds(e)),
            Expr::Or(v) => v.iter().any(|e| self.holds(e)),
            Expr::Count { set, distinct, cmp, n } => cmp.holds(self.count(set, *distinct), *n),
            // Most `near`s fail because one side is absent.
            Expr::Near { a, b, within, ordered } => {
                self.present(a) && self.present(b) && self.near(a, b, *within, *ordered).is_some()
            }
            Expr::Position { set, chars, from_end } => self.any_at_position(set, *chars, *from_end),
        }
    }

    #[inline(never)]
    fn any_at_position(&self, set: &Set<u32>, chars: u32, from_end: bool) -> bool {
        self.position(set, chars, from_end).next().is_some()
    }

    #[inline(never)]
    fn count(&self, set: &Set<u32>, distinct: bool) -> usize {
        if !distinct {
            return set
                .0
                .iter()
                .map(|a| match a {
                    Atom::Lexicon(l) => self.lexicon(*l).len(),
                    Atom::Number(min) => self.numbers.iter().filter(|h| h.term >= *min).count(),
                })
                .sum();
        }
        let mut terms: Vec<(u32, u64)> = self.occurrences(set).iter().map(|h| (h.lexicon, h.term)).collect();
        terms.sort_unstable();
        terms.dedup();
        terms.len()
    }

    /// The first pair (a, b) of occurrences at most `within` tokens apart.
    #[inline(never)]
    fn near(&self, a: &Set<u32>, b: &Set<u32>, within: u32, ordered: bool) -> Option<(&'a Hit, &'a Hit)> {
        // Most `near`s fail because one side is absent: find out before
        // gathering and sorting occurrences.
        if !self.present(a) || !self.present(b) {
            return None;
        }
        let xs = self.occurrences(a);
        if xs.is_empty() {
            return None;
        }
        let ys = self.occurrences(b);
        let longest = ys.iter().map(|h| h.tok.1 - h.tok.0).max()?;
        for x in xs.iter() {
            // Candidates start no earlier than could still reach x.
            let lo = x.tok.0.saturating_sub(within + longest + 1);
            let mut from = ys.partition_point(|y| y.tok.0 < lo);
            if ordered {
                // Occurrences are sorted by position: skip those that start before
                // x ends (they can never follow it) instead of testing each one,
                // which made `seq(a, b, 100000)` quadratic on "b b b ... a a a".
                from = from.max(ys.partition_point(|y| y.orig.0 < x.orig.1));
            }
            for y in ys.iter_from(from) {
                if y.tok.0 > x.tok.1 + within {
                    break;
                }
                if std::ptr::eq(x, y) {
                    continue;
                }
                let gap_after = y.tok.0 as i64 - x.tok.1 as i64; // y after x
                let gap_before = x.tok.0 as i64 - y.tok.1 as i64; // y before x
                let ok = if ordered {
                    y.orig.0 >= x.orig.1 && gap_after <= within as i64
                } else {
                    gap_after <= within as i64 && gap_before <= within as i64 && !overlap_same_term(x, y)
                };
                if ok {
                    return Some((x, y));
                }
            }
        }
        None
    }

    /// Occurrences within the first (or last) `chars` characters of their segment.
    fn position(&self, set: &Set<u32>, chars: u32, from_end: bool) -> impl Iterator<Item = &'a Hit> + '_ {
        let n = chars as usize;
        // Per segment, the byte offset that `n` characters from its start (or
        // end) reach, found once per call rather than by counting characters
        // for each occurrence (quadratic for `first(a, 100000)` over many).
        // Allocated the first time an occurrence is not settled by its bytes.
        let mut bounds: Vec<Option<Option<usize>>> = Vec::new();
        let occ = self.occurrences(set);
        (0..occ.len()).map(move |i| occ.get(i)).filter(move |h| {
            let (i, seg) = segment_of(self.segments, h.orig.0 as usize);
            let text = &self.text[seg.clone()];
            let s = (h.orig.0 as usize).saturating_sub(seg.start);
            let e = (h.orig.1 as usize).min(seg.end).saturating_sub(seg.start);
            // A character is at least one byte: check bytes before counting.
            let part = if from_end { text.len().saturating_sub(e) } else { s };
            if part < n {
                return true;
            }
            if bounds.is_empty() {
                bounds.resize(self.segments.len(), None);
            }
            let b = *bounds[i].get_or_insert_with(|| {
                if from_end {
                    // Start of the n-th character from the end, if there are n.
                    n.checked_sub(1).and_then(|k| text.char_indices().rev().nth(k)).map(|(i, _)| i)
                } else {
                    // The offset reached after n characters, if there are n.
                    text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).nth(n)
                }
            });
            match b {
                _ if from_end && n == 0 => false,
                None => true, // the whole segment is shorter than n characters
                Some(c) if from_end => e > c,
                Some(limit) => s < limit,
            }
        })
    }

    /// The occurrences that made a (true) condition true, for evidence.
    pub fn witness(&self, e: &Expr<u32>, out: &mut Vec<&'a Hit>) {
        match e {
            Expr::Any(s) | Expr::Count { set: s, .. } => out.extend(self.occurrences(s).iter().take(MAX_WITNESSES)),
            Expr::All(v) => {
                for s in v {
                    out.extend(self.occurrences(s).iter().take(MAX_WITNESSES));
                }
            }
            // What is absent is no evidence, but a negated upper bound or a
            // double negation is a presence: `not (count(a) < 2)`, `not not a`.
            Expr::Not(inner) => match &**inner {
                Expr::Not(e) => self.witness(e, out),
                Expr::Count { set, cmp: Cmp::Lt | Cmp::Le | Cmp::Eq, .. } => {
                    out.extend(self.occurrences(set).iter().take(MAX_WITNESSES))
                }
                _ => {}
            },
            Expr::And(v) => v.iter().for_each(|e| self.witness(e, out)),
            Expr::Or(v) => {
                if let Some(e) = v.iter().find(|e| self.holds(e)) {
                    self.witness(e, out);
                }
            }
            Expr::Near { a, b, within, ordered } => {
                if let Some((x, y)) = self.near(a, b, *within, *ordered) {
                    out.push(x);
                    out.push(y);
                }
            }
            Expr::Position { set, chars, from_end } => {
                out.extend(self.position(set, *chars, *from_end).take(MAX_WITNESSES));
            }
        }
    }
}

/// Sets that must be present for `e` to hold (at most two), found by
/// following first operands of `and`s down to a leaf that needs some.
fn first_needed(mut e: &Expr<u32>) -> (Option<&Set<u32>>, Option<&Set<u32>>) {
    loop {
        match e {
            Expr::And(v) => match v.first() {
                Some(first) => e = first,
                None => return (None, None),
            },
            Expr::Any(s) | Expr::Position { set: s, .. } => return (Some(s), None),
            Expr::Near { a, b, .. } => return (Some(a), Some(b)),
            Expr::All(v) => return (v.first(), v.get(1)),
            Expr::Not(_) | Expr::Or(_) | Expr::Count { .. } => return (None, None),
        }
    }
}

/// Occurrences of a set: a lexicon's hits in place, or references gathered
/// from several lexicons.
enum Occ<'a> {
    Slice(&'a [Hit]),
    Refs(Vec<&'a Hit>),
}

impl<'a> Occ<'a> {
    fn len(&self) -> usize {
        match self {
            Occ::Slice(s) => s.len(),
            Occ::Refs(v) => v.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, i: usize) -> &'a Hit {
        match self {
            Occ::Slice(s) => &s[i],
            Occ::Refs(v) => v[i],
        }
    }

    fn iter(&self) -> impl Iterator<Item = &'a Hit> + '_ {
        self.iter_from(0)
    }

    /// The occurrences from index `from` on. (Not `iter().skip(from)`: a
    /// mapped range skips by producing every element, which made `near` and
    /// `seq` quadratic over many occurrences.)
    fn iter_from(&self, from: usize) -> impl Iterator<Item = &'a Hit> + '_ {
        (from..self.len()).map(|i| self.get(i))
    }

    /// The index of the first occurrence for which `pred` is false
    /// (occurrences for which it holds come first).
    fn partition_point(&self, pred: impl Fn(&Hit) -> bool) -> usize {
        match self {
            Occ::Slice(s) => s.partition_point(pred),
            Occ::Refs(v) => v.partition_point(|h| pred(h)),
        }
    }
}

/// The segment holding byte `offset`: the last one starting at or before it.
pub(crate) fn segment_of(segments: &[Range<usize>], offset: usize) -> (usize, &Range<usize>) {
    let i = segments.partition_point(|r| r.start <= offset).saturating_sub(1);
    (i, &segments[i])
}

/// The same occurrence reached through two lexicons is not "near" itself.
fn overlap_same_term(x: &Hit, y: &Hit) -> bool {
    x.projection == y.projection && x.norm == y.norm
}

/// Whether a condition holds when nothing at all occurs (such a rule would
/// fire on every text).
#[cfg(feature = "compiler")]
pub(crate) fn true_on_empty(e: &Expr<u32>) -> bool {
    match e {
        Expr::Any(_) | Expr::All(_) | Expr::Near { .. } | Expr::Position { .. } => false,
        Expr::Not(e) => !true_on_empty(e),
        Expr::And(v) => v.iter().all(true_on_empty),
        Expr::Or(v) => v.iter().any(true_on_empty),
        Expr::Count { cmp, n, .. } => cmp.holds(0, *n),
    }
}

/// Whether a condition can hold at all, given which lexicons are non-empty.
#[cfg(feature = "compiler")]
pub(crate) fn satisfiable(e: &Expr<u32>, nonempty: &dyn Fn(u32) -> bool) -> bool {
    let can = |s: &Set<u32>| {
        s.0.iter().any(|a| match a {
            Atom::Lexicon(l) => nonempty(*l),
            Atom::Number(_) => true,
        })
    };
    match e {
        Expr::Any(s) | Expr::Position { set: s, .. } => can(s),
        Expr::All(v) => v.iter().all(can),
        Expr::Near { a, b, .. } => can(a) && can(b),
        Expr::Count { set, cmp, n, .. } => can(set) || cmp.holds(0, *n),
        Expr::Not(_) => true,
        Expr::And(v) => {
            v.iter().all(|e| satisfiable(e, nonempty))
                && !v.iter().any(|x| v.iter().any(|y| matches!(y, Expr::Not(inner) if **inner == *x)))
        }
        Expr::Or(v) => v.iter().any(|e| satisfiable(e, nonempty)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::Cmp;

    /// A one-byte hit of `lexicon` (a number token of value `term` for `u32::MAX`).
    fn hit(lexicon: u32, term: u64) -> Hit {
        Hit { lexicon, term, orig: (0, 1), tok: (0, 1), projection: 0, flags: 0, norm: (0, 1) }
    }

    fn lex(l: u32) -> Expr<u32> {
        Expr::Any(Set(vec![Atom::Lexicon(l)]))
    }

    #[test]
    fn empty_truth() {
        assert!(true_on_empty(&Expr::Not(Box::new(lex(0)))));
        assert!(!true_on_empty(&lex(0)));
        assert!(!true_on_empty(&Expr::And(vec![lex(0), Expr::Not(Box::new(lex(1)))])));
        assert!(true_on_empty(&Expr::Count { set: Set(vec![Atom::Lexicon(0)]), distinct: false, cmp: Cmp::Lt, n: 2 }));
    }

    #[test]
    fn gate_index_opens_the_rules_whose_gates_are_open() {
        // Random conditions over a few lexicons (some past the first word of
        // bits) and number atoms, random presences: the index opens exactly
        // the rules whose own gates are open.
        let lexicons = [0u32, 1, 2, 63, 64, 65, 130];
        for seed in 0..400u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let set = |rng: &mut crate::testing::Lcg| {
                Set((0..1 + rng.below(3))
                    .map(|_| {
                        if rng.below(6) == 0 {
                            Atom::Number(rng.below(50) as u64)
                        } else {
                            Atom::Lexicon(lexicons[rng.below(lexicons.len())])
                        }
                    })
                    .collect())
            };
            let rules: Vec<Expr<u32>> = (0..1 + rng.below(150))
                .map(|_| match rng.below(6) {
                    0 => Expr::Any(set(&mut rng)),
                    1 => Expr::Near { a: set(&mut rng), b: set(&mut rng), within: 3, ordered: false },
                    2 => Expr::All(vec![set(&mut rng), set(&mut rng), set(&mut rng)]),
                    3 => Expr::And(vec![Expr::Any(set(&mut rng)), Expr::Not(Box::new(lex(1)))]),
                    4 => Expr::Not(Box::new(Expr::Any(set(&mut rng)))),
                    _ => Expr::Position { set: set(&mut rng), chars: 10, from_end: false },
                })
                .collect();
            let gates: Vec<Gate> = rules.iter().map(Gate::of).collect();
            let index = GateIndex::of(&gates);
            for _ in 0..20 {
                let hits: Vec<Hit> = (0..rng.below(6)).map(|_| hit(lexicons[rng.below(lexicons.len())], 0)).collect();
                let numbers: Vec<Hit> = (0..rng.below(3)).map(|_| hit(u32::MAX, rng.below(60) as u64)).collect();
                let presence = Presence::of(&hits, 131, &numbers);
                let open = index.open(&presence);
                for (r, gate) in gates.iter().enumerate() {
                    assert_eq!(open[r / 64] & (1 << (r % 64)) != 0, gate.open(&presence), "seed {seed} rule {r}");
                }
            }
        }
    }

    #[test]
    fn number_atoms_are_present_when_some_number_token_reaches_them() {
        // `present` reads the largest number token from the context's
        // presence: the same as asking every number token, on random tokens
        // and minimums (none, equal, above and below the largest).
        for seed in 0..2000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let numbers: Vec<Hit> = (0..rng.below(5)).map(|_| hit(u32::MAX, rng.below(40) as u64)).collect();
            let presence = Presence::of(&[], 1, &numbers);
            #[allow(clippy::single_range_in_vec_init)] // one lexicon without hits; one empty segment
            let (by_lexicon, segments) = ([0..0], [0..0]);
            let ctx = Ctx {
                hits: &[],
                by_lexicon: &by_lexicon,
                numbers: &numbers,
                text: "",
                segments: &segments,
                presence: &presence,
            };
            let set = Set((0..1 + rng.below(3))
                .map(|_| if rng.below(4) == 0 { Atom::Lexicon(0) } else { Atom::Number(rng.below(45) as u64) })
                .collect());
            let every_token = set.0.iter().any(|a| match a {
                Atom::Lexicon(_) => false,
                Atom::Number(min) => numbers.iter().any(|h| h.term >= *min),
            });
            assert_eq!(ctx.present(&set), every_token, "seed {seed}");
        }
    }

    #[test]
    fn satisfiability() {
        let nonempty = |l: u32| l != 9;
        assert!(satisfiable(&lex(0), &nonempty));
        assert!(!satisfiable(&lex(9), &nonempty));
        assert!(!satisfiable(&Expr::And(vec![lex(0), Expr::Not(Box::new(lex(0)))]), &nonempty));
        assert!(satisfiable(&Expr::Or(vec![lex(9), lex(1)]), &nonempty));
    }
}
