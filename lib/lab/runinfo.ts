/**
 * What every `--json` output carries besides its results, so a saved file says where
 * and when it was measured: syslocks, Node and kernel versions, the date, and the
 * filesystem (type, mount source and options) of the directory used.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { release, version as osVersion } from 'node:os';
import { join } from 'node:path';
import { fsInfoOf, type FsInfo } from './fsinfo.js';

/** The run's environment. */
export interface RunInfo {
  /** syslocks version (package.json). */
  syslocks: string;
  /** `process.version`. */
  node: string;
  /** `process.platform`. */
  platform: string;
  /** `os.release()`. */
  kernel: string;
  /** `os.version()` (the kernel build string). */
  kernelVersion: string;
  /** When the run started, ISO 8601 UTC. */
  date: string;
  /** Filesystem of the directory used. */
  fsInfo: FsInfo;
}

/** The syslocks version from the package.json two levels up (dist/lab → package root). */
export function syslocksVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** The environment of a run in `dir`, started at `date`. */
export function runInfo(dir: string, date: Date = new Date()): RunInfo {
  return {
    syslocks: syslocksVersion(),
    node: process.version,
    platform: process.platform,
    kernel: release(),
    kernelVersion: osVersion(),
    date: date.toISOString(),
    fsInfo: fsInfoOf(dir),
  };
}
