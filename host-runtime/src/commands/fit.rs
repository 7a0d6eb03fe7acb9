//! `distillguard fit DIR FILE...`: fits the pack's lexical model on labelled
//! JSONL and the pack's own cases, and writes the model file `[model] file`
//! names.

use crate::common::{print_pack_errors, read_items, shown_path, Global};
use anyhow::{bail, Context, Result};
use clap::Args;
use distillguard::lexical::LexicalModel;
use distillguard::{Category, ErrorCode, Label, PackCompiler, PackSource, Role, Segment};
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
    /// A window with fewer distinct n-gram buckets is scaled as if it had this many, so a text of a
    /// word or two cannot reach a confident score on a handful of n-grams (1: every window unit length).
    #[arg(long, default_value_t = FitParams::default().min_features)]
    min_features: u32,
    /// Passes over the data.
    #[arg(long, default_value_t = FitParams::default().epochs)]
    epochs: u32,
    /// AdaGrad step size.
    #[arg(long, default_value_t = FitParams::default().step)]
    step: f64,
    /// L2 penalty per update.
    #[arg(long, default_value_t = FitParams::default().l2)]
    l2: f64,
    /// Seed of the example order: fits with other seeds show how much of a difference is noise.
    #[arg(long, default_value_t = FitParams::default().seed)]
    seed: u64,
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
        min_features: a.min_features,
        epochs: a.epochs,
        step: a.step,
        l2: a.l2,
        seed: a.seed,
    };
    if distillguard::lexical::check_shape(params.buckets, params.window, params.min_features).is_err()
        || !(params.step > 0.0 && params.step.is_finite())
        || !(params.l2 >= 0.0 && params.l2 < 1.0)
    {
        bail!("error[{}]: --buckets must be a power of two from 64 to 2^24, --window at least 64, --min-features from 1 to 4096, --step positive, --l2 in [0, 1)", ErrorCode::BadArgument);
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
    // The classifier takes the most extraction-like window of the projections
    // the model reads, and fitting reads the same windows: a benign text must
    // read benign in each; an extraction must read as one in the segments
    // that count its category (the pack's `[roles]`: not a leak request in
    // the operator's system prompt) and where it was decoded (its folded form
    // is noise when it was base64 or homoglyphs). Of an extraction's windows,
    // `fit` teaches its class to the one that reads most like it (its witness).
    let features = |segments: &[Segment<'_>], class: usize| {
        let mut projections = pack.lexical_features(segments, params.buckets, params.window as usize);
        if class != 0 && projections.len() > 1 {
            projections.remove(0);
        }
        let counts = |&(classes, _): &(u8, Vec<u32>)| class == 0 || classes & (1 << class) != 0;
        projections.into_iter().flatten().filter(counts).map(|(_, buckets)| buckets).collect::<Vec<_>>()
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
        examples.push(Example { windows: features(&item.prompt.segments(), class), class });
    }
    let from_files = items.len();
    // The pack's cases, as (index in `pack.cases()`, class, windows).
    let mut cases = Vec::new();
    for (i, case) in pack.cases().iter().enumerate() {
        let segments = case.segments().unwrap_or_else(|| vec![Segment::new(Role::User, &case.text)]);
        // An extraction case that names no category counts for the one its rules find.
        let category = case.category.or_else(|| pack.classify_segments(&segments).top_category());
        let Ok(class) = class_of(case.label, category.map(Category::as_str)) else {
            continue; // an extraction case no rule of this pack fires on
        };
        per_class[class] += 1;
        cases.push((i, class, features(&segments, class)));
    }
    let (n_cases, skipped_cases) = (cases.len(), pack.cases().len() - cases.len());
    // The cases are the pack's specification: a case the fitted model makes
    // fail counts twice as often in the next fit, for at most CASE_ROUNDS
    // more fits.
    let mut weight = vec![a.case_weight; pack.cases().len()];
    let mut refits = 0;
    let (model, failing) = loop {
        let mut all = examples.clone();
        for (i, class, windows) in &cases {
            all.extend(std::iter::repeat_n(Example { windows: windows.clone(), class: *class }, weight[*i]));
        }
        let model = fit(&all, params);
        let failing = failing_cases(&src, &section.file, &model)?;
        if failing.is_empty() || refits == CASE_ROUNDS {
            break (model, failing);
        }
        refits += 1;
        for i in failing {
            weight[i] *= 2;
        }
    };
    let files: Vec<String> = a.files.iter().map(|f| shown_path(f)).collect();
    let mut about = format!(
        "The pack's lexical model (docs/pack-format.md, \"Lexical model\"). Written by `distillguard fit`: do not edit, refit.\n\
         fitted on {} records from {} file(s) and {} pack cases (each counted {} times, twice as often after each fit it failed in; {} refits): benign {}, {}\n\
         buckets {}, window {}, min_features {}, epochs {}, step {}, l2 {}, seed {}\n\
         files:",
        from_files,
        a.files.len(),
        n_cases,
        a.case_weight,
        refits,
        per_class[0],
        Category::ALL.iter().zip(&per_class[1..]).map(|(c, n)| format!("{} {n}", c.as_str())).collect::<Vec<_>>().join(", "),
        params.buckets,
        params.window,
        params.min_features,
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
    for i in &failing {
        let case = &pack.cases()[*i];
        eprintln!("warning: {}:{}: the case fails with the fitted model", case.file, case.line);
    }
    eprintln!(
        "fitted {} on {} windows of {} records and {} cases ({} refits; {} extraction cases without a category skipped) -> {}",
        shown_path(&a.dir),
        examples.iter().map(|e| e.windows.len()).sum::<usize>(),
        from_files,
        n_cases,
        refits,
        skipped_cases,
        shown_path(&path)
    );
    Ok(ExitCode::SUCCESS)
}

/// How many times `fit` fits again with the failing cases weighted up.
const CASE_ROUNDS: usize = 3;

/// The cases of the pack in `src` that fail once `model` is its model file
/// `file`, as indices in `Pack::cases()`.
fn failing_cases(src: &PackSource, file: &str, model: &LexicalModel) -> Result<Vec<usize>> {
    let mut src = src.clone();
    src.add(file, model.to_source(""));
    let pack = PackCompiler::new().compile(&src).map_err(|e| {
        anyhow::anyhow!("error[{}]: the pack does not compile with the fitted model: {e}", ErrorCode::Schema)
    })?;
    let report = pack.run_cases();
    Ok(report.results.iter().enumerate().filter(|(_, r)| !r.passed).map(|(i, _)| i).collect())
}
