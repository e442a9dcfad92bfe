import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', '**/oclif.manifest.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Libraries never print: only the host CLI and scripts may write to the terminal.
      'no-console': 'error',
    },
  },
  {
    // The bin entry is CommonJS: require() is quicker to start than an ES module (docs/performance.md).
    files: ['packages/cli/bin/**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', __filename: 'readonly', module: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['scripts/**', 'packages/cli/bin/**', '**/*.test.ts', 'packages/testkit/src/bin/**'],
    rules: { 'no-console': 'off' },
  },
);
