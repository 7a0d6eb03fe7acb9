// `npm pack` / `npm publish`: puts the core module and the compiled default
// pack into src/ (`cargo xtask js-artefacts` builds them with the workspace,
// exactly the bytes the `distillguard` binary embeds), then checks they are there.
// `cargo xtask js` sets DG_ARTEFACTS_READY=1: it has just copied them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
if (process.env.DG_ARTEFACTS_READY !== '1') {
  const root = here('../../../');
  if (!fs.existsSync(`${root}/Cargo.toml`)) {
    console.error('prepack: not inside the distillguard workspace; cannot build the wasm module and the pack');
    process.exit(1);
  }
  const r = spawnSync('cargo', ['xtask', 'js-artefacts'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
for (const f of ['../src/distillguard.wasm', '../src/default-pack.bin']) {
  if (!fs.existsSync(here(f))) {
    console.error(`prepack: ${f.slice(3)} is missing; run \`cargo xtask js-artefacts\``);
    process.exit(1);
  }
}
