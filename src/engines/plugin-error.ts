/**
 * A tool's own error (a component's `tool-error`, a container's thrown error)
 * as every engine reports it: `plugin-error` with the plugin's code, message
 * and the frames of its own code. The text is the plugin's, so hostile: cut
 * to fixed sizes before anything else reads it, terminal escapes and control
 * characters removed (the CLI escapes what is left again, see
 * src/terminal-safe.ts), only ever shown, never parsed for more than
 * its frame lines.
 *
 * The guest wrappers (src/build/guest-wrapper.ts) and the container hosts
 * (runtimes/) write `<Type>: <message>` and then one
 * `    at <function> (<file>:<line>[:<column>])` line per frame, innermost first.
 */
import { AirlockError } from '../errors.ts';

/** Characters of the plugin's message kept (frames included), and of its code. */
export const MAX_MESSAGE_CHARS = 4096;
export const MAX_CODE_CHARS = 64;
/** Frames kept, and characters per frame. */
const MAX_FRAMES = 10;
const MAX_FRAME_CHARS = 300;

// ESC-introduced sequences (CSI … final byte, OSC/DCS/APC/PM/SOS … BEL or ST, two-character escapes), then
// every other C0/C1 control except newline and tab. Linear: no nested quantifiers, on capped text.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~]?)|\x9b[0-?]*[ -/]*[@-~]?/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Plugin-written text fit to show: at most `max` characters, escape sequences and control characters removed. */
export function cleanGuestText(text: string, max: number): string {
  const cut = text.length > max;
  const clean = (cut ? text.slice(0, max) : text).replace(ESCAPES, '').replace(CONTROLS, '');
  return cut ? `${clean}…` : clean;
}

const FRAME = /^[ \t]+at (.+)$/;

export interface GuestError {
  code: string;
  /** The message without its frames. */
  message: string;
  /** Frames of the plugin's own code, innermost first, as `<function> (<file>:<line>[:<column>])`. */
  stack: string[];
}

/** Splits and cleans what a plugin reported. */
export function parseGuestError(code: unknown, message: unknown): GuestError {
  const c = typeof code === 'string' ? cleanGuestText(code, MAX_CODE_CHARS).replace(/\s+/g, ' ').trim() : '';
  const text = typeof message === 'string' ? cleanGuestText(message, MAX_MESSAGE_CHARS) : '';
  const lines: string[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const frame = FRAME.exec(line);
    if (frame === null) lines.push(line);
    else if (stack.length < MAX_FRAMES) stack.push(frame[1]!.slice(0, MAX_FRAME_CHARS));
  }
  return { code: c === '' ? 'plugin-error' : c, message: lines.join('\n').trim() || '(no message)', stack };
}

/**
 * The AirlockError for a tool's own error: `<who> failed: <code>: <message>; at <innermost frame>` (no code
 * when it is the default `plugin-error`),
 * the parts in details (pluginCode, pluginMessage, pluginStack) beside `extra` (logs).
 */
export function pluginError(who: string, code: unknown, message: unknown, extra: Record<string, unknown> = {}, hint?: string): AirlockError {
  const e = parseGuestError(code, message);
  const at = e.stack[0] === undefined ? '' : `; at ${e.stack[0]}`;
  const shown = e.code === 'plugin-error' ? '' : `${e.code}: `;
  return new AirlockError('plugin-error', `${who} failed: ${shown}${e.message}${at}`, {
    details: { pluginCode: e.code, pluginMessage: e.message, ...(e.stack.length > 0 ? { pluginStack: e.stack } : {}), ...extra },
    ...(hint === undefined ? {} : { hint }),
  });
}

/**
 * What a trapping C or Rust tool said last, for the trap's message: a Rust panic (`panicked at src/lib.rs:11:5:`
 * and its message) or a failed C assert (`Assertion failed: … (plugin.c: tool: 17)`), from its stderr; undefined
 * when it printed neither. The whole stderr stays in the call's logs.
 */
export function trapSummary(stderr: string): string | undefined {
  const panic = /panicked at ([^\n]{1,300}):\n([^\n]{0,300})/.exec(stderr);
  if (panic !== null) return cleanGuestText(`panicked at ${panic[1]}: ${panic[2]}`, 400);
  const assert = /Assertion failed: ([^\n]{1,400})/.exec(stderr);
  return assert === null ? undefined : cleanGuestText(`Assertion failed: ${assert[1]}`, 400);
}
