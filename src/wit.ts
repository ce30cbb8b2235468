/**
 * The names of Airlock's plugin world (wit/airlock-plugin.wit), all derived
 * from its one package and version so no engine or build step spells them
 * differently. test/wit.test.ts checks them against the .wit file.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WIT_PACKAGE = 'airlock:plugin';
export const WIT_VERSION = '0.1.0';

/** The world every plugin implements, by name within the package and fully qualified. */
export const WIT_WORLD = 'plugin';
export const WIT_WORLD_ID = `${WIT_PACKAGE}/${WIT_WORLD}`;

/** The exported interface, unversioned (`airlock:plugin/tools`: what messages and version-agnostic checks name). */
export const TOOLS_INTERFACE = `${WIT_PACKAGE}/tools`;
/** The exported interface as a component names it (`airlock:plugin/tools@0.1.0`). */
export const TOOLS_INTERFACE_VERSIONED = `${TOOLS_INTERFACE}@${WIT_VERSION}`;
/** The core-module export of `call` under the canonical ABI (what wit/c/airlock_tools.h defines). */
export const TOOLS_CALL_CORE_EXPORT = `${TOOLS_INTERFACE_VERSIONED}#call`;
/** The function `wasmtime run --invoke` calls, in the CLI's `pkg/iface.func@version` spelling. */
export const INVOKE_TARGET = `${TOOLS_INTERFACE}.call@${WIT_VERSION}`;

/** The .wit file defining the world. */
export const WIT_PATH = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'wit', 'airlock-plugin.wit');
