// STARTTLS: plaintext first, then TLS on the same socket.
// Our server (listen + acceptTls) driven by openssl s_client -starttls smtp
// and by Python's ssl; our client (connect + startTls) against our server;
// bytes pipelined behind the upgrade command reach TLS; TLS through a
// WebSocket tunnel.
import assert from "node:assert/strict";
import {
  acceptTls,
  connect,
  type HandshakeInfo,
  listen,
  type PlainConn,
  type PlainListener,
  startTls,
  type TlsConn,
  type WebSocketLike,
  webSocketStreams,
} from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { pemToDer, readAll, str, text } from "../helpers/io.ts";
import { runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

/**
 * Reads one CRLF-terminated line from `plain` with large reads; whatever
 * arrived behind the line is given back with `unread` (it may be TLS).
 */
async function readLine(plain: PlainConn): Promise<string> {
  let have = new Uint8Array(0);
  const buf = new Uint8Array(16 * 1024);
  for (;;) {
    const end = str(have).indexOf("\r\n");
    if (end >= 0) {
      plain.unread(have.subarray(end + 2));
      return str(have.subarray(0, end));
    }
    const n = await plain.read(buf);
    if (n === null) throw new Error(`connection ended before a line: ${JSON.stringify(str(have))}`);
    const joined = new Uint8Array(have.length + n);
    joined.set(have);
    joined.set(buf.subarray(0, n), have.length);
    have = joined;
  }
}

/** The server side of one TLS session after the upgrade: echo the first message, then close. */
async function echoOnce(conn: TlsConn): Promise<HandshakeInfo> {
  const info = await conn.handshake();
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  await conn.write(text(`echo:${n === null ? "" : str(buf.subarray(0, n))}`));
  await conn.closeWrite();
  conn.close();
  return info;
}

/** A tiny SMTP-like server: greeting, EHLO, STARTTLS, then TLS with `echoOnce`. */
async function smtpServer(): Promise<
  { listener: PlainListener; sessions: Promise<HandshakeInfo>[]; commands: string[] }
> {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: Promise<HandshakeInfo>[] = [];
  const commands: string[] = [];
  (async () => {
    for await (const plain of listener) {
      sessions.push((async () => {
        await plain.write(text("220 localhost ESMTP rustls-sockets test\r\n"));
        for (;;) {
          const line = await readLine(plain);
          commands.push(line);
          if (/^EHLO /i.test(line)) {
            await plain.write(text("250-localhost\r\n250-PIPELINING\r\n250 STARTTLS\r\n"));
          } else if (/^STARTTLS$/i.test(line)) {
            await plain.write(text("220 2.0.0 Ready to start TLS\r\n"));
            return await echoOnce(await acceptTls(plain, serverIdentity));
          } else {
            await plain.write(text("502 5.5.2 not here\r\n"));
          }
        }
      })());
    }
  })();
  return { listener, sessions, commands };
}

for (const version of ["-tls1_3", "-tls1_2"]) {
  test(`openssl s_client -starttls smtp ${version} upgrades through acceptTls`, async () => {
    const server = await smtpServer();
    try {
      const result = await runTool("openssl", [
        "s_client",
        "-starttls",
        "smtp",
        "-connect",
        `127.0.0.1:${server.listener.addr.port}`,
        "-servername",
        "localhost",
        "-CAfile",
        p.ca.certPath,
        "-verify_return_error",
        version,
        "-quiet",
      ], "hello smtp over tls\n");
      assert.match(result.stdout, /echo:hello smtp over tls/, result.stderr);
      const info = await server.sessions[0];
      assert.equal(info.protocol, version === "-tls1_3" ? "TLSv1.3" : "TLSv1.2");
      assert.equal(info.serverName, "localhost");
      assert.equal(server.commands.length, 2);
      assert.match(server.commands[0], /^EHLO /);
      assert.equal(server.commands[1], "STARTTLS");
    } finally {
      server.listener.close();
    }
  });
}

test("Python's ssl upgrades a line protocol served by acceptTls", async () => {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const plain = await listener.accept();
    assert.equal(await readLine(plain), "STARTTLS");
    await plain.write(text("220 ready\r\n"));
    return await echoOnce(await acceptTls(plain, { ...serverIdentity, alpnProtocols: ["line"] }));
  })();
  try {
    const script = `
import json, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.set_alpn_protocols(["line"])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
raw.sendall(b"STARTTLS\\r\\n")
reply = b""
while not reply.endswith(b"\\r\\n"):
    reply += raw.recv(1)
with ctx.wrap_socket(raw, server_hostname="localhost") as s:
    s.sendall(b"hello python")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    print(json.dumps({"reply": reply.decode(), "alpn": s.selected_alpn_protocol(), "answer": data.decode()}))
`;
    const result = await runTool("python3", [
      "-c",
      script,
      String(listener.addr.port),
      p.ca.certPath,
    ], "");
    assert.deepEqual(JSON.parse(result.stdout), {
      reply: "220 ready\r\n",
      alpn: "line",
      answer: "echo:hello python",
    }, result.stderr);
    assert.equal((await served).alpnProtocol, "line");
  } finally {
    listener.close();
  }
});

