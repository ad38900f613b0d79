/**
 * What `TlsConn` needs from whatever carries its ciphertext. A transport
 * moves records between a {@link TlsSession} and the outside world and says
 * when waiting is needed; `TlsConn` owns the TLS logic.
 *
 * @module
 */
import type { Pointer } from "../core/native.ts";
import type { TlsSession } from "../tls/session.ts";
import type { Addr } from "../core/types.ts";

/** The outcome of one transport step: `[bytes, errno, flags, 0]` plus the rustls result. */
export interface IoState {
  /** `RUSTLS_RESULT_OK`, a TLS error, or `RUSTLS_RESULT_IO` (see `state[STATE.ERRNO]`). */
  result: number;
  /** `[bytes, errno, flags, 0]`. */
  state: Uint32Array;
}

/** A carrier of TLS records. */
export interface TlsTransport {
  /** Local address. */
  readonly localAddr: Addr;
  /** Remote address. */
  readonly remoteAddr: Addr;
  /** The state block the last `recv`/`send` filled. */
  readonly state: Uint32Array;
  /**
   * Delivers plaintext into `buf` (or, with `null`, only advances the
   * handshake), reading and answering records as needed without waiting.
   * Returns the rustls result; details in {@link state}.
   */
  recv(session: TlsSession, buf: Uint8Array | null): number;
  /**
   * Hands `data` (or nothing, to flush) to the session and sends what it can
   * without waiting. Also flushes handshake flights: rustls built and
   * encrypted them when it queued them, so no crypto happens here.
   */
  send(session: TlsSession, data: Uint8Array | null): number;
  /**
   * `recv(session, null)` for the handshake, where certificate verification
   * and key exchange happen: off the JS thread when the transport can.
   * The session must not be used until it settles.
   */
  recvHandshake(session: TlsSession): Promise<number>;
  /**
   * Server: reads ClientHello bytes into `acceptor` without waiting; `out`
   * gets the `rustls_accepted` once the hello is complete. A bad hello
   * returns its rustls result after the alert was sent.
   */
  recvHello(acceptor: Pointer, out: BigUint64Array): number;
  /**
   * Server: makes the connection from `accepted` (the server's first flight
   * and its signature: off the JS thread when it can; alert sent on
   * failure); `out` gets it.
   */
  intoConnection(accepted: Pointer, config: Pointer, out: BigUint64Array): Promise<number>;
  /** Runs `fn` now, or once the transport's in-flight jobs finished (they may use the session). */
  afterJobs(fn: () => void): void;
  /** Sends bytes outside any session (a plaintext alert), best effort. */
  sendRaw(bytes: Uint8Array): void;
  /** Resolves when reading may make progress. */
  waitReadable(signal?: AbortSignal): Promise<void>;
  /** Resolves when writing may make progress. */
  waitWritable(signal?: AbortSignal): Promise<void>;
  /**
   * Whether this transport's waits keep the process alive (`true`, the
   * default). Carriers other than the module's own sockets keep their own
   * setting: there it changes nothing.
   */
  setRef(refed: boolean): void;
  /** Shuts down the sending direction (after close_notify was flushed). */
  shutdownWrite(): void;
  /**
   * Releases the transport — and `session`, when given, which it frees once
   * nothing uses it (possibly off the JS thread); pending waits reject with
   * `CLOSED`. Idempotent.
   */
  close(session?: TlsSession): void;
}
