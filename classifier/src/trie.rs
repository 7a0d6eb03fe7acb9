//! A byte trie of the lexicon terms, built in one linear pass from keys in
//! byte order and walked anchored from a start position.
//!
//! The matcher only ever asks one question of its term automata: which
//! terms are a prefix of `text[s..]`? A trie answers that directly, and
//! because the keys arrive sorted its nodes are created in depth-first order
//! with each node's children in byte order: no hashing, no failure links,
//! no minimisation. Building the default pack's tries costs about a tenth of
//! the aho-corasick NFAs they replace (which compute failure transitions the
//! anchored walk never follows), and classifying the corpus costs within 1%
//! of the instructions it took with them (callgrind).
//!
//! Layout: nodes with many children (and the root) get a 256-entry row in
//! `dense` so the walk looks them up in one step; every other node's
//! children are (byte, target) pairs in `edges`, sorted by byte, from where
//! the node's list starts and up to an end marker ([`END`], above every
//! byte, whose target is the node's number), so the walk reads only `edges`.
//! Node 0 is the root. Node `n` ends the keys `ids[ends[n]..ends[n + 1]]`.
//!
//! Targets (in `edges` and `dense`) are not bare node numbers but *states*
//! that say what the walk must do next without loading anything else: a
//! dense node is `row << 2 | DENSE` (its row in `dense`; `dense_node` gives
//! the node back), a sparse node `start << 2` (where its list starts in
//! `edges`), and either has `ENDS` set when keys end there. A target of 0
//! means "no transition" (nothing leads back to the root, whose state is
//! `DENSE`, and `edges` starts with an end marker that no state names).
//!
//! ```ignore
//! let t = Trie::new(&[(b"ab".as_slice(), 0), (b"abc".as_slice(), 1)]);
//! let mut seen = Vec::new();
//! t.walk(b"abcd", 0, &mut |id, end| seen.push((id, end)));
//! assert_eq!(seen, [(0, 2), (1, 3)]);
//! ```

/// Nodes with more children than this get a dense row. Callgrind, default
/// pack and 1.8 MB of corpus (classify instructions, dense rows): above 2
/// children, +0.3% and 3,164 rows (3 MiB); above 4, +0.8% and 884; above 8,
/// +1.8% and 244; above 16, +4.2%, all against the aho-corasick NFA.
const DENSE_MIN: usize = 4;

/// In a state: the node has a dense row.
const DENSE: u32 = 1;
/// In a state: keys end at the node.
const ENDS: u32 = 2;
/// In `edges`: the end of a node's children (above every byte).
const END: u16 = 256;

/// A trie of byte-string keys, each with an id.
#[derive(Clone, Debug)]
pub(crate) struct Trie {
    edges: Vec<(u16, u32)>,
    /// `dense_node[r]`: the node whose row is `r` in `dense`.
    dense_node: Vec<u32>,
    dense: Vec<u32>,
    ends: Vec<u32>,
    ids: Vec<u32>,
}

