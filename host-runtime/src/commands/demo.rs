//! `distillguard demo`: the rule-authoring web page on 127.0.0.1.

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

pub fn run(a: DemoArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], a.port));
    rt.block_on(distillguard_host::demo::serve(addr, |a| eprintln!("web demo on http://{a}/ (Ctrl-C to stop)")))?;
    Ok(ExitCode::SUCCESS)
}
