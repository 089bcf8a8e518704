// The deployment files (deploy/) run `kv` command lines that no test here can start (Docker does
// not run on the test machines). This test reads each file, finds every command line in it, and
// checks each with the kv command's own parser (checkKvArgs in cli/main.ts: every flag known,
// required flags given, choices respected) and with the checks its subcommand makes before it
// starts (addresses are HOST:PORT, member lists are ID=HOST:PORT, a coordinator is in its own
// --coordinators, replica ids agree across the lists). No YAML parser is installed: the files keep
// every command on one line as a list of double-quoted strings (a YAML flow sequence that is also
// JSON), and the test fails on any `command:` or `args:` line that is not of that form, so that
// none is skipped.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { parseAddress, parseMembers } from "../../common/validate";

// The built kv command (npm test builds first): cli/main.ts loads each command's module with a
// plain require when the command is parsed (cli/subcommand.ts lazySubcommand), which finds the
// compiled modules in dist/, not the TypeScript sources vitest runs.
const { checkKvArgs } = createRequire(__filename)(path.join(__dirname, "..", "..", "dist", "cli", "main.js")) as typeof import("../../cli/main");

const deployDir = path.resolve(__dirname, "..", "..", "deploy");

/**
 * Every `KEY: [..]` one-line list in a YAML file, parsed as JSON; a KEY line of another form fails
 * the test. At any indentation, or only at `indent` spaces (a service's volumes, not the top-level key).
 */
function oneLineLists(file: string, key: string, indent: number | null = null): string[][] {
  const lines = fs.readFileSync(path.join(deployDir, file), "utf8").split("\n");
  const found: string[][] = [];
  lines.forEach((line, i) => {
    if (line.trimStart().startsWith("#")) return;
    const match = new RegExp(`^${indent === null ? "\\s*" : " ".repeat(indent)}${key}:\\s*(.*)$`).exec(line);
    if (match === null) return;
    const text = match[1]!.trim();
    expect(text.startsWith("[") && text.endsWith("]"), `${file}:${i + 1}: ${key} must be a one-line list of quoted strings`).toBe(true);
    const list = JSON.parse(text) as unknown;
    expect(Array.isArray(list) && list.every((item) => typeof item === "string"), `${file}:${i + 1}: a list of strings`).toBe(true);
    found.push(list as string[]);
  });
  return found;
}

/** The Dockerfile's exec-form instruction `name` (ENTRYPOINT, CMD), as a list; null when absent. */
function dockerfileExec(name: string): string[] | null {
  const lines = fs.readFileSync(path.join(deployDir, "Dockerfile"), "utf8").split("\n").filter((line) => line.startsWith(`${name} `));
  expect(lines.length, `at most one ${name}`).toBeLessThanOrEqual(1);
  if (lines.length === 0) return null;
  return JSON.parse(lines[0]!.slice(name.length + 1)) as string[];
}

/** The value of a flag in a command line (the one after it), or undefined. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

/**
 * Checks one command line as `kv` would take it: the parser, then the checks its subcommand runs
 * before starting (the ones that need no files or network). Returns the subcommand.
 */
async function checkCommandLine(where: string, args: readonly string[]): Promise<string> {
  const parsed = await checkKvArgs(args);
  if (!parsed.ok) throw new Error(`${where}: kv ${args.join(" ")}: ${parsed.error}`);
  switch (parsed.command) {
    case "coordinator": {
      parseAddress("--listen", flag(args, "--listen") ?? "", true);
      const replicas = parseMembers("--replicas", flag(args, "--replicas") ?? "");
      const coordinators = parseMembers("--coordinators", flag(args, "--coordinators") ?? "");
      expect(coordinators.map((member) => member.id), `${where}: --coordinators names --id`).toContain(flag(args, "--id"));
      expect(replicas.length, `${where}: three replicas`).toBe(3);
      break;
    }
    case "replica": {
      parseAddress("--listen", flag(args, "--listen") ?? "", true);
      for (const address of (flag(args, "--coordinator") ?? "").split(",")) parseAddress("--coordinator", address.trim());
      const peers = parseMembers("--peers", flag(args, "--peers") ?? "");
      expect(peers.map((peer) => peer.id), `${where}: --peers names --id`).toContain(flag(args, "--id"));
      break;
    }
    default:
      break;
  }
  // TLS-free defaults: the files document the --tls-* flags in comments only.
  expect(args.some((arg) => arg.startsWith("--tls")), `${where}: no TLS flag by default`).toBe(false);
  return parsed.command;
}

