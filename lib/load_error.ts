/**
 * The error thrown when the native addon does not load, saying the real cause: a runtime
 * that denied the load (Deno without `--allow-ffi`), a prebuilt binary that is there but
 * does not load here (an older glibc, the wrong libc), an explicit `SYSLOCKS_NATIVE` that
 * does not load, or no binary at all.
 * @internal
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What the loader knew when it failed. */
export interface LoadAttempt {
  /** `${process.platform}-${process.arch}`. */
  platformArch: string;
  /** 'glibc' | 'musl' on Linux, when it could be read. */
  libc: string | undefined;
  /** `SYSLOCKS_NATIVE`, when set. */
  explicit: string | undefined;
  /** The package root, where prebuilds/ and build/ are. */
  root: string;
  /** The prebuilt files the loader tries, relative to root, in order. */
  prebuilds: string[];
}

/**
 * A Deno permission refusal. Deno throws `NotCapable` (Deno 2; `PermissionDenied`
 * before) with "Requires <kind> access to ..., run again with the --allow-<kind> flag"
 * (Deno manual, "Security and permissions").
 */
function denoDenied(cause: unknown): string | undefined {
  if (!('Deno' in globalThis) || !(cause instanceof Error)) return undefined;
  if (cause.name !== 'NotCapable' && cause.name !== 'PermissionDenied' && !/--allow-[a-z]+/.test(cause.message)) {
    return undefined;
  }
  return cause.message;
}

/** The error for a failed load, with `code` and the original error as `cause`. */
export function nativeLoadError(cause: unknown, attempt: LoadAttempt): Error {
  const causeText = cause instanceof Error ? cause.message : String(cause);
  const where = `${attempt.platformArch}${attempt.libc ? ` (${attempt.libc})` : ''}`;
  const denied = denoDenied(cause);
  let message: string;
  let code = 'ERR_SYSLOCKS_NATIVE_MISSING';
  if (denied) {
    code = 'ERR_SYSLOCKS_NATIVE_DENIED';
    message =
      `syslocks: Deno did not allow loading the native addon: ${denied}\n` +
      'Node-API addons need --allow-ffi, and syslocks also reads the C library type ' +
      '(--allow-sys), SYSLOCKS_NATIVE (--allow-env) and the addon file (--allow-read): ' +
      'run `deno run --allow-ffi --allow-sys --allow-env --allow-read ...` (or -A).';
  } else if (attempt.explicit) {
    message = `syslocks: SYSLOCKS_NATIVE=${attempt.explicit} did not load: ${causeText}`;
  } else {
    const present = attempt.prebuilds.filter((rel) => existsSync(join(attempt.root, rel)));
    message = present.length
      ? `syslocks: the prebuilt binary ${present.join(', ')} for ${where} is there but did not load: ` +
        `${causeText}\nBuild one for this machine with \`npm rebuild syslocks --build-from-source\` ` +
        '(needs python3, make and a C++ compiler), or point SYSLOCKS_NATIVE at a syslocks.node.'
      : `syslocks: no prebuilt binary ships for ${where} and no local build exists. ` +
        'Build one with `npm rebuild syslocks` (needs python3, make and a C++ compiler), ' +
        `or point SYSLOCKS_NATIVE at a syslocks.node.\n${causeText}`;
  }
  const err = new Error(message, { cause });
  (err as NodeJS.ErrnoException).code = code;
  return err;
}
