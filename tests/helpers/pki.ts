/**
 * Throw-away PKIs made with the openssl CLI for each test run; nothing is
 * committed, keys live in temp dirs. One set of builders (a CA, an
 * intermediate, leaves of each key type, a self-signed certificate,
 * revocation and CRLs) and the three PKIs the tests use, each made once per
 * process:
 *
 * - {@link pki}: a root CA, a second unrelated CA, and P-256 leaves (valid,
 *   expired, not yet valid, wrong name, untrusted, client, SNI names);
 * - {@link chainPki}: root -> intermediate -> leaves of every kind a client
 *   must judge (key types, wildcard, EKU, revoked with a CRL, self-signed);
 * - {@link manyCerts}: one CA and many leaves sharing one key, signed in one
 *   shell run (about 10 ms a leaf) for the lifecycle stress test.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pemToDer } from "./io.ts";

/** A certificate and its key, as PEM text and as file paths. */
export interface Identity {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  /** The certificate followed by its issuing intermediates (what a server sends). */
  chain: string;
  chainPath: string;
}

/** Key types of {@link makeCa} and {@link makeLeaf}. */
export type KeyType = "p256" | "p384" | "rsa2048" | "ed25519";

const KEY_ARGS: Record<KeyType, string[]> = {
  p256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  rsa2048: ["-newkey", "rsa:2048"],
  ed25519: ["-newkey", "ed25519"],
};

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

