// distillguard in front of an OpenAI- or Anthropic-compatible API, as an
// edge worker: the policy of `distillguard serve` (monitor / flag / block)
// per request, with the embedded default pack.
//
// Bindings (config.capnp reads them from the environment; on Cloudflare
// they are `vars` in wrangler.toml):
//   DG_UPSTREAM  base URL of the API, e.g. https://api.openai.com
//   DG_MODE      monitor (default, like `serve`), flag or block
import { guard, load } from 'distillguard';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname === '/healthz') {
      const c = await load();
      return Response.json({ status: 'ok', pack: { name: c.pack.name, version: c.pack.version }, mode: mode(env) });
    }
    if (!env.DG_UPSTREAM) return new Response('DG_UPSTREAM is not set\n', { status: 500 });
    return guard(request, { mode: mode(env), upstream: env.DG_UPSTREAM });
  },
};

function mode(env) {
  return env.DG_MODE || 'monitor';
}
