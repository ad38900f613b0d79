/**
 * The server side of a handshake's first step: read the ClientHello with
 * rustls' acceptor, choose the configuration (SNI, ALPN, possibly an async
 * `resolveCertificate`), then make the server session. Runs inside
 * `TlsConn`'s handshake, so one slow client never delays another.
 *
 * @module
 */
import { IO, RESULT, STATE } from "../../ffi/constants.ts";
import type { SessionStarter } from "./conn.ts";
import { abortError, raceAbort } from "../core/abort.ts";
import { TlsError } from "../core/errors.ts";
import { fromUtf8, type NativeLibrary, outCell, resultError } from "../core/native.ts";
import type { ServerSetup } from "../config/server_config.ts";
import { TlsSession } from "../tls/session.ts";
import type { TlsTransport } from "../transports/transport.ts";
import type { ClientHelloInfo } from "../core/types.ts";
import type { Pointer } from "../core/native.ts";

/** A fatal `unrecognized_name` alert as a plaintext TLS record (RFC 8446 §6). */
const UNRECOGNIZED_NAME_ALERT = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 112);

function helloInfo(lib: NativeLibrary, accepted: Pointer): ClientHelloInfo {
  const buf = new Uint8Array(4096);
  const n = outCell();
  const result = lib.symbols.rustls_sockets_accepted_get_info(accepted, buf, buf.length, n);
  if (result !== RESULT.OK) throw resultError(lib, result, "ClientHello");
  const view = new DataView(buf.buffer, 0, Number(n[0]));
  const nameLength = view.getUint16(0, true);
  const serverName = nameLength === 0 ? null : fromUtf8(buf.subarray(2, 2 + nameLength));
  let at = 2 + nameLength;
  const count = view.getUint16(at, true);
  at += 2;
  const alpnProtocols: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = view.getUint8(at);
    alpnProtocols.push(fromUtf8(buf.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return { serverName, alpnProtocols };
}

/**
 * The starter of an accepted connection: holds the listener's configurations
 * (they outlive `listener.close()`) until the session exists or the
 * connection is dropped.
 */
export function serverStarter(
  lib: NativeLibrary,
  transport: TlsTransport,
  setup: ServerSetup,
): SessionStarter {
  setup.retain();
  let held = true;
  const release = () => {
    if (held) {
      held = false;
      setup.release();
    }
  };
  return {
    start: (signal) => acceptSession(lib, transport, setup, signal).finally(release),
    abandon: release,
  };
}

/** Reads the ClientHello from `transport` and returns the server session for it. */
export async function acceptSession(
  lib: NativeLibrary,
  transport: TlsTransport,
  setup: ServerSetup,
  signal: AbortSignal,
): Promise<TlsSession> {
  const s = lib.symbols;
  const acceptor = s.rustls_acceptor_new();
  const cell = outCell();
  try {
    for (;;) {
      const result = transport.recvHello(acceptor, cell);
      if (result !== RESULT.OK) throw resultError(lib, result, "reading the ClientHello");
      if (cell[0] !== 0n) break;
      if (transport.state[STATE.FLAGS] & IO.TRANSPORT_EOF) {
        throw new TlsError(
          "UNEXPECTED_EOF",
          "the client closed the connection before its ClientHello was complete",
        );
      }
      await transport.waitReadable(signal);
    }
    const accepted = lib.pointerFrom(cell);
    try {
      const hello = helloInfo(lib, accepted);
      // The deadline bounds resolveCertificate too; a lease it yields after the deadline is returned.
      const lease = await raceAbort(setup.configFor(hello), signal, (late) => late?.release());
      if (lease === undefined) {
        transport.sendRaw(UNRECOGNIZED_NAME_ALERT);
        throw new TlsError(
          "PEER_INCOMPATIBLE",
          `no certificate for the server name ${JSON.stringify(hello.serverName)} ` +
            "(add it to sni, return one from resolveCertificate, or give a default cert/key)",
        );
      }
      let result: number;
      try {
        if (signal.aborted) throw abortError(signal);
        // The worker job reads `lease.config`: the lease ends only once the job settled.
        result = await transport.intoConnection(accepted, lease.config, cell);
      } finally {
        lease.release();
      }
      if (result !== RESULT.OK) throw resultError(lib, result, "starting the TLS session");
      return TlsSession.server(lib, lib.pointerFrom(cell));
    } finally {
      s.rustls_accepted_free(accepted);
    }
  } finally {
    s.rustls_acceptor_free(acceptor);
  }
}
