/**
 * The layering of ARCHITECTURE.md, checked in `npm test` (test/layering.test.ts):
 * no cycles; the core never imports an integration, store or server folder; integrations never
 * import each other, except the CLI, an application of the SQLite and Postgres stores, the server
 * and the proxy, and the proxy, which reuses the server's key hashing, metrics and Node types.
 */
const integrations = [
  'gemini',
  'langgraph',
  'testing',
  'sqlite',
  'redis',
  'server',
  'cli',
  'alerts',
  'otel',
  'postgres',
  'proxy',
];
const integration = `^src/(${integrations.join('|')})/`;

/** Which integration may import which (beyond the core, which every one may). */
const allowed = { cli: ['sqlite', 'postgres', 'server', 'alerts', 'proxy'], proxy: ['server'] };

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make load order fragile; move the shared piece down a level.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-integration',
      severity: 'error',
      comment: 'The core (src/ minus integration, store and server folders) stays dependency-free.',
      from: { path: '^src/', pathNot: integration },
      to: { path: integration },
    },
    ...integrations.map((name) => ({
      name: `${name}-imports-no-other-integration`,
      severity: 'error',
      comment: 'Integrations, stores and the server reach only into the core.',
      from: { path: `^src/${name}/` },
      to: {
        path: integration,
        pathNot: `^src/(${[name, ...(allowed[name] ?? [])].join('|')})/`,
      },
    })),
    {
      name: 'core-imports-no-sdk',
      severity: 'error',
      comment: 'The core imports node built-ins and its three dependencies only.',
      from: { path: '^src/', pathNot: integration },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-no-pkg', 'unknown'],
        pathNot: '^node_modules/(@pydantic/genai-prices|eventemitter3|zod)/',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types'] },
  },
};
