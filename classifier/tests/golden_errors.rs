//! Golden tests pinning every compile error message: each `errors/*.in`
//! holds a pack source (files separated by `=== path` lines); its `.out` is
//! the rendered errors. Regenerate with `BLESS=1 cargo test -p distillguard`.

use distillguard::{PackCompiler, PackSource};
use std::path::Path;

fn parse_bundle(text: &str) -> PackSource {
    let mut src = PackSource::new();
    let mut current: Option<(String, String)> = None;
    for line in text.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("=== ") {
            if let Some((p, body)) = current.take() {
                src.add(p, body);
            }
            current = Some((path.trim().to_string(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
        }
    }
    if let Some((p, body)) = current {
        src.add(p, body);
    }
    src
}

fn render(src: &PackSource) -> String {
    match PackCompiler::new().compile(src) {
        Ok(_) => "ok\n".to_string(),
        Err(errors) => {
            let mut out = String::new();
            for e in &errors.0 {
                out.push_str(&e.render(e.location().and_then(|l| src.get(&l.file))));
                out.push_str("\n\n");
            }
            out
        }
    }
}

#[test]
fn error_messages_are_pinned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let bless = std::env::var_os("BLESS").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "in"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 10, "golden inputs missing");
    let mut failures = Vec::new();
    for input in inputs {
        let src = parse_bundle(&std::fs::read_to_string(&input).unwrap());
        let got = render(&src);
        assert_ne!(got, "ok\n", "{} should not compile", input.display());
        let golden = input.with_extension("out");
        if bless {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            failures.push(format!("{}:\n--- want\n{want}\n--- got\n{got}", golden.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
