//! The pack's learned lexical score: hashed byte n-grams of the folded text,
//! a softmax over "benign" and the five categories.
//!
//! The rules say *why* a prompt is an extraction; what they miss is the
//! register of a whole text (a document about a technique versus a request
//! to perform it, a grader's template versus a data pipeline's), which
//! hand-written exclusions only ever cover one shape at a time. A linear model
//! over character n-grams, fitted on the pack's labelled data, sees it
//! (notes/generalisation.md). The verdict blends the two (see
//! [`Pack::classify`](crate::Pack::classify)) and reports the model as the
//! evidence `LEX-001` with the words that weighed most.
//!
//! Features, the same in the fitter and the classifier ([`for_each_ngram`]):
//!
//! - the text is projection 0 of the pack's normaliser (folded, lowercased),
//!   and the [`passages`] of its decoded projections (the verdict takes the
//!   most extraction-like window of all of them);
//! - it is cut into windows of about [`LexicalModel::window`] bytes (a window
//!   ends at the first ASCII whitespace at or after that length);
//! - a word is a maximal run of non-whitespace bytes, read with one space on
//!   each side; its byte n-grams of length 3 and 4 are hashed (FNV-1a, 32 bit)
//!   into [`LexicalModel::buckets`] buckets;
//! - a window's feature vector is binary (each bucket once), scaled to unit
//!   length, or as if it had [`LexicalModel::min_features`] buckets when it
//!   has fewer.
//!
//! Scoring is exact integer sums of `i8` weights, then a few IEEE operations
//! and a polynomial `exp` written here: natively, in wasm and in browsers the
//! same text gives the same bits.

use crate::pack::Category;
use serde::{Deserialize, Serialize};

/// The classes of the model, in weight order: benign, then [`Category::ALL`].
pub const CLASSES: usize = 1 + Category::ALL.len();

/// The id the model's evidence carries in verdicts.
pub const EVIDENCE_ID: &str = "LEX-001";

/// What the model's evidence means, for people (the rules' `description`).
pub const EVIDENCE_DESCRIPTION: &str =
    "The pack's lexical model: probability of extraction (weight) and the words whose character n-grams weigh most towards this category";

/// A projection other than the folded text (deobfuscated, decoded) is read
/// around each stretch of decoded text with at least this many decoded bytes:
/// enough for a word or two, not for the "12GB" that leetspeak detection also
/// undoes.
pub const DECODED_MIN_BYTES: usize = 8;

/// The model lowers a category's rule score only in a text of at least this
/// many bytes (folded): in a one-line payload it has a few dozen n-grams to
/// go on, too few to outweigh a rule that matched, so there it can only lift.
pub const LOWERS_FROM_BYTES: usize = 100;

/// A whole-text decoding (ROT13, reversed) is read only in texts up to this
/// many bytes: encoded requests are short, and in a long document an
/// incidental "reverse the" or "rot13" would otherwise cost a second reading
/// of all of it.
pub const WHOLE_DECODING_MAX_BYTES: usize = 8 * 1024;

/// Whether the model reads `projection` at all (then [`passages`] says where).
fn reads(projection: &crate::normalize::Projection) -> bool {
    use crate::normalize::ProjectionKind::{Reversed, Rot13};
    !(matches!(projection.kind, Rot13 | Reversed) && projection.text.len() > WHOLE_DECODING_MAX_BYTES)
}

/// The passages the model reads in projection `index` of a text (none when
/// it does not read that projection, [`reads`]).
pub(crate) fn projection_passages(
    index: usize,
    projection: &crate::normalize::Projection,
    window: usize,
) -> Vec<std::ops::Range<usize>> {
    if index == 0 {
        #[allow(clippy::single_range_in_vec_init)] // one passage: the whole text
        return vec![0..projection.text.len()];
    }
    if !reads(projection) {
        return Vec::new();
    }
    passages(index, &projection.text, &projection.decoded_ranges(), window)
}

/// The passages of a projection the model reads: the whole of projection 0;
/// in another projection, each cluster of decoded ranges (`decoded`, sorted;
/// ranges closer than `window` join a cluster) with at least
/// [`DECODED_MIN_BYTES`] decoded bytes, with `window / 2` bytes of context on
/// each side, widened to whitespace, overlapping passages joined.
///
/// ```
/// use distillguard::lexical::passages;
/// let text = "aaaa bbbb cccc dddd eeee";
/// assert_eq!(passages(0, text, &[], 4), vec![0..24]);
/// // Two decoded bytes are too few; ten are a passage, with context.
/// assert!(passages(1, text, &[5..7], 4).is_empty());
/// assert_eq!(passages(1, text, &[5..15], 4), vec![0..19]);
/// ```
pub fn passages(
    index: usize,
    text: &str,
    decoded: &[std::ops::Range<usize>],
    window: usize,
) -> Vec<std::ops::Range<usize>> {
    if index == 0 {
        #[allow(clippy::single_range_in_vec_init)] // one passage: the whole text
        return vec![0..text.len()];
    }
    let bytes = text.as_bytes();
    let mut clusters: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for r in decoded {
        match clusters.last_mut() {
            Some((c, n)) if r.start < c.end.saturating_add(window) => {
                c.end = r.end;
                *n += r.len();
            }
            _ => clusters.push((r.clone(), r.len())),
        }
    }
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (c, n) in clusters {
        if n < DECODED_MIN_BYTES {
            continue;
        }
        let mut start = c.start.saturating_sub(window / 2);
        while start > 0 && !bytes[start - 1].is_ascii_whitespace() {
            start -= 1;
        }
        let end = window_end(bytes, c.end, window / 2);
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = end,
            _ => out.push(start..end),
        }
    }
    out
}

/// At most this many words are reported as the model's evidence.
const EVIDENCE_WORDS: usize = 6;

/// A fitted model, as the pack stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LexicalModel {
    /// Number of hash buckets (a power of two).
    pub buckets: u32,
    /// Bytes of folded text per window (at least 64).
    pub window: u32,
    /// A window with fewer distinct buckets is scaled as if it had this many
    /// (at least 1): its few n-grams weigh as much each as in a window this
    /// size, so a one-word text cannot reach a confident score on a handful
    /// of n-grams. 1 scales every window to unit length.
    pub min_features: u32,
    /// Per class: the intercept.
    pub bias: Vec<f64>,
    /// Weights are `scale * q` with `q` the stored `i8`.
    pub scale: f64,
    /// Quantised weights, bucket-major: `weights[bucket * CLASSES + class]`.
    pub weights: Vec<i8>,
    /// How its probability joins the rules' scores (pack.toml `[model]`).
    pub blend: Blend,
}

