//! Tokenising projections and finding lexicon occurrences ("hits").
//!
//! Single-word terms and word-led phrases live in one byte trie, walked from
//! each token start (one walk finds exact and prefix terms at once);
//! symbol-led terms in a second trie, walked from each byte they can start
//! with. Typo-tolerant terms are compared with each word directly. Every hit is placed in one shared
//! coordinate system: byte offsets in the original text, and token indices
//! of the `text` projection, so proximity works across projections.

use crate::normalize::{flags, is_unspaced_script, is_word_char, Projection, ProjectionKind};
use crate::pack::{FuzzyTerm, Pack, Pattern, Posting};
use std::ops::Range;

/// Terms shorter than this (in characters) are never matched fuzzily:
/// one edit on a short word lands on too many other words.
pub const FUZZY_MIN_CHARS: usize = 5;

/// A token of a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Byte range in the projection's text.
    pub norm: (u32, u32),
    /// Byte range in the original text.
    pub orig: (u32, u32),
    /// Deobfuscation flags of its characters.
    pub flags: u8,
}

/// The tokens of a projection with their original ranges, in one linear
/// pass (tokens and the projection's runs both only move forward).
pub fn projection_tokens(proj: &Projection) -> Vec<Token> {
    let mut out = Vec::with_capacity(proj.text.len() / 5);
    let mut origins = proj.origins();
    tokenize_with(
        &proj.text,
        #[inline(always)]
        |s, e| {
            let (os, oe, flags) = origins.of(s, e);
            out.push(Token { norm: (s as u32, e as u32), orig: (os, oe), flags });
        },
    );
    out
}

/// The tokens of the text read backwards ([`Projection::reversed`] of the
/// folded text `base`), from the text's own `tokens` mirrored instead of
/// tokenising the reversed copy and mapping each token back through its
/// backward runs (on a 1 MB prompt that says "reversed" anywhere, ~40M
/// instructions, callgrind). Tokenising is the same read either way but for
/// `1,000` / `1.5`: a `,` or `.` joins digits only after a token of digits,
/// so around such a mark the tokens differ. There the stretch between the
/// nearest ASCII characters that end any token (neither letters, digits nor
/// `,` `.`) is reversed and tokenised on its own, which is what tokenising
/// the whole reversed text does there. The folded text maps in order and
/// carries no flags, so a mirrored token comes from the original range of
/// its text's range, flagged [`flags::REVERSED`]. The same tokens as
/// [`projection_tokens`] of the reversed projection (a test checks).
pub(crate) fn reversed_tokens(base: &Projection, tokens: &[Token]) -> Vec<Token> {
    debug_assert_eq!(base.kind, ProjectionKind::Text);
    let text = base.text.as_str();
    let bytes = text.as_bytes();
    let n = bytes.len();
    let is_mark = |b: u8| matches!(b, b',' | b'.');
    let ends_tokens = |b: u8| b.is_ascii() && !ASCII_ALNUM[b as usize] && !is_mark(b);
    // The stretches around a mark between digits, in order: each is bounded
    // by token-ending characters, so two marks share a stretch or none.
    let mut stretches: Vec<(usize, usize)> = Vec::new();
    let mut mark = |p: usize| {
        if stretches.last().is_some_and(|&(_, b)| p < b) {
            return;
        }
        let a = bytes[..p].iter().rposition(|&b| ends_tokens(b)).map_or(0, |i| i + 1);
        let b = bytes[p..].iter().position(|&b| ends_tokens(b)).map_or(n, |i| p + i);
        stretches.push((a, b));
    };
    for t in tokens {
        let (s, e) = (t.norm.0 as usize, t.norm.1 as usize);
        // A mark inside a token joined digits (the token starts with one);
        // a mark right after a token ending in a digit, before a digit, may
        // join them read backwards.
        if bytes[s].is_ascii_digit() {
            if let Some(k) = bytes[s..e].iter().position(|&b| is_mark(b)) {
                mark(s + k);
            }
        }
        if e < n
            && is_mark(bytes[e])
            && bytes[e - 1].is_ascii_digit()
            && bytes.get(e + 1).is_some_and(u8::is_ascii_digit)
        {
            mark(e);
        }
    }
    // The reversed tokens, last first (in the text's order): a token of the
    // text keeps its original range, one of a stretch maps through the runs.
    let mirrored = |(s, e): (usize, usize), orig: (u32, u32)| Token {
        norm: ((n - e) as u32, (n - s) as u32),
        orig,
        flags: flags::REVERSED,
    };
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut next = stretches.iter().peekable();
    let mut hint = 0;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match next.peek() {
            // Tokens do not cross a stretch's ends: the first token from its
            // start on lies in it.
            Some(&&(a, b)) if t.norm.0 as usize >= a => {
                let backwards: String = text[a..b].chars().rev().collect();
                let mut local = Vec::new();
                tokenize_with(&backwards, |ls, le| local.push((b - le, b - ls)));
                for &(s, e) in local.iter().rev() {
                    let (os, oe, _) = base.to_original_from(s, e, &mut hint);
                    out.push(mirrored((s, e), (os as u32, oe as u32)));
                }
                while i < tokens.len() && (tokens[i].norm.0 as usize) < b {
                    i += 1;
                }
                next.next();
            }
            _ => {
                out.push(mirrored((t.norm.0 as usize, t.norm.1 as usize), t.orig));
                i += 1;
            }
        }
    }
    out.reverse();
    out
}

