// npm:ioredis against a real redis-server with TLS (--tls-port), its TLS
// made by this module through ioredis' Connector option: a connector whose
// connect() returns connect()'s TlsNodeSocket. A pipeline of 1,000
// commands, a 2 MiB value both ways, and a refused certificate surfacing as
// ioredis' error with Node's code.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";
import { AbstractConnector, Redis } from "ioredis";
import { connect, type NodeConnectOptions, type NodeTlsError } from "../../node.ts";
import { test } from "../helpers/harness.ts";
import { pki } from "../helpers/pki.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";

const p = pki();

/** ioredis' hook: a Connector whose streams are this module's TLS sockets. */
function rustlsConnector(tls: NodeConnectOptions): new (options: unknown) => AbstractConnector {
  return class RustlsConnector extends AbstractConnector {
    readonly #options: { host?: string; port?: number };
    constructor(options: unknown) {
      // ioredis passes its own options: host, port, disconnectTimeout, ...
      const own = options as { host?: string; port?: number; disconnectTimeout?: number };
      super(own.disconnectTimeout ?? 2_000);
      this.#options = own;
    }
    connect(): Promise<never> {
      this.connecting = true;
      const socket = connect({ ...tls, host: this.#options.host, port: this.#options.port });
      socket.once("error", (error: Error) => this.firstError = error);
      // TlsNodeSocket has what ioredis uses of a net.Socket (events, write,
      // setTimeout, setNoDelay, setKeepAlive, connecting, destroy).
      this.stream = socket as never;
      return Promise.resolve(socket as never);
    }
  };
}

async function withRedis(fn: (server: RedisServer) => Promise<void>): Promise<void> {
  const server = await startRedis({
    certPath: p.server.certPath,
    keyPath: p.server.keyPath,
    caPath: p.ca.certPath,
  });
  try {
    await fn(server);
  } catch (error) {
    throw new Error(`${error}\nredis-server log:\n${server.log().slice(-3000)}`, { cause: error });
  } finally {
    await server.stop();
  }
}

test(
  "ioredis over a Connector of TlsNodeSockets: a 1,000-command pipeline, a 2 MiB value",
  async () => {
    await withRedis(async (server) => {
      const redis = new Redis({
        host: "localhost",
        port: server.port,
        Connector: rustlsConnector({ ca: [p.ca.cert] }),
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        keepAlive: 1_000,
        connectTimeout: 5_000,
      });
      redis.on("error", () => {});
      await redis.connect();
      try {
        assert.equal(await redis.ping(), "PONG");
        const pipeline = redis.pipeline();
        for (let i = 0; i < 1_000; i++) pipeline.set(`key:${i}`, `value ${i}`);
        for (let i = 0; i < 1_000; i += 100) pipeline.get(`key:${i}`);
        const results = await pipeline.exec();
        assert.ok(results);
        assert.equal(results.length, 1_010);
        assert.ok(results.every(([error]) => error === null));
        assert.deepEqual(
          results.slice(1_000).map(([, value]) => value),
          Array.from({ length: 10 }, (_, i) => `value ${i * 100}`),
        );
        assert.equal(await redis.dbsize(), 1_000);

        const big = randomBytes(2 * 1024 * 1024);
        assert.equal(await redis.set("big", big), "OK");
        assert.equal(await redis.strlen("big"), big.length);
        const back = await redis.getBuffer("big");
        assert.ok(back && Buffer.compare(back, big) === 0, "the 2 MiB value came back intact");
        const info = await redis.info("server");
        assert.match(info, /redis_version:/);
      } finally {
        await redis.quit();
      }
    });
  },
  60_000,
);

test(
  "ioredis over TlsNodeSockets: a certificate it must not trust fails with Node's code",
  async () => {
    await withRedis(async (server) => {
      const redis = new Redis({
        host: "localhost",
        port: server.port,
        Connector: rustlsConnector({ ca: [p.otherCa.cert] }),
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      // ioredis rejects connect() with its own "Connection is closed" and
      // reports the cause on its error event.
      const errors: NodeTlsError[] = [];
      redis.on("error", (error: NodeTlsError) => errors.push(error));
      await assert.rejects(redis.connect());
      assert.equal(errors.length, 1, String(errors));
      const [error] = errors;
      // redis-server sends its CA after the leaf: a self-signed root nobody here trusts.
      assert.equal(error.code, "SELF_SIGNED_CERT_IN_CHAIN", String(error));
      assert.equal(error.tlsCode, "UNKNOWN_ISSUER");
      redis.disconnect();
    });
  },
  60_000,
);
