//! `distillguard fit DIR FILE...`: fits the pack's lexical model on labelled
//! JSONL and the pack's own cases, and writes the model file `[model] file`
//! names.

use crate::common::{print_pack_errors, read_items, shown_path, Global};
use anyhow::{bail, Context, Result};
use clap::Args;
use distillguard::{Category, ErrorCode, Label, PackCompiler, Role, Segment};
use distillguard_host::fit::{fit, Example, FitParams};
use distillguard_host::packs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct FitArgs {
    /// Pack directory; its pack.toml needs a `[model]` section (`file`, `share`, `evidence_from`).
    dir: PathBuf,
    /// Labelled JSONL (`text` or `messages`, `label`, `category` for extraction records).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Hash buckets (a power of two).
    #[arg(long, default_value_t = FitParams::default().buckets)]
    buckets: u32,
    /// Bytes of folded text per window the classifier scores.
    #[arg(long, default_value_t = FitParams::default().window)]
    window: u32,
    /// Passes over the data.
    #[arg(long, default_value_t = FitParams::default().epochs)]
    epochs: u32,
    /// AdaGrad step size.
    #[arg(long, default_value_t = FitParams::default().step)]
    step: f64,
    /// L2 penalty per update.
    #[arg(long, default_value_t = FitParams::default().l2)]
    l2: f64,
    /// Each pack case counts this many times (cases are the pack's own specification).
    #[arg(long, default_value_t = 5)]
    case_weight: usize,
    /// Accept malformed records (skipped, reported on stderr) instead of failing (H007).
    #[arg(long)]
    allow_skipped: bool,
}

/// The `[model]` section of pack.toml, as fit needs it.
#[derive(serde::Deserialize)]
struct ModelSection {
    file: String,
}

/// Exit 1 when the pack does not compile or records were skipped; 2 on I/O
/// and usage errors.
pub fn run(_g: &Global, a: FitArgs) -> Result<ExitCode> {
    let params = FitParams {
        buckets: a.buckets,
        window: a.window,
        epochs: a.epochs,
        step: a.step,
        l2: a.l2,
        ..FitParams::default()
    };
    if !params.buckets.is_power_of_two()
        || !(64..=1 << 24).contains(&params.buckets)
        || params.window < 64
        || !(params.step > 0.0 && params.step.is_finite())
        || !(params.l2 >= 0.0 && params.l2 < 1.0)
    {
        bail!("error[{}]: --buckets must be a power of two from 64 to 2^24, --window at least 64, --step positive, --l2 in [0, 1)", ErrorCode::BadArgument);
    }
    // Read only: the pack is compiled once, below, without the model it is about to get.
    let (src, unreadable) = packs::read_source(&a.dir)?;
    if !unreadable.is_empty() {
        return Ok(print_pack_errors(&distillguard::Errors(unreadable), &a.dir, &src));
    }
    let section: ModelSection = {
        let doc = src.get("pack.toml").context("the pack has no pack.toml")?;
        #[derive(serde::Deserialize)]
        struct Doc {
            model: Option<ModelSection>,
        }
        let parsed: Doc = toml::from_str(doc).map_err(|e| anyhow::anyhow!("pack.toml: {e}"))?;
        match parsed.model {
            Some(m) => m,
            None => bail!(
                "error[{}]: {} has no [model] section: add `[model]` with `file = \"model/lexical.toml\"`, `share = 0.6`, `evidence_from = 0.25`",
                ErrorCode::Schema,
                shown_path(&a.dir.join("pack.toml"))
            ),
        }
    };
    let pack = match PackCompiler::new().without_model().compile(&src) {
        Ok(p) => p,
        Err(errors) => return Ok(print_pack_errors(&errors, &a.dir, &src)),
    };
    let (items, skipped) = read_items(&a.files)?;
    if let Some(code) = skipped.failure(a.allow_skipped) {
        return Ok(code);
    }
    // The classifier takes the most extraction-like of the projections the
    // model reads: a benign text must read benign in each, an extraction
    // must read as one where it was decoded (its folded form is noise when
    // it was base64 or homoglyphs).
    let features = |segments: &[Segment<'_>], class: usize| {
        let mut views = pack.lexical_features(segments, params.buckets, params.window as usize);
        if class != 0 && views.len() > 1 {
            views.remove(0);
        }
        views
    };
    let class_of = |label: Label, category: Option<&str>| -> Result<usize, String> {
        match label {
            Label::Benign => Ok(0),
            Label::Extraction => {
                let c = category.ok_or("an extraction record without `category`")?;
                let c = Category::parse(c).ok_or_else(|| format!("unknown category `{c}`"))?;
                Ok(1 + Category::ALL.iter().position(|&k| k == c).expect("a category is in ALL"))
            }
        }
    };
    let mut examples = Vec::new();
    let mut per_class = [0usize; distillguard::lexical::CLASSES];
    for item in &items {
        let class = class_of(item.label, item.category.as_deref()).map_err(|e| {
            anyhow::anyhow!("error[{}]: {}: {e}", ErrorCode::Schema, item.id.as_deref().unwrap_or("a record"))
        })?;
        per_class[class] += 1;
        examples.extend(features(&item.prompt.segments(), class).into_iter().map(|buckets| Example { buckets, class }));
    }
    let from_files = items.len();
    let mut skipped_cases = 0;
    for case in pack.cases() {
        let segments = case.segments().unwrap_or_else(|| vec![Segment::new(Role::User, &case.text)]);
        // An extraction case that names no category counts for the one its rules find.
        let category = case.category.or_else(|| pack.classify_segments(&segments).top_category());
        let Ok(class) = class_of(case.label, category.map(Category::as_str)) else {
            skipped_cases += 1; // an extraction case no rule of this pack fires on
            continue;
        };
        per_class[class] += 1;
        for buckets in features(&segments, class) {
            for _ in 1..a.case_weight {
                examples.push(Example { buckets: buckets.clone(), class });
            }
            examples.push(Example { buckets, class });
        }
    }
    let n_cases = pack.cases().len() - skipped_cases;
    let model = fit(&examples, params);
    let files: Vec<String> = a.files.iter().map(|f| shown_path(f)).collect();
    let mut about = format!(
        "The pack's lexical model (docs/pack-format.md, \"Lexical model\"). Written by `distillguard fit`: do not edit, refit.\n\
         fitted on {} records from {} file(s) and {} pack cases (each counted {} times): benign {}, {}\n\
         buckets {}, window {}, epochs {}, step {}, l2 {}, seed {}\n\
         files:",
        from_files,
        a.files.len(),
        n_cases,
        a.case_weight,
        per_class[0],
        Category::ALL.iter().zip(&per_class[1..]).map(|(c, n)| format!("{} {n}", c.as_str())).collect::<Vec<_>>().join(", "),
        params.buckets,
        params.window,
        params.epochs,
        params.step,
        params.l2,
        params.seed,
    );
    for f in &files {
        about.push_str(&format!("\n  {f}"));
    }
    let path = a.dir.join(&section.file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("error[H004]: cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, model.to_source(&about))
        .with_context(|| format!("error[H004]: cannot write {}", path.display()))?;
    eprintln!(
        "fitted {} on {} examples ({} from files, {} cases; {} extraction cases without a category skipped) -> {}",
        shown_path(&a.dir),
        examples.len(),
        from_files,
        n_cases,
        skipped_cases,
        shown_path(&path)
    );
    Ok(ExitCode::SUCCESS)
}
