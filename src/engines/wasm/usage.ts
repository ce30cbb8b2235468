/**
 * A worker's usage figures for the call it just answered, in a small
 * SharedArrayBuffer beside its channel (the channel's layout is untouched):
 * the worker writes them before it publishes the response, so the host,
 * which reads them after seeing the response, gets this call's figures.
 */
import type { EngineUsage } from '../types.ts';

const CPU_MS = 0;
const MEMORY = 1;
const READS = 2;
const READ_BYTES = 3;
const WRITES = 4;
const WRITE_BYTES = 5;
const REFUSED_LEN = 6;
const CELLS = 7;
/** Then the requests the worker refused itself, as JSON (hosts are at most 253 bytes; 32 of them fit). */
const REFUSED_BYTES = 16 * 1024;

const encoder = new TextEncoder();

export function createUsageCells(): SharedArrayBuffer {
  return new SharedArrayBuffer(CELLS * Float64Array.BYTES_PER_ELEMENT + REFUSED_BYTES);
}

/** Worker side. */
export function writeUsage(sab: SharedArrayBuffer, usage: Required<EngineUsage>): void {
  const cells = new Float64Array(sab, 0, CELLS);
  if (usage.networkRefused.length === 0) cells[REFUSED_LEN] = 0;
  else {
    const json = JSON.stringify(usage.networkRefused);
    const refused = encoder.encodeInto(json, new Uint8Array(sab, CELLS * 8));
    // A list that did not fit whole is dropped, never cut mid-JSON.
    cells[REFUSED_LEN] = refused.read < json.length ? 0 : refused.written;
  }
  cells[CPU_MS] = usage.cpuMs;
  cells[MEMORY] = usage.memoryPeakBytes;
  cells[READS] = usage.files.reads;
  cells[READ_BYTES] = usage.files.readBytes;
  cells[WRITES] = usage.files.writes;
  cells[WRITE_BYTES] = usage.files.writeBytes;
}

/** Host side, after the response was seen. */
export function readUsage(sab: SharedArrayBuffer): Required<EngineUsage> {
  const c = new Float64Array(sab, 0, CELLS);
  const len = c[REFUSED_LEN]!;
  // Copied out of the shared buffer first: TextDecoder does not read shared memory.
  const networkRefused =
    len === 0 ? [] : (JSON.parse(new TextDecoder().decode(new Uint8Array(sab, CELLS * 8, len).slice())) as EngineUsage['networkRefused'] & object);
  return {
    networkRefused,
    cpuMs: c[CPU_MS]!,
    memoryPeakBytes: c[MEMORY]!,
    files: { reads: c[READS]!, readBytes: c[READ_BYTES]!, writes: c[WRITES]!, writeBytes: c[WRITE_BYTES]! },
  };
}
