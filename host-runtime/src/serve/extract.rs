//! Which requests carry prompts, in which API's shape, and the prompt text
//! inside them.

use distillguard::Role;
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

/// Every piece of prompt text in a request body with its role, in reading
/// order (see [`crate::prompt::segments`]).
pub fn prompt_segments(body: &[u8]) -> Result<Vec<(Role, String)>, Malformed> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Malformed(format!("the request body is not valid JSON ({e}); distillguard only forwards well-formed requests"))
    })?;
    let Value::Object(map) = &value else {
        return Err(Malformed("the request body must be a JSON object".into()));
    };
    Ok(crate::prompt::segments(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let body = br#"{"system":"S","messages":[{"role":"user","content":"U"}]}"#;
        assert_eq!(prompt_segments(body).unwrap(), [(Role::System, "S".to_string()), (Role::User, "U".to_string())]);
        assert!(prompt_segments(b"{").is_err());
        assert!(prompt_segments(b"[1]").is_err());
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