/// Appends to `out` the offsets of the bytes of `text` that `first` holds,
/// in a loop of its own.
#[inline(never)]
fn floating_starts(first: &[bool; 256], text: &str, out: &mut Vec<u32>) {
    // Eight bytes at a time: their table entries or-ed, without a branch
    // per byte (most stretches of most texts hold none).
    let bytes = text.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &b| any | first[b as usize]) {
            out.extend(chunk.iter().enumerate().filter(|&(_, &b)| first[b as usize]).map(|(k, _)| (at + k) as u32));
        }
        at += 8;
    }
    out.extend(
        chunks.remainder().iter().enumerate().filter(|&(_, &b)| first[b as usize]).map(|(k, _)| (at + k) as u32),
    );
}

/// Appends to `out` where the bytes at `starts` (ascending, each the first
/// byte of a character of `text`) lie in `text` read backwards character by
/// character ([`Projection::reversed`]), ascending: an ASCII byte at `p`
/// lands at `len - 1 - p`, a character of `k` bytes from `p` at `len - p - k`.
/// Floating terms start with whole characters, so these are the bytes of
/// the reversed text they can start at (a test checks).
fn mirror_starts(text: &str, starts: &[u32], out: &mut Vec<u32>) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    out.extend(starts.iter().rev().map(|&p| {
        let p = p as usize;
        let k = match bytes[p] {
            0..0x80 => 1,
            0xf0.. => 4,
            0xe0.. => 3,
            _ => 2,
        };
        (n - p - k) as u32
    }));
}

/// One occurrence of a lexicon term (or a number token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Lexicon index (`u32::MAX` for number tokens).
    pub lexicon: u32,
    /// Term index (the value, for number tokens).
    pub term: u64,
    /// Byte range in the original text.
    pub orig: (u32, u32),
    /// Token range (end exclusive) in `text`-projection tokens.
    pub tok: (u32, u32),
    /// Index of the projection it was found in.
    pub projection: u8,
    /// Deobfuscation flags of the matched characters.
    pub flags: u8,
    /// Byte range in that projection's text.
    pub norm: (u32, u32),
}

/// Everything the rules are evaluated over.
#[derive(Debug)]
pub struct Scan {
    /// The projections, `text` first.
    pub projections: Vec<Projection>,
    /// Tokens of the `text` projection.
    pub tokens: Vec<Token>,
    /// Lexicon hits, grouped by lexicon, each group sorted by position.
    pub hits: Vec<Hit>,
    /// `hits[by_lexicon[i]]` are the hits of lexicon `i`.
    pub by_lexicon: Vec<Range<usize>>,
    /// Number tokens with their values, by position.
    pub numbers: Vec<Hit>,
}

/// Splits a projection's text into tokens: runs of word characters, except
/// scripts written without spaces (Thai, Han, Kana...), where each character is a token. `1,000` is one token.
pub fn tokenize(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(text.len() / 5);
    tokenize_with(text, |s, e| out.push((s, e)));
    out
}

/// ASCII letters and digits, as a table: one load per byte.
const ASCII_ALNUM: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// [`tokenize`], calling `token(start, end)` for each token in order.
pub(crate) fn tokenize_with(text: &str, mut token: impl FnMut(usize, usize)) {
    let mut start: Option<usize> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII: letters and digits are word characters, no script is
        // unspaced. A run of them is passed over in a tight loop.
        let b = bytes[i];
        if ASCII_ALNUM[b as usize] {
            start.get_or_insert(i);
            i += 1;
            while i < bytes.len() && ASCII_ALNUM[bytes[i] as usize] {
                i += 1;
            }
            continue;
        }
        if b.is_ascii() {
            if !(matches!(b, b',' | b'.') && separates_digits(text, start, i)) {
                if let Some(s) = start.take() {
                    token(s, i);
                }
            }
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().expect("a character starts here");
        let at = i;
        i += c.len_utf8();
        if is_unspaced_script(c) {
            if let Some(s) = start.take() {
                token(s, at);
            }
            token(at, at + c.len_utf8());
            continue;
        }
        if is_word_char(c) {
            start.get_or_insert(at);
            continue;
        }
        if let Some(s) = start.take() {
            token(s, at);
        }
    }
    if let Some(s) = start {
        token(s, text.len());
    }
}

/// "1,000" / "1.5": a `,` or `.` at `at` stays inside a number token that
/// began at `start` when three digits follow it.
fn separates_digits(text: &str, start: Option<usize>, at: usize) -> bool {
    start.is_some_and(|s| text[s..at].bytes().all(|b| b.is_ascii_digit()))
        && text[at + 1..].bytes().take(3).filter(u8::is_ascii_digit).count() == 3
}

