//! Structured JSON logs, one object per line. Raw prompts never appear
//! unless `log_prompts` is on: lengths and keyed hashes do.

use serde_json::{Map, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where log lines go.
#[derive(Clone, Default)]
pub enum LogSink {
    /// Standard error (the default).
    #[default]
    Stderr,
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<String>>>),
    /// Dropped.
    Off,
}

impl LogSink {
    /// A memory sink and its lines.
    pub fn memory() -> (LogSink, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (LogSink::Memory(lines.clone()), lines)
    }

    /// Writes one event: `ts` (Unix seconds, ms precision), `level`, `event`,
    /// then `fields`.
    pub fn emit(&self, level: &str, event: &str, fields: Value) {
        if matches!(self, LogSink::Off) {
            return;
        }
        let mut m = Map::new();
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as f64 / 1000.0;
        m.insert("ts".into(), ts.into());
        m.insert("level".into(), level.into());
        m.insert("event".into(), event.into());
        if let Value::Object(f) = fields {
            m.extend(f);
        }
        let line = Value::Object(m).to_string();
        match self {
            LogSink::Stderr => {
                let mut e = std::io::stderr().lock();
                let _ = writeln!(e, "{line}");
            }
            LogSink::Memory(lines) => lines.lock().expect("log lock").push(line),
            LogSink::Off => {}
        }
    }
}
