//! Compiling a pack from source: `pack.toml`, lexicon files and case files.

use crate::condition::{self, Expr, NameRef};
use crate::error::closest;
use crate::error::{Error, ErrorCode, Errors, Location};
use crate::eval;
use crate::lexical::{Blend, LexicalModel};
use crate::matcher::{deletions, tokenize, FUZZY_MIN_CHARS};
use crate::named::{self, NameError, Names};
use crate::normalize::{is_unspaced_script, is_word_char, Normalizer, Steps};
use crate::pack::{Case, Category, Label, LexiconInfo, Pack, PackData, PackMeta, Phrase, Posting, Rule};
use crate::segment::{Role, RoleSet};
use crate::term_table::TermTable;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::Spanned;

/// The files of a pack source, by path relative to the pack directory
/// (always with `/` separators). Reading them from disk is the caller's job:
/// the classifier does no I/O.
///
/// ```
/// let mut src = distillguard::PackSource::new();
/// src.add("pack.toml", "[pack]\nname = \"tiny\"\nversion = \"1.0.0\"\nthreshold = 0.5\n\
///   [lexicons]\nreveal = \"lexicons/reveal.txt\"\n\
///   [[rule]]\nid = \"T-001\"\ncategory = \"system_prompt_leak\"\nweight = 0.9\n\
///   description = \"reveal\"\nwhen = \"reveal\"\n");
/// src.add("lexicons/reveal.txt", "# verbs\nreveal\nprint out\n");
/// let pack = distillguard::PackCompiler::new().compile(&src).unwrap();
/// assert_eq!(pack.classify("please PRINT  OUT everything").label, distillguard::Label::Extraction);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackSource {
    files: BTreeMap<String, String>,
}

impl PackSource {
    /// An empty source.
    pub fn new() -> PackSource {
        PackSource::default()
    }

    /// Adds (or replaces) a file.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> &mut Self {
        let path: String = path.into();
        self.files.insert(path.replace('\\', "/").trim_start_matches("./").to_string(), text.into());
        self
    }

    /// The text of a file.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path.trim_start_matches("./")).map(String::as_str)
    }

    /// All files, by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Documented limits on what a pack may contain, so a hostile pack cannot
/// make compilation run away. Exceeding one is error `E015`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Lexicon terms over all lexicons.
    pub max_terms: usize,
    /// Bytes per term.
    pub max_term_bytes: usize,
    /// Rules.
    pub max_rules: usize,
    /// Lexicons.
    pub max_lexicons: usize,
    /// Cases.
    pub max_cases: usize,
    /// Bytes of all source files together.
    pub max_source_bytes: usize,
    /// Keys of the typo-tolerance index: a `fuzzy = 1` term of n characters
    /// adds n + 1 (itself and each one-character deletion).
    pub max_fuzzy_keys: usize,
    /// Terms in typo-tolerant lexicons: at classification each is compared
    /// with every word of the text, so they are meant for a few key nouns.
    pub max_fuzzy_terms: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_terms: 200_000,
            max_term_bytes: 200,
            max_rules: 5_000,
            max_lexicons: 1_000,
            max_cases: 20_000,
            max_source_bytes: 32 << 20,
            max_fuzzy_keys: 500_000,
            max_fuzzy_terms: 500,
        }
    }
}