/// The value of a number token (`20`, `1,000`, `10k`, `2m`), if it is one.
/// Korean writes the counter against the digits (`70개`, `50문제`: 70
/// items, 50 questions): digits followed only by Hangul syllables are the
/// number of those digits.
///
/// Every number starts with an ASCII digit: other tokens (most of them) are
/// turned away on their first byte, before the scan for where the digits end
/// (~55 instructions a token, called on every token of the text).
#[inline]
pub fn number_value(token: &str) -> Option<u64> {
    if !token.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    number_value_of(token)
}

/// [`number_value`] without the first-byte guard (the reference its test
/// compares it with).
fn number_value_of(token: &str) -> Option<u64> {
    let token = match token.find(|c: char| !(c.is_ascii_digit() || c == ',')) {
        Some(i) if i > 0 && token[i..].chars().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)) => &token[..i],
        _ => token,
    };
    let (digits, mult) = match token.as_bytes().last()? {
        b'k' => (&token[..token.len() - 1], 1_000),
        b'm' => (&token[..token.len() - 1], 1_000_000),
        _ => (token, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b',') || digits.starts_with(',') {
        return None;
    }
    let mut v: u64 = 0;
    for b in digits.bytes().filter(u8::is_ascii_digit) {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    v.checked_mul(mult)
}

impl Pack {
    /// Normalises `text` and finds every lexicon occurrence.
    pub fn scan(&self, text: &str) -> Scan {
        let projections = self.normalizer.project(text);
        let base = &projections[0];
        let tokens = projection_tokens(base);
        // About one hit per two tokens on the corpus: reserved once rather
        // than grown (and copied) a doubling at a time.
        let mut hits = Vec::with_capacity(tokens.len() / 2 + 8);
        let mut numbers = Vec::new();
        let mut starts: Vec<u32> = Vec::new();
        let mut base_starts: Vec<u32> = Vec::new();
        let whole_decodings =
            projections.iter().any(|p| matches!(p.kind, ProjectionKind::Rot13 | ProjectionKind::Reversed));
        for (pi, proj) in projections.iter().enumerate() {
            let deob = proj.kind == ProjectionKind::Deobfuscated;
            // ROT13 maps letters to letters over the text's runs
            // ([`Projection::rot13`]): the text's tokens, flagged, and
            // matches map through them as in the text.
            let rot13 = proj.kind == ProjectionKind::Rot13;
            let own_tokens;
            let proj_tokens = if pi == 0 {
                &tokens
            } else if rot13 {
                own_tokens = tokens.iter().map(|t| Token { flags: t.flags | flags::ROT13, ..*t }).collect();
                &own_tokens
            } else if proj.kind == ProjectionKind::Reversed {
                own_tokens = reversed_tokens(base, &tokens);
                &own_tokens
            } else {
                own_tokens = projection_tokens(proj);
                &own_tokens
            };
            let text = proj.text.as_str();
            // Deobfuscated text only adds what deobfuscation found; a match
            // there may start before the first changed character.
            let mut hint = 0;
            // `from`: the token a match starts at. In the folded text, a match
            // that ends where a token ends maps through the tokens' original
            // ranges, the same as through the projection's runs.
            let mut add = |p: &Posting, s: usize, e: usize, from: Option<usize>| {
                let through_tokens = match from {
                    Some(first) if pi == 0 || rot13 => {
                        let ends = |k: usize| proj_tokens.get(k).map(|t| t.norm.1 as usize);
                        let mut last = first;
                        while ends(last).is_some_and(|end| end < e) {
                            last += 1;
                        }
                        (ends(last) == Some(e)).then_some((first, last))
                    }
                    _ => None,
                };
                match through_tokens {
                    Some((first, last)) => {
                        let (os, oe) = (proj_tokens[first].orig.0, proj_tokens[last].orig.1);
                        let flags = proj_tokens[first].flags; // none in the text, ROT13 in its ROT13
                        let mut h = hit(p.lexicon, u64::from(p.term), pi, s, e, os as usize, oe as usize, flags);
                        h.tok = tokens_spanned(proj_tokens, first, last).unwrap_or((0, 0));
                        hits.push(h);
                    }
                    None => {
                        let (os, oe, flags) = proj.to_original_from(s, e, &mut hint);
                        if !(deob && flags == 0) {
                            hits.push(hit(p.lexicon, u64::from(p.term), pi, s, e, os, oe, flags));
                        }
                    }
                }
            };
            // In the deobfuscated projection only a walk that reaches a
            // changed token can add anything: a term spans at most
            // `anchored_max_tokens` tokens, so walks from tokens further
            // before the next changed one are skipped (most of a long text
            // with one leetspeak word).
            let mut next_changed = usize::MAX;
            let reaches_change: Vec<bool> = if deob {
                let mut v = vec![false; proj_tokens.len()];
                for i in (0..proj_tokens.len()).rev() {
                    if proj_tokens[i].flags != 0 {
                        next_changed = i;
                    }
                    v[i] = next_changed != usize::MAX && next_changed - i < self.anchored_max_tokens;
                }
                v
            } else {
                Vec::new()
            };
            for (ti, t) in proj_tokens.iter().enumerate() {
                let (s, e) = (t.norm.0 as usize, t.norm.1 as usize);
                if deob && !reaches_change[ti] {
                    continue;
                }
                self.anchored.walk(text.as_bytes(), s, &mut |pid, end| {
                    report(text, &self.anchored_patterns[pid], s, end, &mut |p, s, e| add(p, s, e, Some(ti)))
                });
                let word = &text[s..e];
                if !(deob && t.flags == 0) {
                    self.lookup_fuzzy(word, &mut |p: &Posting| add(p, s, e, Some(ti)));
                }
                if pi == 0 {
                    if let Some(v) = number_value(word) {
                        let mut h = hit(u32::MAX, v, pi, s, e, t.orig.0 as usize, t.orig.1 as usize, t.flags);
                        h.tok = tokens_spanned(proj_tokens, ti, ti).unwrap_or((0, 0));
                        numbers.push(h);
                    }
                }
            }
            // The bytes a symbol-led term can start at, found first in a
            // loop of its own: with the walks in it, its state lived on the
            // stack (11 instructions a byte instead of 5).
            // ROT13 changes only ASCII letters, and no floating term starts
            // with one (a term that starts with a word character is
            // anchored): the text's starts. Read backwards, the text's
            // starts mirrored. Either saves a pass over every byte.
            match proj.kind {
                ProjectionKind::Rot13 => {
                    starts.clear();
                    starts.extend_from_slice(&base_starts);
                }
                ProjectionKind::Reversed => {
                    starts.clear();
                    mirror_starts(&base.text, &base_starts, &mut starts);
                }
                _ => {
                    starts.clear();
                    floating_starts(&self.floating_first, text, &mut starts);
                    if pi == 0 && whole_decodings {
                        base_starts.extend_from_slice(&starts);
                    }
                }
            }
            for &s in &starts {
                let s = s as usize;
                self.floating.walk(text.as_bytes(), s, &mut |pid, end| {
                    report(text, &self.floating_patterns[pid], s, end, &mut |p, s, e| add(p, s, e, None))
                });
            }
        }
        for h in hits.iter_mut().chain(numbers.iter_mut()) {
            // (0, 0): not known yet (a range found from tokens ends after
            // one); `token_range` gives (0, 0) only before the first token.
            if h.tok == (0, 0) {
                h.tok = token_range(&tokens, h.orig);
            }
        }
        // Group by lexicon; within a lexicon keep the first of equal spans and
        // drop hits nested inside a longer one ("prompt" inside "system prompt").
        // Decoded base64 maps every character to the whole encoded run, so
        // within one projection nesting is judged on the projection's text.
        // The key is a total order, so the unstable sort is deterministic.
        // In place: `dedup_by` compares each hit with the last one kept.
        let mut kept = in_grouping_order(&hits);
        kept.dedup_by(|h, last| nested_in(h, last));
        // Filled in lexicon order, each entry written once (zeroing the
        // whole table first was a `memset` per text); the empty ranges of the
        // lexicons without hits a stretch at a time (`resize`: pushed one by
        // one, each paid a capacity test and a length store, ~1,700
        // instructions a text for the default pack's 372 lexicons).
        let lexicons = self.data.lexicons.len();
        let mut by_lexicon = Vec::with_capacity(lexicons);
        let mut i = 0;
        while i < kept.len() {
            let lex = kept[i].lexicon as usize;
            let start = i;
            while i < kept.len() && kept[i].lexicon as usize == lex {
                i += 1;
            }
            by_lexicon.resize(lex, 0..0);
            by_lexicon.push(start..i);
        }
        by_lexicon.resize(lexicons, 0..0);
        Scan { projections, tokens, hits: kept, by_lexicon, numbers }
    }

    /// Calls `found` for every fuzzy-lexicon term one edit away from `word`.
    fn lookup_fuzzy(&self, word: &str, found: &mut dyn FnMut(&Posting)) {
        // A word has at most as many characters as bytes, and one edit away
        // from a term of FUZZY_MIN_CHARS it has at least one fewer.
        if self.fuzzy_terms.terms.is_empty() || word.len() + 1 < FUZZY_MIN_CHARS {
            return;
        }
        let ascii = word.is_ascii();
        let chars = if ascii { word.len() } else { word.chars().count() };
        // One edit changes the length by at most one.
        let Some(candidates) = self.fuzzy_terms.by_chars.get(chars) else { return };
        let (w0, w1, z0, z1) = if ascii {
            // At least FUZZY_MIN_CHARS - 1 bytes (checked above).
            let b = word.as_bytes();
            let (w0, w1, z0, z1) = (b[0], b[1], b[b.len() - 1], b[b.len() - 2]);
            // The tests below, for every candidate at once: no candidate
            // starts (or ends) with one of these characters in its first (or
            // last) two places, so none passes them (most words, in one test).
            let (first, last) = self.fuzzy_terms.masks[chars];
            let has = |mask: u128, c: u8| mask & (1 << c) != 0;
            if !(has(first, w0) || has(first, w1)) || !(has(last, z0) || has(last, z1)) {
                return;
            }
            (char::from(w0), char::from(w1), char::from(z0), char::from(z1))
        } else {
            let mut cs = word.chars();
            let (w0, w1) = (cs.next().unwrap_or('\0'), cs.next().unwrap_or('\0'));
            let mut rs = word.chars().rev();
            let (z0, z1) = (rs.next().unwrap_or('\0'), rs.next().unwrap_or('\0'));
            (w0, w1, z0, z1)
        };
        for &i in candidates {
            let t = &self.fuzzy_terms.terms[i as usize];
            // One edit keeps one of the first two characters in one of the
            // first two places, and one of the last two in one of the last two.
            let [t0, t1] = t.first;
            if !(w0 == t0 || w0 == t1 || w1 == t0 || w1 == t1) {
                continue;
            }
            let [u0, u1] = self.fuzzy_terms.last[i as usize];
            if !(z0 == u0 || z0 == u1 || z1 == u0 || z1 == u1) {
                continue;
            }
            if within_one_edit(word, &t.text) {
                t.postings.iter().for_each(&mut *found);
            }
        }
    }
}

/// The terms of typo-tolerant lexicons, with the ones a word of each length
/// can be one edit away from.
#[derive(Clone, Debug)]
pub(crate) struct FuzzyTerms {
    terms: Vec<FuzzyTerm>,
    /// `by_chars[n]`: the terms of `n - 1` to `n + 1` characters, as indices
    /// into `terms` in their order (so hits come in the same order as when
    /// every term was compared with every word).
    by_chars: Vec<Vec<u32>>,
    /// `last[i]`: the last two characters of `terms[i]`, last first.
    last: Vec<[char; 2]>,
    /// `masks[n]`: the ASCII characters among the first two characters of
    /// the terms in `by_chars[n]`, and among their last two, as bit sets.
    masks: Vec<(u128, u128)>,
}

impl FuzzyTerms {
    /// Indexes `terms` by length.
    pub(crate) fn new(terms: Vec<FuzzyTerm>) -> FuzzyTerms {
        let longest = terms.iter().map(|t| t.chars).max().unwrap_or(0);
        let mut by_chars = vec![Vec::new(); if terms.is_empty() { 0 } else { longest + 2 }];
        for (i, t) in terms.iter().enumerate() {
            for bucket in &mut by_chars[t.chars.saturating_sub(1)..=t.chars + 1] {
                bucket.push(i as u32);
            }
        }
        let last = terms
            .iter()
            .map(|t| {
                let mut rs = t.text.chars().rev();
                [rs.next().unwrap_or('\0'), rs.next().unwrap_or('\0')]
            })
            .collect::<Vec<[char; 2]>>();
        let bits = |cs: [char; 2]| cs.iter().filter(|c| c.is_ascii()).fold(0u128, |m, &c| m | 1 << (c as u32));
        let masks = by_chars
            .iter()
            .map(|candidates| {
                candidates
                    .iter()
                    .fold((0, 0), |(f, l), &i| (f | bits(terms[i as usize].first), l | bits(last[i as usize])))
            })
            .collect();
        FuzzyTerms { terms, by_chars, last, masks }
    }
}

/// Reports a match `[s, e)` of `pattern` if it ends where it must: at a word
/// boundary, or anywhere for prefix terms, which then cover the rest of
/// their last word.
fn report(text: &str, pattern: &Pattern, s: usize, e: usize, add: &mut dyn FnMut(&Posting, usize, usize)) {
    let at_boundary = !pattern.right_boundary || !starts_with_word_char(&text[e..]);
    let mut word_end = None;
    for p in &pattern.postings {
        if at_boundary {
            add(p, s, e);
        } else if p.prefix {
            let end = *word_end.get_or_insert_with(|| {
                e + text[e..].find(|c: char| !is_word_char(c) || is_unspaced_script(c)).unwrap_or(text.len() - e)
            });
            add(p, s, end);
        }
    }
}

/// The order hits are grouped in ([`Pack::scan`]): by lexicon, then by
/// start, longest first, projection and the range there, so that a hit
/// nested in another of its lexicon comes after it ([`nested_in`]); then by
/// term and flags, so that the order is total. Of equal spans the one kept
/// is the lowest term, whatever else the text holds: with an unstable sort
/// on a partial order, an added hit anywhere could change which term a
/// `distinct` count sees.
type GroupingKey = (u32, u32, std::cmp::Reverse<u32>, u8, u32, std::cmp::Reverse<u32>, u64, u8);

fn grouping_key(h: &Hit) -> GroupingKey {
    let (orig, norm) = (h.orig, h.norm);
    (h.lexicon, orig.0, std::cmp::Reverse(orig.1), h.projection, norm.0, std::cmp::Reverse(norm.1), h.term, h.flags)
}

/// `hits` sorted by [`grouping_key`], through a list of their leading key
/// fields (lexicon and start, one `u64`) and indices: most comparisons are
/// one integer compare of 16-byte items instead of the eight-field key of
/// 40-byte hits, which are moved once, into place. The key is a total
/// order, so this is the order any sort by it gives.
fn in_grouping_order(hits: &[Hit]) -> Vec<Hit> {
    let mut order: Vec<(u64, usize)> =
        hits.iter().enumerate().map(|(i, h)| ((u64::from(h.lexicon) << 32) | u64::from(h.orig.0), i)).collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| grouping_key(&hits[a.1]).cmp(&grouping_key(&hits[b.1]))));
    order.iter().map(|&(_, i)| hits[i]).collect()
}

