//! `distillguard export`: a pack's lexicons as a YARA rule file, as one
//! regex alternation, or as a plain literal list, so that other matchers
//! (YARA-X, Python `re`, Hyperscan) can be run on exactly the same terms.
//!
//! What carries over and what does not:
//!
//! - Terms are exported as the classifier matches them: normalised (NFKC,
//!   lower case, accents folded). The peers see the raw text and match
//!   ASCII case-insensitively; they do none of the normalisation projections
//!   (confusables, de-spacing, leetspeak, base64), so they do less work and
//!   find less.
//! - YARA: one private rule per lexicon (`lex_NAME`, its terms as `nocase`
//!   text strings, `fullword` where the classifier anchors the term at word
//!   boundaries on both sides), and one rule per pack rule. `any`, `all`,
//!   `and`, `or` and `not` over lexicons translate exactly. `near`, `seq`,
//!   `count`, `distinct`, `first`, `last` and `number(N)` have no exact YARA
//!   form over rule references: a rule that uses them is exported as the
//!   matching stage only, `any of` the lexicons it names, with the original
//!   condition in a comment. Benchmarks compare matching for those rules.
//! - Regex: Python `re` syntax, `(?i)`, one alternation of every term,
//!   longest first; `\b` word boundaries where the classifier has them (note
//!   `\w` includes `_`, the classifier's word characters do not), a prefix
//!   term ends in `\w*`, a space in a term matches any run of whitespace,
//!   `-` or `_` (as normalisation does).
//! - Literals: every distinct term, one per line, prefix terms without `*`.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use distillguard::condition::{Atom, Expr, Set};
use distillguard::normalize::{is_unspaced_script, is_word_char};
use distillguard::Pack;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A YARA rule file (YARA-X compatible).
    Yara,
    /// One regex alternation (Python `re` syntax).
    Regex,
    /// Every distinct term, one per line.
    Literals,
}

#[derive(Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Output file [default: stdout].
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(g: &crate::common::Global, a: ExportArgs) -> Result<ExitCode> {
    let loaded = g.load(None)?;
    let text = match a.format {
        ExportFormat::Yara => yara(&loaded.pack),
        ExportFormat::Regex => regex(&loaded.pack) + "\n",
        ExportFormat::Literals => literals(&loaded.pack),
    };
    match &a.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the classifier anchors the term at a word boundary on the left
/// and on the right (a prefix term never on the right).
fn boundaries(term: &str, prefix: bool) -> (bool, bool) {
    let word = |c: Option<char>| c.is_some_and(|c| is_word_char(c) && !is_unspaced_script(c));
    (word(term.chars().next()), !prefix && word(term.chars().next_back()))
}

/// A YARA identifier: letters, digits and `_`.
fn ident(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// A YARA text string literal: `\\`, `\"` and every byte outside printable
/// ASCII escaped as `\xNN` (the UTF-8 bytes of non-ASCII characters).
fn yara_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// The pack as a YARA rule file.
pub fn yara(pack: &Pack) -> String {
    let meta = pack.meta();
    let lexicons = pack.lexicon_terms();
    let names: Vec<String> = lexicons.iter().map(|(n, _)| format!("lex_{}", ident(n))).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// distillguard pack {} {}, exported by `distillguard export --format yara`.",
        meta.name, meta.version
    );
    out.push_str(
        "// Terms are normalised (NFKC, lower case, accents folded); YARA matches them on the raw text,\n\
         // ASCII case-insensitively, without distillguard's normalisation projections.\n\
         // Rules using near/seq/count/distinct/first/last/number() are exported as their matching\n\
         // stage only (any of the lexicons they name); see their comments.\n\n",
    );
    for ((lexicon, terms), name) in lexicons.iter().zip(&names) {
        let _ = writeln!(out, "private rule {name} {{  // lexicon `{lexicon}`, {} terms", terms.len());
        if terms.is_empty() {
            out.push_str("  condition:\n    false\n}\n\n");
            continue;
        }
        out.push_str("  strings:\n");
        for (i, (term, prefix)) in terms.iter().enumerate() {
            let (left, right) = boundaries(term, *prefix);
            let fullword = if left && right { " fullword" } else { "" };
            let _ = writeln!(out, "    $t{i} = {} nocase{fullword}", yara_string(term));
        }
        out.push_str("  condition:\n    any of them\n}\n\n");
    }
    for rule in pack.rules() {
        let exact = yara_condition(&rule.when, &names);
        let _ = writeln!(out, "rule {} {{", ident(&rule.id));
        let _ = writeln!(
            out,
            "  meta:\n    category = \"{}\"\n    weight = \"{}\"\n    description = {}",
            rule.category,
            rule.weight,
            yara_string(&rule.description)
        );
        out.push_str("  condition:\n");
        match exact {
            Some(cond) => {
                let _ = writeln!(out, "    {cond}");
            }
            None => {
                let _ = writeln!(out, "    // not expressible in YARA: {}", describe(&rule.when, &lexicons));
                let _ = writeln!(out, "    // exported as the matching stage only: any of the lexicons it names");
                let lex: BTreeSet<u32> = lexicons_of(&rule.when);
                let list: Vec<&str> = lex.iter().map(|&l| names[l as usize].as_str()).collect();
                let _ = writeln!(out, "    {}", if list.is_empty() { "false".to_string() } else { list.join(" or ") });
            }
        }
        out.push_str("}\n\n");
    }
    out
}

/// The exact YARA form of a condition, if it has one.
fn yara_condition(e: &Expr<u32>, names: &[String]) -> Option<String> {
    let set = |s: &Set<u32>| -> Option<String> {
        let parts: Option<Vec<String>> =
            s.0.iter()
                .map(|a| match a {
                    Atom::Lexicon(l) => Some(names[*l as usize].clone()),
                    Atom::Number(_) => None,
                })
                .collect();
        let parts = parts?;
        Some(if parts.len() == 1 { parts[0].clone() } else { format!("({})", parts.join(" or ")) })
    };
    let join = |v: &[Expr<u32>], op: &str| -> Option<String> {
        let parts: Option<Vec<String>> = v.iter().map(|e| yara_condition(e, names)).collect();
        Some(format!("({})", parts?.join(op)))
    };
    match e {
        Expr::Any(s) => set(s),
        Expr::All(sets) => {
            let parts: Option<Vec<String>> = sets.iter().map(set).collect();
            Some(format!("({})", parts?.join(" and ")))
        }
        Expr::Not(inner) => Some(format!("not {}", yara_condition(inner, names)?)),
        Expr::And(v) => join(v, " and "),
        Expr::Or(v) => join(v, " or "),
        Expr::Count { .. } | Expr::Near { .. } | Expr::Position { .. } => None,
    }
}

/// Every lexicon a condition names.
fn lexicons_of(e: &Expr<u32>) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    let _ = e.clone().try_map(&mut |l: u32| {
        out.insert(l);
        Ok::<u32, ()>(l)
    });
    out
}

