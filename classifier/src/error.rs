//! Errors as values: a stable code, a message a rule author understands, and
//! where it happened (file, line, column, byte span).

use std::fmt;

/// The stable identity of an error or warning: the one registry of codes.
/// The code string (`E012`) never changes meaning once published; tools and
/// tests may match on it.
///
/// Code families: `E0xx` pack source, `E1xx` compiled pack, `E2xx` input,
/// `W0xx` pack warnings, `H0xx` the host and CLI, `B0xx` the web bindings.
/// `distillguard explain CODE` prints a code's page ([`ErrorCode::page`]);
/// `docs/errors.md` is generated from [`ErrorCode::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `pack.toml` or a case file is not valid TOML.
    TomlSyntax,
    /// A field is missing, unknown or of the wrong type.
    Schema,
    /// A file the pack refers to is not in the pack.
    MissingFile,
    /// A rule's condition refers to a lexicon the pack does not declare.
    UnknownLexicon,
    /// Two rules share an id.
    DuplicateRuleId,
    /// A rule id does not look like `ABC-001`.
    BadRuleId,
    /// A rule weight outside `(0, 1]`.
    BadWeight,
    /// A category that is not one of the five known ones.
    UnknownCategory,
    /// A rule without a condition.
    EmptyRule,
    /// A condition that is not well formed.
    ConditionSyntax,
    /// A rule that can never fire (e.g. it needs an empty lexicon).
    UnreachableRule,
    /// A rule that fires on the empty text (e.g. a bare `not x`).
    AlwaysTrueRule,
    /// A lexicon term that is empty after normalisation or malformed.
    BadTerm,
    /// An unknown normalisation step.
    UnknownNormalization,
    /// A pack exceeds a documented size limit.
    LimitExceeded,
    /// The pack's decision threshold is outside `(0, 1]`.
    BadThreshold,
    /// A case names a rule the pack does not define.
    UnknownCaseRule,
    /// A compiled pack does not start with the magic bytes.
    BadMagic,
    /// A compiled pack was written by a newer (or unknown) format version.
    UnsupportedVersion,
    /// A compiled pack's checksum does not match its contents.
    ChecksumMismatch,
    /// A compiled pack is truncated or its payload cannot be decoded.
    CorruptPack,
    /// The input text was rejected (e.g. above a size cap).
    InputRejected,
    /// The input (a prompt or a pack file) is not valid UTF-8.
    InvalidUtf8,
    /// Classify was called before a pack was loaded.
    NoPack,
    /// Warning: a lexicon no rule uses.
    UnusedLexicon,
    /// Host: the wasm classifier ran out of fuel.
    FuelExhausted,
    /// Host: the wasm classifier trapped.
    GuestTrap,
    /// Host: the wasm module cannot be set up.
    HostSetup,
    /// Host: a file or directory cannot be read or written.
    Io,
    /// Host: a gate was asked for without the data it needs.
    GateWithoutData,
    /// Host: a gate was measured over zero items.
    EmptyGate,
    /// Host: records of a JSONL file were skipped as malformed.
    SkippedRecords,
    /// Host: a rule selector (`--disable-rule`, `[rules] disable`) matches no rule.
    UnknownRuleSelector,
    /// Host: `distillguard explain` was given a code that does not exist.
    UnknownCode,
    /// Host: a pack case did not get the verdict it expects.
    CaseFailed,
    /// Host: a `check` gate measured a value beyond its bound.
    GateFailed,
    /// Host: the wasm classifier passed its deadline.
    DeadlineExceeded,
    /// Web bindings: a JavaScript argument has the wrong shape.
    BadArgument,
}

/// The page `distillguard explain CODE` prints: what the code means, an
/// example that triggers it, and the fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePage {
    /// What it means.
    pub meaning: &'static str,
    /// A minimal input that triggers it.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// How serious a code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Fails compilation, the check or the call.
    Error,
    /// Reported; fails only `check --strict`.
    Warning,
}

impl ErrorCode {
    /// Every code, in registry order.
    pub const ALL: [ErrorCode; 38] = {
        use ErrorCode::*;
        [
            TomlSyntax,
            Schema,
            MissingFile,
            UnknownLexicon,
            DuplicateRuleId,
            BadRuleId,
            BadWeight,
            UnknownCategory,
            EmptyRule,
            ConditionSyntax,
            UnreachableRule,
            AlwaysTrueRule,
            BadTerm,
            UnknownNormalization,
            LimitExceeded,
            BadThreshold,
            UnknownCaseRule,
            BadMagic,
            UnsupportedVersion,
            ChecksumMismatch,
            CorruptPack,
            InputRejected,
            InvalidUtf8,
            NoPack,
            UnusedLexicon,
            FuelExhausted,
            GuestTrap,
            HostSetup,
            Io,
            GateWithoutData,
            EmptyGate,
            SkippedRecords,
            UnknownRuleSelector,
            UnknownCode,
            CaseFailed,
            GateFailed,
            DeadlineExceeded,
            BadArgument,
        ]
    };

