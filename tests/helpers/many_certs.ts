/**
 * Many distinct server certificates, made quickly with the openssl CLI: one
 * throw-away CA and `count` leaves that share one P-256 key (one shell
 * script, one `openssl x509 -req` per leaf). Leaf `i` is valid for the
 * names `*.n<i>.stress.test`; `local` for `localhost` and 127.0.0.1, `sni`
 * for `*.sni.stress.test`. Nothing is committed; the temp dir the files are
 * made in is removed once they are read.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

const EXTENSIONS = "basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n" +
  "extendedKeyUsage=serverAuth\\nsubjectAltName=%s\\n";

function der(pem: string): Uint8Array {
  const body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0];
  const binary = atob(body.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Makes the CA and `count` + 2 leaves (about 10 ms of openssl per leaf). */
export function manyCerts(count: number): ManyCerts {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-stress-pki-"));
  const leaf = (name: string, serial: string, san: string): string =>
    `printf '${EXTENSIONS}' "${san}" > ${name}.ext\n` +
    `openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial ${serial} ` +
    `-days 20 -sha256 -extfile ${name}.ext -out ${name}.crt 2>${name}.err || ` +
    `{ cat ${name}.err >&2; exit 1; }\n`;
  const script = [
    "set -e\n",
    "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ",
    "-keyout ca.key -out ca.crt -days 30 -subj '/CN=rustls-sockets stress CA' ",
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign ",
    "2>ca.err || { cat ca.err >&2; exit 1; }\n",
    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key\n",
    "openssl req -new -key leaf.key -subj '/CN=rustls-sockets stress leaf' -out leaf.csr\n",
    leaf("local", "2", "DNS:localhost,IP:127.0.0.1"),
    leaf("sni", "3", "DNS:*.sni.stress.test"),
    `i=0\nwhile [ $i -lt ${count} ]; do\n`,
    leaf("n$i", "$((1000 + i))", "DNS:*.n$i.stress.test"),
    "i=$((i + 1))\ndone\n",
  ].join("");
  try {
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
      return { cert, key, der: der(cert) };
    };
    return {
      ca: readFileSync(join(dir, "ca.crt"), "utf8"),
      leaves: Array.from({ length: count }, (_, i) => load(`n${i}`)),
      local: load("local"),
      sni: load("sni"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