/// How the model's probability of extraction `p` joins a category's rule
/// score `r` (the noisy-OR of its fired rules):
/// `score = (1 - share) · r + share · p`, and for a category none of whose
/// rules fired (the model's own, when `p` reaches `evidence_from`):
/// `score = alone · p`.
///
/// With `share` above 1 − threshold, a model that is sure a text is benign
/// outweighs rules on their own. The default pack has share 0.6 and
/// threshold 0.5: either source needs some support from the other where
/// rules fired, and alone 0.72: where none did, the model flags from
/// p ≥ 0.69 on (most requests no rule reads are in words the rules do not
/// know, such as a language their lexicons barely cover).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// The model's share of a category's score, in [0, 1).
    pub share: f64,
    /// A category's score per unit of `p` when none of its rules fired, in
    /// [0, 1].
    pub alone: f64,
    /// From this probability of extraction on, the model reports evidence
    /// (`LEX-001`) and lends its category a score.
    pub evidence_from: f64,
}

impl Default for Blend {
    /// Share 0.6, alone 0.6 (as if the rules' score were 0), evidence from 0.25.
    fn default() -> Blend {
        Blend { share: 0.6, alone: 0.6, evidence_from: 0.25 }
    }
}

impl Blend {
    /// The category score from its rule score `rules` (`None` when none of
    /// its rules fired) and the model's probability of extraction `p`.
    ///
    /// ```
    /// use distillguard::lexical::Blend;
    /// let b = Blend { share: 0.6, alone: 0.72, evidence_from: 0.25 };
    /// assert!((b.combine(Some(0.9), 0.1) - 0.42).abs() < 1e-12); // the model vetoes
    /// assert!((b.combine(Some(0.3), 0.5) - 0.42).abs() < 1e-12); // a weak rule needs a surer model
    /// assert!((b.combine(None, 0.75) - 0.54).abs() < 1e-12); // or flags alone when sure
    /// ```
    pub fn combine(&self, rules: Option<f64>, p: f64) -> f64 {
        match rules {
            Some(r) => (1.0 - self.share) * r + self.share * p,
            None => self.alone * p,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.share) {
            return Err(format!("share {} is outside [0, 1)", self.share));
        }
        if !(0.0..=1.0).contains(&self.alone) {
            return Err(format!("alone {} is outside [0, 1]", self.alone));
        }
        if !(0.0..=1.0).contains(&self.evidence_from) {
            return Err(format!("evidence_from {} is outside [0, 1]", self.evidence_from));
        }
        Ok(())
    }
}

/// What the model says about one text.
#[derive(Clone, Debug, PartialEq)]
pub struct LexicalScore {
    /// Probability that the text is an extraction (the highest over windows).
    pub extraction: f64,
    /// The most probable category in that window.
    pub category: Category,
    /// The byte range of that window in the scored text (from its first
    /// word's start to its last word's end).
    pub window: (usize, usize),
    /// The words of that window read as it was scored (a word read again
    /// is skipped), from which [`WordMarks::weights`] gives their spans in
    /// the scored text and, per class, what their n-grams not read before in
    /// the window weigh: what [`LexicalModel::evidence_words`] ranks.
    words: WordMarks,
}

/// A word's span and, per class, the weight of its n-grams new to its window.
#[cfg(test)]
type WordWeights = ((usize, usize), [i32; CLASSES]);

/// Calls `f(window, bucket, word_start, word_end)` for every n-gram of
/// `text` (see the module docs), except those of a word already read in the
/// same window (its n-grams are all there already: features are binary);
/// windows are numbered from 0. A window also ends before the first word at
/// or after each offset in `breaks` (sorted; segment starts), so no window
/// spans two segments.
///
/// ```
/// let mut grams = Vec::new();
/// distillguard::lexical::for_each_ngram(b"ab cd ab", 1 << 10, usize::MAX, &[], |w, b, s, e| grams.push((w, b, s, e)));
/// // " ab " and " cd ": two 3-grams and one 4-gram each; the second "ab" adds none.
/// assert_eq!(grams.len(), 6);
/// assert!(grams.iter().all(|g| g.0 == 0 && g.1 < 1 << 10));
/// assert_eq!((grams[5].2, grams[5].3), (3, 5));
/// ```
pub fn for_each_ngram(
    text: &[u8],
    buckets: u32,
    window: usize,
    breaks: &[usize],
    mut f: impl FnMut(usize, u32, usize, usize),
) {
    let mask = buckets.wrapping_sub(1);
    for_each_word(text, window, breaks, |win, start, end| {
        word_ngrams(&text[start..end], mask, |bucket| f(win, bucket, start, end));
    });
}

