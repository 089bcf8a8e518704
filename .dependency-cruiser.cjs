// The dependency rules of twopc-kv (issue 11; shared/STYLE.md section 6), checked in `npm test`
// (npm run deps). Imports point one way: the pure cores import only common/; common/ is pure;
// coordinator/ and replica/ never import each other; the client library needs only proto/ and
// common/; the HTTP gateway (http/) is a client of the store; nothing imports the kv command.
// Type-only imports count too, except where a rule says.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "cores-import-only-common",
      comment: "The 2PC cores and their records and recovery are pure: they import common/ and each other, nothing else.",
      severity: "error",
      from: { path: "^(coordinator|replica)/(core|records|recovery|peer-queries|log-copy|election|takeover|value-cache)\\.ts$" },
      to: { pathNot: "^(common/|coordinator/(core|records|recovery|election|value-cache)\\.ts$|replica/(core|records|recovery|peer-queries|log-copy)\\.ts$)" },
    },
    {
      name: "common-is-pure",
      comment: "common/ holds pure code: no project folder, no I/O package, no Node module but crypto hashing.",
      severity: "error",
      from: { path: "^common/" },
      to: { pathNot: "^common/|^node:crypto$|^crypto$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "coordinator-and-replica-apart",
      comment: "The coordinator and the replica never import each other.",
      severity: "error",
      from: { path: "^coordinator/" },
      to: { path: "^replica/" },
    },
    {
      name: "replica-and-coordinator-apart",
      severity: "error",
      from: { path: "^replica/" },
      to: { path: "^coordinator/" },
    },
    {
      name: "nothing-imports-the-cli",
      comment: "The kv command sits on top: no module outside cli/ imports it (tests may test it).",
      severity: "error",
      from: { pathNot: "^(cli|test)/" },
      to: { path: "^cli/" },
    },
    {
      name: "client-library-imports-no-server",
      comment: "What a program imports to talk to the store needs only proto/ and common/.",
      severity: "error",
      from: { path: "^client/(client|coordinators|history|txn-spec)\\.ts$" },
      to: { path: "^(coordinator|replica|logs|cli|tools|test|bench)/" },
    },
    {
      name: "http-gateway-is-a-client",
      comment: "The HTTP gateway (http/) serves the store through the client library: it imports client/ and common/, no server code.",
      severity: "error",
      from: { path: "^http/" },
      to: { path: "^(coordinator|replica|logs|proto|cli|tools|test|bench)/" },
    },
    {
      name: "shop-is-a-client",
      comment: "The web shop (shop/) runs on the store through the client library: it imports client/ and common/, no server code.",
      severity: "error",
      from: { path: "^shop/" },
      to: { path: "^(coordinator|replica|logs|proto|cli|tools|test|bench|http)/" },
    },
    {
      name: "no-circular",
      comment: "No import cycles.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|proto/gen)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.test.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
