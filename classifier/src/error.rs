//! Errors as values: a stable code, a message a rule author understands, and
//! where it happened (file, line, column, byte span).

use std::fmt;

/// The stable identity of an error. The code string (`E012`) never changes
/// meaning once published; tools and tests may match on it.
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
    /// A weight outside `(0, 1]`, or a threshold outside `(0, 1]`.
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
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// Classify was called before a pack was loaded.
    NoPack,
}

impl ErrorCode {
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
            BadMagic => "E101",
            UnsupportedVersion => "E102",
            ChecksumMismatch => "E103",
            CorruptPack => "E104",
            InputRejected => "E201",
            InvalidUtf8 => "E202",
            NoPack => "E203",
        }
    }

    /// The numeric part of the code (`E104` is 104): the status the wasm ABI returns.
    pub fn number(self) -> u32 {
        self.as_str()[1..].parse().expect("codes are E + digits")
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
            BadMagic => "not a compiled distillguard pack",
            UnsupportedVersion => "unsupported compiled pack version",
            ChecksumMismatch => "checksum mismatch",
            CorruptPack => "corrupt compiled pack",
            InputRejected => "input rejected",
            InvalidUtf8 => "invalid UTF-8",
            NoPack => "no pack loaded",
        }
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

    /// Renders the error like rustc, with the offending source line when
    /// `source` (the text of the file named in the location) is given.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = format!("error[{}]: {}: {}", self.code, self.code.title(), self.message);
        if let Some(loc) = &self.location {
            out.push_str(&format!("\n  --> {}:{}:{}", loc.file, loc.line, loc.column));
            if let Some(line) = source.and_then(|s| s.lines().nth(loc.line - 1)) {
                let gutter = loc.line.to_string().len();
                let pad = " ".repeat(gutter);
                let caret_at: String =
                    line.chars().take(loc.column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
                let width = source
                    .and_then(|s| s.get(loc.span.clone()))
                    .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1));
                out.push_str(&format!("\n{pad} |\n{} | {}\n{pad} | {}{}", loc.line, line, caret_at, "^".repeat(width)));
            }
        }
        if let Some(note) = &self.note {
            out.push_str(&format!("\n  = note: {note}"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{}:{}:{}: error[{}]: {}", l.file, l.line, l.column, self.code, self.message),
            None => write!(f, "error[{}]: {}", self.code, self.message),
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
