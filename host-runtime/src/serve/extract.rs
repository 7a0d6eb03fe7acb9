//! Which requests carry prompts, in which API's shape, and the prompt text
//! inside them.

use crate::prompt::message_role;
use distillguard::Role;
use serde_json::{Map, Value};

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

/// Where a request goes, read from its method and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    /// A classified route; `path` is the canonical path the upstream receives.
    Classified {
        /// The route.
        route: Route,
        /// Canonical path (the route's own part in its canonical spelling).
        path: String,
    },
    /// Anything else, streamed through; `path` is the canonical path.
    Other {
        /// Canonical path.
        path: String,
    },
    /// The path names a classified route once an encoded slash or a
    /// backslash is read as `/`: refused, since upstreams differ on it.
    EncodedSlash,
}

const ROUTES: [(&str, Route); 4] = [
    ("/v1/chat/completions", Route::ChatCompletions),
    ("/v1/completions", Route::Completions),
    ("/v1/responses", Route::Responses),
    ("/v1/messages", Route::Messages),
];

impl Routing {
    /// Routes a request path (without its query). The path is made
    /// canonical first: unreserved characters percent-decoded, other
    /// escapes upper-cased, runs of `/` merged, `.` and `..` segments
    /// resolved. A canonical path ending in a classified route's path,
    /// compared case-insensitively, is that route whatever the method (a
    /// prefix before `/v1/` is allowed: gateways mount APIs under one).
    pub fn of(path: &str) -> Routing {
        let canonical = canonical_path(path);
        if let Some((route, prefix)) = classified(&canonical) {
            return Routing::Classified { route, path: format!("{prefix}{}", route.path()) };
        }
        let lowered = path.to_ascii_lowercase();
        if (lowered.contains("%2f") || lowered.contains("%5c") || path.contains('\\'))
            && classified(&canonical_path(&lowered.replace("%2f", "/").replace("%5c", "/").replace('\\', "/")))
                .is_some()
        {
            return Routing::EncodedSlash;
        }
        Routing::Other { path: canonical }
    }
}

/// The route a canonical path ends in, and the prefix before it.
fn classified(canonical: &str) -> Option<(Route, &str)> {
    let trimmed = canonical.trim_end_matches('/');
    ROUTES.into_iter().find_map(|(suffix, route)| {
        let at = trimmed.len().checked_sub(suffix.len())?;
        trimmed.get(at..).filter(|tail| tail.eq_ignore_ascii_case(suffix)).map(|_| (route, &trimmed[..at]))
    })
}

/// RFC 3986 normalisation of a path: percent-decoding of unreserved
/// characters (section 6.2.2.2), upper-case hex in the escapes that stay,
/// dot-segment removal (5.2.4), plus merging of empty segments (`//`), which
/// most servers treat as one `/`. A trailing `/` is kept.
pub fn canonical_path(path: &str) -> String {
    let b = path.as_bytes();
    let mut decoded = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = (h * 16 + l) as u8;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    decoded.push(c as char);
                } else {
                    decoded.push_str(&format!("%{:02X}", c));
                }
                i += 3;
                continue;
            }
        }
        let ch = path[i..].chars().next().expect("in bounds");
        decoded.push(ch);
        i += ch.len_utf8();
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut canonical = format!("/{}", out.join("/"));
    let ends_dir = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    if ends_dir && canonical != "/" {
        canonical.push('/');
    }
    canonical
}