    /// The stable code, e.g. `"E004"`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            TomlSyntax => "E001",
            Schema => "E002",
            MissingFile => "E003",
            UnknownLexicon => "E004",
            DuplicateRuleId => "E005",
            BadRuleId => "E006",
            BadWeight => "E007",
            UnknownCategory => "E008",
            EmptyRule => "E009",
            ConditionSyntax => "E010",
            UnreachableRule => "E011",
            AlwaysTrueRule => "E012",
            BadTerm => "E013",
            UnknownNormalization => "E014",
            LimitExceeded => "E015",
            BadThreshold => "E016",
            UnknownCaseRule => "E017",
            BadMagic => "E101",
            UnsupportedVersion => "E102",
            ChecksumMismatch => "E103",
            CorruptPack => "E104",
            InputRejected => "E201",
            InvalidUtf8 => "E202",
            NoPack => "E203",
            UnusedLexicon => "W001",
            FuelExhausted => "H001",
            GuestTrap => "H002",
            HostSetup => "H003",
            Io => "H004",
            GateWithoutData => "H005",
            EmptyGate => "H006",
            SkippedRecords => "H007",
            UnknownRuleSelector => "H008",
            UnknownCode => "H009",
            CaseFailed => "H010",
            GateFailed => "H011",
            DeadlineExceeded => "H012",
            BadArgument => "B001",
        }
    }

    /// The code named by `s` (`E004`, `e004`), if it exists.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        let s = s.trim();
        ErrorCode::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// The numeric part of the code (`E104` is 104): the status the wasm ABI
    /// returns (only `E` codes cross the ABI).
    pub fn number(self) -> u32 {
        self.as_str()[1..].parse().expect("codes are a letter + digits")
    }

    /// Whether the code is an error or a warning.
    pub fn severity(self) -> Severity {
        match self {
            ErrorCode::UnusedLexicon => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// A short title, e.g. `"unknown lexicon"`.
    pub fn title(self) -> &'static str {
        use ErrorCode::*;
        match self {
            TomlSyntax => "TOML syntax error",
            Schema => "invalid pack structure",
            MissingFile => "missing file",
            UnknownLexicon => "unknown lexicon",
            DuplicateRuleId => "duplicate rule id",
            BadRuleId => "malformed rule id",
            BadWeight => "weight out of range",
            UnknownCategory => "unknown category",
            EmptyRule => "empty rule",
            ConditionSyntax => "condition syntax error",
            UnreachableRule => "unreachable rule",
            AlwaysTrueRule => "rule matches every text",
            BadTerm => "bad lexicon term",
            UnknownNormalization => "unknown normalisation step",
            LimitExceeded => "limit exceeded",
            BadThreshold => "threshold out of range",
            UnknownCaseRule => "case names an unknown rule",
            BadMagic => "not a compiled distillguard pack",
            UnsupportedVersion => "unsupported compiled pack version",
            ChecksumMismatch => "checksum mismatch",
            CorruptPack => "corrupt compiled pack",
            InputRejected => "input rejected",
            InvalidUtf8 => "invalid UTF-8",
            NoPack => "no pack loaded",
            UnusedLexicon => "unused lexicon",
            FuelExhausted => "out of fuel",
            GuestTrap => "classifier trapped",
            HostSetup => "wasm setup failed",
            Io => "cannot read or write a file",
            GateWithoutData => "gate without data",
            EmptyGate => "gate over zero items",
            SkippedRecords => "records skipped",
            UnknownRuleSelector => "unknown rule selector",
            UnknownCode => "unknown error code",
            CaseFailed => "pack case failed",
            GateFailed => "gate failed",
            DeadlineExceeded => "deadline passed",
            BadArgument => "bad argument",
        }
    }

    /// The code's page: meaning, example, fix.
    pub fn page(self) -> CodePage {
        use ErrorCode::*;
        let (meaning, example, fix) = match self {
            TomlSyntax => (
                "`pack.toml` or a case file is not valid TOML.",
                "[pack]\nname = \"p\nversion = \"1\"",
                "Fix the TOML syntax at the reported line and column (here: close the string).",
            ),
            Schema => (
                "A field is missing, unknown or of the wrong type, or a name (lexicon, role, label) is not valid.",
                "[[rule]]\nid = \"X-001\"\nwehn = \"reveal\"",
                "Use the field names of docs/pack-format.md; the note suggests the closest known name.",
            ),
            MissingFile => (
                "A file the pack refers to (a lexicon file, or `pack.toml` itself) is not in the pack directory.",
                "[lexicons]\nreveal = \"lexicons/revael.txt\"",
                "Create the file, or correct the path (relative to the pack directory).",
            ),
            UnknownLexicon => (
                "A rule's condition names a lexicon that `[lexicons]` does not declare. Lexicon names are case-sensitive.",
                "when = \"near(REVEAL, hidden_object, 6)\"",
                "Declare the lexicon under `[lexicons]`, or use the name the note suggests.",
            ),
            DuplicateRuleId => (
                "Two rules share an id; ids must be unique so that evidence, cases and `--disable-rule` can name a rule.",
                "[[rule]]\nid = \"SPL-001\"\n...\n[[rule]]\nid = \"SPL-001\"",
                "Give the second rule a new id (the note names the line of the first).",
            ),
            BadRuleId => (
                "A rule id is not of the form `ABC-001`: 1 to 8 upper-case ASCII letters, a hyphen, 1 to 6 digits.",
                "id = \"spl_1\"",
                "Rename it, e.g. `SPL-001`.",
            ),
            BadWeight => ("A rule weight is outside `(0, 1]`.", "weight = 1.5", "Use a weight above 0 and at most 1."),
            UnknownCategory => (
                "A category is not one of reasoning_trace, hidden_reasoning, synthetic_data, distillation_framing, system_prompt_leak.",
                "category = \"prompt_leak\"",
                "Use one of the five categories (the note lists them).",
            ),
            EmptyRule => ("A rule has no `when` condition, or an empty one.", "when = \"\"", "Write a condition."),
            ConditionSyntax => (
                "A condition is not well formed: an unknown operator, unbalanced parentheses, a bad number, nesting too deep.",
                "when = \"reveal && hidden_object\"",
                "Use `and`, `or`, `not` and the functions of docs/pack-format.md; the note suggests the keyword meant.",
            ),
            UnreachableRule => (
                "A rule can never fire: it needs a lexicon with no terms, or contradicts itself (`x and not x`).",
                "when = \"empty_lexicon\"",
                "Add terms to the lexicon, or rewrite the condition.",
            ),
            AlwaysTrueRule => (
                "A rule fires on every text, even the empty one (e.g. a bare `not x`).",
                "when = \"not howto\"",
                "Add something that must occur: `reveal and not howto`.",
            ),
            BadTerm => (
                "A lexicon term is empty after normalisation, too long, or malformed.",
                "a line holding only `\u{200b}` (a zero-width space)",
                "Remove or correct the term at the reported line.",
            ),
            UnknownNormalization => (
                "`[pack] normalize` names a step that does not exist.",
                "normalize = [\"nfkc\", \"lowercase\"]",
                "Use the steps the note lists.",
            ),
            LimitExceeded => (
                "The pack exceeds a documented size limit (sources, terms, lexicons, rules, cases, fuzzy keys).",
                "300,000 distinct lexicon terms",
                "Stay within the limits of docs/pack-format.md, e.g. split a huge lexicon or drop `fuzzy = 1` from long terms.",
            ),
            BadThreshold => (
                "The pack's decision threshold is outside `(0, 1]`: no score could reach it, or every score would.",
                "[pack]\nthreshold = 1.5",
                "Use a threshold above 0 and at most 1 (the default pack uses 0.5).",
            ),
            UnknownCaseRule => (
                "A case's `rules` or `not_rules` names a rule id the pack does not define.",
                "[[case]]\ntext = \"...\"\nlabel = \"extraction\"\nrules = [\"SPL-999\"]",
                "Correct the id (the note suggests the closest one), or remove it from the case.",
            ),
            BadMagic => (
                "A file given as a compiled pack does not start with the distillguard magic bytes.",
                "distillguard --pack notes.txt classify hi",
                "Pass a pack directory, or a file written by `distillguard compile`.",
            ),
            UnsupportedVersion => (
                "A compiled pack was written in a format version this build does not read.",
                "a .dgpack compiled by a newer distillguard",
                "Recompile the pack directory with this distillguard.",
            ),
            ChecksumMismatch => (
                "A compiled pack's checksum does not match its contents: the file was damaged or edited.",
                "a .dgpack with one byte flipped",
                "Recompile the pack; do not edit compiled packs.",
            ),
            CorruptPack => (
                "A compiled pack is truncated or its payload cannot be decoded.",
                "a .dgpack cut short by a failed copy",
                "Recompile the pack.",
            ),
            InputRejected => (
                "An input text was rejected, e.g. it is larger than `--max-input`; a pack case over the cap fails that case only.",
                "distillguard classify --input big.jsonl  (a 2 MB record)",
                "Raise `--max-input`, or shorten the text.",
            ),
            InvalidUtf8 => (
                "An input (stdin, a prompt, a pack file) is not valid UTF-8; for a pack file the line and column of the first bad byte are given.",
                "a lexicon saved as Latin-1 (`caf\\xe9`)",
                "Re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
            ),
            NoPack => (
                "The wasm module was asked to classify before a pack was loaded.",
                "calling `classify` on the raw module without `load_pack`",
                "Load a pack first (hosts do this for you).",
            ),
            UnusedLexicon => (
                "Warning: a declared lexicon is not used by any rule. It still costs load time and memory.",
                "[lexicons]\nreveal_typo = \"lexicons/reveal.txt\"  # no rule names reveal_typo",
                "Use it in a rule, or remove it. `check --strict` fails on warnings.",
            ),
            FuelExhausted => (
                "The wasm classifier ran out of fuel (the request took too long); the instance was replaced.",
                "distillguard --fuel 1000 classify \"a long text\"",
                "Raise `--fuel` / `--fuel-per-byte`, or shorten the input (fuel is used only when one of them is given).",
            ),
            GuestTrap => (
                "The wasm classifier trapped (e.g. hit its memory cap) and was replaced.",
                "distillguard --max-memory-mib 1 classify hi",
                "Raise `--max-memory-mib`; report a bug if it traps within the defaults.",
            ),
            HostSetup => (
                "The wasm module cannot be compiled or instantiated, or a pack cannot be loaded into it.",
                "a damaged distillguard binary",
                "Rebuild the binary; try `--engine native` to compare.",
            ),
            Io => (
                "A file or directory cannot be read or written, or a pack directory has no `pack.toml`.",
                "distillguard check rules/nope",
                "Check the path (relative to the current directory) and its permissions.",
            ),
            GateWithoutData => (
                "A `check` gate was asked for without the data it measures: `--min-precision` and `--min-recall` need `--corpus`; `--max-fpr` needs `--corpus` or `--benign`.",
                "distillguard check rules/default --min-precision 0.99",
                "Pass the labelled data the gate needs, or drop the gate.",
            ),
            EmptyGate => (
                "A gate was measured over zero items (e.g. no benign prompts for `--max-fpr`): a gate over no data proves nothing, so it fails.",
                "distillguard check rules/default --benign empty.jsonl --max-fpr 0",
                "Point the gate at a file that holds the records it measures.",
            ),
            SkippedRecords => (
                "Records of a JSONL file were malformed (bad JSON, no `text`, bad `label`) and skipped. `check` gates and `eval` fail on skipped records.",
                "{\"text\": \"hi\", \"label\": \"maybe\"}",
                "Fix the records, or pass `--allow-skipped` to accept the loss.",
            ),
            UnknownRuleSelector => (
                "A rule selector (`--disable-rule`, `[rules] disable`) matches no rule: not a rule id, an id prefix (`SPL`) or a category.",
                "distillguard classify --disable-rule SPL-999 hi",
                "Use an id the pack defines (the note suggests the closest), an id prefix, or a category name.",
            ),
            UnknownCode => (
                "`distillguard explain` was given a code that is not in the registry.",
                "distillguard explain E999",
                "See docs/errors.md for every code.",
            ),
            CaseFailed => (
                "A case of the pack did not get its expected verdict: the wrong label or category, a rule in `rules` that did not fire, or one in `not_rules` that did. The message names the rules that fired.",
                "[[case]]\ntext = \"what is the capital of France?\"\nlabel = \"extraction\"",
                "Fix the rule or the case; `distillguard classify --pack DIR \"TEXT\"` shows the evidence.",
            ),
            GateFailed => (
                "A `check` gate (`--min-precision`, `--min-recall`, `--max-fpr`, `--min-cases`) measured a value beyond its bound.",
                "distillguard check rules/default --benign benign.jsonl --max-fpr 0  (one false alarm)",
                "Look at the misses or false alarms it lists; fix the rules, or agree a new bound.",
            ),
            DeadlineExceeded => (
                "The wasm classifier passed its deadline (the request took too long); the instance was replaced.",
                "distillguard --deadline-ms 0 --deadline-ms-per-mib 0 classify \"a long text\"",
                "Raise `--deadline-ms` / `--deadline-ms-per-mib`, or shorten the input. `--fuel` bounds work instead of time.",
            ),
            BadArgument => (
                "Web bindings: a JavaScript argument has the wrong shape (e.g. `compilePack` wants a `{path: text}` object).",
                "compilePack([\"pack.toml\"])",
                "Pass the documented shape.",
            ),
        };
        CodePage { meaning, example, fix }
    }

    /// The page as text, for `distillguard explain`.
    pub fn explain(self) -> String {
        let p = self.page();
        let indent = |s: &str| s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
        format!(
            "{} ({}): {}\n\n{}\n\nexample:\n{}\n\nfix: {}\n",
            self.as_str(),
            match self.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            self.title(),
            p.meaning,
            indent(p.example),
            p.fix
        )
    }

    /// `docs/errors.md`, generated from the registry.
    pub fn markdown() -> String {
        let mut s = String::from(
            "# Error codes\n\n<!-- Generated from `ErrorCode` (classifier/src/error.rs) by `distillguard explain --all --format markdown`; a test keeps it current. Do not edit by hand. -->\n\n\
             Families: `E0xx` pack source, `E1xx` compiled pack, `E2xx` input, `W0xx` pack warnings (fail only `check --strict`), `H0xx` host and CLI, `B0xx` web bindings. `distillguard explain CODE` prints one page.\n\n\
             | code | title | severity |\n| --- | --- | --- |\n",
        );
        for c in ErrorCode::ALL {
            let sev = if c.severity() == Severity::Error { "error" } else { "warning" };
            s.push_str(&format!("| [`{0}`](#{1}) | {2} | {sev} |\n", c.as_str(), c.as_str().to_lowercase(), c.title()));
        }
        for c in ErrorCode::ALL {
            let p = c.page();
            s.push_str(&format!(
                "\n## {}\n\n**{}.** {}\n\nExample:\n\n```\n{}\n```\n\nFix: {}\n",
                c.as_str(),
                c.title(),
                p.meaning,
                p.example,
                p.fix
            ));
        }
        s
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a pack's source an error is: file, 1-based line and column, and
/// the byte span in that file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Path of the file inside the pack, e.g. `pack.toml`.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte range in the file.
    pub span: std::ops::Range<usize>,
}

impl Location {
    /// Locates a byte span inside `source` (the file's full text).
    pub fn in_source(file: &str, source: &str, span: std::ops::Range<usize>) -> Location {
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..start].chars().count() + 1;
        Location { file: file.to_string(), line, column, span }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// An error from compiling, loading or running a pack.
///
/// ```
/// use distillguard::{ErrorCode, PackSource, PackCompiler};
/// let mut src = PackSource::new();
/// src.add("pack.toml", "[pack]\nname = \"p\"\nversion = \"1\"\nthreshold = 0.5\n\n[[rule]]\nid = \"X-001\"\ncategory = \"system_prompt_leak\"\nweight = 0.5\ndescription = \"d\"\nwhen = \"nope\"\n");
/// let errors = PackCompiler::new().compile(&src).unwrap_err();
/// let err = errors.first();
/// assert_eq!(err.code(), ErrorCode::UnknownLexicon);
/// assert_eq!(err.location().unwrap().line, 11);
/// assert!(err.to_string().starts_with("pack.toml:11:9: error[E004]"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    location: Option<Location>,
    pub(crate) note: Option<String>,
}

impl Error {
    /// A new error without a location.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), location: None, note: None }
    }

    /// Attaches a location.
    pub fn at(mut self, location: Location) -> Error {
        self.location = Some(location);
        self
    }

    /// Attaches a hint for the author.
    pub fn with_note(mut self, note: impl Into<String>) -> Error {
        self.note = Some(note.into());
        self
    }

    /// `error` or `warning`, from the code's severity.
    pub fn kind(&self) -> &'static str {
        match self.code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message, without code or location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the error is, when it comes from a source file.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// A hint on how to fix it.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Rewrites the file name of the location (e.g. to a path relative to
    /// the current directory rather than to the pack).
    pub fn relocate(mut self, f: impl FnOnce(&str) -> String) -> Error {
        if let Some(l) = &mut self.location {
            l.file = f(&l.file);
        }
        self
    }

    /// Renders the error like rustc, with the offending source line when
    /// `source` (the text of the file named in the location) is given. A
    /// line longer than [`MAX_SHOWN_LINE`] characters is cut around the error.
    pub fn render(&self, source: Option<&str>) -> String {
        let kind = match self.code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{kind}[{}]: {}: {}", self.code, self.code.title(), self.message);
        if let Some(loc) = &self.location {
            out.push_str(&format!("\n  --> {}:{}:{}", loc.file, loc.line, loc.column));
            if let Some(line) = source.and_then(|s| s.lines().nth(loc.line.saturating_sub(1))) {
                let gutter = loc.line.to_string().len();
                let pad = " ".repeat(gutter);
                let chars: Vec<char> = line.chars().collect();
                let col = loc.column.saturating_sub(1).min(chars.len());
                let width = source
                    .and_then(|s| s.get(loc.span.clone()))
                    .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1));
                let (from, to) = if chars.len() > MAX_SHOWN_LINE {
                    let from = col.saturating_sub(MAX_SHOWN_LINE / 2);
                    (from, (from + MAX_SHOWN_LINE).min(chars.len()))
                } else {
                    (0, chars.len())
                };
                let mut shown: String = chars[from..to].iter().collect();
                let mut caret_at: String =
                    chars[from..col].iter().map(|&c| if c == '\t' { '\t' } else { ' ' }).collect();
                if from > 0 {
                    shown.insert_str(0, "...");
                    caret_at.insert_str(0, "   ");
                }
                if to < chars.len() {
                    shown.push_str("...");
                }
                let width = width.min(to.saturating_sub(col).max(1));
                out.push_str(&format!(
                    "\n{pad} |\n{} | {}\n{pad} | {}{}",
                    loc.line,
                    shown,
                    caret_at,
                    "^".repeat(width)
                ));
            }
        }
        if let Some(note) = &self.note {
            out.push_str(&format!("\n  = note: {note}"));
        }
        out
    }
}