/** Dates as `openssl ca` wants them (UTC, YYYYMMDDHHMMSSZ), `offsetDays` from now. */
function stamp(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

/** The `openssl ca` configuration of the CA `<ca>.crt` / `<ca>.key` in `dir`. */
function caConfig(dir: string, ca: string): string {
  return `
[ ca ]
default_ca = this_ca
[ this_ca ]
dir = ${dir}
database = ${dir}/${ca}.db
serial = ${dir}/${ca}.srl
crlnumber = ${dir}/${ca}.crlnum
new_certs_dir = ${dir}
certificate = ${dir}/${ca}.crt
private_key = ${dir}/${ca}.key
default_md = sha256
default_crl_days = 30
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
commonName = supplied
[ intermediate ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
`;
}

/** The extensions of a leaf for `eku` (serverAuth or clientAuth), valid for `san`. */
function leafExtensions(san: string, eku: string): string {
  return `basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = ${eku}
subjectAltName = ${san}
`;
}

function identity(dir: string, name: string, chainPath = join(dir, `${name}.crt`)): Identity {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return {
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
    chain: readFileSync(chainPath, "utf8"),
    chainPath,
  };
}

/** A CA to make: its file name in the PKI's dir, its CN, and who signs it (none: a root). */
export interface CaSpec {
  name: string;
  cn: string;
  /** The file name of the CA that issues this one, an intermediate; none for a root. */
  issuer?: string;
  key?: KeyType;
}

/**
 * Makes a CA (`<name>.crt`, `<name>.key` and its `openssl ca` files in
 * `dir`): a self-signed root valid for 30 days, or an intermediate (path
 * length 0) issued by `issuer` for 20.
 */
export function makeCa(dir: string, spec: CaSpec): Identity {
  const { name } = spec;
  writeFileSync(join(dir, `${name}.db`), "");
  writeFileSync(join(dir, `${name}.srl`), "1000\n");
  writeFileSync(join(dir, `${name}.crlnum`), "01\n");
  writeFileSync(join(dir, `${name}.cnf`), caConfig(dir, name));
  const key = KEY_ARGS[spec.key ?? "p256"];
  const subject = ["-nodes", "-keyout", `${name}.key`, "-subj", `/CN=${spec.cn}`];
  if (spec.issuer === undefined) {
    openssl([
      "req",
      "-x509",
      "-new",
      ...key,
      ...subject,
      "-out",
      `${name}.crt`,
      "-days",
      "30",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ], dir);
    // A root is not sent: what its leaves serve is their own certificate.
    writeFileSync(join(dir, `${name}.sent.pem`), "");
  } else {
    openssl(["req", "-new", ...key, ...subject, "-out", `${name}.csr`], dir);
    openssl([
      "ca",
      "-batch",
      "-notext",
      "-config",
      `${spec.issuer}.cnf`,
      "-extensions",
      "intermediate",
      "-days",
      "20",
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.crt`,
    ], dir);
    const above = readFileSync(join(dir, `${spec.issuer}.sent.pem`), "utf8");
    writeFileSync(join(dir, `${name}.sent.pem`), readFileSync(join(dir, `${name}.crt`)) + above);
  }
  return identity(dir, name);
}

/**
 * A leaf to issue: file name, issuing CA's file name, CN, subjectAltName,
 * EKU (default serverAuth), key type (default P-256), validity in days from
 * now (default from -1 to 20).
 */
export interface LeafSpec {
  name: string;
  ca: string;
  cn: string;
  san: string;
  eku?: string;
  key?: KeyType;
  from?: number;
  to?: number;
}

/**
 * Issues a leaf (`<name>.crt`, `<name>.key`, and `<name>.chain.pem` with
 * the intermediates it is served with) from the CA `<ca>` in `dir`.
 */
export function makeLeaf(dir: string, spec: LeafSpec): Identity {
  const { name, ca } = spec;
  writeFileSync(
    join(dir, `${name}.cnf`),
    `${caConfig(dir, ca)}[ leaf ]\n${leafExtensions(spec.san, spec.eku ?? "serverAuth")}`,
  );
  openssl([
    "req",
    "-new",
    ...KEY_ARGS[spec.key ?? "p256"],
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
  const chainPath = join(dir, `${name}.chain.pem`);
  writeFileSync(
    chainPath,
    readFileSync(join(dir, `${name}.crt`), "utf8") +
      readFileSync(join(dir, `${ca}.sent.pem`), "utf8"),
  );
  return identity(dir, name, chainPath);
}

/** Makes a self-signed server certificate (not a CA) valid for `san`, for 10 days. */
export function makeSelfSigned(dir: string, name: string, cn: string, san: string): Identity {
  openssl([
    "req",
    "-x509",
    "-new",
    ...KEY_ARGS.p256,
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "10",
    "-subj",
    `/CN=${cn}`,
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    `subjectAltName=${san}`,
    "-addext",
    "extendedKeyUsage=serverAuth",
  ], dir);
  return identity(dir, name);
}

/** Revokes the certificate `<name>.crt` that the CA `<ca>` in `dir` issued. */
export function revoke(dir: string, ca: string, name: string): void {
  openssl(["ca", "-config", `${ca}.cnf`, "-revoke", `${name}.crt`], dir);
}

/**
 * A CRL (PEM) of the CA `<ca>` in `dir`, listing what it revoked: current,
 * or with the given lastUpdate and nextUpdate (`YYYYMMDDHHMMSSZ`).
 */
export function makeCrl(
  dir: string,
  ca: string,
  dates?: { lastUpdate: string; nextUpdate: string },
): string {
  const out = `${ca}-${dates ? dates.nextUpdate : "current"}.crl`;
  const range = dates
    ? ["-crl_lastupdate", dates.lastUpdate, "-crl_nextupdate", dates.nextUpdate]
    : [];
  openssl(["ca", "-config", `${ca}.cnf`, "-gencrl", ...range, "-out", out], dir);
  return readFileSync(join(dir, out), "utf8");
}

// ---------------------------------------------------------------------------
// The basic PKI

/** The basic test PKI: CAs and P-256 leaves for localhost, 127.0.0.1 and ::1. */
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

let basic: Pki | undefined;

/** The basic test PKI (made once per process). */
export function pki(): Pki {
  if (basic) return basic;
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-pki-"));
  const local = "DNS:localhost,IP:127.0.0.1,IP:::1";
  const leaf = (name: string, cn: string, san: string, more: Partial<LeafSpec> = {}): Identity =>
    makeLeaf(dir, { name, ca: "ca", cn, san, ...more });
  basic = {
    dir,
    ca: makeCa(dir, { name: "ca", cn: "rustls-sockets test ca" }),
    otherCa: makeCa(dir, { name: "other-ca", cn: "rustls-sockets test other-ca" }),
    server: leaf("server", "localhost", local),
    expired: leaf("expired", "localhost", local, { from: -30, to: -2 }),
    notYetValid: leaf("not-yet-valid", "localhost", local, { from: 2, to: 30 }),
    wrongName: leaf("wrong-name", "other.test", "DNS:other.test"),
    untrusted: leaf("untrusted", "localhost", local, { ca: "other-ca" }),
    named: leaf("named", "async.test", "DNS:async.test,DNS:*.wild.test"),
    client: leaf("client", "test client", "DNS:client.test", { eku: "clientAuth" }),
  };
  return basic;
}

// ---------------------------------------------------------------------------
// The chain PKI

/** The chain PKI: root -> intermediate -> leaves; each leaf's `chain` is leaf + intermediate. */
export interface ChainPki {
  dir: string;
  root: string;
  rootPath: string;
  intermediate: string;
  /** CRL of the intermediate, revoking `revoked` (and `revokedClient`). */
  crl: string;
  /** The same CRL issued in 2020 with a nextUpdate long past. */
  expiredCrl: string;
  leaves: Record<
    | "ecdsaP256"
    | "rsa2048"
    | "ecdsaP384"
    | "ed25519"
    | "wildcard"
    | "clientAuthOnly"
    | "revoked"
    | "selfSigned"
    | "client"
    | "revokedClient",
    Identity
  >;
}

let chained: ChainPki | undefined;

/** The chain PKI (made once per process). */
export function chainPki(): ChainPki {
  if (chained) return chained;
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-chain-"));
  const root = makeCa(dir, { name: "root", cn: "rustls-sockets chain root" });
  const ica = makeCa(dir, { name: "ica", cn: "rustls-sockets intermediate", issuer: "root" });
  const local = "DNS:localhost,IP:127.0.0.1";
  const leaf = (name: string, cn: string, san: string, more: Partial<LeafSpec> = {}): Identity =>
    makeLeaf(dir, { name, ca: "ica", cn, san, ...more });
  const leaves = {
    ecdsaP256: leaf("p256", "localhost", local),
    rsa2048: leaf("rsa", "localhost", local, { key: "rsa2048" }),
    ecdsaP384: leaf("p384", "localhost", local, { key: "p384" }),
    ed25519: leaf("ed25519", "localhost", local, { key: "ed25519" }),
    wildcard: leaf("wildcard", "*.example.test", "DNS:*.example.test"),
    clientAuthOnly: leaf("client-only", "localhost", local, { eku: "clientAuth" }),
    revoked: leaf("revoked", "localhost", local),
    client: leaf("client", "chain client", "DNS:client.test", { eku: "clientAuth" }),
    revokedClient: leaf("revoked-client", "revoked client", "DNS:client.test", {
      eku: "clientAuth",
    }),
    selfSigned: makeSelfSigned(dir, "self", "localhost", local),
  };
  revoke(dir, "ica", "revoked");
  revoke(dir, "ica", "revoked-client");
  chained = {
    dir,
    root: root.cert,
    rootPath: root.certPath,
    intermediate: ica.cert,
    crl: makeCrl(dir, "ica"),
    expiredCrl: makeCrl(dir, "ica", {
      lastUpdate: "20200101000000Z",
      nextUpdate: "20200102000000Z",
    }),
    leaves,
  };
  return chained;
}

// ---------------------------------------------------------------------------
// Many certificates

/** A certificate (PEM), its key (PEM) and the certificate's DER bytes. */
export interface StressLeaf {
  cert: string;
  key: string;
  der: Uint8Array;
}

/** The CA and its leaves. */
export interface ManyCerts {
  /** PEM of the CA every leaf chains to. */
  ca: string;
  /** `leaves[i]` covers `*.n<i>.stress.test`. */
  leaves: StressLeaf[];
  /** Covers `localhost` and `127.0.0.1`. */
  local: StressLeaf;
  /** Covers `*.sni.stress.test`. */
  sni: StressLeaf;
}

/**
 * Makes a CA and `count` + 2 server leaves that share one P-256 key, signed
 * in one shell run (`openssl x509 -req`, about 10 ms a leaf): leaf `i` is
 * valid for `*.n<i>.stress.test`, `local` for localhost and 127.0.0.1, `sni`
 * for `*.sni.stress.test`. The temp dir is removed once they are read.
 */
export function manyCerts(count: number): ManyCerts {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-stress-pki-"));
  try {
    const ca = makeCa(dir, { name: "ca", cn: "rustls-sockets stress CA" });
    const leafSubject = "/CN=rustls-sockets stress leaf";
    const curve = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
    openssl(["genpkey", ...curve, "-out", "leaf.key"], dir);
    openssl(["req", "-new", "-key", "leaf.key", "-subj", leafSubject, "-out", "leaf.csr"], dir);
    const ext = (name: string, san: string): void =>
      writeFileSync(join(dir, `${name}.ext`), leafExtensions(san, "serverAuth"));
    ext("local", "DNS:localhost,IP:127.0.0.1");
    ext("sni", "DNS:*.sni.stress.test");
    for (let i = 0; i < count; i++) ext(`n${i}`, `DNS:*.n${i}.stress.test`);
    const sign = (name: string, serial: string): string =>
      `openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial ${serial} ` +
      `-days 20 -sha256 -extfile ${name}.ext -out ${name}.crt 2>${name}.err || ` +
      `{ cat ${name}.err >&2; exit 1; }\n`;
    const script = sign("local", "2") + sign("sni", "3") +
      `i=0\nwhile [ $i -lt ${count} ]; do\n${sign("n$i", "$((1000 + i))")}i=$((i + 1))\ndone\n`;
    try {
      execFileSync("sh", ["-c", script], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      const stderr = (error as { stderr?: Uint8Array }).stderr;
      throw new Error(
        `making the stress PKI failed: ${stderr ? new TextDecoder().decode(stderr) : error}`,
      );
    }
    const key = readFileSync(join(dir, "leaf.key"), "utf8");
    const load = (name: string): StressLeaf => {
      const cert = readFileSync(join(dir, `${name}.crt`), "utf8");
      return { cert, key, der: pemToDer(cert) };
    };
    return {
      ca: ca.cert,
      leaves: Array.from({ length: count }, (_, i) => load(`n${i}`)),
      local: load("local"),
      sni: load("sni"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
