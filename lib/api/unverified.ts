/**
 * Which client connections were made with `dangerouslyDisableVerification`:
 * adapters that report whether the peer was verified (`lib/node/`'s
 * `authorized`) ask here instead of trusting that a certificate came.
 *
 * @module
 */
import type { TlsConn } from "./conn.ts";

const unverified = new WeakSet<TlsConn>();

/** Marks `conn` as one whose peer's certificate is not verified. */
export function markUnverified(conn: TlsConn): void {
  unverified.add(conn);
}

/** Whether `conn` was made with verification disabled. */
export function isUnverified(conn: TlsConn): boolean {
  return unverified.has(conn);
}
