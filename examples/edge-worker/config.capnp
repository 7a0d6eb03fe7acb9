# workerd configuration of the edge-worker example.
#
#   DG_UPSTREAM=https://api.openai.com DG_MODE=block \
#     npx workerd serve examples/edge-worker/config.capnp --socket-addr http=127.0.0.1:8787
#
# The package's files are listed one by one because workerd does not
# bundle: `distillguard` is the package's workerd entry point, which imports
# its siblings by relative name, the core module as a wasm module and the
# compiled default pack as a data module. Run `cargo xtask js` first: it
# puts the module and the pack into packages/js/src/.

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .guardWorker),
    # The worker's outbound network. "local" lets the upstream be on
    # loopback (the tests' fake API); drop it when the upstream is public.
    (name = "internet", network = (allow = ["public", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const guardWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "distillguard", esModule = embed "../../packages/js/src/index.workerd.js"),
    (name = "api.js", esModule = embed "../../packages/js/src/api.js"),
    (name = "core.js", esModule = embed "../../packages/js/src/core.js"),
    (name = "guard.js", esModule = embed "../../packages/js/src/guard.js"),
    (name = "distillguard.wasm", wasm = embed "../../packages/js/src/distillguard.wasm"),
    (name = "default-pack.bin", data = embed "../../packages/js/src/default-pack.bin"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "DG_UPSTREAM", fromEnvironment = "DG_UPSTREAM"),
    (name = "DG_MODE", fromEnvironment = "DG_MODE"),
  ],
  globalOutbound = "internet",
);
