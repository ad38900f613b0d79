// Which certificate listenTls presents: sni entries, wildcards, resolveCertificate, default.
// resolveCertificate async, slow (holding up no one else), or matching nothing.
import assert from "node:assert/strict";
import { test } from "../helpers/harness.ts";
import { pemToDer, rejectsWithCode } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer, ask } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

test("SNI picks the certificate: sni entries, wildcard, async resolveCertificate, default", async () => {
  const asked: (string | null)[] = [];
  const server = await answerServer({
    ...serverIdentity,
    sni: {
      "other.test": { cert: p.wrongName.cert, key: p.wrongName.key },
      "*.wild.test": { cert: p.named.cert, key: p.named.key },
    },
    resolveCertificate: async (hello) => {
      asked.push(hello.serverName);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return hello.serverName === "async.test"
        ? { cert: p.named.cert, key: p.named.key }
        : undefined;
    },
  });
  try {
    const other = await ask(server.port, { serverName: "other.test" });
    assert.deepEqual(other.info.peerCertificates[0], pemToDer(p.wrongName.cert));
    const wild = await ask(server.port, { serverName: "a.wild.test" });
    assert.deepEqual(wild.info.peerCertificates[0], pemToDer(p.named.cert));
    const resolved = await ask(server.port, { serverName: "async.test" });
    assert.deepEqual(resolved.info.peerCertificates[0], pemToDer(p.named.cert));
    const fallback = await ask(server.port, { serverName: "localhost" });
    assert.deepEqual(fallback.info.peerCertificates[0], pemToDer(p.server.cert));
    await server.finished(4);
    assert.deepEqual(server.infos.map((i) => i.serverName), [
      "other.test",
      "a.wild.test",
      "async.test",
      "localhost",
    ]);
    assert.deepEqual(
      asked,
      ["async.test", "localhost"],
      "resolveCertificate runs only when no sni entry matched",
    );
  } finally {
    server.close();
  }
});

test("an unknown name with no default certificate: unrecognized_name alert, both sides fail clearly", async () => {
  const server = await answerServer({
    sni: { "other.test": { cert: p.wrongName.cert, key: p.wrongName.key } },
  });
  try {
    const error = await rejectsWithCode(
      ask(server.port, { serverName: "localhost" }),
      "ALERT_RECEIVED",
    );
    assert.equal((error as unknown as { alert: string }).alert, "unrecognised_name");
    await server.finished(1);
    assert.equal(server.errors[0].code, "PEER_INCOMPATIBLE");
    assert.match(server.errors[0].message, /localhost/);
  } finally {
    server.close();
  }
});

test("a slow resolveCertificate does not hold up other connections", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const server = await answerServer({
    ...serverIdentity,
    resolveCertificate: async (hello) => {
      if (hello.serverName === "async.test") {
        await gate;
        return { cert: p.named.cert, key: p.named.key };
      }
      return undefined;
    },
  });
  try {
    const slow = ask(server.port, { serverName: "async.test" }, "slow");
    const fast = await ask(server.port, { serverName: "localhost" }, "fast");
    assert.equal(fast.answer, "echo:fast");
    release();
    assert.equal((await slow).answer, "echo:slow");
  } finally {
    server.close();
  }
});
