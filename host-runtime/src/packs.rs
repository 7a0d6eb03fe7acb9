//! Reading packs from disk: a source directory (compiled here) or a compiled
//! file (verified on load), or the default pack embedded in this binary.

use anyhow::{anyhow, bail, Context, Result};
use distillguard::lexical::EVIDENCE_ID;
use distillguard::{Error, ErrorCode, Errors, Location, Pack, PackCompiler, PackSource, MAGIC};
use std::path::{Path, PathBuf};

/// The default pack, compiled at build time from `rules/default`.
pub const DEFAULT_PACK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default.dgpack"));

/// Reads every `.toml` and `.txt` file under a pack directory. A file that is
/// not UTF-8 is an `E202` error at its first bad byte (line and column), and
/// a directory without `pack.toml` is an `E003` error: both come back as
/// pack errors, alongside the files that could be read. `Err` is an I/O
/// failure (the directory cannot be read).
pub fn read_source(dir: &Path) -> Result<(PackSource, Vec<Error>)> {
    fn walk(dir: &Path, root: &Path, src: &mut PackSource, errors: &mut Vec<Error>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("error[H004]: cannot read pack directory {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, src, errors)?;
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("toml" | "txt")) {
                let rel = path.strip_prefix(root).expect("walked from root").to_string_lossy().replace('\\', "/");
                let bytes =
                    std::fs::read(&path).with_context(|| format!("error[H004]: cannot read {}", path.display()))?;
                match String::from_utf8(bytes) {
                    Ok(text) => {
                        src.add(rel, text);
                    }
                    Err(e) => errors.push(not_utf8(&rel, e.as_bytes(), e.utf8_error().valid_up_to())),
                }
            }
        }
        Ok(())
    }
    if !dir.is_dir() {
        bail!("error[H004]: {} is not a directory", dir.display());
    }
    let mut src = PackSource::new();
    let mut errors = Vec::new();
    if !dir.join("pack.toml").is_file() {
        errors.push(
            Error::new(
                ErrorCode::MissingFile,
                format!("{} is not a pack directory: it has no pack.toml", dir.display()),
            )
            .with_note("a pack is a directory with pack.toml, lexicons and cases; see docs/pack-format.md"),
        );
        return Ok((src, errors));
    }
    walk(dir, dir, &mut src, &mut errors)?;
    Ok((src, errors))
}

/// The `E202` error for a pack file that is not UTF-8 at byte `at`.
fn not_utf8(file: &str, bytes: &[u8], at: usize) -> Error {
    let valid = String::from_utf8_lossy(&bytes[..at]);
    let loc = Location::in_source(file, &valid, valid.len()..valid.len() + 1);
    Error::new(
        ErrorCode::InvalidUtf8,
        format!("`{file}` is not valid UTF-8: byte 0x{:02x} at offset {at}", bytes.get(at).copied().unwrap_or(0)),
    )
    .at(loc)
    .with_note("pack files are UTF-8; re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)")
}

/// Reads every `.toml` and `.txt` file under a pack directory; any pack
/// error (see [`read_source`]) comes back rendered.
pub fn read_pack_dir(dir: &Path) -> Result<PackSource> {
    let (src, errors) = read_source(dir)?;
    if !errors.is_empty() {
        let n = errors.len();
        bail!("{}\n\n{}: {n} error(s)", render_errors(&Errors(errors), &src), dir.display());
    }
    Ok(src)
}

/// Reads and compiles a pack directory: `Ok(Err(errors))` for pack errors
/// (read and compile errors together), `Err` for I/O failures.
pub fn compile_source(dir: &Path) -> Result<(PackSource, std::result::Result<Pack, Errors>)> {
    let (src, mut errors) = read_source(dir)?;
    if !errors.is_empty() {
        if src.get("pack.toml").is_some() {
            // Report what the compiler finds in the readable files too.
            if let Err(more) = PackCompiler::new().compile(&src) {
                let unreadable: Vec<String> =
                    errors.iter().filter_map(|e| e.location().map(|l| l.file.clone())).collect();
                // A lexicon that could not be read is not also "missing".
                errors.extend(more.0.into_iter().filter(|e| {
                    !(e.code() == ErrorCode::MissingFile && unreadable.iter().any(|f| e.message().contains(f.as_str())))
                }));
            }
        }
        return Ok((src, Err(Errors(errors))));
    }
    let result = PackCompiler::new().compile(&src);
    Ok((src, result))
}

