import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'build/',
      'test/fixtures/**/*.mjs',
      'test/fixtures/**/*.cjs',
      // An Egg app's own files, CommonJS modules Egg loads by name.
      'test/fixtures/egg-app/**/*.js',
      // A ThinkJS app's own files, CommonJS modules ThinkJS loads by path.
      'test/fixtures/think-app/**/*.js',
      'test/fixtures/egg-cluster/**/*.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
