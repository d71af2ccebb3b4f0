// Lint rules, including the process boundaries of DESIGN: which layer may import which.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import layers from './eslint/layers.js';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** A `no-restricted-imports` rule built from forbidden module names and path patterns. */
function restrict(names, patterns, why) {
  return [
    'error',
    {
      paths: names.map((name) => ({ name, message: why })),
      patterns: patterns.map((group) => ({ group: [group], message: why })),
    },
  ];
}

export default tseslint.config(
  {
    ignores: ['node_modules', 'dist', 'release', 'build', 'coverage', 'test-artifacts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: ['src-shared/**'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': restrict(
        [...nodeBuiltins, 'electron', 'react', 'react-dom', 'better-sqlite3', 'ws', 'zustand'],
        ['**/src-main/**', '**/src-renderer/**', '../src-main*', '../src-renderer*'],
        'src-shared is the contract between processes: no Node, DOM, Electron or UI imports.',
      ),
    },
  },
  {
    files: ['src-renderer/**', 'test/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': restrict(
        [...nodeBuiltins, 'electron', 'better-sqlite3', 'ws'],
        ['**/src-main/**', '../src-main*', '../../src-main*'],
        'The renderer is untrusted and talks to main only through the src-shared contract.',
      ),
    },
  },
  {
    // The order of the layers inside main (eslint/layers.js).
    files: ['src-main/**'],
    plugins: { layers },
    rules: { 'layers/layering': 'error' },
  },
  {
    files: ['bench/**', 'scripts/**'],
    rules: {
      'no-restricted-imports': restrict(
        ['better-sqlite3'],
        [],
        'Only src-main/store sees SQL: ask the store for what you need.',
      ),
    },
  },
  {
    files: ['src-main/protocols/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Protocol timers go through the injected Clock.' },
        { name: 'setInterval', message: 'Protocol timers go through the injected Clock.' },
        { name: 'Date', message: 'Protocol time comes from the injected Clock.' },
      ],
    },
  },
  {
    files: ['src-main/electron/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Anything but `electron` and modules of src-shared.
              regex: '^(?!electron$|\\.\\./\\.\\./src-shared/(?!.*\\.\\.))',
              message: 'The preload may import only electron and src-shared.',
            },
          ],
        },
      ],
    },
  },
);
