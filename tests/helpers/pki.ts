/**
 * A throw-away PKI made with the openssl CLI for each test run: a root CA,
 * a second unrelated CA, and leaves (valid, expired, not yet valid, wrong
 * name, client). Nothing here is committed; keys live in a temp dir.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key, as PEM text and as file paths. */
export interface Identity {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

/** The test PKI. */
export interface Pki {
  dir: string;
  ca: Identity;
  otherCa: Identity;
  server: Identity;
  expired: Identity;
  notYetValid: Identity;
  wrongName: Identity;
  untrusted: Identity;
  client: Identity;
  /** Leaf for async.test and *.wild.test (SNI tests). */
  named: Identity;
}

/** Runs the openssl CLI in `cwd`; a failure throws with openssl's own message. */
export function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Uint8Array }).stderr;
    throw new Error(
      `openssl ${args.join(" ")} failed: ${stderr ? new TextDecoder().decode(stderr) : error}`,
    );
  }
}

function read(dir: string, name: string): Identity {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return {
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
  };
}

function makeCa(dir: string, name: string): void {
  writeFileSync(join(dir, `${name}.db`), "");
  writeFileSync(join(dir, `${name}.srl`), "1000\n");
  openssl([
    "req",
    "-x509",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "30",
    "-subj",
    `/CN=rustls-sockets test ${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
}

/** Dates as `openssl ca` wants them (UTC, YYYYMMDDHHMMSSZ). */
function stamp(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

/** A leaf to issue: file name, issuing CA's file name, CN, subjectAltName, EKU, validity in days from now. */
export interface LeafSpec {
  name: string;
  ca: string;
  cn: string;
  san: string;
  eku?: string;
  from?: number;
  to?: number;
}

/** Issues a leaf (`<name>.crt`, `<name>.key` in `dir`) from the CA `<ca>.crt` there. */
export function makeLeaf(dir: string, spec: LeafSpec): void {
  const { name, ca } = spec;
  const config = `
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ${dir}
database = ${dir}/${ca}.db
serial = ${dir}/${ca}.srl
new_certs_dir = ${dir}
certificate = ${dir}/${ca}.crt
private_key = ${dir}/${ca}.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = ${spec.eku ?? "serverAuth"}
subjectAltName = ${spec.san}
`;
  writeFileSync(join(dir, `${name}.cnf`), config);
  openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${spec.cn}`,
  ], dir);
  openssl([
    "ca",
    "-batch",
    "-notext",
    "-config",
    `${name}.cnf`,
    "-extensions",
    "leaf",
    "-startdate",
    stamp(spec.from ?? -1),
    "-enddate",
    stamp(spec.to ?? 20),
    "-in",
    `${name}.csr`,
    "-out",
    `${name}.crt`,
  ], dir);
}

let cached: Pki | undefined;

/** The test PKI (made once per process). */
export function pki(): Pki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-pki-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  const local = "DNS:localhost,IP:127.0.0.1,IP:::1";
  makeLeaf(dir, { name: "server", ca: "ca", cn: "localhost", san: local });
  makeLeaf(dir, { name: "expired", ca: "ca", cn: "localhost", san: local, from: -30, to: -2 });
  makeLeaf(dir, { name: "not-yet-valid", ca: "ca", cn: "localhost", san: local, from: 2, to: 30 });
  makeLeaf(dir, { name: "wrong-name", ca: "ca", cn: "other.test", san: "DNS:other.test" });
  makeLeaf(dir, { name: "untrusted", ca: "other-ca", cn: "localhost", san: local });
  makeLeaf(dir, {
    name: "named",
    ca: "ca",
    cn: "async.test",
    san: "DNS:async.test,DNS:*.wild.test",
  });
  makeLeaf(dir, {
    name: "client",
    ca: "ca",
    cn: "test client",
    san: "DNS:client.test",
    eku: "clientAuth",
  });
  cached = {
    dir,
    ca: read(dir, "ca"),
    otherCa: read(dir, "other-ca"),
    server: read(dir, "server"),
    expired: read(dir, "expired"),
    notYetValid: read(dir, "not-yet-valid"),
    wrongName: read(dir, "wrong-name"),
    untrusted: read(dir, "untrusted"),
    client: read(dir, "client"),
    named: read(dir, "named"),
  };
  return cached;
}
