//! Reading packs from disk: a source directory (compiled here) or a compiled
//! file (verified on load), or the default pack embedded in this binary.

use anyhow::{anyhow, bail, Context, Result};
use distillguard::{Errors, Pack, PackCompiler, PackSource, MAGIC};
use std::path::{Path, PathBuf};

/// The default pack, compiled at build time from `rules/default`.
pub const DEFAULT_PACK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default.dgpack"));

/// Reads every `.toml` and `.txt` file under a pack directory.
pub fn read_pack_dir(dir: &Path) -> Result<PackSource> {
    fn walk(dir: &Path, root: &Path, src: &mut PackSource) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read pack directory {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, src)?;
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("toml" | "txt")) {
                let rel = path.strip_prefix(root).expect("walked from root").to_string_lossy().replace('\\', "/");
                let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let text = String::from_utf8(bytes).map_err(|e| {
                    anyhow!("{}: not valid UTF-8 at byte {}", path.display(), e.utf8_error().valid_up_to())
                })?;
                src.add(rel, text);
            }
        }
        Ok(())
    }
    if !dir.join("pack.toml").is_file() {
        bail!("{} is not a pack directory: it has no pack.toml", dir.display());
    }
    let mut src = PackSource::new();
    walk(dir, dir, &mut src)?;
    Ok(src)
}

/// Renders compile errors like rustc, each with its source line.
pub fn render_errors(errors: &Errors, src: &PackSource) -> String {
    errors.0.iter().map(|e| e.render(e.location().and_then(|l| src.get(&l.file)))).collect::<Vec<_>>().join("\n\n")
}

/// Compiles a pack directory; compile errors come back rendered.
pub fn compile_dir(dir: &Path) -> Result<Pack> {
    let src = read_pack_dir(dir)?;
    PackCompiler::new()
        .compile(&src)
        .map_err(|e| anyhow!("{}\n\n{}: {} error(s)", render_errors(&e, &src), dir.display(), e.0.len()))
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