impl Trie {
    /// Builds the trie of `keys`, which must be sorted by key bytes, then id
    /// (equal keys share a node and are reported in that order). Empty keys
    /// are never reported (the loader rejects empty terms).
    pub(crate) fn new(keys: &[(&[u8], u32)]) -> Trie {
        debug_assert!(keys.windows(2).all(|w| w[0] <= w[1]), "keys are sorted");
        let total: usize = keys.iter().map(|(k, _)| k.len()).sum();
        // Pass 1: one edge (parent, byte) per new node, in creation order
        // (node i + 1 is the target of edge i), and each key's last node.
        let mut parent: Vec<u32> = Vec::with_capacity(total);
        let mut edge_byte: Vec<u8> = Vec::with_capacity(total);
        let mut key_node: Vec<u32> = Vec::with_capacity(keys.len());
        let mut path: Vec<u32> = vec![0];
        let mut prev: &[u8] = &[];
        for &(k, _) in keys {
            let lcp = prev.iter().zip(k).take_while(|(a, b)| a == b).count();
            path.truncate(lcp + 1);
            for &b in &k[lcp..] {
                parent.push(*path.last().expect("the path holds the root"));
                edge_byte.push(b);
                path.push(parent.len() as u32);
            }
            key_node.push(*path.last().expect("the path holds the root"));
            prev = k;
        }
        let nodes = parent.len() + 1;
        // Pass 2: edges grouped by parent (a counting sort keeps each
        // parent's children in creation order, which is byte order).
        let mut child = vec![0u32; nodes + 1];
        for &p in &parent {
            child[p as usize + 1] += 1;
        }
        for i in 1..child.len() {
            child[i] += child[i - 1];
        }
        let mut fill = child.clone();
        let mut bytes = vec![0u8; parent.len()];
        let mut next = vec![0u32; parent.len()];
        for (e, (&p, &b)) in parent.iter().zip(&edge_byte).enumerate() {
            let at = fill[p as usize] as usize;
            bytes[at] = b;
            next[at] = e as u32 + 1;
            fill[p as usize] += 1;
        }
        // Key ids by end node: key nodes never decrease in sorted key order
        // (a later key either repeats the last one or creates new nodes).
        let mut ends = vec![0u32; nodes + 1];
        let mut ids = Vec::with_capacity(keys.len());
        for (&(k, id), &n) in keys.iter().zip(&key_node) {
            if !k.is_empty() {
                ends[n as usize + 1] += 1;
                ids.push(id);
            }
        }
        for i in 1..ends.len() {
            ends[i] += ends[i - 1];
        }
        // Each node's state (see the module docs), then targets as states.
        let mut dense_node = Vec::new();
        let mut state = vec![0u32; nodes];
        // Sparse lists after a first end marker (a start of 0 would be the
        // state 0), each with its end marker.
        let mut listed = 1;
        for n in 0..nodes {
            let (lo, hi) = (child[n] as usize, child[n + 1] as usize);
            let ends_here = if ends[n] != ends[n + 1] { ENDS } else { 0 };
            state[n] = if n == 0 || hi - lo > DENSE_MIN {
                dense_node.push(n as u32);
                ((dense_node.len() as u32 - 1) << 2) | DENSE | ends_here
            } else {
                listed += hi - lo + 1;
                ((listed - (hi - lo + 1)) as u32) << 2 | ends_here
            };
        }
        for t in &mut next {
            *t = state[*t as usize];
        }
        let mut dense = vec![0u32; dense_node.len() * 256];
        for (row, &n) in dense_node.iter().enumerate() {
            for i in child[n as usize] as usize..child[n as usize + 1] as usize {
                dense[row * 256 + bytes[i] as usize] = next[i];
            }
        }
        let mut edges = Vec::with_capacity(listed);
        edges.push((END, 0));
        for n in 0..nodes {
            if state[n] & DENSE == 0 {
                let (lo, hi) = (child[n] as usize, child[n + 1] as usize);
                debug_assert_eq!(edges.len() as u32, state[n] >> 2);
                edges.extend((lo..hi).map(|i| (u16::from(bytes[i]), next[i])));
                edges.push((END, n as u32));
            }
        }
        Trie { edges, dense_node, dense, ends, ids }
    }

    /// The node of a (non-zero) state.
    #[inline]
    fn node(&self, state: u32) -> usize {
        if state & DENSE != 0 {
            self.dense_node[(state >> 2) as usize] as usize
        } else {
            // The target of the end marker of the node's list.
            let list = self.edges.get((state >> 2) as usize..).unwrap_or_default();
            list.iter().find(|&&(c, _)| c == END).map_or(0, |&(_, n)| n as usize)
        }
    }

    /// Calls `found(id, end)` for every key that is a prefix of `text[s..]`
    /// (`end` is `s` plus its length), shortest first; keys of equal text in
    /// id order. The bytes between keys' ends are walked in a loop without
    /// the call to `found`, so that inlined into the matcher's loops the
    /// walk's state stays in registers (callgrind, classify on the corpus:
    /// -4.2M instructions; out of line, +17M).
    #[inline]
    pub(crate) fn walk(&self, text: &[u8], s: usize, found: &mut dyn FnMut(usize, usize)) {
        let bytes = text.get(s..).unwrap_or_default();
        let mut state = DENSE; // the root
        let mut k = 0;
        loop {
            // Bytes until the walk dies or reaches the end of a key, in a
            // loop without the call, so its state stays in registers.
            loop {
                let Some(&b) = bytes.get(k) else { return };
                state = self.step(state, b);
                k += 1;
                if state == 0 {
                    return;
                }
                if state & ENDS != 0 {
                    break;
                }
            }
            let node = self.node(state);
            let (lo, hi) = (self.ends[node] as usize, self.ends[node + 1] as usize);
            for &id in &self.ids[lo..hi] {
                found(id as usize, s + k);
            }
        }
    }

