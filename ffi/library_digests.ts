/**
 * The SHA-256 digests of this version's prebuilt libraries, by platform:
 * what `installNativeLibrary()` accepts. Written by `scripts/pack.sh
 * --release` from the libraries it builds (the release's own files); empty
 * in a build that has not been released.
 *
 * @module
 */

/** The released libraries of one version. */
export interface LibraryDigests {
  /** The version the digests belong to. */
  readonly version: string;
  /** Hex SHA-256 of `librustls_sockets.so`, by platform (`linux-x64-gnu`, ...). */
  readonly libraries: Readonly<Record<string, string>>;
}

/** The digests shipped with this module. */
export const LIBRARY_DIGESTS: LibraryDigests = {
  version: "0.1.0",
  libraries: {},
};