impl Route {
    /// The route's path, in its canonical spelling.
    pub fn path(self) -> &'static str {
        match self {
            Route::ChatCompletions => "/v1/chat/completions",
            Route::Completions => "/v1/completions",
            Route::Responses => "/v1/responses",
            Route::Messages => "/v1/messages",
        }
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

/// Every string the model will read in a request body, with its role, in
/// reading order. Unlike [`crate::prompt::segments`] (which the CLI uses on
/// labelled records, whose other fields are metadata), this reads the
/// whole body the way a JSON-aware WAF does:
///
/// 1. `system` and `instructions` (system);
/// 2. `messages`, `input`, `prompt` and `suffix`: each message or item with
///    the role its shape gives (see [`item_role`]), every string inside it;
/// 3. every other field (`tools`, `functions`, `response_format`, `text`,
///    `metadata`, `prediction`, fields this version does not know...) as
///    caller text (user), every string inside it, in key order.
///
/// Only values that are not text the model reads are skipped: enumerations
/// and identifiers ([`SKIPPED_KEYS`]) and binary payloads (image and audio
/// bytes). There is no depth limit below the JSON parser's own (128 levels;
/// deeper bodies are malformed), and keys of a JSON-schema `properties`
/// object are read too, since they name what the model fills in.
pub fn prompt_segments(body: &[u8]) -> Result<Vec<(Role, String)>, Malformed> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Malformed(format!("the request body is not valid JSON ({e}); distillguard only forwards well-formed requests"))
    })?;
    let Value::Object(map) = &value else {
        return Err(Malformed("the request body must be a JSON object".into()));
    };
    let mut out = Vec::new();
    for key in ["system", "instructions"] {
        if let Some(v) = map.get(key) {
            walk(v, Role::System, &mut out);
        }
    }
    for key in ["messages", "input", "prompt", "suffix"] {
        if let Some(v) = map.get(key) {
            walk(v, Role::User, &mut out);
        }
    }
    for (key, v) in map {
        if !matches!(key.as_str(), "system" | "instructions" | "messages" | "input" | "prompt" | "suffix")
            && !SKIPPED_KEYS.contains(&key.as_str())
        {
            walk(v, Role::User, &mut out);
        }
    }
    Ok(out)
}

/// Keys whose string values are identifiers or enumerations, not text the
/// model reads (`model`, `role`, `type`, ids, media types, option names).
pub const SKIPPED_KEYS: &[&str] = &[
    "model",
    "role",
    "type",
    "id",
    "tool_call_id",
    "tool_use_id",
    "call_id",
    "previous_response_id",
    "media_type",
    "mime_type",
    "detail",
    "service_tier",
    "reasoning_effort",
    "effort",
    "modalities",
    "voice",
    "status",
    "stop_reason",
    "signature",
    "file_id",
    "cache_control",
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "tool_choice",
    "truncation",
    "include",
    "stop",
    "stop_sequences",
];

/// The role of a message or content item: its `role`, else what its `type`
/// says (tool results are `tool`; documents, files and search results
/// `document`; tool calls, thinking and reasoning the model produced earlier
/// are `assistant`), else the enclosing role.
pub fn item_role(m: &Map<String, Value>, enclosing: Role) -> Role {
    if let Some(r) = m.get("role").and_then(Value::as_str) {
        return message_role(r);
    }
    match m.get("type").and_then(Value::as_str) {
        Some(
            "tool_result"
            | "function_call_output"
            | "tool_call_output"
            | "custom_tool_call_output"
            | "mcp_tool_result"
            | "web_search_tool_result",
        ) => Role::Tool,
        Some("document" | "input_file" | "file" | "search_result") => Role::Document,
        Some(
            "tool_use" | "server_tool_use" | "function_call" | "custom_tool_call" | "thinking" | "redacted_thinking"
            | "reasoning",
        ) => Role::Assistant,
        _ => enclosing,
    }
}

/// Whether an object is a binary payload the model does not read as text:
/// images, audio bytes, base64 sources that are not text.
fn binary(m: &Map<String, Value>) -> bool {
    match m.get("type").and_then(Value::as_str) {
        Some("image" | "image_url" | "input_image" | "input_audio" | "audio") => return true,
        Some("base64") => {
            return !m.get("media_type").and_then(Value::as_str).is_some_and(|t| t.starts_with("text/"));
        }
        _ => {}
    }
    false
}