    /// The state after `state` on byte `b`, or 0.
    #[inline]
    fn step(&self, state: u32, b: u8) -> u32 {
        if state & DENSE != 0 {
            return self.dense[(state >> 2) as usize * 256 + b as usize];
        }
        // Children in byte order: stop at the first byte not below `b`
        // (at the latest at the end marker, above every byte).
        let b = u16::from(b);
        for &(c, next) in self.edges.get((state >> 2) as usize..).unwrap_or_default() {
            if c >= b {
                return if c == b { next } else { 0 };
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (id, end) a naive prefix test finds, in the walk's order.
    fn naive(keys: &[(&[u8], u32)], text: &[u8], s: usize) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = keys
            .iter()
            .filter(|(k, _)| !k.is_empty() && text[s..].starts_with(k))
            .map(|&(k, id)| (id as usize, s + k.len()))
            .collect();
        out.sort_by_key(|&(id, end)| (end, id));
        out
    }

    fn walk(t: &Trie, text: &[u8], s: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        t.walk(text, s, &mut |id, end| out.push((id, end)));
        out
    }

    #[test]
    fn matches_every_prefix_key_in_end_order() {
        let mut keys: Vec<(&[u8], u32)> = vec![
            (b"a", 3),
            (b"ab", 0),
            (b"abc", 1),
            (b"abd", 2),
            (b"b", 4),
            (b"system prompt", 5),
            (b"system", 6),
            (b"system", 9),
            ("syst\u{e8}me".as_bytes(), 7),
            (b"\\boxed{", 8),
        ];
        keys.sort();
        let t = Trie::new(&keys);
        let texts: [&[u8]; 5] =
            [b"abcd", b"abd ab", b"the system prompt here", "syst\u{e8}me".as_bytes(), b"x\\boxed{1}"];
        for text in texts {
            for s in 0..=text.len() {
                assert_eq!(walk(&t, text, s), naive(&keys, text, s), "{:?} at {s}", String::from_utf8_lossy(text));
            }
        }
        assert_eq!(walk(&t, b"the system prompt", 4), [(6, 10), (9, 10), (5, 17)]);
    }

    #[test]
    fn dense_nodes_and_all_bytes() {
        // The root and a node with every byte as a child take the dense path;
        // a node with a few children the sparse one.
        let owned: Vec<Vec<u8>> =
            (0..=255u8).flat_map(|b| [vec![b'q', b], vec![b, b'x'], vec![b, b'x', b'y']]).collect();
        let mut keys: Vec<(&[u8], u32)> = owned.iter().enumerate().map(|(i, k)| (k.as_slice(), i as u32)).collect();
        keys.sort();
        let t = Trie::new(&keys);
        let text: Vec<u8> = (0..=255u8).chain([b'q', 0xff, b'x', b'y']).collect();
        for s in 0..=text.len() {
            assert_eq!(walk(&t, &text, s), naive(&keys, &text, s));
        }
    }

    #[test]
    fn random_keys_and_texts_match_the_naive_prefix_test() {
        // Keys over a few bytes (so that they share prefixes, end inside one
        // another and repeat), texts over the same bytes: every start.
        let alphabet = [b'a', b'b', b'c', b' ', 0xc3, 0xa9, 0xff];
        for seed in 0..3000u64 {
            let owned: Vec<Vec<u8>> =
                (0..1 + seed % 23).map(|i| crate::testing::random_seq(seed * 31 + i, &alphabet, 7)).collect();
            let mut keys: Vec<(&[u8], u32)> = owned
                .iter()
                .enumerate()
                .map(|(i, k)| (k.as_slice(), i as u32))
                .filter(|(k, _)| !k.is_empty())
                .collect();
            keys.sort();
            let t = Trie::new(&keys);
            let text = crate::testing::random_seq(seed, &alphabet, 40);
            for s in 0..=text.len() {
                assert_eq!(walk(&t, &text, s), naive(&keys, &text, s), "seed {seed} at {s}");
            }
        }
    }

    #[test]
    fn empty() {
        let t = Trie::new(&[]);
        assert!(walk(&t, b"anything", 0).is_empty());
        let t = Trie::new(&[(b"", 0), (b"a", 1)]);
        assert_eq!(walk(&t, b"a", 0), [(1, 1)]);
        assert!(walk(&t, b"a", 5).is_empty());
    }
}
