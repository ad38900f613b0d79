// Hardening: what a hostile or careless peer, or a careless caller, must not be able to do.
// Crash a multi-tenant server through its configuration cache, smuggle a NUL
// into a verified name, hold a connection forever through a callback that
// never settles or through silence, or keep a closed listener's keys alive by
// dropping a connection. Each ends in a typed error and frees what it held.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect as netConnect, type Socket } from "node:net";
import process from "node:process";
import {
  type CertificateAndKey,
  connectTls,
  listenTls,
  startTls,
  type StreamPair,
  type TlsConn,
  TlsError,
  type TlsListener,
} from "../../mod.ts";
import { raceAbort } from "../../lib/core/abort.ts";
import { CallDeadline } from "../../lib/core/timeout.ts";
import { test } from "../helpers/harness.ts";
import { rejectsWithCode } from "../helpers/io.ts";
import { liveObjectsWhen, steadyLiveObjects } from "../helpers/live.ts";
import { accepts } from "../helpers/net.ts";
import { silentServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
const serverIdentity = { cert: p.server.cert, key: p.server.key };
/** More than the 64 resolved configurations a listener caches. */
const TENANTS = 100;
/** The listener's default handshake deadline (documented in docs/api.md and lib/timeout.ts). */
const DEFAULT_SERVER_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * A distinct certificate-and-key pair per tenant: the same certificate with
 * a tenant-specific note outside its PEM block, so each one builds (and
 * caches) a configuration of its own.
 */
function tenantPair(tenant: number): CertificateAndKey {
  return { cert: `tenant ${tenant}\n${p.server.cert}`, key: p.server.key };
}

/** Accepts connections, finishing each handshake; collects the outcomes. */
function serve(listener: TlsListener): { outcomes: Promise<unknown>[]; done: Promise<void> } {
  const outcomes: Promise<unknown>[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      outcomes.push(
        conn.handshake().then((info) => info, (error) => error).finally(() => {
          conn.close();
        }),
      );
    }
  })();
  return { outcomes, done };
}

test(
  `resolveCertificate: ${TENANTS} tenants resolved at once, then a long rotation; no crash, no error`,
  async () => {
    const before = await steadyLiveObjects();
    let arrived = 0;
    let release: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    let next = 0;
    let batch = true;
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      resolveCertificate: async () => {
        const tenant = next++;
        if (batch) {
          // Every handshake of the first wave holds its configuration while the cache evicts.
          if (++arrived === TENANTS) release();
          await allArrived;
        }
        return tenantPair(tenant);
      },
    });
    const served = serve(listener);
    try {
      const port = listener.addr.port;
      const wave = await Promise.allSettled(
        Array.from({ length: TENANTS }, () => connectTls({ ...client, port })),
      );
      const failed = wave.filter((r) => r.status === "rejected");
      assert.equal(failed.length, 0, `first wave: ${failed.map((r) => String(r.reason))[0]}`);
      for (const r of wave) if (r.status === "fulfilled") r.value.close();
      batch = false;
      // Rotating tenants, 8 at a time: each new one evicts the oldest cached configuration.
      for (let round = 0; round < 40; round++) {
        const conns = await Promise.all(
          Array.from({ length: 8 }, () => connectTls({ ...client, port })),
        );
        for (const conn of conns) conn.close();
      }
      const outcomes = await Promise.all(served.outcomes);
      const errors = outcomes.filter((o) => o instanceof Error);
      assert.equal(errors.length, 0, `server side: ${errors[0]}`);
      assert.equal(outcomes.length, TENANTS + 320);
    } finally {
      listener.close();
      await served.done;
    }
    const after = await liveObjectsWhen((now) =>
      now.serverConfigs === before.serverConfigs && now.connections === before.connections
    );
    assert.equal(after.serverConfigs, before.serverConfigs, "every resolved configuration freed");
    assert.equal(after.connections, before.connections);
  },
  120_000,
);

test("serverName with a NUL byte is INVALID_CONFIG, never a shorter name verified", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
  });
  const served = serve(listener);
  try {
    const error = await rejectsWithCode(
      connectTls({ ...client, port: listener.addr.port, serverName: "localhost\0.attacker.test" }),
      "INVALID_CONFIG",
    );
    assert.match(error.message, /NUL/);
    const carrier: StreamPair = {
      readable: new ReadableStream<Uint8Array>(),
      writable: new WritableStream<Uint8Array>(),
    };
    await rejectsWithCode(
      startTls(carrier, { ...client, serverName: "localhost\0.attacker.test" }),
      "INVALID_CONFIG",
    );
  } finally {
    listener.close();
    await served.done;
  }
});

