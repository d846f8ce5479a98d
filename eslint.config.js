// Lint rules: typescript-eslint's recommended set, plus the habits STYLE.md asks for.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '.regionwatch/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error',
        { object: 'it', property: 'only', message: 'No focused tests on main.' },
        { object: 'describe', property: 'only', message: 'No focused tests on main.' },
        { object: 'it', property: 'skip', message: 'No skipped tests on main.' },
        { object: 'describe', property: 'skip', message: 'No skipped tests on main.' },
      ],
    },
  },
  {
    // The pure core never talks to AWS: adapters at the edges do.
    files: ['lambda/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aws-sdk/*', '@aws-lambda-powertools/*'], message: 'lambda/core is pure: take clients as arguments in an adapter instead.' }] }],
    },
  },
);