describe("checkKvArgs", () => {
  it("accepts a command line kv would run, and names what is wrong with one it would refuse", async () => {
    const good = await checkKvArgs(["replica", "--id", "r1", "--listen", "0.0.0.0:50051", "--data-dir", "/data"]);
    expect(good).toMatchObject({ ok: true, command: "replica", argv: { id: "r1", "data-dir": "/data" } });
    expect(await checkKvArgs(["replica", "--id", "r1"])).toEqual({ ok: false, error: "Missing required arguments: listen, data-dir" });
    expect(await checkKvArgs(["replica", "--id", "r1", "--listen", "h:1", "--data-dir", "d", "--bogus", "1"])).toEqual({ ok: false, error: "Unknown argument: bogus" });
    expect(await checkKvArgs(["coordinator", "--replicas", "r1=h:1", "--on-conflict", "maybe"])).toMatchObject({ ok: false, error: expect.stringContaining("on-conflict") });
    expect(await checkKvArgs(["frobnicate"])).toMatchObject({ ok: false });
    expect(await checkKvArgs(["cluster", "--replicas", "three"])).toMatchObject({ ok: false, error: expect.stringContaining("--replicas is not a number") });
  });
});

describe("deploy/", () => {
  it("Dockerfile: the entrypoint runs bin/kv.js, and its default command parses", async () => {
    const entrypoint = dockerfileExec("ENTRYPOINT");
    expect(entrypoint).toEqual(["node", "/app/bin/kv.js"]);
    const cmd = dockerfileExec("CMD");
    expect(cmd).not.toBeNull();
    expect(await checkCommandLine("Dockerfile CMD", cmd!)).toBe("cluster");
  });

  it("docker-compose.yml: two coordinators and three replicas, each its own service with a volume, every command parses", async () => {
    const commands = oneLineLists("docker-compose.yml", "command");
    const kinds = await Promise.all(commands.map((args, i) => checkCommandLine(`docker-compose.yml command ${i + 1}`, args)));
    expect(kinds.filter((kind) => kind === "coordinator")).toHaveLength(2);
    expect(kinds.filter((kind) => kind === "replica")).toHaveLength(3);
    const servers = commands.filter((args) => args[0] === "coordinator" || args[0] === "replica");
    // Every server keeps its data on the volume mounted at /data, one volume per service.
    for (const args of servers) expect(flag(args, "--data-dir")).toBe("/data");
    const volumes = oneLineLists("docker-compose.yml", "volumes", 4).flat();
    expect(new Set(volumes.filter((volume) => volume.endsWith(":/data"))).size).toBe(servers.length);
    // The replicas the coordinators list are the replicas that run, under their service names.
    const replicaIds = servers.filter((args) => args[0] === "replica").map((args) => flag(args, "--id"));
    for (const args of servers.filter((args) => args[0] === "coordinator")) {
      expect(parseMembers("--replicas", flag(args, "--replicas")!).map((member) => member.id)).toEqual(replicaIds);
    }
  });

  it("kubernetes.yaml: a StatefulSet each for the replicas and the coordinators behind headless Services, every pod's args parse", async () => {
    const text = fs.readFileSync(path.join(deployDir, "kubernetes.yaml"), "utf8");
    expect(text.match(/^kind: StatefulSet$/gm)).toHaveLength(2);
    expect(text.match(/^ {2}clusterIP: None$/gm)).toHaveLength(2);
    const sets = [...text.matchAll(/^ {2}serviceName: (\S+)\n {2}replicas: (\d+)$/gm)].map((match) => ({ name: match[1]!, pods: Number(match[2]) }));
    expect(sets).toEqual([{ name: "kv-replica", pods: 3 }, { name: "kv-coordinator", pods: 2 }]);
    const argsLists = oneLineLists("kubernetes.yaml", "args");
    expect(argsLists.map((args) => args[0])).toEqual(["replica", "coordinator"]);
    // Kubernetes puts each pod's name for $(POD_NAME): check the args of every pod.
    for (const [i, args] of argsLists.entries()) {
      const set = sets[i]!;
      for (let pod = 0; pod < set.pods; pod++) {
        const podName = `${set.name}-${pod}`;
        await checkCommandLine(`kubernetes.yaml ${podName}`, args.map((arg) => arg.replaceAll("$(POD_NAME)", podName)));
      }
    }
  });
});