/// Every string in `v` with its role. Recursion is bounded by the JSON
/// parser's depth limit (128).
fn walk(v: &Value, role: Role, out: &mut Vec<(Role, String)>) {
    match v {
        Value::String(s) if !s.is_empty() => out.push((role, s.clone())),
        Value::Array(items) => items.iter().for_each(|i| walk(i, role, out)),
        Value::Object(m) => {
            let role = item_role(m, role);
            let skip_binary = binary(m);
            // Text first (`text`, `content`), then the other fields in key order.
            for key in ["text", "content"] {
                if let Some(x) = m.get(key) {
                    walk(x, role, out);
                }
            }
            for (k, x) in m {
                let k = k.as_str();
                if matches!(k, "text" | "content") || SKIPPED_KEYS.contains(&k) {
                    continue;
                }
                // Image and audio bytes: `image_url` (a URL or a data URL), and
                // the `data` / `url` / `source` of image, audio and binary parts.
                if k == "image_url" || (skip_binary && matches!(k, "data" | "url" | "source")) {
                    continue;
                }
                if k == "input_audio" {
                    // `{"data": <base64>, "format": "wav"}`; only a transcript is text.
                    if let Some(t) = x.get("transcript") {
                        walk(t, role, out);
                    }
                    continue;
                }
                if k == "properties" {
                    if let Value::Object(props) = x {
                        for (name, schema) in props {
                            out.push((role, name.clone()));
                            walk(schema, role, out);
                        }
                        continue;
                    }
                }
                walk(x, role, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(body: &str) -> Vec<(Role, String)> {
        prompt_segments(body.as_bytes()).unwrap()
    }

    #[test]
    fn bodies() {
        let body = r#"{"system":"S","messages":[{"role":"user","content":"U"}]}"#;
        assert_eq!(segs(body), [(Role::System, "S".to_string()), (Role::User, "U".to_string())]);
        assert!(prompt_segments(b"{").is_err());
        assert!(prompt_segments(b"[1]").is_err());
    }

    #[test]
    fn every_string_is_read_except_identifiers_and_binary() {
        let body = r#"{"model":"gpt","messages":{"role":"user","content":"M"},"tools":[{"type":"function",
            "function":{"name":"f","description":"D","parameters":{"type":"object","properties":{"p":{"type":"string","description":"PD"}}}}}],
            "metadata":{"k":"V"},"x_future":{"a":[{"b":"F"}]},
            "stream":true,"max_tokens":5}"#;
        let got: Vec<String> = segs(body).into_iter().map(|(_, t)| t).collect();
        assert_eq!(got, ["M", "V", "D", "f", "p", "PD", "F"]);
        let body = r#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
            {"type":"input_audio","input_audio":{"data":"AAAA","format":"wav","transcript":"T"}},
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]}"#;
        let got: Vec<String> = segs(body).into_iter().map(|(_, t)| t).collect();
        assert_eq!(got, ["T"]);
    }

    #[test]
    fn roles_come_from_the_shape() {
        let body = r#"{"messages":[{"role":"assistant","content":"A","tool_calls":[{"id":"c1","type":"function","function":{"name":"n","arguments":"ARGS"}}]},
            {"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"DOC"},"title":"TT"},
            {"type":"tool_result","tool_use_id":"x","content":"TR"}]}]}"#;
        assert_eq!(
            segs(body),
            [
                (Role::Assistant, "A".to_string()),
                (Role::Assistant, "ARGS".into()),
                (Role::Assistant, "n".into()),
                (Role::Document, "DOC".into()),
                (Role::Document, "TT".into()),
                (Role::Tool, "TR".into()),
            ]
        );
    }

    #[test]
    fn nesting_has_no_depth_limit_below_the_parser() {
        let deep = format!("{}\"DEEP\"{}", "{\"a\":[".repeat(40), "]}".repeat(40));
        let body = format!(r#"{{"messages":[{{"role":"user","content":"hi","extra":{deep}}}]}}"#);
        assert!(segs(&body).iter().any(|(_, t)| t == "DEEP"));
    }

    #[test]
    fn paths_are_made_canonical_before_routing() {
        let classified = |p: &str| match Routing::of(p) {
            Routing::Classified { route, path } => Some((route, path)),
            _ => None,
        };
        for p in [
            "/v1/chat/completions",
            "/v1//chat/completions",
            "/V1/chat/completions",
            "/v1/Chat/Completions",
            "/v1/chat/completion%73",
            "/v1/./chat/completions",
            "/v1/messages/../chat/completions",
            "/v1/chat/completions/",
            "//v1/chat/completions",
            "/v1/chat/%2e%2e/chat/completions",
        ] {
            assert_eq!(classified(p), Some((Route::ChatCompletions, "/v1/chat/completions".to_string())), "{p}");
        }
        assert_eq!(classified("/openai/v1/messages"), Some((Route::Messages, "/openai/v1/messages".to_string())));
        assert_eq!(Routing::of("/v1/chat%2Fcompletions"), Routing::EncodedSlash);
        assert_eq!(Routing::of("/v1/chat%5ccompletions"), Routing::EncodedSlash);
        assert_eq!(Routing::of("/v1/models"), Routing::Other { path: "/v1/models".into() });
        assert_eq!(Routing::of("/v1/files/a%2Fb"), Routing::Other { path: "/v1/files/a%2Fb".into() });
        assert_eq!(Routing::of("/v1/chat/completions/abc"), Routing::Other { path: "/v1/chat/completions/abc".into() });
        assert_eq!(canonical_path("/a/../../b/%7e%zz"), "/b/~%zz");
    }
}
