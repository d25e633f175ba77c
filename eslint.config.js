// Lint: TypeScript rules plus the layer rule that keeps imports pointing one way (see docs/ARCHITECTURE.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { dirname, resolve, relative, sep } from 'node:path';

// Lower layers never import higher ones; a folder may import its own layer and those below. Pure statistics
// (numbers in, numbers out) sit at the bottom beside util so that any layer may use them.
const LAYERS = {
  util: 0,
  stats: 0,
  torch: 1,
  io: 2,
  tokenizers: 2,
  models: 3,
  lora: 4,
  train: 5,
  data: 6,
  experiments: 7,
  results: 8,
  study: 9,
  report: 10,
  cli: 11,
};
const ROOT = dirname(new URL(import.meta.url).pathname);

// Test support (float64 reference models and the like) may be imported only by tests.
const TEST_SUPPORT = 'test-support';

function layerOf(file) {
  const rel = relative(resolve(ROOT, 'src'), file);
  if (rel.startsWith('..')) return null;
  const top = rel.split(sep)[0];
  return top in LAYERS ? { name: top, rank: LAYERS[top] } : null;
}

const layerRule = {
  meta: { type: 'problem', schema: [], messages: { up: '{{from}} (layer {{a}}) must not import {{to}} (layer {{b}}): imports point from higher layers to lower ones', native: 'only src/torch may load the native binding', testOnly: 'src/test-support is for tests only' } },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    function checkSource(node) {
      const spec = node.source && node.source.value;
      if (typeof spec !== 'string') return;
      if (/native\/build|\.node$/.test(spec) && from?.name !== 'torch') context.report({ node, messageId: 'native' });
      if (!spec.startsWith('.') || !from) return;
      const target = resolve(dirname(file), spec);
      if (relative(resolve(ROOT, 'src'), target).split(sep)[0] === TEST_SUPPORT && !/\.test\.ts$/.test(file)) context.report({ node, messageId: 'testOnly' });
      const to = layerOf(target);
      if (to && to.rank > from.rank) context.report({ node, messageId: 'up', data: { from: from.name, to: to.name, a: from.rank, b: to.rank } });
    }
    return { ImportDeclaration: checkSource, ExportNamedDeclaration: checkSource, ExportAllDeclaration: checkSource, ImportExpression: checkSource };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'models/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { iclit: { rules: { layers: layerRule } } },
    rules: {
      'iclit/layers': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs', '**/*.js'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', URL: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
