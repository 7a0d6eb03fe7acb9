//! The condition language of rules (`when = "near(reveal, secret, 6) and not howto"`).
//!
//! Grammar (lowest precedence first):
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | set
//!          | "any" "(" set ("," set)* ")" | "all" "(" set ("," set)* ")"
//!          | ("count" | "distinct") "(" set ("," set)* ")" cmp NUMBER
//!          | ("near" | "seq") "(" set "," set "," NUMBER ")"
//!          | ("first" | "last") "(" set "," NUMBER ")"
//! set     := atom ("|" atom)*
//! atom    := NAME | "number" "(" NUMBER ")"
//! cmp     := ">=" | ">" | "<=" | "<" | "=="
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use std::cell::Cell;
use std::ops::Range;

/// Upper bound on nesting depth, so a hostile pack cannot blow the stack.
pub const MAX_DEPTH: usize = 32;
/// Upper bound on a `near`/`seq` distance or a `first`/`last` length.
pub const MAX_DISTANCE: u32 = 100_000;

/// One member of a set: a lexicon, or number tokens with a minimum value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Atom<L> {
    /// Any term of the lexicon.
    Lexicon(L),
    /// A number token whose value is at least this.
    Number(u64),
}

/// A union of atoms: `a | b | number(20)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Set<L>(pub Vec<Atom<L>>);

/// Comparison operators for `count` and `distinct`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmp {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `==`
    Eq,
}

impl Cmp {
    /// Applies the comparison.
    pub fn holds(self, left: usize, right: u64) -> bool {
        let left = left as u64;
        match self {
            Cmp::Ge => left >= right,
            Cmp::Gt => left > right,
            Cmp::Le => left <= right,
            Cmp::Lt => left < right,
            Cmp::Eq => left == right,
        }
    }
}