/// A condition written back in the pack's own syntax, for comments.
fn describe(e: &Expr<u32>, lexicons: &[(String, Vec<(String, bool)>)]) -> String {
    let set = |s: &Set<u32>| -> String {
        s.0.iter()
            .map(|a| match a {
                Atom::Lexicon(l) => lexicons[*l as usize].0.clone(),
                Atom::Number(n) => format!("number({n})"),
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let list = |v: &[Set<u32>]| v.iter().map(set).collect::<Vec<_>>().join(", ");
    match e {
        Expr::Any(s) => set(s),
        Expr::All(v) => format!("all({})", list(v)),
        Expr::Not(inner) => format!("not {}", describe(inner, lexicons)),
        Expr::And(v) => format!("({})", v.iter().map(|e| describe(e, lexicons)).collect::<Vec<_>>().join(" and ")),
        Expr::Or(v) => format!("({})", v.iter().map(|e| describe(e, lexicons)).collect::<Vec<_>>().join(" or ")),
        Expr::Count { set: s, distinct, cmp, n } => {
            let op = match cmp {
                distillguard::condition::Cmp::Ge => ">=",
                distillguard::condition::Cmp::Gt => ">",
                distillguard::condition::Cmp::Le => "<=",
                distillguard::condition::Cmp::Lt => "<",
                distillguard::condition::Cmp::Eq => "==",
            };
            format!("{}({}) {op} {n}", if *distinct { "distinct" } else { "count" }, set(s))
        }
        Expr::Near { a, b, within, ordered } => {
            format!("{}({}, {}, {within})", if *ordered { "seq" } else { "near" }, set(a), set(b))
        }
        Expr::Position { set: s, chars, from_end } => {
            format!("{}({}, {chars})", if *from_end { "last" } else { "first" }, set(s))
        }
    }
}

/// Escapes a term for Python `re`; a space matches what normalisation turns into one.
fn regex_term(term: &str, prefix: bool) -> String {
    let (left, right) = boundaries(term, prefix);
    let mut out = String::new();
    if left {
        out.push_str("\\b");
    }
    for c in term.chars() {
        match c {
            ' ' => out.push_str("[\\s_-]+"),
            '\\' | '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '#' | '&' | '~'
            | '-' | '/' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || c.is_whitespace() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if prefix {
        out.push_str("\\w*");
    } else if right {
        out.push_str("\\b");
    }
    out
}

/// Every term of every lexicon as one case-insensitive alternation, longest first.
pub fn regex(pack: &Pack) -> String {
    let terms: BTreeSet<(String, bool)> = pack.lexicon_terms().into_iter().flat_map(|(_, t)| t).collect();
    let mut alts: Vec<String> = terms.iter().map(|(t, p)| regex_term(t, *p)).collect();
    alts.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    alts.dedup();
    format!("(?i)(?:{})", alts.join("|"))
}

/// Every distinct term, one per line.
pub fn literals(pack: &Pack) -> String {
    let terms: BTreeSet<String> =
        pack.lexicon_terms().into_iter().flat_map(|(_, t)| t.into_iter().map(|(t, _)| t)).collect();
    terms.into_iter().map(|t| t + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(yara_string("\\boxed{\"x\"}"), r#""\\boxed{\"x\"}""#);
        assert_eq!(yara_string("é"), r#""\xc3\xa9""#);
        assert_eq!(regex_term("system prompt", false), r"\bsystem[\s_-]+prompt\b");
        assert_eq!(regex_term("instruct", true), r"\binstruct\w*");
        assert_eq!(regex_term("\\boxed{", false), r"\\boxed\{");
        assert_eq!(regex_term("<think>", false), "<think>");
    }

    #[test]
    fn default_pack_exports() {
        let pack = distillguard::default_pack();
        let y = yara(&pack);
        assert!(y.contains("private rule lex_"));
        assert_eq!(y.matches("\nrule ").count(), pack.rules().len());
        let r = regex(&pack);
        assert!(r.starts_with("(?i)(?:"));
        assert!(!literals(&pack).is_empty());
    }
}