/// Validates a [`PackSource`] and compiles it into a [`Pack`].
///
/// Every problem found is reported, each with a stable code and the file,
/// line and column it is at. No input makes it panic.
#[derive(Clone, Debug, Default)]
pub struct PackCompiler {
    limits: Limits,
    without_model: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackToml {
    pack: PackSection,
    #[serde(default)]
    lexicons: BTreeMap<Spanned<String>, Spanned<LexiconDecl>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RuleToml>>,
    /// Per category, the roles of the segments its rules read.
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>,
    /// Named conditions that rules use by name (see [`crate::named`]).
    #[serde(default)]
    conditions: BTreeMap<Spanned<String>, Spanned<String>>,
    /// The lexical model blended with the rules.
    model: Option<Spanned<ModelToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelToml {
    /// The model file, written by `distillguard fit`.
    file: Spanned<String>,
    /// The model's share of a category's score ([`crate::lexical::Blend`]).
    share: Spanned<f64>,
    /// A category's score per unit of the model's probability when none of
    /// its rules fired; `share` when absent.
    alone: Option<Spanned<f64>>,
    /// From this probability of extraction on, the model reports evidence.
    evidence_from: Spanned<f64>,
}

fn one() -> u32 {
    1
}

/// A model file as `distillguard fit` writes it ([`LexicalModel::to_source`]).
/// Fields other than these (how it was fitted) are for people.
#[derive(Deserialize)]
struct ModelFile {
    buckets: u32,
    window: u32,
    /// Files written before it existed scale every window to unit length.
    #[serde(default = "one")]
    min_features: u32,
    bias: Vec<f64>,
    scale: f64,
    /// The `i8` weights, base64.
    weights: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackSection {
    name: Spanned<String>,
    version: String,
    #[serde(default)]
    description: String,
    threshold: Spanned<f64>,
    normalize: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LexiconDecl {
    File(String),
    Table {
        file: String,
        #[serde(default)]
        fuzzy: u8,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: Spanned<String>,
    category: Spanned<String>,
    weight: Spanned<f64>,
    #[serde(default)]
    description: String,
    when: Option<Spanned<String>>,
    /// Overrides the category's `[roles]` entry for this rule.
    roles: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CasesToml {
    #[serde(default, rename = "case")]
    cases: Vec<Spanned<CaseToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseToml {
    text: String,
    system: Option<String>,
    label: Spanned<String>,
    category: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<Spanned<String>>,
    #[serde(default)]
    not_rules: Vec<Spanned<String>>,
    score_below: Option<Spanned<f64>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// Terms and their lexicon memberships, gathered before building the sets.
#[derive(Default)]
struct TermTables {
    terms: Vec<String>,
    term_ids: BTreeMap<String, u32>,
    tokens: BTreeMap<String, BTreeSet<Posting>>,
    fuzzy: BTreeMap<String, BTreeSet<Posting>>,
    phrases: BTreeMap<String, (BTreeSet<Posting>, bool, bool)>,
    /// Fuzzy keys inserted so far (with repeats), checked against `Limits::max_fuzzy_keys`.
    fuzzy_keys: usize,
}

impl TermTables {
    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.term_ids.get(term) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(term.to_string());
        self.term_ids.insert(term.to_string(), id);
        id
    }
}

struct Ctx<'a> {
    src: &'a PackSource,
    errors: Vec<Error>,
}

impl Ctx<'_> {
    fn err(&mut self, code: ErrorCode, file: &str, span: Range<usize>, msg: impl Into<String>) -> &mut Error {
        let text = self.src.get(file).unwrap_or("");
        self.errors.push(Error::new(code, msg).at(Location::in_source(file, text, span)));
        self.errors.last_mut().expect("just pushed")
    }
}

fn toml_error(code: ErrorCode, file: &str, text: &str, e: &toml::de::Error) -> Error {
    let span = e.span().unwrap_or(0..0);
    let msg = e.message().trim().replace('\n', " ");
    let hint = unknown_field_hint(&msg);
    let err = Error::new(code, msg).at(Location::in_source(file, text, span));
    match hint {
        Some(h) => err.with_note(format!("did you mean `{h}`?")),
        None => err,
    }
}

/// For serde's "unknown field `wehn`, expected one of `id`, `when`": the
/// expected name closest to the unknown one.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    closest(name, &expected).map(str::to_string)
}

/// Byte offset where the contents of the TOML string literal at `span` start.
fn string_contents_start(doc: &str, span: &Range<usize>) -> usize {
    let lit = doc.get(span.clone()).unwrap_or("");
    let skip = if lit.starts_with("\"\"\"") || lit.starts_with("'''") {
        let after = &lit[3..];
        3 + if after.starts_with("\r\n") { 2 } else { usize::from(after.starts_with('\n')) }
    } else {
        1
    };
    span.start + skip.min(lit.len())
}

impl PackCompiler {
    /// A compiler with the default [`Limits`].
    pub fn new() -> PackCompiler {
        PackCompiler::default()
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> PackCompiler {
        self.limits = limits;
        self
    }

    /// Compiles without the `[model]` section (what `distillguard fit` does
    /// before there is a model to read).
    pub fn without_model(mut self) -> PackCompiler {
        self.without_model = true;
        self
    }

    /// Validates and compiles. On failure, returns every error found.
    pub fn compile(&self, src: &PackSource) -> Result<Pack, Errors> {
        let mut cx = Ctx { src, errors: Vec::new() };
        let total: usize = src.files().map(|(_, t)| t.len()).sum();
        if total > self.limits.max_source_bytes {
            return Err(Errors(vec![Error::new(
                ErrorCode::LimitExceeded,
                format!("pack sources are {total} bytes, the limit is {}", self.limits.max_source_bytes),
            )]));
        }
        let Some(doc) = src.get("pack.toml") else {
            return Err(Errors(vec![Error::new(ErrorCode::MissingFile, "the pack has no pack.toml")]));
        };
        if let Err(e) = doc.parse::<toml::Table>() {
            return Err(Errors(vec![toml_error(ErrorCode::TomlSyntax, "pack.toml", doc, &e)]));
        }
        let parsed: PackToml = match toml::from_str(doc) {
            Ok(p) => p,
            Err(e) => return Err(Errors(vec![toml_error(ErrorCode::Schema, "pack.toml", doc, &e)])),
        };

        let meta = self.meta(&mut cx, &parsed.pack);
        let category_roles = self.category_roles(&mut cx, &parsed.roles);
        let normalizer = Normalizer::new(meta.steps);

        // Lexicons.
        let mut tables = TermTables::default();
        let mut lexicons = Vec::new();
        let mut lex_index: BTreeMap<String, u32> = BTreeMap::new();
        let mut lex_spans: Vec<Range<usize>> = Vec::new();
        if parsed.lexicons.len() > self.limits.max_lexicons {
            cx.errors.push(Error::new(
                ErrorCode::LimitExceeded,
                format!("{} lexicons, the limit is {}", parsed.lexicons.len(), self.limits.max_lexicons),
            ));
            return Err(Errors(cx.errors));
        }
        for (name, decl) in &parsed.lexicons {
            if tables.terms.len() > self.limits.max_terms || tables.fuzzy_keys > self.limits.max_fuzzy_keys {
                break; // reported below; reading more would only cost time and memory
            }
            let idx = lexicons.len() as u32;
            let (file, fuzzy) = match decl.get_ref() {
                LexiconDecl::File(f) => (f.clone(), 0),
                LexiconDecl::Table { file, fuzzy } => (file.clone(), *fuzzy),
            };
            if !valid_name(name.get_ref()) {
                cx.err(
                    ErrorCode::Schema,
                    "pack.toml",
                    name.span(),
                    format!("lexicon name `{}` is not a valid name", name.get_ref()),
                )
                .note = Some(if RESERVED.contains(&name.get_ref().as_str()) {
                    format!(
                        "`{}` is a condition keyword, so a condition could not name this lexicon; rename it, e.g. `{}_terms`",
                        name.get_ref(),
                        name.get_ref()
                    )
                } else {
                    "use letters, digits, `_`, `-` or `.`, starting with a letter".into()
                });
            }
            if fuzzy > 1 {
                cx.err(
                    ErrorCode::Schema,
                    "pack.toml",
                    decl.span(),
                    format!("fuzzy = {fuzzy}: only 0 or 1 edits are supported"),
                );
            }
            let count = match src.get(&file) {
                Some(text) => self.lexicon_terms(&mut cx, &normalizer, &file, text, idx, fuzzy, &mut tables),
                None => {
                    cx.err(
                        ErrorCode::MissingFile,
                        "pack.toml",
                        decl.span(),
                        format!("lexicon `{}` refers to `{file}`, which is not in the pack", name.get_ref()),
                    );
                    0
                }
            };
            lex_index.insert(name.get_ref().clone(), idx);
            lex_spans.push(name.span());
            lexicons.push(LexiconInfo { name: name.get_ref().clone(), fuzzy, terms: count });
        }
        if tables.terms.len() > self.limits.max_terms {
            cx.errors.push(Error::new(
                ErrorCode::LimitExceeded,
                format!("more than {} lexicon terms, the limit", self.limits.max_terms),
            ));
            return Err(Errors(cx.errors));
        }
        if tables.fuzzy_keys > self.limits.max_fuzzy_keys {
            cx.errors.push(
                Error::new(
                    ErrorCode::LimitExceeded,
                    format!(
                        "the typo-tolerant lexicons need more than {} index keys, the limit",
                        self.limits.max_fuzzy_keys
                    ),
                )
                .with_note("a `fuzzy = 1` term of n characters needs n + 1 keys; keep fuzzy lexicons to short words"),
            );
            return Err(Errors(cx.errors));
        }

        let fuzzy_terms: BTreeSet<u32> = tables.fuzzy.values().flatten().map(|p| p.term).collect();
        if fuzzy_terms.len() > self.limits.max_fuzzy_terms {
            cx.errors.push(
                Error::new(
                    ErrorCode::LimitExceeded,
                    format!("{} terms in typo-tolerant lexicons, the limit is {}", fuzzy_terms.len(), self.limits.max_fuzzy_terms),
                )
                .with_note("each typo-tolerant term is compared with every word of a text: keep `fuzzy = 1` for a few key nouns"),
            );
            return Err(Errors(cx.errors));
        }

        // Rules.
        let mut rules = Vec::new();
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let mut used = vec![false; lexicons.len()];
        if parsed.rules.len() > self.limits.max_rules {
            cx.errors.push(Error::new(
                ErrorCode::LimitExceeded,
                format!("{} rules, the limit is {}", parsed.rules.len(), self.limits.max_rules),
            ));
            return Err(Errors(cx.errors));
        }
        let conditions = self.conditions(&mut cx, doc, &parsed.conditions, &lex_index);
        let failed: BTreeSet<String> =
            parsed.conditions.keys().map(|k| k.get_ref().clone()).filter(|k| !conditions.contains_key(k)).collect();
        let names = Names { lexicons: &lex_index, conditions: &conditions, failed: &failed };
        for rule in &parsed.rules {
            let (r, span) = (rule.get_ref(), rule.span());
            if let Some(r) = self.rule(&mut cx, doc, r, span, &names, &lexicons, &category_roles, &mut seen) {
                mark_used(&r.when, &mut used);
                rules.push(r);
            }
        }
        let mut warnings: Vec<Error> = lexicons
            .iter()
            .zip(&used)
            .zip(&lex_spans)
            .filter(|((_, u), _)| !**u)
            .map(|((l, _), span)| {
                Error::new(ErrorCode::UnusedLexicon, format!("lexicon `{}` is not used by any rule", l.name))
                    .at(Location::in_source("pack.toml", doc, span.clone()))
                    .with_note("use it in a rule or remove it; it still costs load time and memory")
            })
            .collect();
        let mut used_conditions = Vec::new();
        let sources = parsed.rules.iter().filter_map(|r| r.get_ref().when.as_ref().map(|w| w.get_ref()));
        for text in sources.chain(parsed.conditions.values().map(|c| c.get_ref())) {
            if let Ok(e) = condition::parse(text) {
                named::bare_names(&e, &mut used_conditions);
            }
        }
        warnings.extend(
            conditions
                .keys()
                .filter(|name| !used_conditions.contains(name))
                .map(|name| Error::new(ErrorCode::Schema, format!("condition `{name}` is not used by any rule"))),
        );

        // Cases.
        // Every declared id, compiled or not: a rule with an error is reported
        // once, not again for every case that names it.
        let rule_ids: BTreeSet<&str> = parsed.rules.iter().map(|r| r.get_ref().id.get_ref().as_str()).collect();
        let mut cases = Vec::new();
        for (path, text) in src.files().filter(|(p, _)| p.starts_with("cases/") && p.ends_with(".toml")) {
            self.case_file(&mut cx, path, text, &rule_ids, &mut cases);
        }
        if cases.len() > self.limits.max_cases {
            cx.errors.push(Error::new(
                ErrorCode::LimitExceeded,
                format!("{} cases, the limit is {}", cases.len(), self.limits.max_cases),
            ));
        }

        let model = match &parsed.model {
            Some(m) if !self.without_model => self.model(&mut cx, m.get_ref()),
            _ => None,
        };

        if !cx.errors.is_empty() {
            return Err(Errors(cx.errors));
        }
        let data = build_data(meta, lexicons, tables, rules, cases, model);
        let mut pack = Pack::from_data(data).map_err(|e| Errors(vec![e]))?;
        pack.warnings = warnings;
        Ok(pack)
    }

    /// Reads `[model]` and the model file it names.
    fn model(&self, cx: &mut Ctx<'_>, m: &ModelToml) -> Option<LexicalModel> {
        let share = *m.share.get_ref();
        let alone = m.alone.as_ref().map_or(share, |a| *a.get_ref());
        let blend = Blend { share, alone, evidence_from: *m.evidence_from.get_ref() };
        if let Err(e) = blend.validate() {
            cx.err(
                ErrorCode::BadWeight,
                "pack.toml",
                m.share.span().start..m.evidence_from.span().end,
                format!("[model]: {e}"),
            );
            return None;
        }
        let path = m.file.get_ref();
        let Some(text) = cx.src.get(path) else {
            cx.err(
                ErrorCode::MissingFile,
                "pack.toml",
                m.file.span(),
                format!("the model file `{path}` is not in the pack"),
            )
            .note = Some("fit one with `distillguard fit`, or remove the `[model]` section".into());
            return None;
        };
        let file: ModelFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                cx.errors.push(toml_error(ErrorCode::Schema, path, text, &e));
                return None;
            }
        };
        let weights = match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, file.weights.trim()) {
            Ok(w) => w.into_iter().map(|b| b as i8).collect(),
            Err(e) => {
                cx.errors.push(Error::new(ErrorCode::Schema, format!("{path}: the weights are not base64: {e}")));
                return None;
            }
        };
        let model = LexicalModel {
            buckets: file.buckets,
            window: file.window,
            min_features: file.min_features,
            bias: file.bias,
            scale: file.scale,
            weights,
            blend,
        };
        if let Err(e) = model.validate() {
            cx.errors.push(Error::new(ErrorCode::Schema, format!("{path}: {e}")));
            return None;
        }
        Some(model)
    }

    fn meta(&self, cx: &mut Ctx<'_>, p: &PackSection) -> PackMeta {
        if p.name.get_ref().trim().is_empty() {
            cx.err(ErrorCode::Schema, "pack.toml", p.name.span(), "the pack name is empty");
        }
        let t = *p.threshold.get_ref();
        if !(t > 0.0 && t <= 1.0) {
            cx.err(
                ErrorCode::BadThreshold,
                "pack.toml",
                p.threshold.span(),
                format!("threshold {t} is outside (0, 1]"),
            )
            .note = Some("a verdict is `extraction` when its score reaches the threshold; scores lie in (0, 1]".into());
        }
        let steps = match &p.normalize {
            None => Steps::ALL,
            Some(names) => {
                let mut steps = Steps::none();
                for n in names {
                    if !steps.enable(n.get_ref()) {
                        cx.err(
                            ErrorCode::UnknownNormalization,
                            "pack.toml",
                            n.span(),
                            format!("unknown normalisation step `{}`", n.get_ref()),
                        )
                        .note = Some(format!("known steps: {}", Steps::NAMES.join(", ")));
                    }
                }
                steps
            }
        };
        PackMeta {
            name: p.name.get_ref().clone(),
            version: p.version.clone(),
            description: p.description.clone(),
            threshold: t,
            steps,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn lexicon_terms(
        &self,
        cx: &mut Ctx<'_>,
        normalizer: &Normalizer,
        file: &str,
        text: &str,
        lexicon: u32,
        fuzzy: u8,
        tables: &mut TermTables,
    ) -> u32 {
        let mut count = BTreeSet::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if tables.terms.len() > self.limits.max_terms || tables.fuzzy_keys > self.limits.max_fuzzy_keys {
                break; // the caller reports the limit
            }
            let line_start = offset;
            offset += line.len();
            let raw = line.trim_end_matches(['\n', '\r']);
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            // `\#` starts a term with a literal `#` (`\####`, `\#given prompt#`).
            let trimmed = trimmed.strip_prefix('\\').filter(|t| t.starts_with('#')).unwrap_or(trimmed);
            let col = line_start + (raw.len() - raw.trim_start().len());
            let span = col..col + trimmed.len();
            if trimmed.len() > self.limits.max_term_bytes {
                cx.err(
                    ErrorCode::BadTerm,
                    file,
                    span,
                    format!("term is {} bytes, the limit is {}", trimmed.len(), self.limits.max_term_bytes),
                );
                continue;
            }
            let (body, prefix) = match trimmed.strip_suffix('*') {
                Some(b) => (b, true),
                None => (trimmed, false),
            };
            if body.contains('*') {
                cx.err(
                    ErrorCode::BadTerm,
                    file,
                    span,
                    format!("`{trimmed}`: `*` is only allowed at the end of a term"),
                );
                continue;
            }
            let folded = normalizer.fold(body);
            if folded.is_empty() {
                cx.err(ErrorCode::BadTerm, file, span, format!("`{trimmed}` is empty after normalisation"));
                continue;
            }
            let toks = tokenize(&folded);
            let single = toks.len() == 1 && toks[0] == (0, folded.len());
            // One Hangul syllable or Han character carries a whole morpheme; one letter does not.
            let syllabic = folded.chars().all(|c| is_unspaced_script(c) || ('\u{AC00}'..='\u{D7A3}').contains(&c));
            if prefix && single && folded.chars().count() < 2 && !syllabic {
                cx.err(
                    ErrorCode::BadTerm,
                    file,
                    span,
                    format!("prefix `{trimmed}` is too short: it would match almost every word"),
                )
                .note = Some("a prefix needs at least two characters before `*`".into());
                continue;
            }
            let term = tables.term_id(&folded);
            count.insert(term);
            let posting = Posting { lexicon, term, prefix };
            if single {
                tables.tokens.entry(folded.clone()).or_default().insert(posting);
                if fuzzy == 1 && !prefix && folded.chars().count() >= FUZZY_MIN_CHARS {
                    tables.fuzzy_keys += folded.chars().count() + 1;
                    if tables.fuzzy_keys > self.limits.max_fuzzy_keys {
                        break;
                    }
                    for key in std::iter::once(folded.clone()).chain(deletions(&folded)) {
                        tables.fuzzy.entry(key).or_default().insert(posting);
                    }
                }
            } else {
                let first = folded.chars().next().expect("non-empty");
                let last = folded.chars().next_back().expect("non-empty");
                let left = is_word_char(first) && !is_unspaced_script(first);
                let right = is_word_char(last) && !is_unspaced_script(last);
                let e = tables.phrases.entry(folded).or_insert_with(|| (BTreeSet::new(), left, right));
                e.0.insert(posting);
            }
        }
        count.len() as u32
    }

    /// The `[roles]` table: which roles each category's rules read (every
    /// role for a category it does not name).
    fn category_roles(
        &self,
        cx: &mut Ctx<'_>,
        table: &BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>,
    ) -> BTreeMap<Category, RoleSet> {
        let mut out = BTreeMap::new();
        for (name, list) in table {
            let Some(category) = Category::parse(name.get_ref()) else {
                cx.err(
                    ErrorCode::UnknownCategory,
                    "pack.toml",
                    name.span(),
                    format!("[roles] names unknown category `{}`", name.get_ref()),
                )
                .note = Some(match closest(name.get_ref(), &Category::ALL.map(|c| c.as_str())) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("known categories: {}", Category::ALL.map(|c| c.as_str()).join(", ")),
                });
                continue;
            };
            if let Some(set) = role_set(cx, list) {
                out.insert(category, set);
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    /// Compiles `[conditions]`: each one after the named conditions it uses,
    /// so a rule can expand them (see [`crate::named`]).
    fn conditions(
        &self,
        cx: &mut Ctx<'_>,
        doc: &str,
        decls: &BTreeMap<Spanned<String>, Spanned<String>>,
        lex_index: &BTreeMap<String, u32>,
    ) -> BTreeMap<String, Expr<u32>> {
        let mut pending: Vec<(&Spanned<String>, usize, Expr<NameRef>)> = Vec::new();
        for (name, text) in decls {
            let n = name.get_ref();
            if !valid_name(n) {
                cx.err(
                    ErrorCode::Schema,
                    "pack.toml",
                    name.span(),
                    format!("condition name `{n}` is not a valid name"),
                )
                .note = Some("use letters, digits, `_`, `-` or `.`, starting with a letter".into());
                continue;
            }
            if lex_index.contains_key(n) {
                cx.err(
                    ErrorCode::Schema,
                    "pack.toml",
                    name.span(),
                    format!("`{n}` names both a lexicon and a condition"),
                )
                .note = Some("lexicons and named conditions share one namespace: rename one".into());
                continue;
            }
            let base = string_contents_start(doc, &text.span());
            match condition::parse(text.get_ref()) {
                Ok(e) => pending.push((name, base, e)),
                Err(e) => {
                    cx.err(
                        ErrorCode::ConditionSyntax,
                        "pack.toml",
                        base + e.span.start..base + e.span.end,
                        format!("condition `{n}`: {}", e.message),
                    );
                }
            }
        }
        let declared: BTreeSet<&str> = decls.keys().map(|k| k.get_ref().as_str()).collect();
        let mut done: BTreeMap<String, Expr<u32>> = BTreeMap::new();
        loop {
            // Those whose named conditions are all compiled go next; a round
            // that compiles none leaves only cycles.
            let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(_, _, e)| {
                let mut uses = Vec::new();
                named::bare_names(e, &mut uses);
                uses.iter().all(|u| !declared.contains(u.as_str()) || done.contains_key(u))
            });
            pending = waiting;
            if ready.is_empty() {
                break;
            }
            for (name, base, e) in ready {
                let what = format!("condition `{}`", name.get_ref());
                let names = Names { lexicons: lex_index, conditions: &done, failed: &BTreeSet::new() };
                match named::resolve(e, &names) {
                    Ok(e) => {
                        done.insert(name.get_ref().clone(), e);
                    }
                    Err(err) => name_error(cx, &names, base, &what, err),
                }
            }
        }
        for (name, _, _) in pending {
            cx.err(
                ErrorCode::ConditionSyntax,
                "pack.toml",
                name.span(),
                format!("condition `{}` uses itself, directly or through other named conditions", name.get_ref()),
            );
        }
        done
    }

    #[allow(clippy::too_many_arguments)]
    fn rule(
        &self,
        cx: &mut Ctx<'_>,
        doc: &str,
        r: &RuleToml,
        rule_span: Range<usize>,
        names: &Names<'_>,
        lexicons: &[LexiconInfo],
        category_roles: &BTreeMap<Category, RoleSet>,
        seen: &mut BTreeMap<String, Range<usize>>,
    ) -> Option<Rule> {
        let before = cx.errors.len();
        let id = r.id.get_ref().clone();
        if !valid_rule_id(&id) {
            cx.err(
                ErrorCode::BadRuleId,
                "pack.toml",
                r.id.span(),
                format!("rule id `{id}` is not of the form `ABC-001`"),
            );
        }
        if let Some(first) = seen.get(&id) {
            let first_line = Location::in_source("pack.toml", doc, first.clone()).line;
            cx.err(ErrorCode::DuplicateRuleId, "pack.toml", r.id.span(), format!("rule id `{id}` is already used"))
                .note = Some(format!("first defined on line {first_line}"));
        } else {
            seen.insert(id.clone(), r.id.span());
        }
        let category = Category::parse(r.category.get_ref());
        if category.is_none() {
            cx.err(
                ErrorCode::UnknownCategory,
                "pack.toml",
                r.category.span(),
                format!("unknown category `{}`", r.category.get_ref()),
            )
            .note = Some(format!("known categories: {}", Category::ALL.map(|c| c.as_str()).join(", ")));
        }
        let w = *r.weight.get_ref();
        if !(w > 0.0 && w <= 1.0) {
            cx.err(
                ErrorCode::BadWeight,
                "pack.toml",
                r.weight.span(),
                format!("rule {id}: weight {w} is outside (0, 1]"),
            );
        }
        let when = match &r.when {
            Some(w) if !w.get_ref().trim().is_empty() => w,
            Some(w) => {
                cx.err(ErrorCode::EmptyRule, "pack.toml", w.span(), format!("rule {id} has an empty condition"));
                return None;
            }
            None => {
                cx.err(ErrorCode::EmptyRule, "pack.toml", rule_span, format!("rule {id} has no `when` condition"));
                return None;
            }
        };
        let base = string_contents_start(doc, &when.span());
        let parsed = match condition::parse(when.get_ref()) {
            Ok(e) => e,
            Err(e) => {
                cx.err(
                    ErrorCode::ConditionSyntax,
                    "pack.toml",
                    base + e.span.start..base + e.span.end,
                    format!("rule {id}: {}", e.message),
                );
                return None;
            }
        };
        let when_expr = match named::resolve(parsed, names) {
            Ok(e) => e,
            Err(e) => {
                name_error(cx, names, base, &format!("rule {id}"), e);
                return None;
            }
        };
        if named::depth(&when_expr) > condition::MAX_DECODED_DEPTH {
            cx.err(
                ErrorCode::LimitExceeded,
                "pack.toml",
                when.span(),
                format!(
                    "rule {id}: with its named conditions expanded, the condition nests deeper than {} levels",
                    condition::MAX_DECODED_DEPTH
                ),
            );
            return None;
        }
        if eval::true_on_empty(&when_expr) {
            cx.err(
                ErrorCode::AlwaysTrueRule,
                "pack.toml",
                when.span(),
                format!("rule {id} fires on every text, even an empty one"),
            )
            .note = Some("a rule needs something that must occur; `not x` alone is always true".into());
        } else if !eval::satisfiable(&when_expr, &|l| lexicons.get(l as usize).is_some_and(|x| x.terms > 0)) {
            cx.err(ErrorCode::UnreachableRule, "pack.toml", when.span(), format!("rule {id} can never fire")).note =
                Some("it needs an empty lexicon, or contradicts itself (`x and not x`)".into());
        }
        let roles = match &r.roles {
            Some(list) => role_set(cx, list),
            None => category.map(|c| category_roles.get(&c).copied().unwrap_or(RoleSet::ALL)),
        };
        if cx.errors.len() > before {
            return None;
        }
        Some(Rule {
            id,
            category: category?,
            weight: w,
            description: r.description.clone(),
            when: when_expr,
            roles: roles?,
        })
    }

    fn case_file(&self, cx: &mut Ctx<'_>, path: &str, text: &str, rule_ids: &BTreeSet<&str>, out: &mut Vec<Case>) {
        if let Err(e) = text.parse::<toml::Table>() {
            cx.errors.push(toml_error(ErrorCode::TomlSyntax, path, text, &e));
            return;
        }
        let parsed: CasesToml = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                cx.errors.push(toml_error(ErrorCode::Schema, path, text, &e));
                return;
            }
        };
        for case in parsed.cases {
            let span = case.span();
            let c = case.into_inner();
            let label = Label::parse(c.label.get_ref());
            if label.is_none() {
                cx.err(
                    ErrorCode::Schema,
                    path,
                    c.label.span(),
                    format!("label `{}` is neither `extraction` nor `benign`", c.label.get_ref()),
                );
            }
            let category = match &c.category {
                Some(cat) => {
                    let parsed = Category::parse(cat.get_ref());
                    if parsed.is_none() {
                        cx.err(
                            ErrorCode::UnknownCategory,
                            path,
                            cat.span(),
                            format!("unknown category `{}`", cat.get_ref()),
                        );
                    }
                    parsed
                }
                None => None,
            };
            for r in c.rules.iter().chain(&c.not_rules) {
                if !rule_ids.contains(r.get_ref().as_str()) {
                    let known: Vec<&str> = rule_ids.iter().copied().collect();
                    let hint = closest(r.get_ref(), &known);
                    cx.err(
                        ErrorCode::UnknownCaseRule,
                        path,
                        r.span(),
                        format!("case names rule `{}`, which the pack does not define", r.get_ref()),
                    )
                    .note = hint.map(|h| format!("did you mean `{h}`?"));
                }
            }
            if let Some(b) = &c.score_below {
                if !(*b.get_ref() > 0.0 && *b.get_ref() <= 1.0) {
                    cx.err(ErrorCode::Schema, path, b.span(), format!("score_below {} is not in (0, 1]", b.get_ref()));
                }
            }
            if let Some(label) = label {
                out.push(Case {
                    text: c.text,
                    system: c.system,
                    label,
                    category,
                    rules: c.rules.into_iter().map(Spanned::into_inner).collect(),
                    not_rules: c.not_rules.into_iter().map(Spanned::into_inner).collect(),
                    score_below: c.score_below.map(Spanned::into_inner),
                    file: path.to_string(),
                    line: Location::in_source(path, text, span).line,
                });
            }
        }
    }
}

/// A list of role names as a set; reports unknown names and an empty list.
fn role_set(cx: &mut Ctx<'_>, list: &Spanned<Vec<Spanned<String>>>) -> Option<RoleSet> {
    let before = cx.errors.len();
    let mut set = RoleSet(0);
    for name in list.get_ref() {
        match Role::parse(name.get_ref()) {
            Some(role) => set.0 |= role.bit(),
            None => {
                cx.err(ErrorCode::Schema, "pack.toml", name.span(), format!("unknown role `{}`", name.get_ref())).note =
                    Some(format!("known roles: {} (`developer` is `system`)", Role::ALL.map(Role::as_str).join(", ")))
            }
        }
    }
    if list.get_ref().is_empty() {
        cx.err(ErrorCode::Schema, "pack.toml", list.span(), "an empty role list: rules would read nothing").note =
            Some(format!("list one or more of: {}", Role::ALL.map(Role::as_str).join(", ")));
    }
    (cx.errors.len() == before).then_some(set)
}

fn build_data(
    meta: PackMeta,
    lexicons: Vec<LexiconInfo>,
    tables: TermTables,
    rules: Vec<Rule>,
    cases: Vec<Case>,
    model: Option<LexicalModel>,
) -> PackData {
    // Single-word terms in byte order (the order the loader checks and
    // numbers the anchored patterns in), phrases in byte order too.
    let token_postings = tables.tokens.into_values().map(|p| p.into_iter().collect()).collect();
    let phrases = tables
        .phrases
        .into_iter()
        // A phrase's text is its postings' term, in the term table.
        .map(|(_, (postings, left_boundary, right_boundary))| Phrase {
            postings: postings.into_iter().collect(),
            left_boundary,
            right_boundary,
        })
        .collect();
    let mut terms = TermTable::default();
    for t in &tables.terms {
        // Limits::max_terms and max_term_bytes keep the table far below 4 GiB.
        terms.push(t).expect("term table under 4 GiB");
    }
    PackData { meta, lexicons, terms, token_postings, phrases, rules, cases, model }
}

/// Reports a name in a condition (whose text starts at `base` in pack.toml)
/// that is neither a lexicon nor a named condition, or a named condition
/// used inside a set.
fn name_error(cx: &mut Ctx<'_>, names: &Names<'_>, base: usize, what: &str, err: NameError) {
    match err {
        NameError::Unknown((name, _)) if names.failed.contains(&name) => {}
        NameError::Unknown((name, span)) => {
            let known: Vec<&str> = names.lexicons.keys().chain(names.conditions.keys()).map(String::as_str).collect();
            let hint = closest(&name, &known);
            let e = cx.err(
                ErrorCode::UnknownLexicon,
                "pack.toml",
                base + span.start..base + span.end,
                format!("{what}: no lexicon or condition named `{name}`"),
            );
            e.note = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => "declare it under [lexicons] or [conditions]".to_string(),
            });
        }
        NameError::ConditionInSet((name, span)) => {
            cx.err(
                ErrorCode::ConditionSyntax,
                "pack.toml",
                base + span.start..base + span.end,
                format!("{what}: `{name}` is a named condition, not a lexicon"),
            )
            .note = Some("a named condition stands on its own (`... and not name`), not in a set or a function".into());
        }
    }
}

