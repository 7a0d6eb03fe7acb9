// The package's top-level API over one runtime's way of getting the core
// module and the default pack (see index.*.js).

import { Classifier, DistillguardError, toBytes } from './core.js';
import { guardWith } from './guard.js';

export function makeApi(defaultModule, defaultPack) {
  let modulePromise = null;
  let defaultClassifier = null;
  let current = null;

  const module = () => (modulePromise ??= Promise.resolve(defaultModule()));

  /**
   * Instantiates the core module with `pack` (compiled pack bytes; the
   * embedded default pack when absent) and makes it the classifier that
   * `classify` and `guard` use.
   */
  async function load(pack) {
    let c;
    if (pack === undefined) {
      defaultClassifier ??= Promise.all([module(), defaultPack()]).then(([m, p]) => Classifier.create(m, toBytes(p, 'the default pack')));
      try {
        c = await defaultClassifier;
      } catch (e) {
        defaultClassifier = null;
        throw e;
      }
    } else {
      c = await Classifier.create(await module(), pack);
    }
    current = c;
    return c;
  }

  function loaded() {
    if (current === null) throw new DistillguardError('EJS2', 'no classifier is loaded: call `await load()` first');
    return current;
  }

  return {
    load,
    classify: (input) => loaded().classify(input),
    classifyJson: (input) => loaded().classifyJson(input),
    guard: async (request, options = {}) => guardWith(options.classifier ?? current ?? (await load()), request, options),
    wasmModule: module,
  };
}