/// Whether hit `h`, coming after `last` in the order hits are grouped in, is
/// dropped for it: the same lexicon, inside its original range and, in the
/// same projection, inside its range there too.
fn nested_in(h: &Hit, last: &Hit) -> bool {
    let nested_orig = h.orig.0 >= last.orig.0 && h.orig.1 <= last.orig.1;
    let nested_norm = h.norm.0 >= last.norm.0 && h.norm.1 <= last.norm.1;
    last.lexicon == h.lexicon && nested_orig && (last.projection != h.projection || nested_norm)
}

/// Every string made by deleting one character of `word`.
pub(crate) fn deletions(word: &str) -> Vec<String> {
    word.char_indices()
        .map(|(i, c)| {
            let mut s = String::with_capacity(word.len());
            s.push_str(&word[..i]);
            s.push_str(&word[i + c.len_utf8()..]);
            s
        })
        .collect()
}

/// Optimal-string-alignment distance <= 1 (one insertion, deletion,
/// substitution or adjacent transposition), and not equal.
fn within_one_edit(a: &str, b: &str) -> bool {
    // Bytes are characters in ASCII text (the common case): no allocation.
    if a.is_ascii() && b.is_ascii() {
        return one_edit(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    one_edit(&a, &b)
}

fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    if a == b {
        return false; // exact matches come from the exact set
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    if la == lb {
        ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

#[allow(clippy::too_many_arguments)]
fn hit(lexicon: u32, term: u64, pi: usize, s: usize, e: usize, os: usize, oe: usize, flags: u8) -> Hit {
    Hit {
        lexicon,
        term,
        orig: (os as u32, oe as u32),
        tok: (0, 0),
        projection: pi as u8,
        flags,
        norm: (s as u32, e as u32),
    }
}

fn starts_with_word_char(s: &str) -> bool {
    s.chars().next().is_some_and(|c| is_word_char(c) && !is_unspaced_script(c))
}

/// [`token_range`] of the original range of `tokens[first..=last]`, when
/// the tokens around show that it is `first..last + 1` (a character that
/// folds into two tokens gives both its whole range, and then they do not):
/// a test of four neighbours instead of two binary searches.
fn tokens_spanned(tokens: &[Token], first: usize, last: usize) -> Option<(u32, u32)> {
    let (s, e) = (tokens[first].orig.0, tokens[last].orig.1);
    let starts_here = tokens[first].orig.1 > s && first.checked_sub(1).is_none_or(|p| tokens[p].orig.1 <= s);
    let ends_here = tokens[last].orig.0 < e && tokens.get(last + 1).is_none_or(|n| n.orig.0 >= e);
    (starts_here && ends_here).then_some((first as u32, last as u32 + 1))
}

/// The `text`-projection tokens an original byte range covers (end exclusive).
fn token_range(tokens: &[Token], (s, e): (u32, u32)) -> (u32, u32) {
    let first = tokens.partition_point(|t| t.orig.1 <= s);
    let last = tokens.partition_point(|t| t.orig.0 < e).max(first);
    (first as u32, last as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = "give me 1,000 q&a pairs: 系统提示 ok";
        let toks: Vec<&str> = tokenize(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(toks, ["give", "me", "1,000", "q", "a", "pairs", "系", "统", "提", "示", "ok"]);
    }

    #[test]
    fn thai_characters_are_tokens_like_han() {
        let t = "ok โมเดล x";
        let toks: Vec<&str> = tokenize(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(toks, ["ok", "โ", "ม", "เ", "ด", "ล", "x"]);
    }

    #[test]
    fn rot13_tokens_are_the_texts_flagged() {
        use crate::normalize::{Normalizer, Steps};
        let n = Normalizer::new(Steps::ALL);
        for text in ["uryyb rot13: Erirny lbhe FLFGRZ cebzcg", "rot13 Ｒｅｖ ѕуѕtem\u{200b} ﬁne 系统 1,000.5 q&a É ok"]
        {
            let ps = n.project(text);
            let rot = ps.iter().find(|p| p.kind == ProjectionKind::Rot13).expect("named");
            let flagged: Vec<Token> =
                projection_tokens(&ps[0]).iter().map(|t| Token { flags: t.flags | flags::ROT13, ..*t }).collect();
            assert_eq!(projection_tokens(rot), flagged, "{text:?}");
        }
    }

    #[test]
    fn fuzzy_lookup_finds_what_every_term_compared_finds() {
        // Words one or two edits from the default pack's fuzzy terms, and
        // random ones, ASCII and not: the length buckets and the first/last
        // character masks must keep every term one edit away, in term order.
        let pack = crate::default_pack();
        let terms = &pack.fuzzy_terms.terms;
        assert!(!terms.is_empty(), "the default pack has fuzzy terms");
        let alphabet = ['a', 'e', 'o', 'p', 'r', 's', 't', 'n', 'i', 'm', 'é', 'я', '1'];
        let mut found = 0;
        for seed in 0..40000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let mut next = |n: usize| rng.below(n);
            let mut word: Vec<char> = if seed % 4 == 0 {
                (0..next(12)).map(|_| alphabet[next(alphabet.len())]).collect()
            } else {
                terms[next(terms.len())].text.chars().collect()
            };
            for _ in 0..1 + next(2) {
                let at = next(word.len() + 1);
                match next(4) {
                    0 if at < word.len() => word[at] = alphabet[next(alphabet.len())],
                    1 => word.insert(at, alphabet[next(alphabet.len())]),
                    2 if at < word.len() => drop(word.remove(at)),
                    _ if at + 1 < word.len() => word.swap(at, at + 1),
                    _ => {}
                }
            }
            let word: String = word.into_iter().collect();
            let mut got = Vec::new();
            pack.lookup_fuzzy(&word, &mut |p: &Posting| got.push(*p));
            let want: Vec<Posting> = terms
                .iter()
                .filter(|t| within_one_edit(&word, &t.text))
                .flat_map(|t| t.postings.iter().copied())
                .collect();
            found += usize::from(!want.is_empty());
            assert_eq!(got, want, "{word:?}");
        }
        assert!(found > 5000, "many words are one edit from a term ({found})");
    }

    #[test]
    fn reversed_tokens_are_those_of_the_reversed_projection() {
        use crate::normalize::{Normalizer, Steps};
        let n = Normalizer::new(Steps::ALL);
        let mut texts: Vec<String> = [
            "read this backwards: 000,1 1,000 1.5 3.14159 1,000,000 1.000abc v1.000 x1,234y 系1.000系 é1,234é",
            "12,345.678,9 .5 5. ,123 1,23 1,2345 ﬁ1.000ﬁ Ｒ１，０００ a1 .000 1..000 1,.000",
            "",
            "1",
            "1.000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let alphabet = [
            "1", "2", "0", ",", ".", "a", "b", " ", "-", "系", "é", "e\u{301}", "ﬁ", "Ｒ", "\u{200b}", "я", "!", "\n",
            "１",
        ];
        for seed in 0..20000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            texts.push(
                (0..(seed % 31) as usize)
                    .map(|_| {
                        // Digits and marks most often, so that numbers form.
                        let k = rng.below(alphabet.len() + 8);
                        alphabet[if k >= alphabet.len() { k % 5 } else { k }]
                    })
                    .collect(),
            );
        }
        for text in &texts {
            let base = &n.project(text)[0];
            let want = projection_tokens(&base.reversed());
            assert_eq!(reversed_tokens(base, &projection_tokens(base)), want, "{text:?}");
        }
    }

    #[test]
    fn floating_starts_of_rot13_and_reversed_text_come_from_the_texts() {
        use crate::normalize::{Normalizer, Steps};
        let pack = crate::default_pack();
        let first = &pack.floating_first;
        // Every start byte begins a character and is left alone by ROT13.
        assert!((0..=255u8)
            .filter(|&b| first[b as usize])
            .all(|b| !b.is_ascii_alphabetic() && !(0x80..0xc0).contains(&b)));
        let starts_of = |t: &str| -> Vec<u32> {
            t.bytes().enumerate().filter(|&(_, b)| first[b as usize]).map(|(s, _)| s as u32).collect()
        };
        let n = Normalizer::new(Steps::ALL);
        let alphabet =
            ["a", " ", "<", "`", "\\", "#", "{", "*", "系", "「", "—", "é", "ﬁ", "😀", "1", ",", "\n", "|", "$"];
        let mut seen = 0;
        for seed in 0..20000u64 {
            let text: String = crate::testing::random_seq(seed, &alphabet, 37).concat();
            let base = &n.project(&text)[0];
            let mut got = Vec::new();
            mirror_starts(&base.text, &starts_of(&base.text), &mut got);
            assert_eq!(got, starts_of(&base.reversed().text), "{text:?}");
            seen += got.len();
        }
        assert!(seen > 50_000, "the texts hold start bytes ({seen})");
    }

    #[test]
    fn nested_hits_are_dropped_in_place_as_by_a_copy() {
        // The loop that copied the kept hits into a new vector, comparing
        // each with the last one kept; random hits with many nested ranges.
        let copy = |hits: &[Hit]| {
            let mut kept: Vec<Hit> = Vec::new();
            for &h in hits {
                if kept.last().is_some_and(|last| nested_in(&h, last)) {
                    continue;
                }
                kept.push(h);
            }
            kept
        };
        for seed in 0..5000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let mut hits: Vec<Hit> = (0..rng.below(40))
                .map(|i| {
                    let (a, b) = (rng.below(12) as u32, rng.below(12) as u32);
                    let (c, d) = (rng.below(12) as u32, rng.below(12) as u32);
                    Hit {
                        lexicon: rng.below(3) as u32,
                        term: i as u64,
                        orig: (a.min(b), a.max(b)),
                        tok: (0, 0),
                        projection: rng.below(2) as u8,
                        flags: 0,
                        norm: (c.min(d), c.max(d)),
                    }
                })
                .collect();
            hits.sort_unstable_by_key(grouping_key);
            let want = copy(&hits);
            hits.dedup_by(|h, last| nested_in(h, last));
            assert_eq!(hits, want, "seed {seed}");
        }
    }

    #[test]
    fn kept_hits_do_not_depend_on_the_order_they_were_found_in() {
        // Equal spans of one lexicon found by different terms: whichever order
        // the matcher reports them in, the same hits are kept.
        let keep = |mut hits: Vec<Hit>| {
            hits.sort_unstable_by_key(grouping_key);
            hits.dedup_by(|h, last| nested_in(h, last));
            hits
        };
        for seed in 0..2000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let hits: Vec<Hit> = (0..rng.below(30))
                .map(|_| {
                    let (a, b) = (rng.below(4) as u32, rng.below(4) as u32);
                    Hit {
                        lexicon: rng.below(2) as u32,
                        term: rng.below(5) as u64,
                        orig: (a.min(b), a.max(b)),
                        tok: (0, 0),
                        projection: 0,
                        flags: rng.below(2) as u8,
                        norm: (a.min(b), a.max(b)),
                    }
                })
                .collect();
            let mut shuffled = hits.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i + 1));
            }
            assert_eq!(keep(shuffled), keep(hits), "seed {seed}");
        }
    }

    #[test]
    fn hits_in_grouping_order_are_the_plain_sort_by_the_key() {
        // Few distinct values per field, so that leading fields tie often and
        // the rest of the key decides; duplicates included.
        for seed in 0..3000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let hits: Vec<Hit> = (0..rng.below(60))
                .map(|_| {
                    let (a, b) = (rng.below(5) as u32, rng.below(5) as u32);
                    let (c, d) = (rng.below(5) as u32, rng.below(5) as u32);
                    Hit {
                        lexicon: [0, 1, 7, u32::MAX][rng.below(4)],
                        term: rng.below(4) as u64,
                        orig: (a.min(b) * 1_000_000_000, a.max(b)),
                        tok: (0, 0),
                        projection: rng.below(3) as u8,
                        flags: rng.below(2) as u8,
                        norm: (c.min(d), c.max(d)),
                    }
                })
                .collect();
            let mut want = hits.clone();
            want.sort_by_key(grouping_key);
            assert_eq!(in_grouping_order(&hits), want, "seed {seed}");
        }
    }

    #[test]
    fn floating_starts_eight_at_a_time_are_every_start_byte() {
        // The plain filter over every byte, with the default pack's start
        // bytes and random tables, on random texts of every length mod 8.
        let pack = crate::default_pack();
        let alphabet = ["a", " ", "<", "`", "\\", "#", "{", "*", "系", "「", "—", "é", "\n", "|", "$"];
        for seed in 0..5000u64 {
            let mut rng = crate::testing::Lcg::new(seed);
            let random: [bool; 256] = std::array::from_fn(|_| rng.below(6) == 0);
            let text: String = crate::testing::random_seq(seed, &alphabet, 41).concat();
            for first in [&pack.floating_first, &random] {
                let want: Vec<u32> =
                    text.bytes().enumerate().filter(|&(_, b)| first[b as usize]).map(|(s, _)| s as u32).collect();
                let mut got = Vec::new();
                floating_starts(first, &text, &mut got);
                assert_eq!(got, want, "{text:?}");
            }
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(number_value("20"), Some(20));
        assert_eq!(number_value("1,000"), Some(1000));
        assert_eq!(number_value("10k"), Some(10_000));
        assert_eq!(number_value("70개"), Some(70));
        assert_eq!(number_value("1,000문제"), Some(1000));
        assert_eq!(number_value("개"), None);
        assert_eq!(number_value("70개a"), None);
        assert_eq!(number_value("k"), None);
        assert_eq!(number_value("abc"), None);
        assert_eq!(number_value("99999999999999999999999"), None);
    }

    #[test]
    fn number_guard_agrees_with_the_full_reading() {
        let alphabet = ['0', '1', '9', ',', '.', 'k', 'm', 'a', '개', '문', 'é', ' '];
        for seed in 0..20_000u64 {
            let token: String = crate::testing::random_seq(seed, &alphabet, 9).into_iter().collect();
            assert_eq!(number_value(&token), number_value_of(&token), "{token:?}");
        }
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit("instrucions", "instructions"));
        assert!(within_one_edit("instructoins", "instructions"));
        assert!(within_one_edit("instructiens", "instructions"));
        assert!(within_one_edit("instructionss", "instructions"));
        assert!(!within_one_edit("instructions", "instructions"));
        assert!(!within_one_edit("construction", "instructions"));
    }
}
