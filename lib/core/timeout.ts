/**
 * Handshake deadlines: the option's validation, and the server's default
 * (a client that connects and stays silent must not hold a connection,
 * its fd and its memory forever).
 *
 * @module
 */
import { TlsError } from "./errors.ts";

/**
 * The handshake deadline of `listenTls` and `acceptTls` when
 * `handshakeTimeout` is not given: 10 s from the start of the handshake to
 * its end, `resolveCertificate` and `verifyPeer` included.
 * `handshakeTimeout: Infinity` removes the deadline.
 */
export const SERVER_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The longest delay a timer takes (2^31 - 1 ms, ~24.8 days); longer ones never fire. */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Throws `INVALID_CONFIG` unless `timeout` is absent or a positive number of
 * ms (`Infinity`: none); returns it, or `fallback` when absent. `name` is the
 * option's.
 */
export function checkTimeout(
  timeout: unknown,
  fallback?: number,
  name = "handshakeTimeout",
): number | undefined {
  if (timeout === undefined) return fallback;
  if (typeof timeout !== "number" || !(timeout > 0)) {
    throw new TlsError("INVALID_CONFIG", `${name} must be a positive number of ms`);
  }
  return timeout;
}

/** The `idleTimeout` option, checked: its ms, or `undefined` for none (`Infinity` included). */
export function checkIdleTimeout(timeout: unknown): number | undefined {
  const ms = checkTimeout(timeout, undefined, "idleTimeout");
  return ms === undefined || ms > LONGEST_TIMER_MS ? undefined : ms;
}