fn mark_used(e: &Expr<u32>, used: &mut [bool]) {
    let _ = e.clone().try_map(&mut |l: u32| {
        if let Some(u) = used.get_mut(l as usize) {
            *u = true;
        }
        Ok::<u32, ()>(l)
    });
}

/// Words of the condition language, which cannot name a lexicon.
const RESERVED: [&str; 12] =
    ["and", "or", "not", "any", "all", "count", "distinct", "near", "seq", "first", "last", "number"];

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !RESERVED.contains(&s)
}

fn valid_rule_id(s: &str) -> bool {
    match s.split_once('-') {
        Some((a, b)) => {
            !a.is_empty()
                && a.len() <= 8
                && a.bytes().all(|c| c.is_ascii_uppercase())
                && !b.is_empty()
                && b.len() <= 6
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

impl LexicalModel {
    /// The model as the file `[model] file` names: TOML, weights in base64,
    /// `about` (how it was fitted) first as comments.
    ///
    /// ```
    /// use distillguard::lexical::{Blend, LexicalModel, CLASSES};
    /// let m = LexicalModel { buckets: 64, window: 64, min_features: 1, bias: vec![0.5; CLASSES], scale: 0.25,
    ///     weights: vec![1; 64 * CLASSES], blend: Blend { share: 0.6, alone: 0.6, evidence_from: 0.3 } };
    /// let text = m.to_source("fitted by hand");
    /// assert!(text.starts_with("# fitted by hand"));
    /// assert!(text.contains("buckets = 64"));
    /// ```
    pub fn to_source(&self, about: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for line in about.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let bytes: Vec<u8> = self.weights.iter().map(|&w| w as u8).collect();
        let bias: Vec<String> = self.bias.iter().map(|b| format!("{b:?}")).collect();
        let _ = writeln!(
            out,
            "buckets = {}\nwindow = {}\nmin_features = {}\nscale = {:?}\nbias = [{}]",
            self.buckets,
            self.window,
            self.min_features,
            self.scale,
            bias.join(", ")
        );
        let _ = writeln!(
            out,
            "weights = \"{}\"",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
        );
        out
    }
}