/// Calls `f(window, word_start, word_end)` for every word of `text` not
/// already read in its window, in order: the words and windows of
/// [`for_each_ngram`].
#[inline(always)]
fn for_each_word(text: &[u8], window: usize, breaks: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let mut i = 0;
    let mut win = 0;
    let mut next_break = breaks.iter().copied().skip_while(|&b| b == 0).peekable();
    let mut win_end = window_end(text, 0, window);
    let mut words = SeenWords::for_text(text.len());
    while i < text.len() {
        if text[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut crossed = false;
        while next_break.next_if(|&b| b <= i).is_some() {
            crossed = true;
        }
        if i >= win_end || crossed {
            win += 1;
            win_end = window_end(text, i, window);
            words.clear();
        }
        let start = i;
        i = word_end(text, i);
        if !words.repeats(text, start, i) {
            f(win, start, i);
        }
    }
}

/// The first ASCII whitespace in `text` at or after `i`, or the text's
/// length: eight bytes at a time, as a word is read (one step for most
/// words, instead of one per byte). A byte below `0x21` in the eight, the
/// first of which the borrow trick flags exactly, is where whitespace may
/// be; the rest are checked one by one from there.
#[inline(always)]
fn word_end(text: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(eight) = text.get(i..i + 8) {
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        let low = x.wrapping_sub(0x21 * ONES) & !x & (0x80 * ONES);
        if low != 0 {
            let first = (low.trailing_zeros() / 8) as usize;
            if let Some(k) = eight[first..].iter().position(u8::is_ascii_whitespace) {
                return i + first + k;
            }
        }
        i += 8;
    }
    text[i..].iter().position(u8::is_ascii_whitespace).map_or(text.len(), |n| i + n)
}

/// Calls `f(bucket)` for each n-gram of `word` (not empty) read with a space
/// on each side, by start and, at one start, the 3-gram first: the FNV-1a
/// hashes of the n-grams ending at each byte are carried along, so the word
/// is never copied and each byte costs four FNV steps.
#[inline(always)]
fn word_ngrams(word: &[u8], mask: u32, mut f: impl FnMut(u32)) {
    const BASIS: u32 = 0x811c_9dc5;
    let step = |h: u32, b: u8| (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    let bucket = |h: u32| (h ^ (h >> 16)) & mask;
    let Some((&first, rest)) = word.split_first() else { return };
    // The hashes of the last one, two and three bytes read (" " then `first`).
    let mut h1 = step(BASIS, first);
    let mut h2 = step(step(BASIS, b' '), first);
    let Some((&second, rest)) = rest.split_first() else {
        f(bucket(step(h2, b' ')));
        return;
    };
    let mut h3 = step(h2, second);
    f(bucket(h3));
    h2 = step(h1, second);
    h1 = step(BASIS, second);
    for &b in rest {
        f(bucket(step(h3, b)));
        h3 = step(h2, b);
        f(bucket(h3));
        h2 = step(h1, b);
        h1 = step(BASIS, b);
    }
    f(bucket(step(h3, b' ')));
    f(bucket(step(h2, b' ')));
}

/// The words read in the current window, to skip repeats: an open-addressing
/// table of words keyed by their first and last eight bytes and length,
/// cleared by bumping its generation. When [`SeenWords::REMEMBERED`] words
/// are in it, words are no longer remembered (they are read again, which
/// gives the same features).
struct SeenWords {
    slots: Vec<SeenWord>,
    generation: u32,
    len: usize,
}

#[derive(Clone, Copy)]
struct SeenWord {
    /// A word up to eight bytes long itself, a longer one mixed with its last eight.
    key: u64,
    generation: u32,
    start: u32,
    len: u32,
}

impl SeenWords {
    /// At most this many words of a window are remembered.
    const REMEMBERED: usize = 512;

    /// A table for a text of `bytes` bytes: a slot per four bytes or more,
    /// up to twice [`Self::REMEMBERED`], so a short text does not set up a
    /// table for a long one. It remembers a word per eight bytes or more,
    /// more than most texts have distinct words (a word and its space are
    /// six bytes on average); past that, words are read again. A slot per
    /// byte (room for every word of a text of one-letter words) cost ~2.6M
    /// instructions in setting up tables (callgrind, classify on the corpus).
    fn for_text(bytes: usize) -> SeenWords {
        let slots = (bytes / 4 + 2).next_power_of_two().clamp(16, 2 * Self::REMEMBERED);
        SeenWords { slots: vec![SeenWord { key: 0, generation: 0, start: 0, len: 0 }; slots], generation: 1, len: 0 }
    }

    fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.len = 0;
        if self.generation == 0 {
            self.slots.iter_mut().for_each(|s| s.generation = 0);
            self.generation = 1;
        }
    }

    /// Whether `text[start..end]` was seen in this window; remembers it if not.
    #[inline(always)]
    fn repeats(&mut self, text: &[u8], start: usize, end: usize) -> bool {
        let len = end - start;
        let key = match text.get(start..start + 8) {
            Some(head) => {
                let head = u64::from_le_bytes(head.try_into().expect("eight bytes"));
                if len > 8 {
                    let tail = u64::from_le_bytes(text[end - 8..end].try_into().expect("eight bytes"));
                    head ^ tail.rotate_left(29)
                } else {
                    head & (u64::MAX >> (64 - 8 * len))
                }
            }
            // Near the end of the text: a word shorter than eight bytes.
            None => text[start..end].iter().rev().fold(0u64, |k, &b| (k << 8) | u64::from(b)),
        };
        let slots = self.slots.len();
        let mut at = ((key ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - slots.trailing_zeros())) as usize;
        loop {
            let slot = self.slots[at];
            if slot.generation != self.generation {
                if self.len < Self::REMEMBERED.min(slots / 2) {
                    self.slots[at] =
                        SeenWord { key, generation: self.generation, start: start as u32, len: len as u32 };
                    self.len += 1;
                }
                return false;
            }
            if slot.key == key
                && slot.len as usize == len
                && (len <= 8 || text[slot.start as usize..slot.start as usize + len] == text[start..end])
            {
                return true;
            }
            at = (at + 1) & (slots - 1);
        }
    }
}

/// The end of the window starting at `start`: the first whitespace at or
/// after `start + window`.
fn window_end(text: &[u8], start: usize, window: usize) -> usize {
    let mut e = start.saturating_add(window).min(text.len());
    while e < text.len() && !text[e].is_ascii_whitespace() {
        e += 1;
    }
    e
}

/// `exp(x)` from IEEE additions and multiplications only, so every host
/// computes the same bits (library `exp`s differ in the last place).
/// Relative error below 1e-15 on the range used here.
fn exp(x: f64) -> f64 {
    if x < -700.0 {
        return 0.0;
    }
    let x = x.min(700.0);
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = (x - k * LN2_HI) - k * LN2_LO; // |r| <= ln2 / 2
                                           // Taylor series to r^13 / 13!: the remainder is below 1e-17 for |r| <= 0.35.
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=13 {
        term = term * r / f64::from(n);
        sum += term;
    }
    sum * f64::from_bits(((1023 + k as i64) as u64) << 52)
}

/// Checks the shape a model may have: a power of two from 64 to 2^24 hash
/// buckets, a window of at least 64 bytes, `min_features` from 1 to 4096.
/// Models read from a pack are checked with it, and `distillguard fit`
/// checks its arguments with it before fitting.
///
/// ```
/// use distillguard::lexical::check_shape;
/// assert!(check_shape(1 << 15, 2000, 16).is_ok());
/// assert!(check_shape(1000, 2000, 16).is_err());
/// ```
pub fn check_shape(buckets: u32, window: u32, min_features: u32) -> Result<(), String> {
    if !buckets.is_power_of_two() || !(64..=1 << 24).contains(&buckets) {
        return Err(format!("{buckets} buckets: need a power of two from 64 to 2^24"));
    }
    if window < 64 {
        return Err(format!("a window of {window} bytes: need at least 64"));
    }
    if !(1..=4096).contains(&min_features) {
        return Err(format!("min_features {min_features}: need 1 to 4096"));
    }
    Ok(())
}

impl LexicalModel {
    /// Checks the shape of a model read from a pack.
    pub(crate) fn validate(&self) -> Result<(), String> {
        check_shape(self.buckets, self.window, self.min_features)?;
        if self.weights.len() != self.buckets as usize * CLASSES {
            return Err(format!("{} weights for {} buckets of {CLASSES} classes", self.weights.len(), self.buckets));
        }
        if self.bias.len() != CLASSES || !self.bias.iter().all(|b| b.is_finite() && b.abs() < 1e3) {
            return Err(format!("need {CLASSES} finite intercepts"));
        }
        if !(self.scale.is_finite() && self.scale > 0.0 && self.scale < 1e3) {
            return Err(format!("scale {} is not a small positive number", self.scale));
        }
        self.blend.validate()
    }

    /// Class probabilities of one window from its integer weight sums and
    /// number of distinct buckets.
    fn probabilities(&self, sums: &[i32; CLASSES], distinct: u32) -> [f64; CLASSES] {
        let norm = self.scale / f64::from(distinct.max(self.min_features)).sqrt();
        let mut logits = [0.0; CLASSES];
        for c in 0..CLASSES {
            logits[c] = self.bias[c] + norm * f64::from(sums[c]);
        }
        softmax(&logits)
    }

    /// Scores `text` (projection 0 of the pack's normaliser): the window
    /// most likely to be an extraction, its probability and category
    /// ([`evidence_words`](Self::evidence_words) names its heaviest words).
    ///
    /// `segments` are the segments' starts in `text` (sorted, the first at 0)
    /// with the classes that count in each (bit `c` for class `c`, in
    /// [`CLASSES`] order; the pack's `[roles]`): no window spans two segments,
    /// and a window's probability of extraction sums only the categories its
    /// segment counts. Empty `segments`: one segment where every class counts.
    ///
    /// This lays the weights out for reading first ([`WeightRows`]); a pack
    /// does that once and calls [`score_with`](Self::score_with).
    pub fn score(&self, text: &str, segments: &[(usize, u8)]) -> LexicalScore {
        self.score_with(&WeightRows::of(self), text, segments)
    }

    /// [`score`](Self::score) with this model's `rows`.
    pub(crate) fn score_with(&self, rows: &WeightRows, text: &str, segments: &[(usize, u8)]) -> LexicalScore {
        let bytes = text.as_bytes();
        let breaks: Vec<usize> = segments.iter().map(|s| s.0).collect();
        let mut best: Option<((usize, usize), f64, usize)> = None;
        let mut best_words = WordMarks::default();
        self.windows(
            rows,
            bytes,
            self.window as usize,
            &breaks,
            |(sums, distinct, first, last), words: &mut WordMarks| {
                let allowed = match segments.partition_point(|s| s.0 <= first) {
                    0 => segments.first().map_or(u8::MAX, |s| s.1),
                    i => segments[i - 1].1,
                };
                let p = self.probabilities(&sums, distinct);
                let mut extraction = 0.0;
                let mut top: Option<usize> = None;
                for c in 1..CLASSES {
                    if allowed & (1 << c) != 0 {
                        extraction += p[c];
                        if top.is_none_or(|t| p[c] > p[t]) {
                            top = Some(c);
                        }
                    }
                }
                if let Some(c) = top {
                    if best.is_none_or(|(_, b, _)| extraction > b) {
                        best = Some(((first, last), extraction, c));
                        // The reader clears `words` before it reads the next window.
                        std::mem::swap(&mut best_words, words);
                    }
                }
            },
        );
        let Some((window, extraction, c)) = best else {
            return LexicalScore {
                extraction: 0.0,
                category: Category::ALL[0],
                window: (0, 0),
                words: WordMarks::default(),
            };
        };
        LexicalScore { extraction, category: Category::ALL[c - 1], window, words: best_words }
    }

    /// [`score`](Self::score) of the passage `range` of `text` (on
    /// character boundaries), its window given in `text`.
    pub fn score_in(&self, text: &str, range: std::ops::Range<usize>, segments: &[(usize, u8)]) -> LexicalScore {
        self.score_in_with(&WeightRows::of(self), text, range, segments)
    }

    /// [`score_in`](Self::score_in) with this model's `rows`.
    pub(crate) fn score_in_with(
        &self,
        rows: &WeightRows,
        text: &str,
        range: std::ops::Range<usize>,
        segments: &[(usize, u8)],
    ) -> LexicalScore {
        let mut score = self.score_with(rows, &text[range.clone()], &passage_segments(segments, &range));
        score.window = (score.window.0 + range.start, score.window.1 + range.start);
        score.words.offset += range.start;
        score
    }

    /// Calls `f` for each window of `bytes` with its weight sums of its
    /// distinct buckets, their number, where its first word starts and its
    /// last word ends, and its words ([`LexicalScore`]'s `words`, which `f`
    /// may take: they are cleared before the next window is read).
    fn windows(
        &self,
        rows: &WeightRows,
        bytes: &[u8],
        window: usize,
        breaks: &[usize],
        mut f: impl FnMut(([i32; CLASSES], u32, usize, usize), &mut WordMarks),
    ) {
        let mask = self.buckets.wrapping_sub(1);
        let mut seen = BucketSet::new(self.buckets);
        let mut sums = RowSums::default();
        // About one word per five bytes of a window: reserved once rather
        // than grown a doubling at a time.
        let mut words = WordMarks::default();
        words.marks.reserve(bytes.len().min(window) / 5 + 16);
        // The window being summed (reported when the next starts).
        let (mut current, mut first, mut last) = (usize::MAX, 0usize, 0usize);
        for_each_word(
            bytes,
            window,
            breaks,
            #[inline(always)]
            |win, start, end| {
                if win != current {
                    if current != usize::MAX {
                        let (s, distinct) = sums.take();
                        f((s, distinct, first, last), &mut words);
                    }
                    seen.clear();
                    words.clear();
                    (current, first) = (win, start);
                }
                last = end;
                read_word(&bytes[start..end], mask, &mut seen, rows, &mut sums);
                sums.mark(start, end, &mut words);
            },
        );
        if current != usize::MAX {
            let (s, distinct) = sums.take();
            f((s, distinct, first, last), &mut words);
        }
    }

    /// The evidence of a score: byte ranges of the words of its window whose
    /// n-grams weigh most towards its category against benign (at most six,
    /// each distinct word once), in text order.
    pub fn evidence_words(&self, score: &LexicalScore) -> Vec<(usize, usize)> {
        let c = 1 + Category::ALL.iter().position(|&k| k == score.category).expect("a category is in ALL");
        // A word read again adds no n-gram its first reading did not (and is
        // skipped), so each word is here once, at its first place.
        heaviest_spans(score.words.leads(c))
    }
}

/// The spans of the (at most [`EVIDENCE_WORDS`]) words that lead most, of
/// those that lead at all, in text order. Heaviest first, then first in the
/// text: spans are distinct, so the order is total and the six kept do not
/// depend on how they are found. Kept as they come in a short sorted list
/// (most words fall behind its last and cost one comparison), instead of
/// collecting every word and selecting from them (~6K instructions a
/// verdict with evidence on the corpus, most of it growing the list).
fn heaviest_spans(leads: impl Iterator<Item = ((usize, usize), i32)>) -> Vec<(usize, usize)> {
    let ahead = |a: &((usize, usize), i32), b: &((usize, usize), i32)| a.1 > b.1 || (a.1 == b.1 && a.0 < b.0);
    let mut top: Vec<((usize, usize), i32)> = Vec::with_capacity(EVIDENCE_WORDS + 1);
    for lead in leads.filter(|&(_, d)| d > 0) {
        if top.len() == EVIDENCE_WORDS && !top.last().is_some_and(|last| ahead(&lead, last)) {
            continue;
        }
        let at = top.partition_point(|kept| ahead(kept, &lead));
        top.insert(at, lead);
        top.truncate(EVIDENCE_WORDS);
    }
    let mut spans: Vec<(usize, usize)> = top.into_iter().map(|(s, _)| s).collect();
    spans.sort_unstable();
    spans
}

/// [`heaviest_spans`] as it was first written: every leading word
/// collected, the heaviest selected (the reference its test compares with).
#[cfg(test)]
fn heaviest_spans_by_selection(leads: impl Iterator<Item = ((usize, usize), i32)>) -> Vec<(usize, usize)> {
    let mut ranked: Vec<((usize, usize), i32)> = leads.filter(|&(_, d)| d > 0).collect();
    let order = |a: &((usize, usize), i32), b: &((usize, usize), i32)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    if ranked.len() > EVIDENCE_WORDS {
        ranked.select_nth_unstable_by(EVIDENCE_WORDS - 1, order);
        ranked.truncate(EVIDENCE_WORDS);
    }
    let mut spans: Vec<(usize, usize)> = ranked.into_iter().map(|(s, _)| s).collect();
    spans.sort_unstable();
    spans
}

/// The segments a passage `range` reads: of `segments` (starts, sorted,
/// with their classes), the one it starts in, at 0, then those that start
/// inside it, relative to its start. Empty `segments`: none.
///
/// ```
/// use distillguard::lexical::passage_segments;
/// assert_eq!(passage_segments(&[(0, 1), (10, 2), (30, 4)], &(5..20)), vec![(0, 1), (5, 2)]);
/// ```
pub fn passage_segments(segments: &[(usize, u8)], range: &std::ops::Range<usize>) -> Vec<(usize, u8)> {
    let mut local: Vec<(usize, u8)> = Vec::with_capacity(segments.len());
    if !segments.is_empty() {
        let first = segments.partition_point(|s| s.0 <= range.start).max(1) - 1;
        local.push((0, segments[first].1));
        local.extend(segments[first + 1..].iter().filter(|s| s.0 < range.end).map(|&(at, c)| (at - range.start, c)));
    }
    local
}

/// Adds the rows of the n-grams of `word` not yet in `seen` to `sums`, and
/// their buckets to `seen`. Out of line, with the lanes in locals: inlined
/// into the window reader, the loop kept them and its pointers on the stack
/// (a load and a store for each of them, per n-gram). A word of `n` bytes
/// has `2n - 1` n-grams: the lanes are emptied before the word when its
/// rows could overflow them, not tested after each row (callgrind, classify
/// on the corpus: a compare and a branch per new row); the sums are the
/// same wherever the lanes are emptied.
#[inline(never)]
fn read_word(word: &[u8], mask: u32, seen: &mut BucketSet, rows: &WeightRows, sums: &mut RowSums) {
    let most = 2 * word.len() as u32 - 1;
    if most > RowSums::LANE_ROWS {
        return read_long_word(word, mask, seen, rows, sums);
    }
    if sums.pending + most > RowSums::LANE_ROWS {
        sums.flush();
    }
    add_word_rows::<false>(word, mask, seen, rows, sums);
}

/// [`read_word`] of a word with more n-grams than the lanes hold rows:
/// emptied whenever they are full.
#[cold]
#[inline(never)]
fn read_long_word(word: &[u8], mask: u32, seen: &mut BucketSet, rows: &WeightRows, sums: &mut RowSums) {
    add_word_rows::<true>(word, mask, seen, rows, sums);
}

/// The n-gram loop of [`read_word`] and [`read_long_word`], with the lanes
/// in locals: adds the rows of the word's buckets new to `seen`; with
/// `EMPTY_WHEN_FULL` (a long word) the lanes are emptied whenever they hold
/// [`RowSums::LANE_ROWS`] rows, without it the caller has made room for the
/// whole word and the test is compiled out.
#[inline(always)]
fn add_word_rows<const EMPTY_WHEN_FULL: bool>(
    word: &[u8],
    mask: u32,
    seen: &mut BucketSet,
    rows: &WeightRows,
    sums: &mut RowSums,
) {
    seen.dirty = true; // a word has at least one n-gram
    let bits = &mut seen.bits[..];
    let rows = &rows.0[..];
    let (mut even, mut odd, mut pending) = (sums.even, sums.odd, sums.pending);
    word_ngrams(
        word,
        mask,
        #[inline(always)]
        |bucket| {
            if add_new_row(bits, rows, bucket, &mut even, &mut odd, &mut pending)
                && EMPTY_WHEN_FULL
                && pending == RowSums::LANE_ROWS
            {
                (sums.even, sums.odd, sums.pending) = (even, odd, pending);
                sums.flush();
                (even, odd, pending) = (0, 0, 0);
            }
        },
    );
    (sums.even, sums.odd, sums.pending) = (even, odd, pending);
}

/// The step of [`read_word`] and [`read_long_word`] for one n-gram: when
/// `bucket` is not yet in `bits`, puts it there and adds its row of `rows`
/// to the lanes `even` and `odd` (one more `pending`). Whether it was new.
#[inline(always)]
fn add_new_row(bits: &mut [u64], rows: &[u64], bucket: u32, even: &mut u64, odd: &mut u64, pending: &mut u32) -> bool {
    if !crate::bitset::insert(bits, bucket as usize) {
        return false;
    }
    let row = rows[bucket as usize];
    *even += row & RowSums::LANES;
    *odd += (row >> 8) & RowSums::LANES;
    *pending += 1;
    true
}

/// The buckets read in the current window: a bitset, zeroed whole between
/// windows. (A window of a few hundred words sets thousands of buckets:
/// listing each to clear it later cost more than zeroing the few KB of bits,
/// and most texts are one window, never cleared.)
struct BucketSet {
    bits: Vec<u64>,
    /// Whether some bit may be set.
    dirty: bool,
}

impl BucketSet {
    fn new(buckets: u32) -> BucketSet {
        BucketSet { bits: vec![0; (buckets as usize).div_ceil(64)], dirty: false }
    }

    fn clear(&mut self) {
        if std::mem::take(&mut self.dirty) {
            self.bits.fill(0);
        }
    }
}

/// A model's weight rows laid out for [`RowSums`]: one `u64` per bucket,
/// read in one load (instead of six bytes found, masked and offset for each
/// n-gram). A pack builds them once.
#[derive(Clone, Debug, Default)]
pub(crate) struct WeightRows(Vec<u64>);

impl WeightRows {
    /// The rows of `model`.
    pub(crate) fn of(model: &LexicalModel) -> WeightRows {
        WeightRows((0..model.buckets).map(|b| RowSums::row(&model.weights, b)).collect())
    }
}

/// Sums of weight rows, per class, as exact `i32`s: the six `i8`s of a row,
/// offset by 128 into bytes, are added as 16-bit lanes of two `u64`s (even
/// and odd classes), which are emptied into the sums before
/// a lane can overflow ([`read_word`] adds the rows). A row is one load and
/// a few ALU steps, natively and in wasm.
#[derive(Default)]
struct RowSums {
    even: u64,
    odd: u64,
    /// Rows in `even` and `odd`.
    pending: u32,
    sums: [i64; CLASSES],
    rows: u32,
    /// How many times the lanes were emptied.
    flushes: u32,
}

/// The words of a window, each with where the window's sums stood after it
/// ([`RowSums::mark`]): its weights are worked out from these only for the
/// evidence of the window that won ([`WordMarks::weights`]), instead of
/// summing the lanes after every word of every text.
#[derive(Clone, Debug, Default, PartialEq)]
struct WordMarks {
    marks: Vec<WordMark>,
    /// The sums and rows after the lanes were last emptied before a mark,
    /// each time that changed: a mark's `flushed` counts these.
    flushed: Vec<([i64; CLASSES], u32)>,
    /// The emptyings of the window's sums seen by the last mark.
    flushes: u32,
    /// Added to every span (the passage's start in its projection).
    offset: usize,
}

/// Where a window's sums stood after a word: its lanes, and how many
/// entries of [`WordMarks::flushed`] there were (the last is the rest).
#[derive(Clone, Copy, Debug, PartialEq)]
struct WordMark {
    span: (usize, usize),
    even: u64,
    odd: u64,
    pending: u32,
    flushed: u32,
}

impl WordMarks {
    fn clear(&mut self) {
        self.marks.clear();
        self.flushed.clear();
        self.flushes = 0;
    }

    /// Each word's span and how much more its n-grams new to the window
    /// weigh towards class `c` than towards benign: [`Self::weights`]' `w[c]
    /// - w[0]`, from the two classes' lanes alone (the rows' offsets cancel).
    fn leads(&self, c: usize) -> impl Iterator<Item = ((usize, usize), i32)> + '_ {
        let lane = |even: u64, odd: u64, c: usize| {
            let lanes = if c.is_multiple_of(2) { even } else { odd };
            ((lanes >> (16 * (c / 2))) & 0xffff) as i64
        };
        let mut before = 0i64;
        self.marks.iter().map(move |m| {
            let (sums, _) = match m.flushed {
                0 => ([0; CLASSES], 0),
                n => self.flushed[n as usize - 1],
            };
            let after = sums[c] - sums[0] + lane(m.even, m.odd, c) - lane(m.even, m.odd, 0);
            let lead = (after - before) as i32;
            before = after;
            ((m.span.0 + self.offset, m.span.1 + self.offset), lead)
        })
    }

    /// Each word's span and the weight, per class, of its n-grams new to the
    /// window: the difference of the totals at its mark and the one before.
    #[cfg(test)]
    fn weights(&self) -> Vec<WordWeights> {
        let mut before = [0i64; CLASSES];
        self.marks
            .iter()
            .map(|m| {
                let (sums, rows) = match m.flushed {
                    0 => ([0; CLASSES], 0),
                    n => self.flushed[n as usize - 1],
                };
                let after = RowSums::totals_of(&sums, rows + m.pending, m.even, m.odd);
                let w = std::array::from_fn(|c| (after[c] - before[c]) as i32);
                before = after;
                ((m.span.0 + self.offset, m.span.1 + self.offset), w)
            })
            .collect()
    }
}