/// The most characters of a source line a rendered error shows; longer lines
/// are cut around the error, marked `...`.
pub const MAX_SHOWN_LINE: usize = 120;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => {
                write!(f, "{}:{}:{}: {}[{}]: {}", l.file, l.line, l.column, self.kind(), self.code, self.message)
            }
            None => write!(f, "{}[{}]: {}", self.kind(), self.code, self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Several errors found in one pass; compilation reports all it can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    /// The first error (there is always at least one).
    pub fn first(&self) -> &Error {
        &self.0[0]
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// The known name closest to `name`, for a "did you mean" note: case is
/// ignored (`REVEAL` finds `reveal`), and at most a third of the letters (at
/// least 2) may differ.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }
    let lower = name.to_lowercase();
    known
        .iter()
        .filter(|k| **k != name)
        .map(|k| (distance(&lower, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.chars().count() / 3))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_parses_back_and_has_a_page() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{} twice", c.as_str());
            assert_eq!(ErrorCode::parse(&c.as_str().to_lowercase()), Some(c));
            let p = c.page();
            assert!(!p.meaning.is_empty() && !p.example.is_empty() && !p.fix.is_empty());
        }
        assert_eq!(ErrorCode::parse("E999"), None);
    }

    #[test]
    fn closest_ignores_case_and_refuses_far_names() {
        assert_eq!(closest("REVEAL", &["reveal", "hidden"]), Some("reveal"));
        assert_eq!(closest("wehn", &["id", "when", "weight"]), Some("when"));
        assert_eq!(closest("xyzzy", &["reveal"]), None);
    }

    #[test]
    fn long_lines_are_cut_around_the_error() {
        let line = format!("{}BAD{}", "a".repeat(5000), "b".repeat(5000));
        let e = Error::new(ErrorCode::BadTerm, "bad").at(Location::in_source("l.txt", &line, 5000..5003));
        let r = e.render(Some(&line));
        assert!(r.len() < 600, "{} bytes", r.len());
        let lines: Vec<&str> = r.lines().collect();
        let src = lines.iter().find(|l| l.starts_with("1 | ")).unwrap();
        let caret = lines.iter().find(|l| l.contains('^')).unwrap();
        let at = caret.find('^').unwrap();
        assert_eq!(&src[at..at + 3], "BAD", "{r}");
        assert!(src.ends_with("...") && src[4..].starts_with("..."));
    }
}
