/**
 * A throw-away PKI with an intermediate, made with the openssl CLI for the
 * verification tests: root -> intermediate -> leaves of every kind a client
 * must judge (key types, wildcard, EKU, revoked with a CRL, self-signed).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openssl } from "./pki.ts";

/** A leaf, with its chain as served (leaf + intermediate). */
export interface Leaf {
  cert: string;
  key: string;
  /** PEM leaf followed by the intermediate. */
  chain: string;
  certPath: string;
  keyPath: string;
  chainPath: string;
}

/** The chain PKI. */
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
    Leaf
  >;
}

const KEY_ARGS: Record<string, string[]> = {
  p256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  rsa: ["-newkey", "rsa:2048"],
  ed25519: ["-newkey", "ed25519"],
};

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
[ any ]
commonName = supplied
[ intermediate ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[ server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
[ client_only ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = $ENV::SAN
`;
}

let cached: ChainPki | undefined;

/** The chain PKI (made once per process). */
export function chainPki(): ChainPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-chain-"));
  const env = (san: string) => ({ ...process.env, SAN: san });
  const sign = (ca: string, name: string, ext: string, san: string) => {
    execFileSync("openssl", [
      "ca",
      "-batch",
      "-notext",
      "-config",
      `${ca}.cnf`,
      "-extensions",
      ext,
      "-days",
      "20",
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.crt`,
    ], { cwd: dir, env: env(san), stdio: ["ignore", "pipe", "pipe"] });
  };
  for (const ca of ["root", "ica"]) {
    writeFileSync(join(dir, `${ca}.db`), "");
    writeFileSync(join(dir, `${ca}.srl`), "2000\n");
    writeFileSync(join(dir, `${ca}.crlnum`), "01\n");
    writeFileSync(join(dir, `${ca}.cnf`), caConfig(dir, ca));
  }
  openssl([
    "req",
    "-x509",
    "-new",
    ...KEY_ARGS.p256,
    "-nodes",
    "-keyout",
    "root.key",
    "-out",
    "root.crt",
    "-days",
    "30",
    "-subj",
    "/CN=rustls-sockets chain root",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  openssl([
    "req",
    "-new",
    ...KEY_ARGS.p256,
    "-nodes",
    "-keyout",
    "ica.key",
    "-out",
    "ica.csr",
    "-subj",
    "/CN=rustls-sockets intermediate",
  ], dir);
  sign("root", "ica", "intermediate", "DNS:unused");

  const leaf = (name: string, key: string, cn: string, san: string, ext = "server"): Leaf => {
    openssl([
      "req",
      "-new",
      ...KEY_ARGS[key],
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    ], dir);
    sign("ica", name, ext, san);
    const cert = readFileSync(join(dir, `${name}.crt`), "utf8");
    const chain = cert + readFileSync(join(dir, "ica.crt"), "utf8");
    writeFileSync(join(dir, `${name}.chain.pem`), chain);
    return {
      cert,
      key: readFileSync(join(dir, `${name}.key`), "utf8"),
      chain,
      certPath: join(dir, `${name}.crt`),
      keyPath: join(dir, `${name}.key`),
      chainPath: join(dir, `${name}.chain.pem`),
    };
  };
  const local = "DNS:localhost,IP:127.0.0.1";
  const leaves = {
    ecdsaP256: leaf("p256", "p256", "localhost", local),
    rsa2048: leaf("rsa", "rsa", "localhost", local),
    ecdsaP384: leaf("p384", "p384", "localhost", local),
    ed25519: leaf("ed25519", "ed25519", "localhost", local),
    wildcard: leaf("wildcard", "p256", "*.example.test", "DNS:*.example.test"),
    clientAuthOnly: leaf("client-only", "p256", "localhost", local, "client_only"),
    revoked: leaf("revoked", "p256", "localhost", local),
    client: leaf("client", "p256", "chain client", "DNS:client.test", "client_only"),
    revokedClient: leaf(
      "revoked-client",
      "p256",
      "revoked client",
      "DNS:client.test",
      "client_only",
    ),
    selfSigned: (() => {
      openssl([
        "req",
        "-x509",
        "-new",
        ...KEY_ARGS.p256,
        "-nodes",
        "-keyout",
        "self.key",
        "-out",
        "self.crt",
        "-days",
        "10",
        "-subj",
        "/CN=localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "extendedKeyUsage=serverAuth",
      ], dir);
      const cert = readFileSync(join(dir, "self.crt"), "utf8");
      return {
        cert,
        key: readFileSync(join(dir, "self.key"), "utf8"),
        chain: cert,
        certPath: join(dir, "self.crt"),
        keyPath: join(dir, "self.key"),
        chainPath: join(dir, "self.crt"),
      };
    })(),
  };
  for (const name of ["revoked", "revoked-client"]) {
    execFileSync("openssl", ["ca", "-config", "ica.cnf", "-revoke", `${name}.crt`], {
      cwd: dir,
      env: env("DNS:unused"),
      stdio: ["ignore", "pipe", "pipe"],
    });
  }
  execFileSync("openssl", ["ca", "-config", "ica.cnf", "-gencrl", "-out", "ica.crl"], {
    cwd: dir,
    env: env("DNS:unused"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  execFileSync("openssl", [
    "ca",
    "-config",
    "ica.cnf",
    "-gencrl",
    "-crl_lastupdate",
    "20200101000000Z",
    "-crl_nextupdate",
    "20200102000000Z",
    "-out",
    "ica-expired.crl",
  ], { cwd: dir, env: env("DNS:unused"), stdio: ["ignore", "pipe", "pipe"] });
  cached = {
    dir,
    root: readFileSync(join(dir, "root.crt"), "utf8"),
    rootPath: join(dir, "root.crt"),
    intermediate: readFileSync(join(dir, "ica.crt"), "utf8"),
    crl: readFileSync(join(dir, "ica.crl"), "utf8"),
    expiredCrl: readFileSync(join(dir, "ica-expired.crl"), "utf8"),
    leaves,
  };
  return cached;
}
