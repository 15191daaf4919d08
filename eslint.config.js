import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'cdk.out/**', '.tmp/**', 'web/.next/**', 'web/out/**', 'web/next-env.d.ts', 'test-results/**', '.mdrp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // The domain core depends only on its ports (STYLE rule 1).
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', 'aws-lambda', '@aws-crypto/*', '@aws-lambda-powertools/*', '@middy/*'], message: 'the domain core imports no AWS packages: use a port' },
            { group: ['node:fs', 'fs', 'node:child_process', 'node:http'], message: 'the domain core does no I/O: use a port' },
            { group: ['**/adapters/**', '**/composition/**', '**/handlers/**', '**/http/**'], message: 'the domain core does not depend on outer layers' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'configuration comes through the composition root' }],
    },
  },
);
