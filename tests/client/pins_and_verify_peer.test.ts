// Checks after a server's chain verified: pinnedPublicKeys, and the client's verifyPeer.
import assert from "node:assert/strict";
import {
  connectTls,
  type ConnectTlsOptions,
  describeCertificate,
  type HandshakeInfo,
  listenTls,
  type TlsConn,
  type TlsError,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, rejectsWithCode, str, text } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { chainPki, type Identity } from "../helpers/pki.ts";
import { until } from "../helpers/wait.ts";

const c = chainPki();

/** Runs `body` against a Go crypto/tls server serving `leaf` with its chain. */
async function withGo(
  leaf: Identity,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const peer = await goServer({ cert: leaf.chainPath, key: leaf.keyPath });
  try {
    await body(peer.port);
  } finally {
    await peer.stop();
  }
}

/** connectTls to 127.0.0.1 as "localhost", trusting the chain PKI's root. */
function connect(port: number, extra: Partial<ConnectTlsOptions> = {}): Promise<TlsConn> {
  return connectTls({
    hostname: "127.0.0.1",
    port,
    serverName: "localhost",
    caCerts: [c.root],
    ...extra,
  });
}

test("pinnedPublicKeys: a pin of the leaf passes; the intermediate's or others fail with PIN_MISMATCH", async () => {
  await withGo(c.leaves.ecdsaP256, async (port) => {
    const probe = await connect(port);
    const [leafDer, icaDer] = (await probe.handshake()).peerCertificates;
    probe.close();
    const leafPin = (await describeCertificate(leafDer)).publicKeyPin;
    const icaPin = (await describeCertificate(icaDer)).publicKeyPin;
    assert.match(leafPin, /^sha256\/\/[A-Za-z0-9+/]{43}=$/);
    (await connect(port, { pinnedPublicKeys: [leafPin] })).close();
    (await connect(port, { pinnedPublicKeys: ["sha256//" + "A".repeat(43) + "=", leafPin] }))
      .close();
    // Only the end-entity certificate counts (documented): a CA pin cannot be told
    // apart from a certificate the peer merely sent.
    await rejectsWithCode(connect(port, { pinnedPublicKeys: [icaPin] }), "PIN_MISMATCH");
    const error = await rejectsWithCode(
      connect(port, { pinnedPublicKeys: ["sha256//" + "A".repeat(43) + "="] }),
      "PIN_MISMATCH",
    );
    assert.match(error.message, new RegExp(leafPin.replace(/[+/]/g, "\\$&")));
    await rejectsWithCode(connect(port, { pinnedPublicKeys: ["sha1//abc"] }), "INVALID_CONFIG");
  });
});

test("pinnedPublicKeys: a server that appends the pinned site's certificate to its own chain fails with PIN_MISMATCH", async () => {
  // The pinned site's public certificate (its key is what the client pins).
  const pinnedSite = c.leaves.rsa2048;
  const pinnedPin = (await describeCertificate(pemToDer(pinnedSite.cert))).publicKeyPin;
  // Another certificate valid for the name, serving its chain plus the pinned site's certificate.
  const impostor = c.leaves.ecdsaP256;
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: impostor.chain + "\n" + pinnedSite.cert,
    key: impostor.key,
  });
  const serving = (async () => {
    for await (const conn of listener) conn.handshake().catch(() => {}).finally(() => conn.close());
  })();
  try {
    const port = listener.addr.port;
    const probe = await connect(port);
    assert.equal((await probe.handshake()).peerCertificates.length, 3, "the extra cert is sent");
    probe.close();
    await rejectsWithCode(connect(port, { pinnedPublicKeys: [pinnedPin] }), "PIN_MISMATCH");
  } finally {
    listener.close();
    await serving;
  }
});

test("verifyPeer: accepting sees the full HandshakeInfo; rejecting fails before any data moves", async () => {
  const leaf = c.leaves.ecdsaP256;
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: leaf.chain,
    key: leaf.key,
  });
  const serverSaw: string[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        await conn.write(text("server data"));
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        serverSaw.push(n === null ? "EOF" : str(buf.subarray(0, n)));
      })().catch((error: TlsError) => serverSaw.push(`error:${error.code}`)).finally(() =>
        conn.close()
      );
    }
  })();
  try {
    let seen: HandshakeInfo | undefined;
    const ok = await connect(listener.addr.port, {
      verifyPeer: async (info) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen = info;
      },
    });
    assert.equal(seen?.protocol, "TLSv1.3");
    assert.equal(seen?.peerCertificates.length, 2);
    assert.equal(seen?.serverName, "localhost");
    ok.close();

    const reason = new Error("not the server I expected");
    const error = await rejectsWithCode(
      connect(listener.addr.port, {
        verifyPeer: () => {
          throw reason;
        },
      }),
      "VERIFY_REJECTED",
    );
    assert.equal(error.cause, reason);
    // the server never got application data from the rejected client (nor from the other)
    await until(() => serverSaw.length === 2, "the server to finish both connections");
    assert.ok(
      !serverSaw.some((s) => s !== "EOF" && !s.startsWith("error:")),
      JSON.stringify(serverSaw),
    );
    assert.ok(serverSaw.includes("error:ALERT_RECEIVED"), "the rejected client's alert");
  } finally {
    listener.close();
    await serving;
  }
});
