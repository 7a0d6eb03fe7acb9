//! Named conditions: `[conditions]` in `pack.toml` names a condition once and
//! rules use it by name, on its own, wherever a condition may stand:
//!
//! ```toml
//! [conditions]
//! discussing = "first(review_request, 300) and not last(ai_address, 250)"
//!
//! [[rule]]
//! id = "SPL-001"
//! when = "near(reveal, system_prompt, 8) and not discussing"
//! ```
//!
//! A named condition may use other named conditions (not itself, directly or
//! through others). Names share one namespace with lexicons. Conditions are
//! expanded where they are used, so a compiled pack holds plain conditions
//! and the engine does not know they had names.

use crate::condition::{Atom, Expr, NameRef, Set};
use std::collections::{BTreeMap, BTreeSet};

/// What names in a condition can refer to.
pub(crate) struct Names<'a> {
    /// Lexicon indices by name.
    pub lexicons: &'a BTreeMap<String, u32>,
    /// Named conditions resolved so far, by name.
    pub conditions: &'a BTreeMap<String, Expr<u32>>,
    /// Named conditions that failed to compile (already reported: a rule
    /// using one adds no second error).
    pub failed: &'a BTreeSet<String>,
}

/// Why a name could not be resolved.
#[derive(Debug)]
pub(crate) enum NameError {
    /// Neither a lexicon nor a (resolved) named condition.
    Unknown(NameRef),
    /// A named condition used where a set of lexicons is needed
    /// (`near(discussing, x, 3)`, `a | discussing`).
    ConditionInSet(NameRef),
}

/// The named condition a bare name stands for: `x` on its own, not in a set
/// with others, not inside a function.
fn bare_name<L>(e: &Expr<L>) -> Option<&L> {
    match e {
        Expr::Any(Set(atoms)) => match atoms.as_slice() {
            [Atom::Lexicon(l)] => Some(l),
            _ => None,
        },
        _ => None,
    }
}

/// Resolves lexicon names to indices and expands named conditions.
pub(crate) fn resolve(e: Expr<NameRef>, names: &Names<'_>) -> Result<Expr<u32>, NameError> {
    if let Some((name, _)) = bare_name(&e) {
        if let Some(c) = names.conditions.get(name) {
            return Ok(c.clone());
        }
    }
    Ok(match e {
        Expr::Not(inner) => Expr::Not(Box::new(resolve(*inner, names)?)),
        Expr::And(v) => Expr::And(v.into_iter().map(|e| resolve(e, names)).collect::<Result<_, _>>()?),
        Expr::Or(v) => Expr::Or(v.into_iter().map(|e| resolve(e, names)).collect::<Result<_, _>>()?),
        other => other.try_map(&mut |(name, span): NameRef| match names.lexicons.get(&name) {
            Some(&i) => Ok(i),
            None if names.conditions.contains_key(&name) => Err(NameError::ConditionInSet((name, span))),
            None => Err(NameError::Unknown((name, span))),
        })?,
    })
}

/// The names that `e` uses on their own (candidates for named conditions).
pub(crate) fn bare_names(e: &Expr<NameRef>, out: &mut Vec<String>) {
    if let Some((name, _)) = bare_name(e) {
        out.push(name.clone());
        return;
    }
    match e {
        Expr::Not(inner) => bare_names(inner, out),
        Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| bare_names(e, out)),
        _ => {}
    }
}

/// How deeply `e` nests (a leaf is 1).
pub(crate) fn depth<L>(e: &Expr<L>) -> usize {
    match e {
        Expr::Not(inner) => 1 + depth(inner),
        Expr::And(v) | Expr::Or(v) => 1 + v.iter().map(depth).max().unwrap_or(0),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::parse;

    fn names() -> (BTreeMap<String, u32>, BTreeMap<String, Expr<u32>>) {
        let lexicons: BTreeMap<String, u32> = [("a".to_string(), 0), ("b".to_string(), 1)].into();
        let guard = resolve(
            parse("a and not b").unwrap(),
            &Names { lexicons: &lexicons, conditions: &BTreeMap::new(), failed: &BTreeSet::new() },
        )
        .unwrap();
        (lexicons, [("guard".to_string(), guard)].into())
    }

    #[test]
    fn a_bare_name_expands_to_its_condition() {
        let (lexicons, conditions) = names();
        let n = Names { lexicons: &lexicons, conditions: &conditions, failed: &BTreeSet::new() };
        let e = resolve(parse("b or not guard").unwrap(), &n).unwrap();
        let expected = resolve(parse("b or not (a and not b)").unwrap(), &n).unwrap();
        assert_eq!(e, expected);
    }

    #[test]
    fn a_condition_in_a_set_or_an_unknown_name_is_an_error() {
        let (lexicons, conditions) = names();
        let n = Names { lexicons: &lexicons, conditions: &conditions, failed: &BTreeSet::new() };
        let err = resolve(parse("near(a, guard, 3)").unwrap(), &n).unwrap_err();
        assert!(matches!(err, NameError::ConditionInSet((ref name, ref span)) if name == "guard" && *span == (8..13)));
        assert!(matches!(resolve(parse("a | guard").unwrap(), &n), Err(NameError::ConditionInSet(_))));
        assert!(
            matches!(resolve(parse("a and gaurd").unwrap(), &n), Err(NameError::Unknown((name, _))) if name == "gaurd")
        );
    }

    #[test]
    fn bare_names_and_depth() {
        let e = parse("(x or near(a, y, 2)) and not z").unwrap();
        let mut out = Vec::new();
        bare_names(&e, &mut out);
        assert_eq!(out, ["x", "z"]);
        assert_eq!(depth(&e), 3);
    }
}
