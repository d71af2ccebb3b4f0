// The order of the layers inside the main process, enforced on every import (the idea of VS
// Code's `code-layering` rule): protocols → profiles → links → gateway (with store) → service →
// shells. A layer imports only the layers listed for it; src-shared may be imported from anywhere.
import path from 'node:path';

const ORDER =
  'protocols → profiles → links → gateway (with store, orders and forwarding beside it) → service → shells (electron, headless)';

/** Folder (or file) under src-main → the src-main layers it may import besides itself. */
export const LAYERS = {
  protocols: [],
  /** Instrument profiles, test-code mapping and QC rules, read over decoded messages. */
  profiles: ['protocols'],
  'system-clock': ['protocols'],
  store: ['protocols'],
  links: ['protocols', 'system-clock'],
  simulator: ['protocols', 'system-clock'],
  gateway: ['links', 'store', 'profiles', 'protocols', 'system-clock'],
  // Beside the gateway: it implements the gateway's InstrumentOrders port (a type it may name).
  orders: ['gateway', 'links', 'store', 'profiles', 'protocols', 'system-clock'],
  // Beside the gateway: delivery of stored results to the LIS through the outbox.
  forwarding: ['links', 'store', 'profiles', 'protocols', 'system-clock'],
  service: ['forwarding', 'orders', 'gateway', 'store', 'profiles', 'protocols', 'system-clock'],
  demo: ['gateway', 'links', 'simulator', 'protocols', 'system-clock'],
  app: [
    'service',
    'forwarding',
    'orders',
    'gateway',
    'links',
    'store',
    'profiles',
    'protocols',
    'system-clock',
  ],
  electron: [
    'app',
    'service',
    'demo',
    'forwarding',
    'orders',
    'gateway',
    'links',
    'store',
    'profiles',
    'protocols',
    'system-clock',
  ],
  headless: [
    'app',
    'service',
    'demo',
    'simulator',
    'forwarding',
    'orders',
    'gateway',
    'links',
    'store',
    'profiles',
    'protocols',
    'system-clock',
  ],
};

const SOCKETS = ['net', 'tls', 'dgram', 'http', 'https', 'http2'];
/** Packages that belong to one place only, and the layers that may import them. */
const PACKAGES = {
  ...Object.fromEntries(
    SOCKETS.flatMap((m) => [m, `node:${m}`]).map((m) => [
      m,
      {
        layers: ['links', 'simulator', 'demo', 'headless'],
        why: 'only the links (and the analyzer peers and the web shell) touch sockets',
      },
    ]),
  ),
  'better-sqlite3': { layers: ['store'], why: 'only src-main/store sees SQL' },
  electron: { layers: ['electron'], why: 'only src-main/electron knows it runs in Electron' },
};

function layerOf(file, root) {
  const rel = path.relative(path.join(root, 'src-main'), file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const [first] = rel.split(path.sep);
  const name = first.replace(/\.[cm]?[jt]sx?$/, '');
  return Object.hasOwn(LAYERS, name) ? name : null;
}

export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: `Keeps the main process's layers in order: ${ORDER}.` },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const from = layerOf(file, root);
    if (!from) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const target = layerOf(path.resolve(path.dirname(file), spec), root);
        if (!target || target === from || LAYERS[from].includes(target)) return;
        const allowed = LAYERS[from].length > 0 ? LAYERS[from].join(', ') : 'nothing else';
        context.report({
          node,
          message: `src-main/${from} may not import src-main/${target}: the layers go ${ORDER}; ${from} may use ${allowed}.`,
        });
        return;
      }
      const rule = PACKAGES[spec];
      if (rule && !rule.layers.includes(from)) {
        context.report({
          node,
          message: `src-main/${from} may not import "${spec}": ${rule.why}.`,
        });
      }
    };
    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
    };
  },
};

export default { rules: { layering: layeringRule } };