test("verifyPeer that never settles: TIMED_OUT at the handshake deadline, on both sides, all freed", async () => {
  const before = await steadyLiveObjects();
  const never = (): Promise<void> => new Promise<void>(() => {});
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
    verifyPeer: never,
    handshakeTimeout: 300,
  });
  const served = serve(listener);
  const open: TlsConn[] = [];
  try {
    const port = listener.addr.port;
    // The server's callback holds its side; the client finished and waits.
    open.push(await connectTls({ ...client, port }));
    const outcome = await served.outcomes[0];
    assert.ok(outcome instanceof TlsError, String(outcome));
    assert.equal(outcome.code, "TIMED_OUT");
  } finally {
    listener.close();
    await served.done;
  }
  const other = await listenTls({ hostname: "127.0.0.1", port: 0, ...serverIdentity });
  const otherServed = serve(other);
  try {
    // The client's callback holds its side: its deadline ends it.
    await rejectsWithCode(
      connectTls({ ...client, port: other.addr.port, verifyPeer: never, handshakeTimeout: 300 }),
      "TIMED_OUT",
    );
  } finally {
    for (const conn of open) conn.close();
    other.close();
    await otherServed.done;
  }
  const after = await liveObjectsWhen((now) => now.connections === before.connections);
  assert.equal(after.connections, before.connections, "no connection outlives its deadline");
});

test("resolveCertificate that never settles: TIMED_OUT at the deadline, the listener's setup freed", async () => {
  const before = await steadyLiveObjects();
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...serverIdentity, // a default certificate: its configuration must go with the listener
    resolveCertificate: () => new Promise<CertificateAndKey>(() => {}),
    handshakeTimeout: 300,
  });
  const served = serve(listener);
  try {
    await rejectsWithCode(
      connectTls({ ...client, port: listener.addr.port, handshakeTimeout: 5_000 }),
      "UNEXPECTED_EOF",
    );
    const outcome = await served.outcomes[0];
    assert.ok(outcome instanceof TlsError, String(outcome));
    assert.equal(outcome.code, "TIMED_OUT");
  } finally {
    listener.close();
    await served.done;
  }
  const after = await liveObjectsWhen((now) =>
    now.connections === before.connections && now.serverConfigs === before.serverConfigs
  );
  assert.equal(after.connections, before.connections);
  assert.equal(after.serverConfigs, before.serverConfigs);
});

test(
  `listenTls: a silent client is dropped at the default ${DEFAULT_SERVER_HANDSHAKE_TIMEOUT_MS} ms deadline`,
  async () => {
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: p.server.cert,
      key: p.server.key,
    });
    const served = serve(listener);
    let socket: Socket | undefined;
    try {
      socket = netConnect(listener.addr.port, "127.0.0.1");
      socket.on("error", () => {});
      const closed = new Promise<void>((resolve) => socket!.once("close", () => resolve()));
      const started = Date.now();
      await closed;
      const elapsed = Date.now() - started;
      const outcome = await served.outcomes[0];
      assert.ok(outcome instanceof TlsError && outcome.code === "TIMED_OUT", String(outcome));
      assert.ok(
        elapsed >= DEFAULT_SERVER_HANDSHAKE_TIMEOUT_MS - 500 &&
          elapsed < DEFAULT_SERVER_HANDSHAKE_TIMEOUT_MS + 5_000,
        `closed after ${elapsed} ms`,
      );
      await rejectsWithCode(
        listenTls({ port: 0, cert: p.server.cert, key: p.server.key, handshakeTimeout: -1 }),
        "INVALID_CONFIG",
      );
    } finally {
      socket?.destroy();
      listener.close();
      await served.done;
    }
  },
  30_000,
);

test("a dropped, never-handshaken server connection lets its closed listener free its keys", async () => {
  const before = await steadyLiveObjects();
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
    handshakeTimeout: Infinity,
  });
  const socket = netConnect(listener.addr.port, "127.0.0.1");
  socket.on("error", () => {});
  try {
    // Accepted, never handshaken, never closed: only the garbage collector lets go of it.
    await (async (): Promise<void> => {
      let conn: TlsConn | undefined = await listener.accept();
      assert.ok(conn.remoteAddr);
      conn = undefined;
    })();
    listener.close();
    const after = await liveObjectsWhen((now) => now.serverConfigs === before.serverConfigs);
    assert.equal(after.serverConfigs, before.serverConfigs, "the listener's configuration freed");
  } finally {
    socket.destroy();
  }
});