impl RowSums {
    const LANES: u64 = 0x00ff_00ff_00ff_00ff;
    /// Rows the lanes hold: 256 rows of at most 255 each fit 16 bits.
    const LANE_ROWS: u32 = 256;
    /// The bytes of one row in a `u64` (a row fits in one).
    const ROW: u64 = u64::MAX >> (64 - 8 * CLASSES);

    /// The weight row of `bucket` as `RowSums` adds it: the six weights'
    /// two's complement bytes + 128 (xor of the top bit), 0..=255 each.
    fn row(weights: &[i8], bucket: u32) -> u64 {
        let at = bucket as usize * CLASSES;
        let row = weights[at..at + CLASSES].iter().rev().fold(0u64, |k, &w| (k << 8) | u64::from(w as u8));
        row ^ (Self::ROW & 0x8080_8080_8080_8080)
    }

    fn flush(&mut self) {
        for (c, sum) in self.sums.iter_mut().enumerate() {
            let lanes = if c % 2 == 0 { self.even } else { self.odd };
            *sum += ((lanes >> (16 * (c / 2))) & 0xffff) as i64;
        }
        self.rows += self.pending;
        (self.even, self.odd, self.pending) = (0, 0, 0);
        self.flushes += 1;
    }

    /// Records in `words` where the sums stand after the word `start..end`
    /// (`words` cleared when the sums were last taken).
    #[inline(always)]
    fn mark(&self, start: usize, end: usize, words: &mut WordMarks) {
        if words.flushes != self.flushes {
            words.flushed.push((self.sums, self.rows));
            words.flushes = self.flushes;
        }
        words.marks.push(WordMark {
            span: (start, end),
            even: self.even,
            odd: self.odd,
            pending: self.pending,
            flushed: words.flushed.len() as u32,
        });
    }