test("connect + startTls against listen + acceptTls, with a client certificate", async () => {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const plain = await listener.accept();
    assert.equal(await readLine(plain), "STARTTLS");
    await plain.write(text("220 ready\r\n"));
    return await echoOnce(
      await acceptTls(plain, { ...serverIdentity, clientAuth: { caCerts: [p.ca.cert] } }),
    );
  })();
  try {
    const plain = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
    await plain.write(text("STARTTLS\r\n"));
    assert.equal(await readLine(plain), "220 ready");
    const conn = await startTls(plain, {
      serverName: "localhost",
      caCerts: [p.ca.cert],
      cert: p.client.cert,
      key: p.client.key,
    });
    await assert.rejects(plain.read(new Uint8Array(1)), /closed/, "the plain side is handed over");
    await conn.write(text("with a client certificate"));
    assert.equal(str(await readAll(conn)), "echo:with a client certificate");
    conn.close();
    const info = await served;
    assert.deepEqual(info.peerCertificates[0], pemToDer(p.client.cert));
  } finally {
    listener.close();
  }
});

/** The length of the TLS handshake record `bytes` start with, once its header is in. */
function handshakeRecordLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 5) return undefined;
  assert.equal(bytes[0], 0x16, "a handshake record");
  return 5 + ((bytes[3] << 8) | bytes[4]);
}

test("a ClientHello pipelined behind the STARTTLS line reaches TLS (unread)", async () => {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const plain = await listener.accept();
    // Read until the command and the whole ClientHello behind it are in: the
    // hello is then consumed from the socket, and reaches TLS only through unread().
    const line = "STARTTLS\r\n";
    let have = new Uint8Array(0);
    const buf = new Uint8Array(16 * 1024);
    const helloIn = (): boolean => {
      const length = handshakeRecordLength(have.subarray(line.length));
      return length !== undefined && have.length >= line.length + length;
    };
    while (!helloIn()) {
      const n = await plain.read(buf);
      if (n === null) throw new Error(`ended after ${JSON.stringify(str(have))}`);
      const joined = new Uint8Array(have.length + n);
      joined.set(have);
      joined.set(buf.subarray(0, n), have.length);
      have = joined;
    }
    assert.equal(str(have.subarray(0, line.length)), line);
    const behind = have.subarray(line.length);
    assert.equal(behind.length, handshakeRecordLength(behind), "behind the line: the hello alone");
    plain.unread(behind);
    return await echoOnce(await acceptTls(plain, serverIdentity));
  })();
  try {
    const plain = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
    await plain.write(text("STARTTLS\r\n"));
    // No answer is awaited: the ClientHello follows at once.
    const conn = await startTls(plain, { serverName: "localhost", caCerts: [p.ca.cert] });
    await conn.write(text("pipelined"));
    assert.equal(str(await readAll(conn)), "echo:pipelined");
    conn.close();
    await served;
  } finally {
    listener.close();
  }
});

interface WsServer {
  port: number;
  stop(): void;
}

/** A WebSocket server with the runtime's own HTTP server; each socket goes to `onSocket`. */
function webSocketServer(onSocket: (socket: WebSocketLike) => void): WsServer {
  if (runtime === "deno") {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      onSocket(socket);
      return response;
    });
    return { port: server.addr.port, stop: () => void server.shutdown() };
  }
  const bun = (globalThis as unknown as { Bun: BunServe }).Bun;
  const server = bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv): Response | undefined {
      return srv.upgrade(req) ? undefined : new Response("websocket only", { status: 400 });
    },
    websocket: bunWebSocketBridge(onSocket),
  });
  return { port: server.port, stop: () => server.stop(true) };
}

interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch(req: Request, server: { upgrade(req: Request): boolean }): Response | undefined;
    websocket: BunSocketHandlers;
  }): { port: number; stop(force: boolean): void };
}

interface BunServerSocket {
  send(data: Uint8Array): void;
  close(): void;
}

interface BunSocketHandlers {
  open(ws: BunServerSocket): void;
  message(ws: BunServerSocket, data: string | Uint8Array): void;
  close(ws: BunServerSocket): void;
}

/** Bun's server sockets are handler-based: adapt each to the WebSocket events used above. */
function bunWebSocketBridge(onSocket: (socket: WebSocketLike) => void): BunSocketHandlers {
  const targets = new Map<BunServerSocket, EventTarget & { readyState: number }>();
  return {
    open(ws): void {
      const target = Object.assign(new EventTarget(), {
        readyState: WebSocket.OPEN,
        binaryType: "arraybuffer",
        send: (data: Uint8Array) => ws.send(data),
        close: () => ws.close(),
      });
      targets.set(ws, target);
      onSocket(target);
    },
    message(ws, data): void {
      const bytes = typeof data === "string" ? text(data) : data;
      const copy = bytes.slice().buffer;
      targets.get(ws)?.dispatchEvent(new MessageEvent("message", { data: copy }));
    },
    close(ws): void {
      targets.get(ws)?.dispatchEvent(new Event("close"));
      targets.delete(ws);
    },
  };
}

test(`TLS through a WebSocket tunnel (${runtime}'s own WebSocket server and client)`, async () => {
  const served: Promise<HandshakeInfo>[] = [];
  const server = webSocketServer((socket) => {
    served.push(
      webSocketStreams(socket).then(async (pair) =>
        echoOnce(await acceptTls(pair, { ...serverIdentity, alpnProtocols: ["tunnel"] }))
      ),
    );
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const pair = await webSocketStreams(ws);
    const conn = await startTls(pair, {
      serverName: "localhost",
      caCerts: [p.ca.cert],
      alpnProtocols: ["tunnel"],
    });
    const info = await conn.handshake();
    assert.equal(info.alpnProtocol, "tunnel");
    await conn.write(text("through the tunnel"));
    assert.equal(str(await readAll(conn)), "echo:through the tunnel");
    conn.close();
    assert.equal((await served[0]).alpnProtocol, "tunnel");
  } finally {
    server.stop();
  }
});
