//! The web demo's browser tests: start `distillguard demo` on a free port,
//! run `web-demo/tests/browser.mjs` (playwright-core driving Debian's
//! Chromium) against it, and always stop the server.
//!
//! Each step of the script runs in a fresh browser context and waits for
//! the page's reported state (never for time), so a failure names one step;
//! a failed step leaves `failure-<step>.png` and `failure-<step>.console.txt`
//! in `test-output/web/`. `DG_STEPS=REGEX` runs only the matching steps.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the demo server may take to print its address.
const STARTUP: Duration = Duration::from_secs(30);

/// Kills and reaps the server however the tests end (error, panic, success).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the browser tests of the web demo against the `distillguard` binary
/// at `distillguard` (its `demo` verb serves the page; its `classify` gives
/// the native verdicts the browser's must equal). `root` is the workspace
/// root; screenshots and `metrics.json` land in `root/test-output/web/`.
///
/// Needs `node`, `node_modules/playwright-core` and `/usr/bin/chromium`
/// (`cargo xtask setup` installs them).
pub fn browser_tests(root: &Path, distillguard: &Path) -> Result<(), String> {
    let script = root.join("web-demo/tests/browser.mjs");
    if !script.exists() {
        return Err(format!("{} is missing", script.display()));
    }
    if !root.join("node_modules/playwright-core").exists() {
        return Err("node_modules/playwright-core is missing: run `cargo xtask setup` (or `npm ci`)".into());
    }
    let mut child = Command::new(distillguard)
        .current_dir(root)
        .args(["demo", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{} demo`: {e}", distillguard.display()))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut server = Server(child);

    // The server prints `web demo on http://127.0.0.1:PORT/ ...` on stderr; keep
    // draining stderr afterwards so the server never blocks on a full pipe.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        let mut sent = false;
        while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            if !sent {
                if let Some(url) = demo_url(&line) {
                    let _ = tx.send(Ok(url));
                    sent = true;
                } else {
                    eprint!("demo: {line}");
                }
            }
            line.clear();
        }
        if !sent {
            let _ = tx.send(Err(()));
        }
        let _ = reader.read_to_end(&mut Vec::new());
    });
    let url = match rx.recv_timeout(STARTUP) {
        Ok(Ok(url)) => url,
        Ok(Err(())) => {
            let status = server.0.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
            return Err(format!("`distillguard demo` exited ({status}) without printing its address"));
        }
        Err(_) => return Err(format!("`distillguard demo` printed no address within {} s", STARTUP.as_secs())),
    };
    if let Ok(Some(status)) = server.0.try_wait() {
        return Err(format!("`distillguard demo` exited early: {status}"));
    }

    eprintln!("$ node {} {url} {}", script.display(), distillguard.display());
    let started = Instant::now();
    let status = Command::new("node")
        .current_dir(root)
        .arg(&script)
        .arg(&url)
        .arg(distillguard)
        .status()
        .map_err(|e| format!("cannot run node (is Node.js installed?): {e}"))?;
    drop(server);
    eprintln!("browser tests: {:.1} s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("browser tests failed ({status}); see the output above and test-output/web/"))
    }
}

/// The URL in the demo's `web demo on http://127.0.0.1:PORT/ (Ctrl-C to stop)` line.
fn demo_url(line: &str) -> Option<String> {
    let rest = &line[line.find("web demo on ")? + "web demo on ".len()..];
    let url = rest.split_whitespace().next()?;
    url.starts_with("http://").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::demo_url;

    #[test]
    fn parses_the_demo_address() {
        assert_eq!(
            demo_url("web demo on http://127.0.0.1:43249/ (Ctrl-C to stop)\n").as_deref(),
            Some("http://127.0.0.1:43249/")
        );
        assert_eq!(demo_url("warning: no bundle\n"), None);
    }
}