    /// The sums, per class, of emptied sums `sums` over `rows` rows in all
    /// and the lanes `even` and `odd`.
    #[cfg(test)]
    fn totals_of(sums: &[i64; CLASSES], rows: u32, even: u64, odd: u64) -> [i64; CLASSES] {
        std::array::from_fn(|c| {
            let lanes = if c % 2 == 0 { even } else { odd };
            sums[c] + ((lanes >> (16 * (c / 2))) & 0xffff) as i64 - 128 * i64::from(rows)
        })
    }

    /// The sums and the number of rows added since the last `take`.
    fn take(&mut self) -> ([i32; CLASSES], u32) {
        self.flush();
        let rows = self.rows;
        let sums = self.sums.map(|s| (s - 128 * i64::from(rows)) as i32);
        *self = RowSums::default();
        (sums, rows)
    }
}

/// The softmax of `logits`, with this module's IEEE-only `exp`: the same
/// bits on every host (the fitter uses it too, so a fit is reproducible
/// across platforms).
pub fn softmax(logits: &[f64; CLASSES]) -> [f64; CLASSES] {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut p = [0.0; CLASSES];
    let mut total = 0.0;
    for c in 0..CLASSES {
        p[c] = exp(logits[c] - max);
        total += p[c];
    }
    for v in &mut p {
        *v /= total;
    }
    p
}