test('minVersion/maxVersion: "toString" and other non-versions are INVALID_CONFIG, named as such', async () => {
  for (const bad of ["toString", "__proto__", "constructor", 1.2]) {
    const error = await rejectsWithCode(
      connectTls({ ...client, port: 1, minVersion: bad as never }),
      "INVALID_CONFIG",
    );
    assert.match(error.message, /minVersion must be "TLSv1.2" or "TLSv1.3"/, `${bad}`);
    await rejectsWithCode(
      listenTls({ port: 0, cert: p.server.cert, key: p.server.key, maxVersion: bad as never }),
      "INVALID_CONFIG",
    );
  }
});

test("close() ends a handshake waiting on resolveCertificate or verifyPeer, even without a deadline", async () => {
  const before = await steadyLiveObjects();
  for (const hook of ["resolveCertificate", "verifyPeer"] as const) {
    let reached: () => void = () => {};
    const waiting = new Promise<void>((resolve) => (reached = resolve));
    const never = (): Promise<never> => {
      reached();
      return new Promise<never>(() => {});
    };
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      ...serverIdentity,
      [hook]: never,
      handshakeTimeout: Infinity,
    });
    const dialing = connectTls({ ...client, port: listener.addr.port, handshakeTimeout: 10_000 });
    dialing.catch(() => {}); // the server may close first
    try {
      const conn = await listener.accept();
      const handshake = conn.handshake();
      handshake.catch(() => {});
      await waiting; // the handshake now waits on the callback alone
      conn.close();
      await rejectsWithCode(handshake, "CLOSED");
    } finally {
      listener.close();
      (await dialing.catch(() => undefined))?.close();
    }
  }
  const after = await liveObjectsWhen((now) =>
    now.connections === before.connections && now.serverConfigs === before.serverConfigs
  );
  assert.equal(after.connections, before.connections);
  assert.equal(after.serverConfigs, before.serverConfigs, "both listeners' keys freed");
});

test("connectTls: handshakeTimeout Infinity means no deadline, not an error", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...serverIdentity });
  const served = serve(listener);
  try {
    const conn = await connectTls({
      ...client,
      port: listener.addr.port,
      handshakeTimeout: Infinity,
    });
    assert.equal((await conn.handshake()).protocol, "TLSv1.3");
    conn.close();
    const far = await connectTls({
      ...client,
      port: listener.addr.port,
      handshakeTimeout: 2 ** 40,
    });
    far.close();
  } finally {
    listener.close();
    await served.done;
  }
});

test("connectTls: handshakeTimeout counts from the call, a slow configuration build included", async () => {
  const silent = await silentServer();
  // A trust store this big is built on the JS thread, inside the call, before
  // any timer can fire: a timer armed just before the call fires right after
  // the build. Every set differs in size (the cache would hand back the first).
  const trust = (copies: number): string[] => Array.from({ length: copies }, () => p.ca.cert);
  const timeout = 50;
  try {
    let copies = 8_000;
    for (;;) {
      let built = 0;
      const started = performance.now();
      const buildOver = setTimeout(() => (built = performance.now()), 0);
      await rejectsWithCode(
        connectTls({
          hostname: "127.0.0.1",
          port: silent.port,
          serverName: "localhost",
          caCerts: trust(copies),
          handshakeTimeout: timeout,
        }),
        "TIMED_OUT",
      );
      const settled = performance.now();
      clearTimeout(buildOver);
      assert.ok(built > 0, "the timer armed before the call fired before the call settled");
      if (built - started < 2 * timeout) {
        // Precondition not met: the build did not outlast the deadline. A bigger one.
        assert.ok(
          copies < 64_000,
          `precondition: ${copies} certificates built in ${(built - started).toFixed(0)} ms`,
        );
        copies *= 2;
        continue;
      }
      // Counted from the handshake's start, the deadline would end the call a whole
      // timeout after the build; counted from the call, it is over already.
      assert.ok(
        settled - built < timeout / 2,
        `TIMED_OUT ${(settled - built).toFixed(0)} ms after a ${(built - started).toFixed(0)} ms ` +
          `build that outlasted the ${timeout} ms deadline`,
      );
      break;
    }
  } finally {
    await silent.stop();
  }
});

test("a handshake TIMED_OUT names the handshakeTimeout given, not what was left of it", async () => {
  const silent = await silentServer();
  const timeout = 120;
  const named = new RegExp(`within ${timeout} ms \\(handshakeTimeout\\)`);
  try {
    const options = { serverName: "localhost", caCerts: [p.ca.cert], handshakeTimeout: timeout };
    const viaConnect = await rejectsWithCode(
      connectTls({ ...options, hostname: "127.0.0.1", port: silent.port }),
      "TIMED_OUT",
    );
    assert.ok(silent.accepted() >= 1, "the deadline ended the handshake, not the set-up");
    assert.match(viaConnect.message, named);
    // A carrier that takes the ClientHello and never answers.
    let sent = 0;
    const carrier: StreamPair = {
      readable: new ReadableStream<Uint8Array>(),
      writable: new WritableStream<Uint8Array>({ write: (chunk) => void (sent += chunk.length) }),
    };
    const viaStartTls = await rejectsWithCode(startTls(carrier, options), "TIMED_OUT");
    assert.ok(sent > 0, "the deadline ended the handshake, not the set-up");
    assert.match(viaStartTls.message, named);
  } finally {
    await silent.stop();
  }
});

