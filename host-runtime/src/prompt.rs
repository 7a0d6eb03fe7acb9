//! A prompt as hosts receive it: plain text, or segments with roles read
//! from an API request or a JSONL record in the OpenAI or Anthropic shape.
//!
//! One reader serves the proxy (request bodies) and the CLI (`messages`
//! records), so both give the classifier the same segments.

use distillguard::{Role, Segment};
use serde_json::{Map, Value};

/// Nesting deeper than this is not read, so a hostile body cannot make the
/// reader recurse deeply (bodies are capped too).
const MAX_DEPTH: usize = 16;

/// What is classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// One text, read as one user segment.
    Text(String),
    /// Segments with roles, in reading order.
    Segments(Vec<(Role, String)>),
}

impl Prompt {
    /// Reads a JSONL record: `text`, or `messages` (OpenAI chat or Anthropic
    /// messages, with Anthropic's top-level `system`), or Responses-API
    /// `instructions`/`input`.
    ///
    /// ```
    /// use distillguard::Role;
    /// use distillguard_host::prompt::Prompt;
    /// let rec = serde_json::json!({"system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}]});
    /// let p = Prompt::from_record(rec.as_object().unwrap()).unwrap();
    /// assert_eq!(p, Prompt::Segments(vec![(Role::System, "Be brief.".into()), (Role::User, "Hi".into())]));
    /// ```
    pub fn from_record(m: &Map<String, Value>) -> Result<Prompt, String> {
        match m.get("text") {
            Some(Value::String(t)) => return Ok(Prompt::Text(t.clone())),
            Some(_) => return Err("field `text` is not a string".into()),
            None => {}
        }
        match m.get("messages").or_else(|| m.get("input")) {
            Some(Value::Array(_) | Value::String(_)) => Ok(Prompt::Segments(segments(m))),
            Some(_) => Err("field `messages` is not an array".into()),
            None => Err("missing string field `text` (or a `messages` array)".into()),
        }
    }

    /// The segments to classify (a text is one user segment).
    pub fn segments(&self) -> Vec<Segment<'_>> {
        match self {
            Prompt::Text(t) => vec![Segment::new(Role::User, t)],
            Prompt::Segments(s) => s.iter().map(|(r, t)| Segment::new(*r, t)).collect(),
        }
    }

    /// Classifies it natively with `pack`: plain text as text, segments as segments.
    pub fn classify(&self, pack: &distillguard::Pack) -> distillguard::Verdict {
        match self {
            Prompt::Text(t) => pack.classify(t),
            Prompt::Segments(_) => pack.classify_segments(&self.segments()),
        }
    }

    /// For people: the text, or each segment as `role: text`, blank-line separated.
    pub fn display(&self) -> String {
        match self {
            Prompt::Text(t) => t.clone(),
            Prompt::Segments(s) => {
                s.iter().map(|(r, t)| format!("{}: {t}", r.as_str())).collect::<Vec<_>>().join("\n\n")
            }
        }
    }

    /// Total length of the text in bytes.
    pub fn len(&self) -> usize {
        match self {
            Prompt::Text(t) => t.len(),
            Prompt::Segments(s) => s.iter().map(|(_, t)| t.len()).sum(),
        }
    }

    /// Whether there is no text at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every piece of prompt text in a request body (or record) with its role,
/// in reading order: `system` and `instructions` first (system), then each
/// message or input item (`messages`, `input`; all roles: a prefilled
/// assistant turn is prompt too), then `prompt` and `suffix` (user).
/// Tool results are `tool`, attached documents `document`; non-text parts
/// (images, audio, token arrays) are skipped.
///
/// ```
/// use distillguard::Role;
/// let body = serde_json::json!({"messages": [
///     {"role": "developer", "content": "D"},
///     {"role": "user", "content": [{"type": "text", "text": "U"},
///                                  {"type": "tool_result", "content": "T"}]}]});
/// let segs = distillguard_host::prompt::segments(body.as_object().unwrap());
/// assert_eq!(segs, [(Role::System, "D".to_string()), (Role::User, "U".into()), (Role::Tool, "T".into())]);
/// ```
pub fn segments(m: &Map<String, Value>) -> Vec<(Role, String)> {
    let mut out = Vec::new();
    for key in ["system", "instructions"] {
        if let Some(v) = m.get(key) {
            collect(v, Role::System, &mut out, 0);
        }
    }
    for key in ["messages", "input", "prompt", "suffix"] {
        if let Some(v) = m.get(key) {
            collect(v, Role::User, &mut out, 0);
        }
    }
    out
}

