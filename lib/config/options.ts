/**
 * Option checks shared by client and server configurations: versions, ALPN,
 * what secrets a configuration captures, and the dangerous switches.
 *
 * @module
 */
import { CAPTURE } from "../../ffi/constants.ts";
import { TlsError } from "../core/errors.ts";
import { utf8 } from "../core/native.ts";
import type { TlsClientOptions, TlsVersion } from "../core/types.ts";

const VERSION_CODES: Record<TlsVersion, number> = { "TLSv1.2": 0x0303, "TLSv1.3": 0x0304 };

/** How a configuration captures secrets: everything for a key log, else the exporter secret only. */
export function captureMode(
  keyLog: TlsClientOptions["keyLog"],
  checkedAfterHandshake: boolean,
  exporter: boolean,
): number {
  // Nothing is filed without a bit.
  const alert = (checkedAfterHandshake ? CAPTURE.ALERT : 0) | (exporter ? CAPTURE.EXPORTER : 0);
  if (keyLog === undefined) return alert;
  if (keyLog !== "env" && typeof keyLog !== "function") {
    throw new TlsError("INVALID_CONFIG", 'keyLog must be a function or "env"');
  }
  return CAPTURE.ALL | alert;
}

/**
 * The `exportKeyingMaterial` option: whether connections keep the
 * exporter's secrets after their handshake.
 */
export function exporterWanted(options: { exportKeyingMaterial?: unknown }): boolean {
  const wanted = options.exportKeyingMaterial;
  if (wanted !== undefined && typeof wanted !== "boolean") {
    throw new TlsError("INVALID_CONFIG", "exportKeyingMaterial must be a boolean");
  }
  return wanted === true;
}

/** The `dangerouslyIgnoreCrlExpiry` option, checked. */
export function ignoresCrlExpiry(options: { dangerouslyIgnoreCrlExpiry?: unknown }): boolean {
  const ignore = options.dangerouslyIgnoreCrlExpiry;
  if (ignore !== undefined && typeof ignore !== "boolean") {
    throw new TlsError("INVALID_CONFIG", "dangerouslyIgnoreCrlExpiry must be a boolean");
  }
  return ignore === true;
}

/** Whether connections with these client options check the server after the handshake. */
export function checksAfterHandshake(options: TlsClientOptions): boolean {
  return options.verifyPeer !== undefined || options.pinnedPublicKeys !== undefined;
}

/** Checks and normalises the version range. */
export function versionRange(min?: TlsVersion, max?: TlsVersion): Uint16Array {
  for (const [name, value] of [["minVersion", min], ["maxVersion", max]] as const) {
    // Own keys only: "toString" and friends are no version.
    if (
      value !== undefined && (typeof value !== "string" || !Object.hasOwn(VERSION_CODES, value))
    ) {
      throw new TlsError(
        "INVALID_CONFIG",
        `${name} must be "TLSv1.2" or "TLSv1.3", not ${JSON.stringify(value)}`,
      );
    }
  }
  const low = VERSION_CODES[min ?? "TLSv1.2"];
  const high = VERSION_CODES[max ?? "TLSv1.3"];
  if (low > high) {
    throw new TlsError("INVALID_CONFIG", `minVersion ${min} is above maxVersion ${max}`);
  }
  return Uint16Array.from([0x0304, 0x0303].filter((v) => v >= low && v <= high));
}

/** The ALPN list in wire format (each name preceded by its length). */
export function alpnWire(protocols: string[]): Uint8Array {
  const parts = protocols.map((p) => {
    const bytes = utf8(p);
    if (bytes.length === 0 || bytes.length > 255) {
      throw new TlsError(
        "INVALID_CONFIG",
        `ALPN protocol ${JSON.stringify(p)} must be 1 to 255 bytes long`,
      );
    }
    return bytes;
  });
  const wire = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    wire[at++] = p.length;
    wire.set(p, at);
    at += p.length;
  }
  return wire;
}