/// A condition. `L` is how a lexicon is named: by source name and span while
/// parsing, by index once compiled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expr<L> {
    /// Some atom of the set occurs (`a`, `a | b`, `any(a, b)`).
    Any(Set<L>),
    /// Every set occurs.
    All(Vec<Set<L>>),
    /// Negation.
    Not(#[serde(deserialize_with = "nested")] Box<Expr<L>>),
    /// Conjunction.
    And(#[serde(deserialize_with = "nested")] Vec<Expr<L>>),
    /// Disjunction.
    Or(#[serde(deserialize_with = "nested")] Vec<Expr<L>>),
    /// Number of occurrences (or of distinct terms) compared with `n`.
    Count {
        /// The occurrences counted.
        set: Set<L>,
        /// Count distinct terms rather than occurrences.
        distinct: bool,
        /// Comparison.
        cmp: Cmp,
        /// Right-hand side.
        n: u64,
    },
    /// Occurrences of `a` and `b` with at most `within` tokens between.
    Near {
        /// First set.
        a: Set<L>,
        /// Second set.
        b: Set<L>,
        /// Maximum number of tokens between the two.
        within: u32,
        /// `a` must come before `b`.
        ordered: bool,
    },
    /// An occurrence within the first (or last) `chars` characters.
    Position {
        /// The set.
        set: Set<L>,
        /// Number of characters.
        chars: u32,
        /// Count from the end of the text.
        from_end: bool,
    },
}

/// How deep a condition read from a compiled pack may nest: more than the
/// parser can produce from [`MAX_DEPTH`] levels (each level is at most an
/// `Or`, an `And` and a `Not`), so every compiled pack loads, while a
/// hand-made pack nested a million levels deep is refused instead of
/// overflowing the stack while it is decoded, evaluated or dropped.
pub(crate) const MAX_DECODED_DEPTH: usize = 4 * MAX_DEPTH;

thread_local! {
    static DECODE_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Decodes a nested condition, counting the nesting (see [`MAX_DECODED_DEPTH`]).
fn nested<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct Level;
    impl Drop for Level {
        fn drop(&mut self) {
            DECODE_DEPTH.with(|c| c.set(c.get().saturating_sub(1)));
        }
    }
    let depth = DECODE_DEPTH.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let _level = Level;
    if depth > MAX_DECODED_DEPTH {
        return Err(serde::de::Error::custom(format!("condition nested deeper than {MAX_DECODED_DEPTH} levels")));
    }
    T::deserialize(d)
}

/// A lexicon reference as written: its name and byte span in the condition.
pub type NameRef = (String, Range<usize>);

impl<L> Expr<L> {
    /// Rewrites every lexicon reference, failing on the first error.
    pub fn try_map<M, E>(self, f: &mut impl FnMut(L) -> Result<M, E>) -> Result<Expr<M>, E> {
        let set = |s: Set<L>, f: &mut dyn FnMut(L) -> Result<M, E>| -> Result<Set<M>, E> {
            s.0.into_iter()
                .map(|a| match a {
                    Atom::Lexicon(l) => f(l).map(Atom::Lexicon),
                    Atom::Number(n) => Ok(Atom::Number(n)),
                })
                .collect::<Result<Vec<_>, E>>()
                .map(Set)
        };
        Ok(match self {
            Expr::Any(s) => Expr::Any(set(s, f)?),
            Expr::All(v) => Expr::All(v.into_iter().map(|s| set(s, f)).collect::<Result<_, _>>()?),
            Expr::Not(e) => Expr::Not(Box::new(e.try_map(f)?)),
            Expr::And(v) => Expr::And(v.into_iter().map(|e| e.try_map(f)).collect::<Result<_, _>>()?),
            Expr::Or(v) => Expr::Or(v.into_iter().map(|e| e.try_map(f)).collect::<Result<_, _>>()?),
            Expr::Count { set: s, distinct, cmp, n } => Expr::Count { set: set(s, f)?, distinct, cmp, n },
            Expr::Near { a, b, within, ordered } => Expr::Near { a: set(a, f)?, b: set(b, f)?, within, ordered },
            Expr::Position { set: s, chars, from_end } => Expr::Position { set: set(s, f)?, chars, from_end },
        })
    }
}

/// A syntax error at a byte offset of the condition text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What went wrong.
    pub message: String,
    /// Byte span in the condition text.
    pub span: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    Num(u64),
    LParen,
    RParen,
    Comma,
    Pipe,
    Cmp(Cmp),
    End,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn next(&mut self) -> Result<(Tok, Range<usize>), SyntaxError> {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && (bytes[self.pos] as char).is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&b) = bytes.get(start) else { return Ok((Tok::End, start..start)) };
        let single = |t: Tok, me: &mut Self| {
            me.pos += 1;
            Ok((t, start..start + 1))
        };
        match b {
            b'(' => single(Tok::LParen, self),
            b')' => single(Tok::RParen, self),
            b',' => single(Tok::Comma, self),
            b'|' if bytes.get(start + 1) == Some(&b'|') => Err(SyntaxError {
                message: "`||` is not an operator: did you mean `or`?".into(),
                span: start..start + 2,
            }),
            b'&' => Err(SyntaxError {
                message: format!(
                    "`{}` is not an operator: did you mean `and`?",
                    if bytes.get(start + 1) == Some(&b'&') { "&&" } else { "&" }
                ),
                span: start..start + 1 + usize::from(bytes.get(start + 1) == Some(&b'&')),
            }),
            b'!' => Err(SyntaxError {
                message: "`!` is not an operator: did you mean `not`?".into(),
                span: start..start + 1,
            }),
            b'|' => single(Tok::Pipe, self),
            b'>' | b'<' | b'=' => {
                let two = bytes.get(start + 1) == Some(&b'=');
                let cmp = match (b, two) {
                    (b'>', true) => Cmp::Ge,
                    (b'>', false) => Cmp::Gt,
                    (b'<', true) => Cmp::Le,
                    (b'<', false) => Cmp::Lt,
                    (b'=', true) => Cmp::Eq,
                    _ => return Err(SyntaxError { message: "expected `==`".into(), span: start..start + 1 }),
                };
                self.pos += if two { 2 } else { 1 };
                Ok((Tok::Cmp(cmp), start..self.pos))
            }
            b'0'..=b'9' => {
                while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                let text = &self.src[start..self.pos];
                let n = text.parse::<u64>().map_err(|_| SyntaxError {
                    message: format!("number `{text}` is too large"),
                    span: start..self.pos,
                })?;
                Ok((Tok::Num(n), start..self.pos))
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while self.pos < bytes.len()
                    && (bytes[self.pos].is_ascii_alphanumeric() || matches!(bytes[self.pos], b'_' | b'-' | b'.'))
                {
                    self.pos += 1;
                }
                Ok((Tok::Name(self.src[start..self.pos].to_string()), start..self.pos))
            }
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                Err(SyntaxError { message: format!("unexpected character `{ch}`"), span: start..start + ch.len_utf8() })
            }
        }
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    tok: Tok,
    span: Range<usize>,
    depth: usize,
}

