// TLS on every gRPC link (issue 14): the credentials of servers and channels, and the guard that keeps
// the participant protocol to the processes the operator names.
//
// One CA signs every certificate of a cluster. A server presents its own certificate; it asks every
// caller for one and verifies it against the CA, but accepts a caller without one (clients need
// none) — except where it serves only its peers (a replica: requireClientCertificate), where the
// handshake itself fails without a certificate the CA signed. A process presents its own
// certificate on its own calls (coordinator to replica, replica to coordinator, replica to replica),
// and a client presents one only when given (KV_TLS_CERT / KV_TLS_KEY).
//
// Whom a process serves what: protocolGuard lets a call of the participant protocol (the package
// twopc.participant: Prepare, Commit, Append, ..., and the replicas' outcome queries to a
// coordinator) through only when the caller's verified certificate carries one of the names the
// operator listed (--tls-peer-names: the subject's CN or a DNS name of its subjectAltName). Any other
// caller is refused before the handler runs, so nothing is applied: UNAUTHENTICATED without a
// verified certificate, PERMISSION_DENIED with one that names nobody listed.
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import type { PeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { InvalidArgument } from "../common/errors";

/** The PEM files of a process's TLS: the CA's certificate, and its own certificate and key. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/** The flags (or environment variables) the files came from, to name in errors. */
export interface TlsSources {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A process's TLS material, loaded and checked. */
export interface Tls {
  /** The CA certificate(s) that sign every certificate this process trusts. */
  readonly ca: Buffer;
  /** Its own certificate and key: a server's identity, and what it presents on its own calls. Null: none (a client without a certificate). */
  readonly identity: { readonly cert: Buffer; readonly key: Buffer } | null;
}

/** The flags of the server commands, and the environment variables of the client commands. */
export const serverTlsFlags: TlsSources = { ca: "--tls-ca", cert: "--tls-cert", key: "--tls-key" };
/** The client commands' flags: the servers' names. */
export const clientTlsFlags: TlsSources = serverTlsFlags;
export const clientTlsEnv: TlsSources = { ca: "KV_TLS_CA", cert: "KV_TLS_CERT", key: "KV_TLS_KEY" };

function readPem(file: string, source: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new InvalidArgument(source, `${source} ${file}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
}

function certificate(pem: Buffer, file: string, source: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new InvalidArgument(source, `${source} ${file} is not a PEM certificate (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * Reads and checks a process's TLS files: the CA is a certificate; the certificate and the key come
 * together, the key is the certificate's, and the CA signed the certificate. Every mistake is caught
 * here, at start, with the flag that named the file, rather than as a failed handshake later.
 */
export function loadTls(files: TlsFiles, sources: TlsSources): Tls {
  const ca = readPem(files.ca, sources.ca);
  const caCertificate = certificate(ca, files.ca, sources.ca);
  if (files.cert === undefined && files.key === undefined) return { ca, identity: null };
  if (files.cert === undefined || files.key === undefined) {
    const missing = files.cert === undefined ? sources.cert : sources.key;
    throw new InvalidArgument(missing, `${sources.cert} and ${sources.key} go together: ${missing} is missing`);
  }
  const cert = readPem(files.cert, sources.cert);
  const key = readPem(files.key, sources.key);
  const own = certificate(cert, files.cert, sources.cert);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new InvalidArgument(sources.key, `${sources.key} ${files.key} is not a PEM private key (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!own.checkPrivateKey(privateKey)) {
    throw new InvalidArgument(sources.key, `${sources.key} ${files.key} is not the key of the certificate ${files.cert} (${sources.cert})`);
  }
  if (!own.checkIssued(caCertificate) || !own.verify(caCertificate.publicKey)) {
    throw new InvalidArgument(sources.cert, `${sources.cert} ${files.cert} is not signed by the CA of ${sources.ca} ${files.ca}`);
  }
  return { ca, identity: { cert, key } };
}

/**
 * A client's TLS from the CA, certificate and key file names it was given (empty: not given): none
 * without a CA, and a certificate or key without a CA is a mistake, named by `sources`.
 */
export function clientTlsFrom(files: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined }, sources: TlsSources): Tls | null {
  const given = (file: string | undefined): string | undefined => (file === "" ? undefined : file);
  const ca = given(files.ca);
  if (ca === undefined) {
    if (given(files.cert) !== undefined || given(files.key) !== undefined) {
      throw new InvalidArgument(sources.ca, `${sources.cert} and ${sources.key} need ${sources.ca} (the CA that signed the coordinators' certificates)`);
    }
    return null;
  }
  return loadTls({ ca, cert: given(files.cert), key: given(files.key) }, sources);
}

/** The TLS of the client library when none is given: from KV_TLS_CA (and KV_TLS_CERT, KV_TLS_KEY), or none when KV_TLS_CA is unset. */
export function tlsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Tls | null {
  return clientTlsFrom({ ca: env[clientTlsEnv.ca], cert: env[clientTlsEnv.cert], key: env[clientTlsEnv.key] }, clientTlsEnv);
}

let ipServerNameWarningQuiet = false;

/**
 * grpc-js hands Node the target's host as the TLS server name, an IP address for targets like
 * 127.0.0.1:50051, and Node warns once per process that this is deprecated (DEP0123). It is harmless
 * here (the certificate is still checked against that IP address), but it reads like a fault on
 * every `kv` command's terminal; this one warning is dropped, every other goes through.
 */
function quietIpServerNameWarning(): void {
  if (ipServerNameWarningQuiet) return;
  ipServerNameWarningQuiet = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === "object" && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === "DEP0123") return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}

/** The credentials of a channel: plaintext without TLS; with it, the CA to verify the server by and this process's certificate, if any. */
export function channelCredentials(tls: Tls | null): grpc.ChannelCredentials {
  if (tls === null) return grpc.credentials.createInsecure();
  quietIpServerNameWarning();
  return grpc.credentials.createSsl(tls.ca, tls.identity?.key ?? null, tls.identity?.cert ?? null);
}

/**
 * A provider that hands out the same material for the life of the process (certificates are read at
 * start). It answers a new listener on a microtask, not at once: grpc-js adds its listeners before
 * it registers the server that waits for them, and an answer in between would reach no server.
 */
function fixedProvider(tls: Tls): grpc.experimental.CertificateProvider {
  const identity = tls.identity;
  assertIdentity(identity);
  return {
    addCaCertificateListener: (listener) => queueMicrotask(() => listener({ caCertificate: tls.ca })),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) => queueMicrotask(() => listener({ certificate: identity.cert, privateKey: identity.key })),
    removeIdentityCertificateListener: () => {},
  };
}

function assertIdentity(identity: Tls["identity"]): asserts identity is NonNullable<Tls["identity"]> {
  if (identity === null) throw new InvalidArgument(serverTlsFlags.cert, `a server needs its certificate and key: ${serverTlsFlags.cert} and ${serverTlsFlags.key}`);
}

/**
 * The credentials of a server: plaintext without TLS. With it, the server presents its certificate
 * and asks every caller for one, verified against the CA; `requireClientCertificate` refuses, in the
 * handshake, a caller without one (a replica, which serves only its peers).
 */
export function serverCredentials(tls: Tls | null, requireClientCertificate: boolean): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  const provider = fixedProvider(tls);
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, requireClientCertificate);
}

/** The names a certificate carries: its subject's CN and the DNS names of its subjectAltName. */
export function certificateNames(certificate: PeerCertificate): string[] {
  const names: string[] = [];
  const cn = certificate.subject?.CN;
  if (typeof cn === "string") names.push(cn);
  else if (Array.isArray(cn)) names.push(...cn.filter((name): name is string => typeof name === "string"));
  for (const entry of (certificate.subjectaltname ?? "").split(",")) {
    const trimmed = entry.trim();
    if (trimmed.startsWith("DNS:")) names.push(trimmed.slice("DNS:".length));
  }
  return [...new Set(names)];
}

/** The gRPC package whose calls only a process's named peers may make. */
export const protocolPackage = "twopc.participant";

/**
 * Calls of the protocol package that read only what any client may read through a coordinator, and
 * change nothing: open to every certificate the CA signed (a replica's handshake asks for one), so
 * that `kv backup` works with a client certificate.
 */
const openToAnyCertificate: ReadonlySet<string> = new Set([`/${protocolPackage}.Participant/Backup`]);

/** Why a caller may not make a protocol call, or null when it may. */
export function protocolRefusal(method: string, peer: PeerCertificate | undefined, allowed: ReadonlySet<string>): { code: grpc.status; details: string } | null {
  if (!method.startsWith(`/${protocolPackage}.`)) return null;
  if (openToAnyCertificate.has(method) && peer !== undefined) return null;
  const listed = [...allowed].join(", ");
  if (peer === undefined) {
    return {
      code: grpc.status.UNAUTHENTICATED,
      details: `${method} is part of the participant protocol: it needs a client certificate signed by the cluster's CA and named in --tls-peer-names (${listed}); this caller presented none`,
    };
  }
  const names = certificateNames(peer);
  if (names.some((name) => allowed.has(name))) return null;
  return {
    code: grpc.status.PERMISSION_DENIED,
    details: `${method} is part of the participant protocol, open only to the certificates --tls-peer-names lists (${listed}); this caller's certificate names ${names.length === 0 ? "nobody" : names.join(", ")}`,
  };
}

/**
 * A server interceptor that refuses, before any handler runs, a protocol call from a caller whose
 * certificate --tls-peer-names does not list (protocolRefusal).
 */
export function protocolGuard(allowed: ReadonlySet<string>): grpc.ServerInterceptor {
  return (method, call) => {
    const refusal = protocolRefusal(method.path, call.getAuthContext().sslPeerCertificate, allowed);
    if (refusal === null) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withStart((next) => {
          next(
            new grpc.ServerListenerBuilder()
              .withOnReceiveMetadata(() => call.sendStatus(refusal))
              .build(),
          );
        })
        .build(),
    );
  };
}

/** A server process's TLS: its material, and the names of the certificates its participant protocol is open to. */
export interface ServerTls {
  readonly material: Tls;
  /** --tls-peer-names: the coordinators' and the replicas' certificate names. */
  readonly peerNames: ReadonlySet<string>;
}

/** The server options of a process with TLS: its protocol guard. Without TLS, none. */
export function tlsServerOptions(tls: ServerTls | undefined): Pick<grpc.ServerOptions, "interceptors"> {
  return tls === undefined ? {} : { interceptors: [protocolGuard(tls.peerNames)] };
}
