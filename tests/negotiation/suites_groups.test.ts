// cipherSuites and keyExchangeGroups on client and server; post-quantum X25519MLKEM768.
// Checked against openssl s_server and Go crypto/tls.
import assert from "node:assert/strict";
import { connectTls, type HandshakeInfo, type TlsClientOptions } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { rejectsWithCode, text } from "../helpers/io.ts";
import { goServer, openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };
const client: TlsClientOptions = { serverName: "localhost", caCerts: [p.ca.cert] };

async function handshakeWith(port: number, options: TlsClientOptions): Promise<HandshakeInfo> {
  const conn = await connectTls({ hostname: "127.0.0.1", port, ...client, ...options });
  const info = await conn.handshake();
  await conn.write(text("x"));
  conn.close();
  return info;
}

test("client cipherSuites and keyExchangeGroups choose what openssl s_server negotiates", async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, ["-www"]);
  try {
    const chacha = await handshakeWith(peer.port, {
      cipherSuites: ["TLS13_CHACHA20_POLY1305_SHA256"],
      keyExchangeGroups: ["secp384r1"],
    });
    assert.equal(chacha.cipherSuite, "TLS13_CHACHA20_POLY1305_SHA256");
    assert.equal(chacha.keyExchangeGroup, "secp384r1");
    const tls12 = await handshakeWith(peer.port, {
      cipherSuites: ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
      keyExchangeGroups: ["secp256r1"],
      maxVersion: "TLSv1.2",
    });
    assert.equal(tls12.protocol, "TLSv1.2");
    assert.equal(tls12.cipherSuite, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    assert.equal(tls12.keyExchangeGroup, "secp256r1");
  } finally {
    peer.stop();
  }
});

test("server cipherSuites and keyExchangeGroups: listenTls picks within them", async () => {
  const server = await answerServer({
    ...serverIdentity,
    cipherSuites: ["TLS13_AES_256_GCM_SHA384"],
    keyExchangeGroups: ["X25519"],
  });
  try {
    const info = await handshakeWith(server.port, {});
    assert.equal(info.cipherSuite, "TLS13_AES_256_GCM_SHA384");
    assert.equal(info.keyExchangeGroup, "X25519");
    await server.finished(1);
    assert.equal(server.infos[0].keyExchangeGroup, "X25519");
    // A client that offers none of them is refused with a typed error.
    await assert.rejects(
      handshakeWith(server.port, { cipherSuites: ["TLS13_AES_128_GCM_SHA256"] }),
      (error: Error & { code?: string }) =>
        error.code === "ALERT_RECEIVED" || error.code === "PEER_INCOMPATIBLE",
    );
  } finally {
    server.close();
  }
});

test("unknown suite or group names are INVALID_CONFIG and say what exists", async () => {
  const bad = await rejectsWithCode(
    connectTls({ port: 1, ...client, cipherSuites: ["TLS13_AES_512_GCM"] }),
    "INVALID_CONFIG",
  );
  assert.match(bad.message, /unknown cipher suite "TLS13_AES_512_GCM".*TLS13_AES_128_GCM_SHA256/);
  const group = await rejectsWithCode(
    connectTls({ port: 1, ...client, keyExchangeGroups: ["X448"] }),
    "INVALID_CONFIG",
  );
  assert.match(group.message, /unknown key exchange group "X448".*X25519/);
  await rejectsWithCode(
    answerServer({ ...serverIdentity, keyExchangeGroups: [] }),
    "INVALID_CONFIG",
  );
  await rejectsWithCode(
    connectTls({ port: 1, ...client, cipherSuites: "TLS13_AES_128_GCM_SHA256" as never }),
    "INVALID_CONFIG",
  );
});

test("post-quantum: X25519MLKEM768 with Go crypto/tls (aws-lc-rs build), X25519 when asked", async () => {
  const { providerName } = await import("../../lib/core/native.ts");
  const { native } = await import("../../lib/core/native.ts");
  const provider = providerName(await native());
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const info = await handshakeWith(peer.port, {});
    assert.equal(info.keyExchangeGroup, provider === "aws-lc-rs" ? "X25519MLKEM768" : "X25519");
    const classic = await handshakeWith(peer.port, { keyExchangeGroups: ["X25519"] });
    assert.equal(classic.keyExchangeGroup, "X25519");
  } finally {
    peer.stop();
  }
});
