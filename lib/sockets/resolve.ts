/**
 * Name resolution that never blocks the event loop: the runtime's
 * `node:dns` lookup (getaddrinfo on a worker thread, /etc/hosts honoured).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { TlsError } from "../core/errors.ts";

/** The IP addresses of `hostname`, in the resolver's order. An IP literal resolves to itself. */
export async function resolveHost(hostname: string): Promise<string[]> {
  const literal = hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
  if (isIP(literal)) return [literal];
  try {
    const found = await lookup(hostname, { all: true });
    const addresses = found.map((entry) => entry.address);
    if (addresses.length > 0) return addresses;
  } catch (error) {
    const refused = (error as { code?: string }).code === "EPERM" ||
      (error as Error).name === "NotCapable" || (error as Error).name === "PermissionDenied";
    throw new TlsError(
      "NAME_RESOLUTION_FAILED",
      `cannot resolve ${JSON.stringify(hostname)}: ${(error as Error).message}` +
        (refused
          ? " (Deno refused the lookup: resolving names needs --allow-net for the host; the " +
            "socket itself is made through FFI, which --allow-net does not confine)"
          : ""),
      { cause: error },
    );
  }
  throw new TlsError("NAME_RESOLUTION_FAILED", `${JSON.stringify(hostname)} has no address`);
}

/** Whether `text` is an IPv4 or IPv6 literal. */
export function isIpLiteral(text: string): boolean {
  return isIP(text) !== 0;
}