/// Selects rules by id (`SPL-001`), id prefix (`SPL`) or category
/// (`system_prompt_leak`): what `--disable-rule` and the serve config's
/// `[rules] disable` take; `LEX-001` (or `LEX`) turns the lexical model off.
/// A selector that matches no rule is an `H008` error.
pub fn disable_rules(loaded: LoadedPack, selectors: &[String]) -> Result<LoadedPack> {
    if selectors.is_empty() {
        return Ok(loaded);
    }
    let rules = loaded.pack.rules();
    let matches = |sel: &str, r: &distillguard::Rule| {
        r.id == sel
            || r.id.split_once('-').is_some_and(|(p, _)| p == sel.trim_end_matches('-'))
            || r.category.as_str() == sel
    };
    let has_model = loaded.pack.lexical_model().is_some();
    let is_model = |sel: &str| has_model && (sel == EVIDENCE_ID || sel.trim_end_matches('-') == "LEX");
    for sel in selectors {
        if !is_model(sel) && !rules.iter().any(|r| matches(sel, r)) {
            let mut known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
            known.extend(distillguard::Category::ALL.map(|c| c.as_str()));
            if has_model {
                known.push(EVIDENCE_ID);
            }
            let hint = distillguard::closest(sel, &known).map_or(String::new(), |h| format!(" (did you mean `{h}`?)"));
            bail!(
                "error[{}]: rule selector `{sel}` matches no rule of pack {}{hint}; a selector is a rule id, an id prefix such as `SPL`, or a category",
                ErrorCode::UnknownRuleSelector,
                loaded.pack.meta().name
            );
        }
    }
    let mut pack = loaded
        .pack
        .without_rules(|r| selectors.iter().any(|s| matches(s, r)))
        .map_err(|e| anyhow!("{}", e.render(None)))?;
    if selectors.iter().any(|s| is_model(s)) {
        pack = pack.without_lexical_model().map_err(|e| anyhow!("{}", e.render(None)))?;
    }
    let bytes = pack.to_bytes();
    Ok(LoadedPack { pack, bytes })
}

/// Renders compile errors like rustc, each with its source line.
pub fn render_errors(errors: &Errors, src: &PackSource) -> String {
    errors.0.iter().map(|e| e.render(e.location().and_then(|l| src.get(&l.file)))).collect::<Vec<_>>().join("\n\n")
}

/// Compiles a pack directory; pack errors come back rendered.
pub fn compile_dir(dir: &Path) -> Result<Pack> {
    let (src, result) = compile_source(dir)?;
    result.map_err(|e| {
        // Paths as the user named the pack, so they are clickable from where they ran.
        let shown =
            e.0.iter()
                .map(|x| {
                    let source = x.location().and_then(|l| src.get(&l.file));
                    x.clone().relocate(|f| dir.join(f).display().to_string()).render(source)
                })
                .collect::<Vec<_>>()
                .join("\n\n");
        anyhow!("{shown}\n\n{}: {} error(s)", dir.display(), e.0.len())
    })
}

/// A pack as given on the command line, with its compiled bytes (what the
/// wasm guest loads).
pub struct LoadedPack {
    /// The pack, native.
    pub pack: Pack,
    /// Its compiled form.
    pub bytes: Vec<u8>,
}

/// Loads `--pack PATH`: a directory is compiled, a file must be a compiled
/// pack; `None` is the embedded default pack.
pub fn load(path: Option<&Path>) -> Result<LoadedPack> {
    let Some(path) = path else {
        let pack = Pack::from_bytes(DEFAULT_PACK).context("embedded default pack")?;
        return Ok(LoadedPack { pack, bytes: DEFAULT_PACK.to_vec() });
    };
    if path.is_dir() {
        let pack = compile_dir(path)?;
        let bytes = pack.to_bytes();
        return Ok(LoadedPack { pack, bytes });
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read pack {}", path.display()))?;
    if !bytes.starts_with(MAGIC) && path.file_name().is_some_and(|n| n == "pack.toml") {
        return load(path.parent());
    }
    let pack = Pack::from_bytes(&bytes).map_err(|e| anyhow!("{}: {}", path.display(), e.render(None)))?;
    Ok(LoadedPack { pack, bytes })
}