/// Parses a condition. Lexicon names are returned with their spans so the
/// compiler can point at an unknown one.
///
/// ```
/// use distillguard::condition::{parse, Expr};
/// let e = parse("near(reveal, secret | prompt, 6) and not howto").unwrap();
/// assert!(matches!(e, Expr::And(_)));
/// assert!(parse("near(reveal)").is_err());
/// ```
pub fn parse(src: &str) -> Result<Expr<NameRef>, SyntaxError> {
    let mut lexer = Lexer { src, pos: 0 };
    let (tok, span) = lexer.next()?;
    let mut p = Parser { lexer, tok, span, depth: 0 };
    if p.tok == Tok::End {
        return Err(SyntaxError { message: "empty condition".into(), span: 0..src.len() });
    }
    let e = p.or()?;
    if p.tok != Tok::End {
        return Err(p.unexpected("`and`, `or` or the end of the condition"));
    }
    Ok(e)
}

const FUNCTIONS: &[&str] = &["any", "all", "count", "distinct", "near", "seq", "first", "last", "number"];

impl Parser<'_> {
    fn bump(&mut self) -> Result<(), SyntaxError> {
        let (tok, span) = self.lexer.next()?;
        self.tok = tok;
        self.span = span;
        Ok(())
    }

    fn unexpected(&self, wanted: &str) -> SyntaxError {
        let found = match &self.tok {
            Tok::End => "the end of the condition".to_string(),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Num(n) => format!("`{n}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Pipe => "`|`".into(),
            Tok::Cmp(_) => "a comparison".into(),
        };
        SyntaxError { message: format!("expected {wanted}, found {found}"), span: self.span.clone() }
    }

    fn expect(&mut self, tok: Tok, wanted: &str) -> Result<(), SyntaxError> {
        if self.tok != tok {
            return Err(self.unexpected(wanted));
        }
        self.bump()
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Name(n) if n == kw)
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("condition nested deeper than {MAX_DEPTH} levels"),
                span: self.span.clone(),
            });
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr<NameRef>, SyntaxError> {
        self.enter()?;
        let mut items = vec![self.and()?];
        while self.is_keyword("or") {
            self.bump()?;
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr<NameRef>, SyntaxError> {
        let mut items = vec![self.unary()?];
        while self.is_keyword("and") {
            self.bump()?;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Expr::And(items) })
    }

    fn unary(&mut self) -> Result<Expr<NameRef>, SyntaxError> {
        if self.is_keyword("not") {
            self.enter()?;
            self.bump()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn number(&mut self, what: &str) -> Result<u64, SyntaxError> {
        match self.tok {
            Tok::Num(n) => {
                self.bump()?;
                Ok(n)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn distance(&mut self, what: &str) -> Result<u32, SyntaxError> {
        let span = self.span.clone();
        let n = self.number(what)?;
        if n > MAX_DISTANCE as u64 {
            return Err(SyntaxError { message: format!("{n} is above the limit of {MAX_DISTANCE}"), span });
        }
        Ok(n as u32)
    }

    fn sets(&mut self) -> Result<Vec<Set<NameRef>>, SyntaxError> {
        self.expect(Tok::LParen, "`(`")?;
        let mut sets = vec![self.set()?];
        while self.tok == Tok::Comma {
            self.bump()?;
            sets.push(self.set()?);
        }
        self.expect(Tok::RParen, "`,` or `)`")?;
        Ok(sets)
    }

    fn primary(&mut self) -> Result<Expr<NameRef>, SyntaxError> {
        let name = match &self.tok {
            Tok::LParen => {
                self.bump()?;
                let e = self.or()?;
                self.expect(Tok::RParen, "`)`")?;
                return Ok(e);
            }
            Tok::Name(n) => n.clone(),
            _ => return Err(self.unexpected("a lexicon name, a function or `(`")),
        };
        if matches!(name.as_str(), "and" | "or") {
            return Err(self.unexpected("a lexicon name, a function or `(`"));
        }
        let is_call = FUNCTIONS.contains(&name.as_str()) && name != "number";
        if !FUNCTIONS.contains(&name.as_str()) && self.lexer.src[self.lexer.pos..].trim_start().starts_with('(') {
            let hint =
                crate::error::closest(&name, FUNCTIONS).map_or(String::new(), |f| format!(": did you mean `{f}`?"));
            return Err(SyntaxError { message: format!("unknown function `{name}`{hint}"), span: self.span.clone() });
        }
        if !is_call {
            return Ok(Expr::Any(self.set()?));
        }
        self.bump()?;
        match name.as_str() {
            "any" => {
                let sets = self.sets()?;
                Ok(Expr::Any(Set(sets.into_iter().flat_map(|s| s.0).collect())))
            }
            "all" => Ok(Expr::All(self.sets()?)),
            "count" | "distinct" => {
                let sets = self.sets()?;
                let cmp = match self.tok {
                    Tok::Cmp(c) => c,
                    _ => return Err(self.unexpected("a comparison such as `>= 3`")),
                };
                self.bump()?;
                let n = self.number("a number")?;
                let set = Set(sets.into_iter().flat_map(|s| s.0).collect());
                Ok(Expr::Count { set, distinct: name == "distinct", cmp, n })
            }
            "near" | "seq" => {
                self.expect(Tok::LParen, "`(`")?;
                let a = self.set()?;
                self.expect(Tok::Comma, "`,`")?;
                let b = self.set()?;
                self.expect(Tok::Comma, "`,` and a token distance")?;
                let within = self.distance("a token distance")?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(Expr::Near { a, b, within, ordered: name == "seq" })
            }
            _ => {
                // first / last
                self.expect(Tok::LParen, "`(`")?;
                let set = self.set()?;
                self.expect(Tok::Comma, "`,` and a number of characters")?;
                let chars = self.distance("a number of characters")?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(Expr::Position { set, chars, from_end: name == "last" })
            }
        }
    }

    fn set(&mut self) -> Result<Set<NameRef>, SyntaxError> {
        let mut atoms = vec![self.atom()?];
        while self.tok == Tok::Pipe {
            self.bump()?;
            atoms.push(self.atom()?);
        }
        Ok(Set(atoms))
    }

    fn atom(&mut self) -> Result<Atom<NameRef>, SyntaxError> {
        let Tok::Name(name) = &self.tok else { return Err(self.unexpected("a lexicon name")) };
        let name = name.clone();
        if name == "number" {
            self.bump()?;
            self.expect(Tok::LParen, "`(`")?;
            let n = self.number("a minimum value")?;
            self.expect(Tok::RParen, "`)`")?;
            return Ok(Atom::Number(n));
        }
        if FUNCTIONS.contains(&name.as_str()) || matches!(name.as_str(), "and" | "or" | "not") {
            return Err(SyntaxError {
                message: format!("`{name}` is a keyword and cannot be used as a lexicon name here"),
                span: self.span.clone(),
            });
        }
        let span = self.span.clone();
        self.bump()?;
        Ok(Atom::Lexicon((name, span)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: &Expr<NameRef>) -> String {
        format!("{e:?}")
    }

    #[test]
    fn precedence_not_and_or() {
        let e = parse("a or b and not c").unwrap();
        match e {
            Expr::Or(v) => {
                assert_eq!(v.len(), 2);
                assert!(matches!(&v[1], Expr::And(w) if matches!(w[1], Expr::Not(_))));
            }
            other => panic!("{}", names(&other)),
        }
    }

    #[test]
    fn functions_parse() {
        for src in [
            "any(a, b | c)",
            "all(a, b)",
            "count(a, b) >= 3",
            "distinct(a) == 2",
            "near(a | number(20), b, 8)",
            "seq(a, b, 0)",
            "first(a, 200) or last(b, 10)",
            "(a or b) and (c or d)",
        ] {
            parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        }
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("", "empty condition", 0),
            ("near(a, b)", "expected `,` and a token distance", 9),
            ("a and", "expected a lexicon name", 5),
            ("a b", "expected `and`, `or`", 2),
            ("count(a) 3", "expected a comparison", 9),
            ("a # b", "unexpected character `#`", 2),
            ("any(and)", "is a keyword", 4),
            ("near(a, b, 999999999)", "above the limit", 11),
            ("(a", "expected `)`", 2),
        ];
        for (src, msg, at) in cases {
            let err = parse(src).unwrap_err();
            assert!(err.message.contains(msg), "{src}: {}", err.message);
            assert_eq!(err.span.start, at, "{src}: {err:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let src = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&src).unwrap_err().message.contains("nested deeper"));
        let src = format!("{}a", "not ".repeat(10_000));
        assert!(parse(&src).unwrap_err().message.contains("nested deeper"));
    }
}