/// Text from a string, an array of strings/parts/messages, or a part or
/// message object (`text`, `content`, nested `content` of tool results).
/// `role` is the role of the enclosing message.
fn collect(v: &Value, role: Role, out: &mut Vec<(Role, String)>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::String(s) if !s.is_empty() => out.push((role, s.clone())),
        Value::Array(items) => items.iter().for_each(|i| collect(i, role, out, depth + 1)),
        Value::Object(m) => {
            let role = m.get("role").and_then(Value::as_str).map_or(role, message_role);
            let role = match m.get("type").and_then(Value::as_str) {
                Some("tool_result" | "function_call_output" | "tool_call_output") => Role::Tool,
                Some("document" | "input_file" | "file") => Role::Document,
                _ => role,
            };
            for key in ["text", "content", "input", "output"] {
                if let Some(x) = m.get(key) {
                    collect(x, role, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// A message's `role` as a segment role. An unknown role is read as the
/// caller's (`user`): text whose author is unclear counts as caller text.
pub(crate) fn message_role(name: &str) -> Role {
    match name {
        "system" | "developer" => Role::System,
        "assistant" | "model" => Role::Assistant,
        "tool" | "function" | "ipython" => Role::Tool,
        _ => Role::User,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    fn segs(body: &str) -> Vec<(Role, String)> {
        segments(serde_json::from_str::<Value>(body).unwrap().as_object().unwrap())
    }

    fn pairs(v: &[(Role, &str)]) -> Vec<(Role, String)> {
        v.iter().map(|(r, t)| (*r, t.to_string())).collect()
    }

    #[test]
    fn openai_chat() {
        let body = r#"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"developer","content":"D"},
            {"role":"user","content":[{"type":"text","text":"U1"},{"type":"image_url","image_url":{"url":"data:x"}}]},
            {"role":"assistant","content":"A"},{"role":"tool","content":"T"}]}"#;
        assert_eq!(segs(body), pairs(&[(System, "S"), (System, "D"), (User, "U1"), (Assistant, "A"), (Tool, "T")]));
    }

    #[test]
    fn anthropic_and_responses_and_prompt() {
        let body = r#"{"system":[{"type":"text","text":"S"}],"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"T"}]},{"type":"document","source":{"type":"text"},"text":"Doc"}]}]}"#;
        assert_eq!(segs(body), pairs(&[(System, "S"), (Tool, "T"), (Document, "Doc")]));
        let body = r#"{"instructions":"I","input":[{"role":"user","content":[{"type":"input_text","text":"X"}]},{"type":"function_call_output","output":"F"}]}"#;
        assert_eq!(segs(body), pairs(&[(System, "I"), (User, "X"), (Tool, "F")]));
        assert_eq!(segs(r#"{"input":"Y"}"#), pairs(&[(User, "Y")]));
        assert_eq!(segs(r#"{"prompt":["a","b"],"suffix":"c"}"#), pairs(&[(User, "a"), (User, "b"), (User, "c")]));
        assert_eq!(segs(r#"{"prompt":[1,2,3]}"#), vec![]);
        assert_eq!(segs(r#"{"messages":[{"role":"narrator","content":"N"}]}"#), pairs(&[(User, "N")]));
    }

    #[test]
    fn records() {
        let rec = |s: &str| Prompt::from_record(serde_json::from_str::<Value>(s).unwrap().as_object().unwrap());
        assert_eq!(rec(r#"{"text":"t","messages":[]}"#), Ok(Prompt::Text("t".into())));
        assert_eq!(rec(r#"{"messages":[{"role":"user","content":"u"}]}"#), Ok(Prompt::Segments(pairs(&[(User, "u")]))));
        assert!(rec(r#"{"text":1}"#).is_err());
        assert!(rec(r#"{"messages":{"role":"user"}}"#).is_err());
        assert!(rec(r#"{"label":"benign"}"#).is_err());
        let p = rec(r#"{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}"#).unwrap();
        assert_eq!(p.display(), "system: s\n\nuser: u");
        assert_eq!(p.len(), 2);
    }
}
