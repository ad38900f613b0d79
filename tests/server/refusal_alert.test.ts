// The fatal alert a peer refused after the handshake gets, read back by rustls, Go and OpenSSL.
// Refused by verifyPeer (access_denied) or a pin (bad_certificate), encrypted
// as the peer expects at that point: read back by rustls on our other end for
// every suite, full and resumed, and by Go crypto/tls and OpenSSL as
// independent peers.
import assert from "node:assert/strict";
import {
  acceptTls,
  connectTls,
  type ConnectTlsOptions,
  type HandshakeInfo,
  listenTls,
  type ListenTlsOptions,
  startTls,
  type TlsConn,
  TlsError,
  type TlsListener,
  type TlsVersion,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { rejectsWithCode, str, streamPipe, text } from "../helpers/io.ts";
import { goClient, goServer, openSslServer, runTool } from "../helpers/peers.ts";
import { chainPki } from "../helpers/pki.ts";

const c = chainPki();
const leaf = c.leaves.ecdsaP256;

const SUITES: { suite: string; version: TlsVersion }[] = [
  { suite: "TLS13_AES_128_GCM_SHA256", version: "TLSv1.3" },
  { suite: "TLS13_AES_256_GCM_SHA384", version: "TLSv1.3" },
  { suite: "TLS13_CHACHA20_POLY1305_SHA256", version: "TLSv1.3" },
  { suite: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", version: "TLSv1.2" },
  { suite: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", version: "TLSv1.2" },
  { suite: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", version: "TLSv1.2" },
];

/** The outcome of one side: its error, or what it read. */
async function outcome(run: () => Promise<unknown>): Promise<TlsError | string> {
  try {
    return String(await run());
  } catch (error) {
    if (error instanceof TlsError) return error;
    throw error;
  }
}

/** Handshake, then one read: how a peer learns about an alert sent late. */
async function handshakeAndRead(conn: TlsConn): Promise<TlsError | string> {
  try {
    return await outcome(async () => {
      await conn.handshake();
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      return n === null ? "EOF" : str(buf.subarray(0, n));
    });
  } finally {
    conn.close();
  }
}

function assertAlert(got: TlsError | string, alert: string, context: string): void {
  assert.ok(got instanceof TlsError, `${context}: expected an alert, got ${got}`);
  assert.equal(got.code, "ALERT_RECEIVED", `${context}: ${got.message}`);
  assert.equal(got.alert, alert, `${context}: ${got.message}`);
}

function listen(extra: Partial<ListenTlsOptions>): Promise<TlsListener> {
  return listenTls({ hostname: "127.0.0.1", port: 0, cert: leaf.chain, key: leaf.key, ...extra });
}

function clientOptions(
  to: TlsListener | number,
  extra: Partial<ConnectTlsOptions>,
): ConnectTlsOptions {
  return {
    hostname: "127.0.0.1",
    port: typeof to === "number" ? to : to.addr.port,
    serverName: "localhost",
    caCerts: [c.root],
    ...extra,
  };
}

test("a client refusing the server after the handshake sends access_denied: every suite, full and resumed", async () => {
  const listener = await listen({});
  try {
    for (const { suite, version } of SUITES) {
      let refuse = false;
      let seen: HandshakeInfo | undefined;
      const options = clientOptions(listener, {
        cipherSuites: [suite],
        minVersion: version,
        maxVersion: version,
        verifyPeer: (info) => {
          seen = info;
          if (refuse) throw new Error("not this server");
        },
      });
      for (const resumed of [false, true]) {
        if (resumed) {
          // a first, accepted connection leaves a session to resume
          const accepting = listener.accept().then((conn) =>
            conn.handshake().then(() => conn.write(text("hi"))).finally(() => conn.close())
          );
          refuse = false;
          const first = await connectTls(options);
          await first.read(new Uint8Array(8)).catch(() => null);
          first.close();
          await accepting.catch(() => {});
        }
        refuse = true;
        const serverSide = listener.accept().then(handshakeAndRead);
        await rejectsWithCode(connectTls(options), "VERIFY_REJECTED");
        const context = `${suite} ${resumed ? "resumed" : "full"}`;
        assert.equal(seen?.cipherSuite, suite, context);
        assert.equal(seen?.resumed, resumed, context);
        assertAlert(await serverSide, "access_denied", `server side, ${context}`);
      }
    }
  } finally {
    listener.close();
  }
});

test("a server refusing the client after the handshake sends access_denied: every suite, full and resumed", async () => {
  let refuse = false;
  let seen: HandshakeInfo | undefined;
  const listener = await listen({
    verifyPeer: (info) => {
      seen = info;
      if (refuse) throw new Error("not this client");
    },
  });
  const serverErrors: string[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conn.handshake().then(() => conn.write(text("welcome"))).catch((e: TlsError) =>
        serverErrors.push(e.code)
      ).finally(() => conn.close());
    }
  })();
  try {
    for (const { suite, version } of SUITES) {
      const options = clientOptions(listener, {
        cipherSuites: [suite],
        minVersion: version,
        maxVersion: version,
      });
      for (const resumed of [false, true]) {
        if (resumed) {
          refuse = false;
          const first = await connectTls(options);
          assert.equal(await handshakeAndRead(first), "welcome", `${suite} first`);
        }
        refuse = true;
        const context = `${suite} ${resumed ? "resumed" : "full"}`;
        const got = await outcome(async () => {
          const conn = await connectTls(options);
          return await handshakeAndRead(conn).then((r) => {
            if (r instanceof TlsError) throw r;
            return r;
          });
        });
        assert.equal(seen?.cipherSuite, suite, context);
        assert.equal(seen?.resumed, resumed, context);
        assertAlert(got, "access_denied", `client side, ${context}`);
      }
    }
    assert.ok(serverErrors.every((code) => code === "VERIFY_REJECTED"), serverErrors.join());
  } finally {
    listener.close();
    await serving;
  }
});

test("with client certificates (mTLS), a refusing client's alert still reads (TLS 1.3 and 1.2)", async () => {
  const listener = await listen({ clientAuth: { caCerts: [c.root] } });
  try {
    for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
      const serverSide = listener.accept().then(handshakeAndRead);
      await rejectsWithCode(
        connectTls(clientOptions(listener, {
          maxVersion: version,
          cert: c.leaves.client.chain,
          key: c.leaves.client.key,
          verifyPeer: () => {
            throw new Error("no");
          },
        })),
        "VERIFY_REJECTED",
      );
      assertAlert(await serverSide, "access_denied", version);
    }
  } finally {
    listener.close();
  }
});

test("a client refused by a TLS 1.3 server gets no session ticket to resume", async () => {
  let refuse = true;
  const listener = await listen({
    verifyPeer: () => {
      if (refuse) throw new Error("not yet");
    },
  });
  const serving = (async () => {
    for await (const conn of listener) {
      conn.handshake().then(() => conn.write(text("ok"))).catch(() => {}).finally(() =>
        conn.close()
      );
    }
  })();
  try {
    const options = clientOptions(listener, { maxVersion: "TLSv1.3" });
    const refused = await connectTls(options);
    assertAlert(await handshakeAndRead(refused), "access_denied", "refused");
    refuse = false;
    const next = await connectTls(options);
    assert.equal((await next.handshake()).resumed, false, "no ticket came with the refusal");
    assert.equal(await handshakeAndRead(next), "ok");
    const third = await connectTls(options);
    assert.equal((await third.handshake()).resumed, true, "an accepted client's ticket works");
    third.close();
  } finally {
    listener.close();
    await serving;
  }
});

test("a pin mismatch sends bad_certificate (TLS 1.3 and 1.2)", async () => {
  const listener = await listen({});
  try {
    const wrongPin = "sha256//" + btoa(String.fromCharCode(...new Uint8Array(32)));
    for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
      const serverSide = listener.accept().then(handshakeAndRead);
      await rejectsWithCode(
        connectTls(clientOptions(listener, { maxVersion: version, pinnedPublicKeys: [wrongPin] })),
        "PIN_MISMATCH",
      );
      assertAlert(await serverSide, "bad_certificate", version);
    }
  } finally {
    listener.close();
  }
});

