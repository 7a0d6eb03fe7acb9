# workerd configuration of the edge-worker tests (examples/edge-worker/test/edge.mjs):
# the example worker in flag and in monitor mode, and the probe worker.
# The shipped ../config.capnp is tested as it is, in block mode, beside it.
# Sockets bind to port 0; the test reads the ports from --control-fd.

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "flag", worker = .flagWorker),
    (name = "monitor", worker = .monitorWorker),
    (name = "probe", worker = .probeWorker),
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [
    (name = "flag", address = "127.0.0.1:0", http = (), service = "flag"),
    (name = "monitor", address = "127.0.0.1:0", http = (), service = "monitor"),
    (name = "probe", address = "127.0.0.1:0", http = (), service = "probe"),
  ],
);

const flagWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "../worker.mjs"),
    (name = "distillguard", esModule = embed "../../../packages/js/src/index.workerd.js"),
    (name = "api.js", esModule = embed "../../../packages/js/src/api.js"),
    (name = "core.js", esModule = embed "../../../packages/js/src/core.js"),
    (name = "guard.js", esModule = embed "../../../packages/js/src/guard.js"),
    (name = "distillguard.wasm", wasm = embed "../../../packages/js/src/distillguard.wasm"),
    (name = "default-pack.bin", data = embed "../../../packages/js/src/default-pack.bin"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [(name = "DG_UPSTREAM", fromEnvironment = "DG_UPSTREAM"), (name = "DG_MODE", text = "flag")],
  globalOutbound = "internet",
);

const monitorWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "../worker.mjs"),
    (name = "distillguard", esModule = embed "../../../packages/js/src/index.workerd.js"),
    (name = "api.js", esModule = embed "../../../packages/js/src/api.js"),
    (name = "core.js", esModule = embed "../../../packages/js/src/core.js"),
    (name = "guard.js", esModule = embed "../../../packages/js/src/guard.js"),
    (name = "distillguard.wasm", wasm = embed "../../../packages/js/src/distillguard.wasm"),
    (name = "default-pack.bin", data = embed "../../../packages/js/src/default-pack.bin"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [(name = "DG_UPSTREAM", fromEnvironment = "DG_UPSTREAM"), (name = "DG_MODE", text = "monitor")],
  globalOutbound = "internet",
);

const probeWorker :Workerd.Worker = (
  modules = [
    (name = "probe.mjs", esModule = embed "probe.mjs"),
    (name = "distillguard", esModule = embed "../../../packages/js/src/index.workerd.js"),
    (name = "api.js", esModule = embed "../../../packages/js/src/api.js"),
    (name = "core.js", esModule = embed "../../../packages/js/src/core.js"),
    (name = "guard.js", esModule = embed "../../../packages/js/src/guard.js"),
    (name = "distillguard.wasm", wasm = embed "../../../packages/js/src/distillguard.wasm"),
    (name = "default-pack.bin", data = embed "../../../packages/js/src/default-pack.bin"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [],
  globalOutbound = "internet",
);
