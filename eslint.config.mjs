// Lint every TypeScript file with the recommended rules; `npm test` runs this before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const WEBVIEW_PROTOCOL_ONLY = {
  regex: '(^|/)webview/(?![^/]+/protocol$)',
  message: 'src/ imports only the protocol files of webview/.',
};
const ENGINE_INDEX_ONLY = {
  regex: '(^|/)engine/.',
  message: 'Outside src/engine, import the engine through its index (src/engine/index.ts).',
};
const VSCODE_SIDE = {
  regex: '^(\\.\\./)+(config|extension|remoteHost|statusBar|commands|backends/.*)$',
  message: 'The VS Code side (settings, activation, backends) is not plain Node.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      'test-results/',
      '.vscode-test/',
      '.e2e/',
      'models/**/*.mjs',
      '**/*.js',
      '!esbuild.js',
      '!bin/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-restricted-imports': ['error', { paths: [] }],
    },
  },
  {
    // The engine runs in plain Node (CLI, worker, benchmarks, unit tests): it must never see vscode.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/engine runs outside VS Code.' }],
          patterns: [
            { regex: '(^|/)webview/(?![^/]+/protocol$)', message: 'src/ imports only the protocol files of webview/.' },
          ],
        },
      ],
    },
  },
  {
    // The host side sees a webview only through its protocol.ts, and the engine only through its
    // index (engine/index.ts: no runtime, so the extension host never loads onnxruntime-node).
    files: ['src/**/*.ts'],
    ignores: ['src/engine/**', 'src/common/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [WEBVIEW_PROTOCOL_ONLY, ENGINE_INDEX_ONLY] }],
    },
  },
  {
    // The CLI runs the model in its own process: it alone may load the in-process engine.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The CLI runs in plain Node.' }],
          patterns: [WEBVIEW_PROTOCOL_ONLY, { ...ENGINE_INDEX_ONLY, regex: '(^|/)engine/(?!engine$)' }, VSCODE_SIDE],
        },
      ],
    },
  },
  {
    // Plain Node outside the engine: the CLI, the model-server clients, the network layer, and the
    // cores of the costs and the model hub run without VS Code (the CLI and unit tests load them).
    // Only the named adapter files of costs/ and modelHub/ see VS Code and its settings.
    files: ['src/remote/**/*.ts', 'src/net/**/*.ts', 'src/costs/**/*.ts', 'src/modelHub/**/*.ts'],
    ignores: [
      'src/costs/costs.ts',
      'src/costs/costsPanel.ts',
      'src/modelHub/modelDownloads.ts',
      'src/modelHub/manageModels.ts',
      'src/modelHub/selectModel.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'This folder runs in plain Node; VS Code belongs in an adapter file.' }],
          patterns: [WEBVIEW_PROTOCOL_ONLY, ENGINE_INDEX_ONLY, VSCODE_SIDE],
        },
      ],
    },
  },
  {
    // src/common is the ground floor both sides stand on: it imports nothing else of the project.
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/common runs in the host, the worker and the webviews.' }],
          patterns: [{ regex: '^\\.\\./', message: 'src/common imports only src/common.' }],
        },
      ],
    },
  },
  {
    // A webview bundle runs in the browser: of src/ it may use only src/common.
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)src/(?!common/)', message: 'webview/ imports only src/common from src/.' }] },
      ],
    },
  },
);
