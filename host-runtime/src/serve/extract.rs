//! Which requests carry prompts, in which API's shape, and the prompt text
//! inside them.

use serde_json::Value;

/// The API a classified route belongs to; decides the error shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// OpenAI-compatible: `{"error":{"message","type","code"}}`.
    OpenAi,
    /// Anthropic: `{"type":"error","error":{"type","message"}}`.
    Anthropic,
}

/// A route whose request body is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST .../v1/chat/completions`
    ChatCompletions,
    /// `POST .../v1/completions`
    Completions,
    /// `POST .../v1/responses`
    Responses,
    /// `POST .../v1/messages` (Anthropic)
    Messages,
}

impl Route {
    /// Recognises a classified route by method and path. A path prefix
    /// before `/v1/` is allowed (gateways mount APIs under one).
    pub fn recognise(method: &hyper::Method, path: &str) -> Option<Route> {
        if method != hyper::Method::POST {
            return None;
        }
        let path = path.trim_end_matches('/');
        [
            ("/v1/chat/completions", Route::ChatCompletions),
            ("/v1/completions", Route::Completions),
            ("/v1/responses", Route::Responses),
            ("/v1/messages", Route::Messages),
        ]
        .into_iter()
        .find(|(suffix, _)| path.ends_with(suffix))
        .map(|(_, r)| r)
    }

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::ChatCompletions => "chat_completions",
            Route::Completions => "completions",
            Route::Responses => "responses",
            Route::Messages => "messages",
        }
    }

    /// Its API.
    pub fn api(self) -> Api {
        match self {
            Route::Messages => Api::Anthropic,
            _ => Api::OpenAi,
        }
    }
}

/// Why a body could not be read as a request of its API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

/// Every piece of prompt text in a request body, in reading order: the
/// system prompt / instructions first, then each message or input item
/// (all roles: a prefilled assistant turn is prompt too), then `prompt` and
/// `suffix`. Non-text parts (images, audio, token arrays) are skipped.
pub fn prompt_parts(body: &[u8]) -> Result<Vec<String>, Malformed> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Malformed(format!("the request body is not valid JSON ({e}); distillguard only forwards well-formed requests"))
    })?;
    let Value::Object(map) = &value else {
        return Err(Malformed("the request body must be a JSON object".into()));
    };
    let mut out = Vec::new();
    for key in ["system", "instructions"] {
        if let Some(v) = map.get(key) {
            collect(v, &mut out, 0);
        }
    }
    for key in ["messages", "input", "prompt", "suffix"] {
        if let Some(v) = map.get(key) {
            collect(v, &mut out, 0);
        }
    }
    Ok(out)
}

/// Text from a string, an array of strings/parts/messages, or a part or
/// message object (`text`, `content`, nested `content` of tool results).
fn collect(v: &Value, out: &mut Vec<String>, depth: usize) {
    // Bodies are capped, but nesting is bounded too so a hostile body
    // cannot make this recurse deeply.
    if depth > 16 {
        return;
    }
    match v {
        Value::String(s) if !s.is_empty() => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect(i, out, depth + 1)),
        Value::Object(m) => {
            for key in ["text", "content", "input", "output"] {
                if let Some(x) = m.get(key) {
                    collect(x, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The parts joined into the one text that is classified.
pub fn join(parts: &[String]) -> String {
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_chat() {
        let body = br#"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"developer","content":"D"},
            {"role":"user","content":[{"type":"text","text":"U1"},{"type":"image_url","image_url":{"url":"data:x"}}]},
            {"role":"assistant","content":"A"}]}"#;
        assert_eq!(prompt_parts(body).unwrap(), ["S", "D", "U1", "A"]);
    }

    #[test]
    fn anthropic_and_responses_and_prompt() {
        let body = br#"{"system":[{"type":"text","text":"S"}],"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"T"}]}]}]}"#;
        assert_eq!(prompt_parts(body).unwrap(), ["S", "T"]);
        let body = br#"{"instructions":"I","input":[{"role":"user","content":[{"type":"input_text","text":"X"}]}]}"#;
        assert_eq!(prompt_parts(body).unwrap(), ["I", "X"]);
        assert_eq!(prompt_parts(br#"{"input":"Y"}"#).unwrap(), ["Y"]);
        assert_eq!(prompt_parts(br#"{"prompt":["a","b"],"suffix":"c"}"#).unwrap(), ["a", "b", "c"]);
        assert_eq!(prompt_parts(br#"{"prompt":[1,2,3]}"#).unwrap(), Vec::<String>::new());
        assert!(prompt_parts(b"{").is_err());
        assert!(prompt_parts(b"[1]").is_err());
    }

    #[test]
    fn routes() {
        let post = hyper::Method::POST;
        assert_eq!(Route::recognise(&post, "/v1/chat/completions"), Some(Route::ChatCompletions));
        assert_eq!(Route::recognise(&post, "/openai/v1/messages"), Some(Route::Messages));
        assert_eq!(Route::recognise(&post, "/v1/models"), None);
        assert_eq!(Route::recognise(&hyper::Method::GET, "/v1/responses"), None);
    }
}