/// The distinct buckets of each window of `text` (sorted), for fitting.
///
/// ```
/// let w = distillguard::lexical::windows(b"hello there", 1 << 12, 4096);
/// assert_eq!(w.len(), 1);
/// assert!(w[0].windows(2).all(|p| p[0] < p[1]));
/// assert_eq!(distillguard::lexical::windows(b"hello there", 1 << 12, 5).len(), 2);
/// ```
pub fn windows(text: &[u8], buckets: u32, window: usize) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    for_each_ngram(text, buckets, window, &[], |win, bucket, _, _| {
        if out.len() <= win {
            out.resize_with(win + 1, Vec::new);
        }
        out[win].push(bucket);
    });
    for w in &mut out {
        w.sort_unstable();
        w.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heaviest_spans_are_those_selection_finds() {
        use crate::testing::Lcg;
        for seed in 0..3_000u64 {
            let mut rng = Lcg::new(seed);
            let n = rng.below(40);
            // Distinct spans (words), leads from a small range so that ties
            // and non-leading words are common.
            let leads: Vec<((usize, usize), i32)> =
                (0..n).map(|k| ((3 * k, 3 * k + 2), rng.below(9) as i32 - 3)).collect();
            assert_eq!(
                heaviest_spans(leads.iter().copied()),
                heaviest_spans_by_selection(leads.iter().copied()),
                "{leads:?}"
            );
        }
    }

    #[test]
    fn exp_matches_the_library_closely() {
        for i in -400..=400 {
            let x = f64::from(i) / 10.0;
            let (a, b) = (exp(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-14, "{x}: {a} vs {b}");
        }
        assert_eq!(exp(-1000.0), 0.0);
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn classes_follow_category_declaration_order() {
        // Pack::from_data numbers a rule's class as `category as u8 + 1`.
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }

    #[test]
    fn windows_end_at_whitespace() {
        let text = b"aaaa bbbb cccc dddd";
        let mut wins = Vec::new();
        for_each_ngram(text, 64, 6, &[], |w, _, s, _| wins.push((w, s)));
        wins.dedup();
        // "aaaa bbbb" is the first window (it ends at the space after byte 6).
        assert_eq!(wins, vec![(0, 0), (0, 5), (1, 10), (1, 15)]);
        // A segment starting at byte 5 (or inside a word) ends the window before it.
        for breaks in [[5], [3]] {
            let mut wins = Vec::new();
            for_each_ngram(text, 64, usize::MAX, &breaks, |w, _, s, _| wins.push((w, s)));
            wins.dedup();
            assert_eq!(wins[..2], [(0, 0), (1, 5)], "{breaks:?}");
        }
    }

    #[test]
    fn ngrams_are_those_of_the_padded_word_by_start() {
        // The definition: FNV-1a of each 3- and 4-byte slice of " word ", by start.
        let reference = |word: &[u8]| {
            let padded = [&b" "[..], word, b" "].concat();
            let mut out = Vec::new();
            for s in 0..padded.len() {
                for n in 3..=4 {
                    if let Some(gram) = padded.get(s..s + n) {
                        let h = gram.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
                        out.push((h ^ (h >> 16)) & 0xfff);
                    }
                }
            }
            out
        };
        for word in ["a", "ab", "abc", "abcd", "héllo", "x=1;y=2;", "0123456789abcdefghij"] {
            let mut got = Vec::new();
            word_ngrams(word.as_bytes(), 0xfff, |b| got.push(b));
            assert_eq!(got, reference(word.as_bytes()), "{word}");
        }
    }

    #[test]
    fn word_ends_are_the_first_whitespace() {
        // Whitespace, other bytes below 0x21 and bytes above 0x7f, at every
        // offset of the eight-byte steps.
        let alphabet =
            [b' ', b'\t', b'\n', b'\x0c', b'\r', b'\x0b', 0, 1, 0x1f, 0x20, 0x21, b'a', 0x7f, 0x80, 0xa0, 0xff];
        for seed in 0..20000u64 {
            let text = crate::testing::random_seq(seed, &alphabet, 40);
            for i in 0..=text.len() {
                let want = text[i..].iter().position(u8::is_ascii_whitespace).map_or(text.len(), |n| i + n);
                assert_eq!(word_end(&text, i), want, "{text:?} from {i}");
            }
        }
    }

    #[test]
    fn repeated_words_are_found_by_content() {
        // Short, eight-byte and long words, at the end of the text too.
        let text = b"abcdefgh abcdefghi abcdefgh abcdefgX abcdefghi abcdefghij ab ab";
        let mut seen = SeenWords::for_text(text.len());
        let words: Vec<bool> = text
            .split(|b| *b == b' ')
            .scan(0, |at, w| {
                let start = *at;
                *at += w.len() + 1;
                Some(seen.repeats(text, start, start + w.len()))
            })
            .collect();
        assert_eq!(words, [false, false, true, false, true, false, false, true]);
    }

    #[test]
    fn repeated_words_add_no_features_even_past_the_table() {
        // 1,500 distinct words (the table remembers 512 per window), then all again.
        let words: Vec<String> = (0..1500).map(|i| format!("w{i}x")).collect();
        let once = words.join(" ");
        let twice = format!("{once} {once}");
        assert_eq!(windows(once.as_bytes(), 1 << 12, usize::MAX), windows(twice.as_bytes(), 1 << 12, usize::MAX));
        let (mut a, mut b) = (0, 0);
        for_each_ngram(once.as_bytes(), 1 << 12, usize::MAX, &[], |_, _, _, _| a += 1);
        for_each_ngram(twice.as_bytes(), 1 << 12, usize::MAX, &[], |_, _, _, _| b += 1);
        // The remembered words are skipped the second time, the others read again.
        assert!(a < b && b < 2 * a, "{a} {b}");
    }

    fn model(weights: Vec<i8>) -> LexicalModel {
        LexicalModel {
            buckets: (weights.len() / CLASSES) as u32,
            window: 64,
            min_features: 1,
            bias: vec![0.0; CLASSES],
            scale: 1.0,
            weights,
            blend: Blend::default(),
        }
    }

    #[test]
    fn scores_and_names_words() {
        // Every n-gram of "leak" weighs towards system_prompt_leak.
        let mut w = vec![0i8; 4096 * CLASSES];
        let leak = Category::ALL.iter().position(|&c| c == Category::SystemPromptLeak).unwrap() + 1;
        for_each_ngram(b"leak", 4096, usize::MAX, &[], |_, b, _, _| w[b as usize * CLASSES + leak] = 100);
        let m = model(w);
        m.validate().unwrap();
        let s = m.score("do leak it", &[]);
        assert!(s.extraction > 0.9, "{s:?}");
        assert_eq!(s.category, Category::SystemPromptLeak);
        assert_eq!(m.evidence_words(&s), vec![(3, 7)]);
        // In a segment where system_prompt_leak does not count, it is no extraction.
        let not_leak = !(1u8 << leak);
        let s = m.score("do leak it", &[(0, not_leak)]);
        assert!(s.extraction < 0.1, "{s:?}");
        // In its own segment after one where it does not count, it is found again.
        let s = m.score("do leak it\n\nleak", &[(0, not_leak), (12, 0xff)]);
        assert!(s.extraction > 0.9 && m.evidence_words(&s) == vec![(12, 16)], "{s:?}");
        let empty = m.score("   ", &[]);
        assert_eq!(empty.extraction, 0.0);
        assert!(m.evidence_words(&empty).is_empty());
    }

    #[test]
    fn window_sums_and_word_weights_match_a_plain_reading() {
        // Random weights, and a long text of repeated, long and short words
        // in several windows and segments: the lanes are emptied many times,
        // before words and inside the longest.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let buckets = 1u32 << 12;
        // Half the weights at the top of the range: a lane that is not
        // emptied in time overflows.
        let m =
            model((0..buckets as usize * CLASSES).map(|_| if next() % 2 == 0 { 127 } else { next() as i8 }).collect());
        // A few words of more n-grams than the lanes hold rows (129 bytes on).
        let len = |i: usize| if i.is_multiple_of(50) { 120 + i } else { 1 + i % 40 };
        let vocab: Vec<String> =
            (0..400).map(|i| (0..len(i)).map(|_| char::from(b'a' + (next() % 26) as u8)).collect()).collect();
        let text: String =
            (0..6000).map(|_| vocab[next() as usize % vocab.len()].as_str()).collect::<Vec<_>>().join(" ");
        let bytes = text.as_bytes();
        let breaks = [0, 9_000, 9_001, 30_000];
        // The plain reading: each window's distinct buckets, and each word's
        // buckets new to its window, from for_each_ngram.
        type Window = (std::collections::BTreeSet<u32>, Vec<((usize, usize), [i32; CLASSES])>, usize, usize);
        let mut plain: Vec<Window> = Vec::new();
        for_each_ngram(bytes, buckets, 700, &breaks, |w, b, s, e| {
            if plain.len() <= w {
                plain.push((Default::default(), Vec::new(), s, e));
            }
            let win = &mut plain[w];
            win.3 = e;
            if win.1.last().is_none_or(|l| l.0 != (s, e)) {
                win.1.push(((s, e), [0; CLASSES]));
            }
            if win.0.insert(b) {
                let row = &m.weights[b as usize * CLASSES..][..CLASSES];
                for (sum, &w) in win.1.last_mut().unwrap().1.iter_mut().zip(row) {
                    *sum += i32::from(w);
                }
            }
        });
        let mut read = Vec::new();
        m.windows(&WeightRows::of(&m), bytes, 700, &breaks, |(sums, distinct, first, last), words: &mut WordMarks| {
            read.push((sums, distinct, first, last, words.weights(), words.clone()))
        });
        assert!(plain.len() > 20 && plain.len() == read.len());
        for ((set, words, first, last), got) in plain.iter().zip(&read) {
            let mut sums = [0i32; CLASSES];
            for &b in set {
                for (sum, &w) in sums.iter_mut().zip(&m.weights[b as usize * CLASSES..][..CLASSES]) {
                    *sum += i32::from(w);
                }
            }
            assert_eq!((sums, set.len() as u32, *first, *last), (got.0, got.1, got.2, got.3));
            assert_eq!(*words, got.4);
            for c in 1..CLASSES {
                let leads: Vec<((usize, usize), i32)> = got.5.leads(c).collect();
                let want: Vec<((usize, usize), i32)> = words.iter().map(|&(span, w)| (span, w[c] - w[0])).collect();
                assert_eq!(leads, want);
            }
        }
    }

    #[test]
    fn window_sums_do_not_depend_on_the_words_remembered() {
        // Short texts of many distinct words, more than their tables
        // remember: each window's sums and distinct buckets are those of
        // the set of its n-grams, read word by word without skipping any.
        let mut rng = crate::testing::Lcg::new(29);
        let buckets = 1u32 << 12;
        let m = model((0..buckets as usize * CLASSES).map(|_| rng.below(256) as u8 as i8).collect());
        let rows = WeightRows::of(&m);
        // Windows of about 64 bytes, and one window of the whole text, whose
        // table then forgets words.
        let mut forgot = 0;
        for seed in 0..600u64 {
            let window = if seed % 2 == 0 { 64 } else { usize::MAX };
            let words: Vec<String> = (0..1 + seed % 200)
                .map(|_| (0..1 + rng.below(5)).map(|_| char::from(b'a' + rng.below(6) as u8)).collect())
                .collect();
            let text = words.join(" ");
            let mut got = Vec::new();
            m.windows(&rows, text.as_bytes(), window, &[], |(sums, distinct, _, _), _| got.push((sums, distinct)));
            let mut want = Vec::new();
            let (mut set, mut at) = (std::collections::BTreeSet::new(), 0);
            let mut end = window_end(text.as_bytes(), 0, window);
            for w in text.split(' ') {
                if at >= end {
                    want.push(std::mem::take(&mut set));
                    end = window_end(text.as_bytes(), at, window);
                }
                word_ngrams(w.as_bytes(), buckets - 1, |b| {
                    set.insert(b);
                });
                at += w.len() + 1;
            }
            want.push(set);
            let want: Vec<([i32; CLASSES], u32)> = want
                .iter()
                .map(|set| {
                    let mut sums = [0i32; CLASSES];
                    for &b in set {
                        for (sum, &w) in sums.iter_mut().zip(&m.weights[b as usize * CLASSES..][..CLASSES]) {
                            *sum += i32::from(w);
                        }
                    }
                    (sums, set.len() as u32)
                })
                .collect();
            assert_eq!(got, want, "{text}");
            let distinct = words.iter().collect::<std::collections::BTreeSet<_>>().len();
            forgot += usize::from(window == usize::MAX && distinct > SeenWords::for_text(text.len()).slots.len() / 2);
        }
        assert!(forgot > 100, "texts of more distinct words than their tables remember: {forgot}");
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(model(vec![0; 10]).validate().is_err());
        let mut m = model(vec![0; 64 * CLASSES]);
        m.buckets = 100;
        assert!(m.validate().is_err());
    }
}