test("a call's deadline names itself in every phase; a caller's own timeout signal does not", async () => {
  const never = new Promise<never>(() => {});
  const deadline = new CallDeadline(20, undefined);
  const phase = await rejectsWithCode(raceAbort(never, deadline.signal), "TIMED_OUT");
  assert.match(phase.message, /within 20 ms \(handshakeTimeout\)/);
  assert.ok(deadline.ended(phase), "the deadline knows its own TIMED_OUT");
  const callers = new CallDeadline(10_000, AbortSignal.timeout(20));
  const own = await rejectsWithCode(raceAbort(never, callers.signal), "TIMED_OUT");
  assert.doesNotMatch(own.message, /handshakeTimeout/);
  assert.ok(!callers.ended(own), "a caller's timeout is not the deadline's");
});

/**
 * A port whose listener (Python, another process) never accepts, its
 * backlog filled: a TCP connect to it hangs until the caller gives up.
 */
async function hangingConnectPort(): Promise<{ port: number; stop(): void }> {
  const child = spawn("python3", [
    "-c",
    "import socket, sys\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen(0)\n" +
    "print(s.getsockname()[1], flush=True)\nsys.stdin.read()",
  ], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (chunk: Uint8Array) => resolve(Number(String(chunk).trim())));
  });
  const fillers: Socket[] = [];
  const stop = (): void => {
    for (const filler of fillers) filler.destroy();
    child.kill();
  };
  for (;;) {
    if (!(await accepts(port, 300))) return { port, stop };
    if (fillers.length >= 16) {
      stop();
      throw new Error("precondition: connects to a full backlog still completed");
    }
    fillers.push(netConnect(port, "127.0.0.1").on("error", () => {}));
  }
}

test("a TCP connect that hangs: handshakeTimeout names host:port; a caller's own timeout does not claim it", async () => {
  const hanging = await hangingConnectPort();
  try {
    const options = {
      hostname: "127.0.0.1",
      port: hanging.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    };
    const deadline = await rejectsWithCode(
      connectTls({ ...options, handshakeTimeout: 150 }),
      "TIMED_OUT",
    );
    assert.match(
      deadline.message,
      new RegExp(
        `connecting to 127\\.0\\.0\\.1:${hanging.port}: .*within 150 ms \\(handshakeTimeout\\)`,
      ),
    );
    const callers = await rejectsWithCode(
      connectTls({ ...options, signal: AbortSignal.timeout(150) }),
      "TIMED_OUT",
    );
    assert.doesNotMatch(callers.message, /handshakeTimeout|undefined/);
  } finally {
    hanging.stop();
  }
});

test("client configurations: racing first connections and a full rotation leave only a full cache", async () => {
  const missing = (i: number): string => `/tmp/rustls-sockets-no-such-socket-${process.pid}-${i}`;
  const dial = (i: number): Promise<unknown> =>
    connectTls({ path: missing(i), serverName: "localhost", caCerts: [p.ca.cert] }).then(
      (conn) => conn.close(),
      (error) => error,
    );
  // Fill this module's cache with configurations of this test's own (other test
  // files may hold their own caches: Deno gives each file its own module instance).
  await Promise.all(Array.from({ length: 70 }, (_, i) => dial(1000 + i)));
  const full = await steadyLiveObjects();
  // Pairs with the same new options, the second 0-19 microtasks after the first.
  for (let gap = 0; gap < 20; gap++) {
    const first = dial(gap);
    for (let i = 0; i < gap; i++) await Promise.resolve();
    const outcomes = await Promise.all([first, dial(gap)]);
    for (const outcome of outcomes) {
      assert.ok(outcome instanceof TlsError, `no such socket: ${outcome}`);
    }
  }
  // 70 more option sets push every earlier configuration out of the cache again.
  await Promise.all(Array.from({ length: 70 }, (_, i) => dial(100 + i)));
  const after = await liveObjectsWhen((now) => now.clientConfigs === full.clientConfigs);
  assert.equal(after.clientConfigs, full.clientConfigs, "a full cache, and nothing more");
});
