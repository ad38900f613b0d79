/**
 * What `TlsConn` needs from whatever carries its ciphertext. A transport
 * moves records between a {@link TlsSession} and the outside world and says
 * when waiting is needed; `TlsConn` owns the TLS logic.
 *
 * @module
 */
import type { Pointer } from "./native.ts";
import type { TlsSession } from "./session.ts";
import type { Addr } from "./types.ts";

/** State bits reported by {@link TlsTransport.recv} and {@link TlsTransport.send}. */
export const IO = {
  /** Nothing more to read right now: wait for readability. */
  READ_BLOCKED: 1,
  /** Ciphertext is pending and the transport is full: wait for writability. */
  WRITE_BLOCKED: 2,
  /** close_notify received and all plaintext delivered. */
  PEER_CLOSED: 4,
  /** The transport reported end of stream. */
  TRANSPORT_EOF: 8,
  /** The session is still handshaking. */
  HANDSHAKING: 16,
  /** The session still has ciphertext to send. */
  WANTS_WRITE: 32,
} as const;

/** The outcome of one transport step: `[bytes, errno, flags, 0]` plus the rustls result. */
export interface IoState {
  /** `RUSTLS_RESULT_OK`, a TLS error, or `RUSTLS_RESULT_IO` (see `state[1]`). */
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
  /** Shuts down the sending direction (after close_notify was flushed). */
  shutdownWrite(): void;
  /**
   * Releases the transport — and `session`, when given, which it frees once
   * nothing uses it (possibly off the JS thread); pending waits reject with
   * `CLOSED`. Idempotent.
   */
  close(session?: TlsSession): void;
}
