// Lint every TypeScript file with the recommended rules; `npm test` runs this before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // The host side sees a webview only through its protocol.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/engine/**', 'src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)webview/(?![^/]+/protocol$)', message: 'src/ imports only the protocol files of webview/.' },
          ],
        },
      ],
    },
  },
  {
    // src/shared is the ground floor both sides stand on: it imports nothing else of the project.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./', message: 'src/shared imports only src/shared.' }] },
      ],
    },
  },
  {
    // A webview bundle runs in the browser: of src/ it may use only src/shared.
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)src/(?!shared/)', message: 'webview/ imports only src/shared from src/.' }] },
      ],
    },
  },
);
