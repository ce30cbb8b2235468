/**
 * Documented differences between engines. A case whose result on an engine
 * differs from ./cases.ts fails, unless it is listed here: then the engine
 * must do exactly what `instead` says (so a limitation that goes away, or
 * changes, fails too and the entry is updated). Each entry gives its reason;
 * the README's engine limitations repeat them.
 */
import type { ErrorCode } from '../../src/errors.ts';
import type { Expect, Sandbox } from './cases.ts';
import type { ConformanceId } from './engines.ts';

export interface Limitation {
  engine: ConformanceId;
  /** Case names (exact) this applies to. */
  cases: string[];
  /** Only these fixtures of those cases (default: every fixture the engine runs). */
  fixtures?: string[];
  instead:
    | { /** The engine refuses to load the plugin with this code (the selector then falls back). */ load: ErrorCode; message: RegExp }
    | {
        /** Step index -> what this engine returns there instead. */
        steps: Record<number, Expect>;
        /** Host-side checks that replace the case's own. */
        check?: (s: Sandbox) => string[];
      };
  reason: string;
}

export const LIMITATIONS: Limitation[] = [
  {
    engine: 'wasmtime',
    cases: [
      'fs-escape: a read-only grant is readable at its mount path',
      'fs-escape: a read-only grant refuses every kind of write and the host files stay as they were',
    ],
    instead: { load: 'engine-unavailable', message: /read-only.*wasmtime#9608/ },
    reason:
      "the wasmtime CLI's --dir always grants read-write (no read-only preopen, https://github.com/bytecodealliance/wasmtime/issues/9608); the engine refuses rather than widen the grant, and the selector runs such plugins on the worker engine",
  },
  {
    engine: 'wasmtime',
    cases: [
      'fs-escape: a read-write grant holds at most resources.disk bytes; deleting frees room',
      'fs-escape: a read-write grant holds at most resources.files entries; deleting frees room',
    ],
    instead: { load: 'engine-unavailable', message: /granted read-write at \/rw, but wasmtime cannot hold the plugin to resources\.disk.*unboundedWrites/ },
    reason:
      "the wasmtime CLI's --dir has no size or file-count limit, so a read-write grant is refused (unless the host policy lists wasmtime in unboundedWrites) and the selector runs the plugin on the worker engine, which enforces resources.disk and resources.files",
  },
  {
    engine: 'wasmtime',
    cases: [
      'net: with no network granted, TCP and HTTP are refused',
      'net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent',
      'net: with an HTTP allowlist, other hosts and raw sockets are still refused',
    ],
    instead: { load: 'engine-unavailable', message: /wasi:http\/outgoing-handler|allowlist/ },
    reason:
      'the wasmtime CLI links wasi:http only wholesale (-S http, no allowlist and no way to deny requests), so a component importing wasi:http/outgoing-handler, or any network grant, is refused; the worker engine runs it with its own allowlist',
  },
  {
    engine: 'wasmtime',
    cases: ['state: a pooled instance keeps its state between calls'],
    instead: { steps: { 1: { output: '1' } } },
    reason: 'every wasmtime call is a fresh process, so isolation is always per-call: nothing, including state a plugin means to keep, survives a call',
  },
  {
    engine: 'wasmtime',
    cases: ['fs-escape: a symlink inside the grant is not followed either'],
    instead: { steps: { 0: { output: '"ok:inner"' } } },
    reason:
      'wasmtime (cap-std) follows a symlink whose target stays inside the preopen, and refuses only escapes; the worker engine follows no symlink at all, because preview2-shim resolves paths and then opens by path (a check-then-use race an escape could win). Both contain the guest in its grant',
  },
  {
    engine: 'wasmtime',
    cases: ['fs-escape: a symlink the guest creates cannot lead out of the grant'],
    instead: { steps: { 0: { output: '"ok:done"' } } },
    reason:
      'wasmtime lets a guest create a symlink inside a writable preopen (following it out of the preopen still fails, the next step); the worker engine refuses to create symlinks at all, for the same race as above',
  },
  {
    engine: 'wasmtime',
    cases: ['fs-escape: a FIFO or a socket is refused before any blocking open'],
    instead: { steps: { 0: { error: 'timeout' }, 1: { error: 'timeout' } } },
    reason:
      'wasmtime opens a FIFO inside a writable preopen, and the open blocks until resources.timeout ends the call (timeout; the process is gone, the host is unaffected); the worker engine refuses FIFOs, sockets and devices before opening, because a blocking open in a worker thread cannot be interrupted',
  },
  {
    engine: 'wasmtime',
    cases: ['echo-c: a 200 KB input and result pass through'],
    instead: { steps: { 0: { error: 'invalid-input' } } },
    reason:
      'the wasmtime CLI takes the call (tool name and input) as one --invoke argument, and Linux caps one argument at 128 KiB (MAX_ARG_STRLEN); larger inputs are refused as invalid-input before anything runs. The worker engine passes input through shared memory',
  },
];

/**
 * What a container's environment holds besides the grant: what Docker sets (HOSTNAME, and HOME for a
 * user without one), what the runtime images declare (local bases and the official node/python ones),
 * and the working directory. None comes from the host.
 */
const IMAGE_ENV = new Set([
  'HOSTNAME',
  'HOME',
  'PATH',
  'PWD',
  'LANG',
  'NODE_ENV',
  'NODE_VERSION',
  'YARN_VERSION',
  'PYTHONPATH',
  'PYTHONDONTWRITEBYTECODE',
  'PYTHONUNBUFFERED',
  'PYTHON_VERSION',
  'PYTHON_SHA256',
  'PYTHON_PIP_VERSION',
  'PYTHON_SETUPTOOLS_VERSION',
  'PYTHON_GET_PIP_URL',
  'PYTHON_GET_PIP_SHA256',
  'GPG_KEY',
]);

/** What the kubelet adds to every container whatever enableServiceLinks says: the `kubernetes` Service's address. */
const KUBELET_ENV = /^KUBERNETES_(SERVICE_HOST|SERVICE_PORT|SERVICE_PORT_HTTPS|PORT|PORT_443_TCP|PORT_443_TCP_PROTO|PORT_443_TCP_PORT|PORT_443_TCP_ADDR)$/;

/** The `dump` result is exactly `granted` plus image variables (and, in a Pod, the kubelet's), and no host value is in it. */
const imageEnvPlus =
  (granted: string[], pod = false) =>
  (output: string): string | undefined => {
    const vars = JSON.parse(output) as string[];
    if (output.includes('hunter2')) return 'a host value leaked';
    const missing = granted.filter((g) => !vars.includes(g));
    if (missing.length > 0) return `granted variables missing: ${missing.join(', ')}`;
    const own = (name: string) => IMAGE_ENV.has(name) || (pod && KUBELET_ENV.test(name));
    const extra = vars.filter((v) => !granted.includes(v) && !own(v.slice(0, v.indexOf('='))));
    return extra.length > 0 ? `variables neither granted nor the image's: ${extra.join(', ')}` : undefined;
  };

/** A file of the container image (read-only root), not the host's. */
const imageFile: Expect = { output: /^"ok:root:x:0:0:/ };

const PATH_GRANT_CASES = [
  'fs-escape: a read-write grant allows create, write, read, mkdir, rename and unlink',
  'fs-escape: a read-write grant holds at most resources.disk bytes; deleting frees room',
  'fs-escape: a read-write grant holds at most resources.files entries; deleting frees room',
  'fs-escape: .. and absolute paths cannot leave the grant',
  'fs-escape: symlinks out of the grant are not followed (relative, absolute, a swapped directory)',
  'fs-escape: a symlink the guest creates cannot lead out of the grant',
  'fs-escape: a symlink inside the grant is not followed either',
  'fs-escape: a FIFO or a socket is refused before any blocking open',
  'fs-escape: a read-only grant is readable at its mount path',
  'fs-escape: a read-only grant refuses every kind of write and the host files stay as they were',
];

LIMITATIONS.push(
  {
    engine: 'docker-remote',
    // The quota cases are Docker's own row below (refused before the daemon is asked), which holds here too.
    cases: PATH_GRANT_CASES.filter((c) => !c.includes('holds at most')),
    instead: {
      load: 'engine-unavailable',
      message: /granted read-write at \/rw\) is a folder of this machine, and the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+ \(TLS, host policy\) is remote/,
    },
    reason:
      "these cases grant a read-write folder, and a folder of this machine cannot be a bind mount on a remote daemon (the path would name one on the daemon's machine) nor a copy (the plugin's writes would stay there): the plugin is refused with its reason; read-only grants are copied into a volume on the daemon (test/engines/docker/remote/engine.test.ts)",
  },
  {
    engine: 'docker',
    cases: [
      'fs-escape: a read-write grant holds at most resources.disk bytes; deleting frees room',
      'fs-escape: a read-write grant holds at most resources.files entries; deleting frees room',
    ],
    instead: {
      load: 'permission-denied',
      message: /granted read-write at \/rw, but Docker cannot hold the plugin to resources\.disk.*list docker in unboundedWrites/,
    },
    reason:
      "a bind mount has no size or file-count limit (--storage-opt bounds only the container's own layer; a sized volume or tmpfs is not the granted folder; a loop-mounted image or project quota needs root on the host), so a read-write grant is refused with permission-denied unless the host policy lists docker in unboundedWrites",
  },
  {
    engine: 'docker',
    cases: ['env-dump: with nothing granted the guest sees no environment at all'],
    instead: { steps: { 0: { output: imageEnvPlus([]) } } },
    reason:
      'a container process always has an environment: Docker sets HOSTNAME and HOME, the image declares PATH, LANG and its runtime settings (NODE_ENV, PYTHONPATH ...). None of it comes from the host; no host variable is passed unless granted',
  },
  {
    engine: 'docker',
    cases: ['env-dump: exactly the granted variables, with their values'],
    instead: { steps: { 0: { output: imageEnvPlus(['GREETING=hi "there"; =x']) } } },
    reason: "the granted variables, with their values, beside the image's own environment (see the case above)",
  },
  {
    engine: 'docker',
    cases: ['fs-escape: without a filesystem grant nothing is reachable'],
    instead: { steps: { 0: imageFile, 1: { output: /^"ok:.*etc,/ }, 2: { output: '"ok:written"' } } },
    reason:
      "a container has a root filesystem of its own: the image's, read-only, with a private size-limited tmpfs at /tmp. /etc/passwd there is the image's, / lists the image, and /tmp takes a write that never reaches the host (the host-side check shows /tmp untouched); /etc/shadow stays unreadable to the non-root user. No host path outside the grants is mounted",
  },
  {
    engine: 'docker',
    cases: ['fs-escape: .. and absolute paths cannot leave the grant'],
    instead: { steps: { 6: imageFile } },
    reason:
      "/etc/passwd is the image's own file (see the case above); .. from a bind mount leads into the read-only image, never to the host's files next to the granted folder",
  },
  {
    engine: 'docker',
    cases: ['fs-escape: a symlink inside the grant is not followed either'],
    instead: { steps: { 0: { output: '"ok:inner"' } } },
    reason:
      "the kernel follows a symlink inside a bind mount like any other; it resolves in the container's own mount namespace, where only the grants and the image exist, so an escape lands in the image (the next cases) and never on the host. The worker engine follows no symlink at all (a check-then-use race)",
  },
  {
    engine: 'docker',
    cases: ['fs-escape: a symlink the guest creates cannot lead out of the grant'],
    instead: { steps: { 0: { output: '"ok:done"' } } },
    reason:
      'a writable bind mount lets the plugin create a symlink there (following it from the container still fails: it resolves inside the container, the next step); the worker engine refuses to create symlinks at all',
  },
  {
    engine: 'docker',
    cases: ['fs-escape: a FIFO or a socket is refused before any blocking open'],
    instead: { steps: { 0: { error: 'timeout' }, 1: { error: 'timeout' } } },
    reason:
      'a native process opens a FIFO in a writable grant like the kernel says: the open blocks until resources.timeout kills the container (timeout; a fresh container serves the next call, the host is unaffected); a socket file cannot be opened (ENXIO)',
  },
  {
    engine: 'docker',
    cases: ['trap: a trap is trap, and the next call gets a fresh instance that traps again'],
    instead: { steps: { 0: { error: 'crash', message: /exited \(code 134\)/ }, 1: { error: 'crash', message: /exited \(code 134\)/ } } },
    reason:
      'a native interpreter has no trap; its equivalent, the process dying mid-call (here abort(), SIGABRT), ends the container and is reported as crash with the last log lines, and the next call gets a fresh container',
  },
  {
    engine: 'docker',
    cases: ['random-bomb: asking for 1 GiB of random bytes traps without the host allocating it'],
    instead: { steps: { 0: { error: 'memory-limit' } } },
    reason:
      "random bytes are produced inside the container, into the plugin's own memory: 1 GiB meets the container's memory limit (memory-limit), and the host allocates nothing. On the wasm engines the host fills the guest's buffer and must refuse the size itself (trap)",
  },
);

/** The conformance cases that grant a folder of this machine (read-only or read-write). */

// The Kubernetes engine runs the Docker engine's image and in-container host in a Pod: Docker's rows hold there
// (the image's root filesystem and /tmp, a native abort as crash, a 1 GiB random request meeting the memory limit)
// unless it has its own.
LIMITATIONS.push(
  {
    engine: 'kubernetes',
    cases: PATH_GRANT_CASES,
    instead: {
      load: 'engine-unavailable',
      message: /filesystem: \/\S+ \(granted (read|read-write) at \/r[ow]\) is a folder of this machine; a Pod runs on a cluster node.*mounts no host path/,
    },
    reason:
      "these cases grant a folder of this machine, and a Pod runs on a cluster node, where a hostPath volume would name that node's files, not the granted folder: every filesystem grant is refused at load with its reason (the selector then runs the plugin on the worker or Docker engine)",
  },
  {
    engine: 'kubernetes',
    cases: ['env-dump: with nothing granted the guest sees no environment at all'],
    instead: { steps: { 0: { output: imageEnvPlus([], true) } } },
    reason:
      "as on Docker, the image's own variables (PATH, HOME, HOSTNAME: the Pod's name ...); and the kubelet adds the `kubernetes` Service's address (KUBERNETES_SERVICE_HOST, KUBERNETES_PORT*) to every container whatever enableServiceLinks says. No host value",
  },
  {
    engine: 'kubernetes',
    cases: ['env-dump: exactly the granted variables, with their values'],
    instead: { steps: { 0: { output: imageEnvPlus(['GREETING=hi "there"; =x'], true) } } },
    reason: "the granted variables, with their values, beside the image's own and the kubelet's (see the case above)",
  },
);

/**
 * The limitation of `engine` for this case and fixture. The Docker engine on a remote daemon runs the same
 * containers as on the local one, and the Kubernetes engine the same images as Pods: Docker's limitations hold there
 * too, unless the engine lists its own.
 */
export function limitationFor(engine: ConformanceId, caseName: string, fixture: string): Limitation | undefined {
  const find = (id: ConformanceId): Limitation | undefined =>
    LIMITATIONS.find((l) => l.engine === id && l.cases.includes(caseName) && (l.fixtures === undefined || l.fixtures.includes(fixture)));
  return find(engine) ?? (engine === 'docker-remote' || engine === 'kubernetes' ? find('docker') : undefined);
}
