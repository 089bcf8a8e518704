// The private CA and the certificates of a `kv cluster --tls` (issue 14), made with the openssl
// command rather than a library: Node has no API that issues X.509 certificates, the pure-JS
// libraries that do (node-forge, under selfsigned) take seconds per RSA key where openssl makes an
// EC P-256 key in milliseconds, and openssl is on every machine that builds better-sqlite3 (Debian,
// macOS). What it makes here is what an operator makes for a real cluster, by the same commands.
//
// DIR/tls holds ca.crt and ca.key (the CA: it signs, and every process trusts it), and for each
// process NAME (the coordinators' and replicas' ids) NAME.crt and NAME.key: subject CN=NAME, with
// NAME, localhost, 127.0.0.1 and the cluster's host as subjectAltNames, usable to serve and to call
// (serverAuth, clientAuth). client.crt and client.key are a client certificate for `kv` commands
// (CN=client: named in no --tls-peer-names, so it may not make participant calls). Existing files are
// kept, so that a restarted cluster keeps its identities; keys are written readable by the owner only.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

/** The files of one identity. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** Everything a `kv cluster --tls` runs with. */
export interface ClusterTlsFiles {
  readonly dir: string;
  readonly ca: string;
  /** Each process's certificate, by its id. */
  readonly members: ReadonlyMap<string, CertFiles>;
  /** A client certificate for `kv` commands (KV_TLS_CERT, KV_TLS_KEY). */
  readonly client: CertFiles;
}

/** The name of the client certificate's identity. */
export const clientIdentity = "client";

/** Days a certificate of a local cluster is valid. */
const validDays = 825;

function openssl(args: readonly string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`kv cluster --tls makes its certificates with the openssl command, which failed: openssl ${args.join(" ")}${stderr ? `: ${stderr}` : ""}`);
  }
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function subjectAltNames(name: string, host: string): string {
  const entries = new Set([`DNS:${name}`, "DNS:localhost", "IP:127.0.0.1"]);
  if (host !== "" && host !== "0.0.0.0" && host !== "::") entries.add(net.isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...entries].join(",");
}

/** Makes (or keeps) the CA and a certificate for each name and for the client, under `dir`. */
export function ensureClusterTls(dir: string, names: readonly string[], host: string): ClusterTlsFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = path.join(dir, "ca.crt");
  const caKey = path.join(dir, "ca.key");
  if (!fs.existsSync(ca) || !fs.existsSync(caKey)) {
    openssl([
      "req", "-x509", ...ecKey, "-keyout", caKey, "-out", ca, "-days", String(validDays), "-subj", "/CN=twopc-kv local CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    fs.chmodSync(caKey, 0o600);
  }
  const issue = (name: string): CertFiles => {
    const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
    if (fs.existsSync(files.cert) && fs.existsSync(files.key)) return files;
    openssl([
      "req", "-x509", ...ecKey, "-keyout", files.key, "-out", files.cert, "-days", String(validDays), "-subj", `/CN=${name}`,
      "-CA", ca, "-CAkey", caKey,
      "-addext", `subjectAltName=${subjectAltNames(name, host)}`,
      "-addext", "basicConstraints=critical,CA:FALSE",
      "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
      "-addext", "extendedKeyUsage=serverAuth,clientAuth",
    ]);
    fs.chmodSync(files.key, 0o600);
    return files;
  };
  return { dir, ca, members: new Map(names.map((name) => [name, issue(name)])), client: issue(clientIdentity) };
}

/** The environment a `kv` command needs to talk to the cluster: the CA and the client certificate. */
export function clientTlsEnvironment(files: ClusterTlsFiles): Record<"KV_TLS_CA" | "KV_TLS_CERT" | "KV_TLS_KEY", string> {
  return { KV_TLS_CA: files.ca, KV_TLS_CERT: files.client.cert, KV_TLS_KEY: files.client.key };
}
