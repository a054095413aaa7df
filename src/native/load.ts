/**
 * Loading the optional native addons of native/ (src/ledger/native-sha256.ts,
 * src/export/native-tidy.ts), which `npm install` builds (scripts/build-native.mjs) where a C
 * compiler and Node's headers are. Each has a JavaScript stand-in that gives the same results, so a
 * missing build only costs speed; `TRAILPROOF_NATIVE=0` turns them all off.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where the addon `name` is built: native/build/Release/<name>.node (the same from the verification workers' bundle, leaf-pool.ts). */
export function addonPath(name: string): string {
  return fileURLToPath(new URL(`../../native/build/Release/${name}.node`, import.meta.url));
}

/** The addon at `path`, if it loads and is of the API version this code calls. */
export function loadAddon<T extends { version: number }>(path: string, version: number): T | undefined {
  let loaded: T;
  try {
    loaded = createRequire(import.meta.url)(path) as T;
  } catch {
    return undefined;
  }
  // A build left from an older checkout (the sources changed, `npm install` not run since) may
  // lack a function or differ in one: not used, and said once.
  if (loaded.version !== version) {
    process.emitWarning(
      `${path} is out of date (version ${String(loaded.version)}, expected ${version}); using the JavaScript stand-in until \`npm install\` (or node scripts/build-native.mjs) rebuilds it`,
    );
    return undefined;
  }
  return loaded;
}

/** The addon `name` unless TRAILPROOF_NATIVE=0. */
export function nativeAddon<T extends { version: number }>(name: string, version: number): T | undefined {
  return process.env.TRAILPROOF_NATIVE === '0' ? undefined : loadAddon<T>(addonPath(name), version);
}
