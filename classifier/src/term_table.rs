//! The term table of a compiled pack: every distinct lexicon term, by index,
//! in one string. It is written exactly as a list of strings was (postcard:
//! a length, then each term as a length and its bytes), and read without an
//! allocation per term: ~19,000 terms in the default pack.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Terms by index (see the module docs).
///
/// Invariants: `ends` is non-decreasing, its last entry is `text.len()`, and
/// each entry is a character boundary of `text`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TermTable {
    text: String,
    ends: Vec<u32>,
}

impl TermTable {
    /// Number of terms.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Term `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    /// The terms in index order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// Appends a term; `None` when the table would pass 4 GiB.
    pub fn push(&mut self, term: &str) -> Option<()> {
        let end = u32::try_from(self.text.len() + term.len()).ok()?;
        self.text.push_str(term);
        self.ends.push(end);
        Some(())
    }
}

impl std::ops::Index<usize> for TermTable {
    type Output = str;

    /// Term `i`; panics when there is none (callers check indices first).
    fn index(&self, i: usize) -> &str {
        self.get(i).expect("term index checked against the table")
    }
}

impl Serialize for TermTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for TermTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TermTable, D::Error> {
        d.deserialize_seq(TableVisitor)
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = TermTable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of terms")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TermTable, A::Error> {
        // The count comes from the input: it only sizes the first allocation
        // up to a bound, it is not trusted.
        let mut bytes: Vec<u8> = Vec::new();
        let mut ends: Vec<u32> = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(term) = seq.next_element::<TermBytes<'de>>()? {
            bytes.extend_from_slice(term.0);
            ends.push(u32::try_from(bytes.len()).map_err(|_| de::Error::custom("term table over 4 GiB"))?);
        }
        // The whole is valid UTF-8 and every term ends on a character
        // boundary: exactly when each term is valid UTF-8 on its own.
        let text = String::from_utf8(bytes).map_err(|_| de::Error::custom("a term is not valid UTF-8"))?;
        if !ends.iter().all(|&e| text.is_char_boundary(e as usize)) {
            return Err(de::Error::custom("a term is not valid UTF-8"));
        }
        Ok(TermTable { text, ends })
    }
}

/// One term as written (a string's encoding), borrowed from the input.
struct TermBytes<'de>(&'de [u8]);

impl<'de> Deserialize<'de> for TermBytes<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TermBytes<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TermBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a term borrowed from the pack bytes")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<TermBytes<'de>, E> {
                Ok(TermBytes(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<TermBytes<'de>, E> {
                Ok(TermBytes(v.as_bytes()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::TermTable;

    #[test]
    fn is_written_as_a_list_of_strings_and_read_back() {
        let terms = ["system prompt", "é", "思考", "x"];
        let mut table = TermTable::default();
        for t in terms {
            table.push(t).unwrap();
        }
        let bytes = postcard::to_allocvec(&table).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&terms.map(String::from).to_vec()).unwrap());
        let back: TermTable = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, table);
        assert_eq!(back.iter().collect::<Vec<_>>(), terms);
        assert_eq!(back.get(4), None);
    }

    #[test]
    fn a_character_split_across_two_terms_is_refused() {
        // "é" is C3 A9: valid as a whole, not as two terms.
        let split = [2u8, 1, 0xC3, 1, 0xA9];
        assert!(postcard::from_bytes::<TermTable>(&split).is_err());
        let whole = [1u8, 2, 0xC3, 0xA9];
        assert_eq!(postcard::from_bytes::<TermTable>(&whole).unwrap().get(0), Some("é"));
    }
}
