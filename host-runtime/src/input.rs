//! Reading JSONL records, line by line, without losing the good lines to a
//! bad one.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// One line of a JSONL file.
#[derive(Debug)]
pub enum Line {
    /// A JSON object.
    Record(Map<String, Value>),
    /// A line that is not one, with why.
    Bad(String),
}

/// Parses JSONL text. Blank lines are skipped; each returned item carries its
/// 1-based line number. Lone UTF-16 surrogates in `\u` escapes, which JSON
/// from some producers contains, are replaced by U+FFFD (with a warning)
/// rather than dropping the record.
pub fn parse_jsonl(bytes: &[u8]) -> Vec<(usize, Line, Option<String>)> {
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let lineno = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                out.push((lineno, Line::Bad(format!("not valid UTF-8 at byte {}", e.valid_up_to())), None));
                continue;
            }
        };
        let (fixed, warning) = match replace_lone_surrogates(text) {
            Cow::Borrowed(t) => (Cow::Borrowed(t), None),
            Cow::Owned(t) => (Cow::Owned(t), Some("lone UTF-16 surrogate escapes replaced by U+FFFD".to_string())),
        };
        match serde_json::from_str::<Value>(&fixed) {
            Ok(Value::Object(m)) => out.push((lineno, Line::Record(m), warning)),
            Ok(_) => out.push((lineno, Line::Bad("not a JSON object".into()), None)),
            Err(e) => out.push((lineno, Line::Bad(format!("invalid JSON: {e}")), None)),
        }
    }
    out
}

/// Replaces `\uD800`-`\uDFFF` escapes that are not part of a valid pair.
fn replace_lone_surrogates(s: &str) -> Cow<'_, str> {
    fn hex_at(b: &[u8], i: usize) -> Option<u16> {
        if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
            let h = std::str::from_utf8(b.get(i + 2..i + 6)?).ok()?;
            return u16::from_str_radix(h, 16).ok();
        }
        None
    }
    let b = s.as_bytes();
    if !s.contains("\\u") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            // Count the backslash run: only an unescaped `\u` is an escape.
            if let Some(v) = hex_at(b, i) {
                let is_high = (0xD800..0xDC00).contains(&v);
                let is_low = (0xDC00..0xE000).contains(&v);
                let paired = is_high && hex_at(b, i + 6).is_some_and(|w| (0xDC00..0xE000).contains(&w));
                if paired {
                    i += 12;
                    continue;
                }
                if is_high || is_low {
                    out.push_str(&s[last..i]);
                    out.push_str("\\ufffd");
                    i += 6;
                    last = i;
                    changed = true;
                    continue;
                }
                i += 6;
                continue;
            }
            i += 2; // skip the escaped character
            continue;
        }
        i += 1;
    }
    if !changed {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[last.min(s.len())..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_survive_bad_neighbours() {
        let data =
            b"{\"text\":\"a\"}\nnot json\n\n{\"text\":\"\\ud800 x\"}\n\xff\xfe\n[1]\n{\"text\":\"\\ud83d\\ude00\"}";
        let lines = parse_jsonl(data);
        let kinds: Vec<(usize, bool)> = lines.iter().map(|(n, l, _)| (*n, matches!(l, Line::Record(_)))).collect();
        assert_eq!(kinds, [(1, true), (2, false), (4, true), (5, false), (6, false), (7, true)]);
        match &lines[2].1 {
            Line::Record(m) => assert_eq!(m["text"], "\u{fffd} x"),
            _ => unreachable!(),
        }
        assert!(lines[2].2.is_some());
        match &lines[5].1 {
            Line::Record(m) => assert_eq!(m["text"], "😀"),
            _ => unreachable!(),
        }
    }
}