test("Go crypto/tls reads the alert of a refusing client (TLS 1.3 and 1.2)", async () => {
  for (const max of ["1.3", "1.2"] as const) {
    const peer = await goServer({ cert: leaf.chainPath, key: leaf.keyPath, max });
    try {
      await rejectsWithCode(
        connectTls(clientOptions(peer.port, {
          verifyPeer: () => {
            throw new Error("no");
          },
        })),
        "VERIFY_REJECTED",
      );
      const deadline = Date.now() + 5000;
      while (!/ERROR/.test(peer.output()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(peer.output(), /remote error: tls: access denied/, `TLS ${max}`);
    } finally {
      await peer.stop();
    }
  }
});

test("Go crypto/tls and openssl s_client read the alert of a refusing server (TLS 1.3 and 1.2)", async () => {
  const listener = await listen({
    verifyPeer: () => {
      throw new Error("no clients today");
    },
  });
  const serving = (async () => {
    for await (const conn of listener) {
      conn.handshake().catch(() => {}).finally(() => conn.close());
    }
  })();
  try {
    for (const max of ["1.3", "1.2"] as const) {
      const report = await goClient({ port: listener.addr.port, ca: c.rootPath, max });
      assert.match(report.error ?? "", /remote error: tls: access denied/, `Go, TLS ${max}`);
      const s = await runTool("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${listener.addr.port}`,
        "-servername",
        "localhost",
        "-CAfile",
        c.rootPath,
        max === "1.3" ? "-tls1_3" : "-tls1_2",
        "-ign_eof", // keep reading after stdin ends: the alert comes after the handshake
      ], "");
      assert.match(s.stdout + s.stderr, /alert access denied/, `openssl, TLS ${max}: ${s.stderr}`);
    }
  } finally {
    listener.close();
    await serving;
  }
});

test("openssl s_server reads bad_certificate from a client whose pin does not match", async () => {
  for (const flag of ["-tls1_3", "-tls1_2"]) {
    const peer = await openSslServer(leaf.chainPath, leaf.keyPath, [flag]);
    try {
      await rejectsWithCode(
        connectTls(clientOptions(peer.port, {
          caCerts: [c.intermediate], // s_server sends the leaf alone
          pinnedPublicKeys: ["sha256//" + btoa("x".repeat(32))],
        })),
        "PIN_MISMATCH",
      );
      const deadline = Date.now() + 5000;
      while (!/alert/.test(peer.output()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(peer.output(), /alert bad certificate/, flag);
    } finally {
      await peer.stop();
    }
  }
});

test("over a Web Streams pair the refusing side's alert arrives too (either side, TLS 1.3 and 1.2)", async () => {
  const refuse = () => {
    throw new Error("refused");
  };
  for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
    for (const refuser of ["client", "server"] as const) {
      const [clientSide, serverSide] = streamPipe();
      const client = outcome(async () => {
        const conn = await startTls(clientSide, {
          serverName: "localhost",
          caCerts: [c.root],
          maxVersion: version,
          verifyPeer: refuser === "client" ? refuse : undefined,
        });
        const got = await handshakeAndRead(conn);
        if (got instanceof TlsError) throw got;
        return got;
      });
      const server = outcome(async () => {
        const conn = await acceptTls(serverSide, {
          cert: leaf.chain,
          key: leaf.key,
          maxVersion: version,
          verifyPeer: refuser === "server" ? refuse : undefined,
        });
        const got = await handshakeAndRead(conn);
        if (got instanceof TlsError) throw got;
        return got;
      });
      const [refusing, refused] = refuser === "client"
        ? [await client, await server]
        : [await server, await client];
      const context = `${version}, ${refuser} refuses`;
      assert.ok(refusing instanceof TlsError, context);
      assert.equal(refusing.code, "VERIFY_REJECTED", context);
      assertAlert(refused, "access_denied", context);
    }
  }
});
