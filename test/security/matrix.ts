/**
 * The attack matrix (issue 8, part 1): attacks (rows) × engines (columns),
 * the one definition the README table is rendered from (./render.ts) and
 * ./matrix.test.ts checks. Every cell says what the engine does with the
 * attack and names the test(s) that prove it:
 *
 * - `contained`: the attack fails with `code` (an AirlockError code, an
 *   errno result, a refused request), and the host is unaffected.
 * - `na`: the attack cannot be expressed on that engine; `reason` says why
 *   (with a test proving the refusal where one exists).
 * - `limitation`: not contained as it should be; `reason`, and an
 *   issue-ready description (title, impact, reproduction, proposed fix).
 *
 * Proofs: `matrix` (a cell test in ./cells/<group>.ts, titled
 * `matrix <row> × <column>: ...`), `conformance` (a case of
 * test/conformance/cases.ts, run on this column's engine and fixture), or
 * `file` (an existing test, by a text its title contains).
 */
import type { EngineName } from '../../src/engines/registry.ts';
import type { Grants } from '../../src/grants/types.ts';
import type { ConformanceId } from '../conformance/engines.ts';
import { limitationFor } from '../conformance/limitations.ts';

/** Columns every row writes: the engines that run on this machine. */
const WRITTEN_COLUMNS = ['worker', 'wasmtime', 'docker-node', 'docker-python'] as const;
type WrittenColumn = (typeof WRITTEN_COLUMNS)[number];
/** The Kubernetes engine's columns: a row may leave them to clusterCells() below. */
const CLUSTER_COLUMNS = ['kubernetes-node', 'kubernetes-python'] as const;
type ClusterColumn = (typeof CLUSTER_COLUMNS)[number];
/** The columns of the registry's engines (see COLUMN_ENGINE). */
export const BASE_COLUMNS = [...WRITTEN_COLUMNS, ...CLUSTER_COLUMNS] as const;
export type BaseColumn = (typeof BASE_COLUMNS)[number];

/**
 * Columns that run a registry engine elsewhere: the Docker engine on a remote daemon (mutual TLS, the conformance
 * suite's `docker-remote`). A derived column's cell is its base column's (same outcome), proved by what ran on the
 * derived column itself: the base cell's conformance and matrix proofs (run on the derived column's engine), its
 * file proofs under `ownTests` or proving a defence that is the same in every column (before any engine); a
 * row may give the derived column a cell of its own (`cells['remote-node']`). A derived cell left with no proof
 * fails matrix.test.ts like any unproved cell.
 */
const REMOTE_TESTS = [
  'test/engines/docker/remote/',
  // Code the remote column runs unchanged: the egress proxy's dialler (in the proxy container on that daemon)
  // and the host-side cleaning of a guest's error text.
  'test/egress/',
  'test/engines/plugin-error.test.ts',
];

export const DERIVED = {
  'remote-node': { base: 'docker-node', conformance: 'docker-remote', ownTests: REMOTE_TESTS },
  'remote-python': { base: 'docker-python', conformance: 'docker-remote', ownTests: REMOTE_TESTS },
} as const satisfies Record<string, { base: WrittenColumn; conformance: ConformanceId; ownTests: readonly string[] }>;
export type DerivedColumn = keyof typeof DERIVED;

export const COLUMNS = [...BASE_COLUMNS, ...(Object.keys(DERIVED) as DerivedColumn[])] as const;
export type Column = BaseColumn | DerivedColumn;

export function isDerived(column: Column): column is DerivedColumn {
  return column in DERIVED;
}

/** The base column a column's cells follow: itself, or a derived column's base. */
export function baseColumn(column: Column): BaseColumn {
  return isDerived(column) ? DERIVED[column].base : column;
}

/**
 * The registry engine each column runs (src/engines/registry.ts), and for a source engine the runtime of
 * its fixture: one column per component engine, one per runtime of a source engine (matrix.test.ts checks
 * that every engine has its columns, so a new engine cannot join without proving every row).
 */
export const COLUMN_ENGINE: Record<Column, { engine: EngineName; runtime?: Grants['plugin']['runtime']; conformance: ConformanceId }> = {
  worker: { engine: 'wasm', conformance: 'wasm' },
  wasmtime: { engine: 'wasmtime', conformance: 'wasmtime' },
  'docker-node': { engine: 'docker', runtime: 'node', conformance: 'docker' },
  'docker-python': { engine: 'docker', runtime: 'python', conformance: 'docker' },
  'kubernetes-node': { engine: 'kubernetes', runtime: 'node', conformance: 'kubernetes' },
  'kubernetes-python': { engine: 'kubernetes', runtime: 'python', conformance: 'kubernetes' },
  'remote-node': { engine: 'docker', runtime: 'node', conformance: 'docker-remote' },
  'remote-python': { engine: 'docker', runtime: 'python', conformance: 'docker-remote' },
};

export const GROUPS = {
  fs: 'Filesystem escapes',
  env: 'Environment and secret leaks',
  net: 'Network egress',
  res: 'Resource exhaustion',
  host: 'Host interference',
  proto: 'Manifest and protocol abuse',
  data: 'Plugin as data: read, validated and built on the host',
  serve: 'Serving: front ends, quotas, output and secrets',
  trust: 'Trust: digests, lock file, signatures, registries',
  cluster: 'Cluster: plugins as Pods on Kubernetes',
} as const;
export type Group = keyof typeof GROUPS;

export interface Issue {
  title: string;
  impact: string;
  reproduction: string;
  fix: string;
}

export type Outcome =
  | { kind: 'contained'; code: string; note?: string }
  | { kind: 'na'; reason: string }
  | { kind: 'limitation'; reason: string; issue: Issue };

export type Proof = { matrix: true } | { conformance: string } | { file: string; title: string };

export interface Cell {
  outcome: Outcome;
  proofs: Proof[];
}

export interface Row {
  id: string;
  group: Group;
  attack: string;
  cells: Record<Column, Cell>;
}

/**
 * A row as written below: every column of this machine's engines; the Kubernetes cells where the row was run
 * on a cluster (else clusterCells() gives them); a derived column only where it differs from its base (see DERIVED).
 */
interface RowInput extends Omit<Row, 'cells'> {
  cells: Record<WrittenColumn, Cell> & Partial<Record<ClusterColumn | DerivedColumn, Cell>>;
}

const contained = (code: string, note?: string): Outcome => ({ kind: 'contained', code, ...(note === undefined ? {} : { note }) });
const na = (reason: string): Outcome => ({ kind: 'na', reason });
const cell = (outcome: Outcome, ...proofs: Proof[]): Cell => ({ outcome, proofs });
const cell_ = cell;
const matrix: Proof = { matrix: true };
const conf = (name: string): Proof => ({ conformance: name });
const file = (path: string, title: string): Proof => ({ file: path, title });
/** The same outcome and proofs in every column. */
const everywhere = (c: Cell): RowInput['cells'] => ({ worker: c, wasmtime: c, 'docker-node': c, 'docker-python': c });
/** The same cell for every engine that runs the plugin in a container: Docker's and Kubernetes' columns. */
const containers = (c: Cell): Record<'docker-node' | 'docker-python' | ClusterColumn, Cell> => ({
  'docker-node': c,
  'docker-python': c,
  'kubernetes-node': c,
  'kubernetes-python': c,
});
/** Matrix cell tests in every column with one outcome each. */
const cellsOf = (worker: Outcome, wasmtime: Outcome, node: Outcome, python: Outcome, ...proofs: Proof[]): RowInput['cells'] => ({
  worker: cell(worker, ...proofs),
  wasmtime: cell(wasmtime, ...proofs),
  'docker-node': cell(node, ...proofs),
  'docker-python': cell(python, ...proofs),
});

const WASMTIME_NO_NET =
  'refused at load: the CLI links wasi:http with no allowlist, so any network grant is refused and the selector runs the plugin on the worker engine';
const wasmtimeNoNet = cell(
  contained('engine-unavailable', WASMTIME_NO_NET),
  file('test/engines/wasmtime/flags.test.ts', 'any network grant is refused: the CLI has no allowlist'),
  file('test/engines/wasmtime/compile.test.ts', 'the outgoing handler is refused'),
);
const IMAGE_ROOT = "the path lands in the container's own read-only image (its /etc/passwd, its /), never on the host; /tmp is a private tmpfs";
const FOLLOWS_INSIDE = 'links inside the grant are followed and a guest may create one in a writable grant; following one out of the grant still fails';
const FIFO_BLOCKS =
  'a FIFO open blocks until resources.timeout ends the call (timeout; the host is unaffected); the worker engine refuses FIFOs before opening';
const DOCKER_FILES = 'test/engines/docker/hostile.test.ts';
const QUOTA = 'test/capabilities/filesystem/quota.test.ts';
const QUOTA_ENGINES = 'test/capabilities/filesystem/quota-engines.test.ts';
const QUOTA_WASMTIME =
  'refused at load: --dir has no size limit, so a read-write grant is refused unless the host policy lists wasmtime in unboundedWrites; the selector runs the plugin on the worker engine, which enforces the quota';
const K8S_TESTS = 'test/engines/kubernetes/engine.test.ts';
/**
 * A row's Kubernetes cell when its Docker cell is proved only by tests that start no cluster (see fromDocker): the
 * conformance suite runs on the test cluster, but no conformance case covers this attack.
 */
const NOT_ON_CLUSTER = cell(
  {
    kind: 'limitation',
    reason:
      "not run on the Kubernetes engine yet: Docker's cell is proved by the matrix cell tests (test/security/cells/) or by Docker's own tests, which start no cluster; no conformance case (those run on the test cluster) covers this attack",
    issue: {
      title: "Run the matrix cell tests and Docker's hostile-plugin tests on the Kubernetes engine",
      impact:
        'the engine-specific defences of this row are unproven on Pods (the hardening, limits and refusals they rest on are proven in the cluster rows, and the conformance cases in the rows that have them)',
      reproduction: 'no cell test in test/security/cells/ implements a Kubernetes column; test/engines/docker/*.test.ts drive only the Docker engine',
      fix: 'Kubernetes implementations of the cell tests (test/security/engines.ts reaches the cluster through the conformance engine, test/conformance/engines.ts), and the Docker engine tests this row names run on a cluster too',
    },
  },
  file('test/security/matrix.test.ts', 'the Kubernetes columns: the conformance suite runs on the test cluster, no matrix cell test does yet'),
);
/** Where a Docker cell's note (taken by fromDocker) would be wrong for a Pod: the Kubernetes columns' note instead. */
const K8S_NOTES: Record<string, string> = {
  'fs.absolute':
    "the path lands in the Pod's own read-only image (its /etc/passwd, its /), never on this machine or the node; /tmp is the Pod's in-memory emptyDir",
  'net.none':
    "a deny-all NetworkPolicy selects the plugin's Pods (no rule in either direction; kube-router enforces it in the test cluster); 127.0.0.1 is the Pod's own loopback",
  'net.rebind': "the egress proxy Pod, the plugin Pods' only way out, resolves once and checks every address",
  'net.bypass': "the plugin's NetworkPolicy lets its Pods reach only their egress proxy Pod's port: the proxy is their only way out",
};
const NO_CLUSTER = 'no cluster: this engine runs the plugin on this machine';
const QUOTA_DOCKER =
  'refused at load: a bind mount has no size limit, so a read-write grant is refused unless the host policy lists docker in unboundedWrites (the policy owner then accepts unbounded writes)';

const INPUT: RowInput[] = [
  // ---- filesystem ----
  {
    id: 'fs.dotdot',
    group: 'fs',
    attack: '`..` out of a granted folder (read, write, mkdir, rename)',
    cells: {
      worker: cell(contained('errno'), conf('fs-escape: .. and absolute paths cannot leave the grant')),
      wasmtime: cell(contained('errno'), conf('fs-escape: .. and absolute paths cannot leave the grant')),
      'docker-node': cell(contained('errno', IMAGE_ROOT), conf('fs-escape: .. and absolute paths cannot leave the grant')),
      'docker-python': cell(contained('errno', IMAGE_ROOT), conf('fs-escape: .. and absolute paths cannot leave the grant')),
    },
  },
  {
    id: 'fs.absolute',
    group: 'fs',
    attack: 'absolute paths outside every grant (`/etc/passwd`, `/`, `/tmp`)',
    cells: {
      worker: cell(contained('errno'), conf('fs-escape: without a filesystem grant nothing is reachable')),
      wasmtime: cell(contained('errno'), conf('fs-escape: without a filesystem grant nothing is reachable')),
      'docker-node': cell(contained('errno', IMAGE_ROOT), conf('fs-escape: without a filesystem grant nothing is reachable')),
      'docker-python': cell(contained('errno', IMAGE_ROOT), conf('fs-escape: without a filesystem grant nothing is reachable')),
    },
  },
  {
    id: 'fs.symlink-planted',
    group: 'fs',
    attack: 'symlinks in a grant leading out (relative, absolute, a folder swapped for a link)',
    cells: everywhere(cell(contained('errno'), conf('fs-escape: symlinks out of the grant are not followed (relative, absolute, a swapped directory)'))),
  },
  {
    id: 'fs.symlink-created',
    group: 'fs',
    attack: 'a symlink the plugin creates inside a writable grant, then follows',
    cells: {
      worker: cell(
        contained('errno'),
        conf('fs-escape: a symlink the guest creates cannot lead out of the grant'),
        conf('fs-escape: a symlink inside the grant is not followed either'),
      ),
      wasmtime: cell(
        contained('errno', FOLLOWS_INSIDE),
        conf('fs-escape: a symlink the guest creates cannot lead out of the grant'),
        conf('fs-escape: a symlink inside the grant is not followed either'),
      ),
      'docker-node': cell(
        contained('errno', FOLLOWS_INSIDE),
        conf('fs-escape: a symlink the guest creates cannot lead out of the grant'),
        conf('fs-escape: a symlink inside the grant is not followed either'),
      ),
      'docker-python': cell(
        contained('errno', FOLLOWS_INSIDE),
        conf('fs-escape: a symlink the guest creates cannot lead out of the grant'),
        conf('fs-escape: a symlink inside the grant is not followed either'),
      ),
    },
  },
  {
    id: 'fs.hardlink',
    group: 'fs',
    attack: 'hard links: to a file outside the grant, through a planted symlink, out of the grant',
    cells: everywhere(cell(contained('errno'), matrix)),
  },
  {
    id: 'fs.readonly',
    group: 'fs',
    attack: 'writes through a read-only grant (write, truncate, rename, link, set-times, into a writable grant)',
    cells: {
      worker: cell(contained('errno'), conf('fs-escape: a read-only grant refuses every kind of write and the host files stay as they were')),
      wasmtime: cell(
        contained('engine-unavailable', 'refused at load: the CLI cannot preopen a folder read-only (wasmtime#9608), so the plugin runs on the worker engine'),
        conf('fs-escape: a read-only grant refuses every kind of write and the host files stay as they were'),
      ),
      'docker-node': cell(contained('errno'), conf('fs-escape: a read-only grant refuses every kind of write and the host files stay as they were')),
      'docker-python': cell(
        contained('errno'),
        conf('fs-escape: a read-only grant refuses every kind of write and the host files stay as they were'),
        file(DOCKER_FILES, 'writes outside the grants fail: read-only root, own code, read-only grant; /tmp is noexec'),
      ),
    },
  },
  {
    id: 'fs.proc',
    group: 'fs',
    attack: "`/proc`: the process's environment, pid 1, the host's processes",
    cells: cellsOf(
      contained('errno'),
      contained('errno'),
      contained(
        'no host data',
        "the container's own /proc (its pid namespace): its environment holds no host value, pid 1 is its own init, the host's pids do not exist",
      ),
      contained(
        'no host data',
        "the container's own /proc (its pid namespace): its environment holds no host value, pid 1 is its own init, the host's pids do not exist",
      ),
      matrix,
    ),
  },
  {
    id: 'fs.shadow',
    group: 'fs',
    attack: '`/etc/shadow`, directly and through `..`',
    cells: {
      worker: cell(
        contained('errno'),
        conf('fs-escape: without a filesystem grant nothing is reachable'),
        conf('fs-escape: .. and absolute paths cannot leave the grant'),
      ),
      wasmtime: cell(
        contained('errno'),
        conf('fs-escape: without a filesystem grant nothing is reachable'),
        conf('fs-escape: .. and absolute paths cannot leave the grant'),
      ),
      'docker-node': cell(
        contained('errno', "the image's own /etc/shadow, unreadable to the plugin's uid 10001"),
        conf('fs-escape: without a filesystem grant nothing is reachable'),
        conf('fs-escape: .. and absolute paths cannot leave the grant'),
      ),
      'docker-python': cell(
        contained('errno', "the image's own /etc/shadow, unreadable to the plugin's uid 10001"),
        conf('fs-escape: without a filesystem grant nothing is reachable'),
        file(DOCKER_FILES, '/etc/shadow is unreadable; the plugin runs as uid 10001 with no capabilities and cannot setuid'),
      ),
    },
  },
  {
    id: 'fs.fifo',
    group: 'fs',
    attack: 'a FIFO or socket in a writable grant (an open that blocks)',
    cells: {
      worker: cell(contained('errno'), conf('fs-escape: a FIFO or a socket is refused before any blocking open')),
      wasmtime: cell(contained('timeout', FIFO_BLOCKS), conf('fs-escape: a FIFO or a socket is refused before any blocking open')),
      'docker-node': cell(contained('timeout', FIFO_BLOCKS), conf('fs-escape: a FIFO or a socket is refused before any blocking open')),
      'docker-python': cell(contained('timeout', FIFO_BLOCKS), conf('fs-escape: a FIFO or a socket is refused before any blocking open')),
    },
  },
  {
    id: 'fs.swap',
    group: 'fs',
    attack: 'a granted folder swapped for a symlink after it was granted',
    cells: {
      worker: cell(
        contained('permission-denied'),
        file(
          'test/capabilities/filesystem/swap.test.ts',
          'worker engine: a new instance after the swap fails with permission-denied instead of opening the target',
        ),
        file(
          'test/capabilities/filesystem/engines-swap.test.ts',
          'worker engine, per-call instances: an instance made after the swap fails with permission-denied',
        ),
      ),
      wasmtime: cell(
        contained('permission-denied', 'the CLI gets a pinned fd of the folder, so a later swap changes nothing'),
        file(
          'test/capabilities/filesystem/swap.test.ts',
          'wasmtime: --dir names a pinned fd of the granted folder, so a later swap changes nothing, and a new mapping refuses',
        ),
      ),
      'docker-node': cell(
        contained('permission-denied'),
        file(
          'test/capabilities/filesystem/swap.test.ts',
          'Docker: a bind source swapped after mapping makes the container create fail before it reaches the daemon',
        ),
      ),
      'docker-python': cell(
        contained('permission-denied'),
        file(
          'test/capabilities/filesystem/swap.test.ts',
          'Docker: a bind source swapped after mapping makes the container create fail before it reaches the daemon',
        ),
      ),
    },
  },

  // ---- environment and secrets ----
  {
    id: 'env.host',
    group: 'env',
    attack: "the host's environment (a secret set in the host process)",
    cells: {
      worker: cell(
        contained('empty env'),
        conf('env-dump: with nothing granted the guest sees no environment at all'),
        file('test/engines/wasm/worker.test.ts', 'a worker runs with an empty env, no argv of the host, and compiled modules from the host'),
      ),
      wasmtime: cell(contained('empty env'), conf('env-dump: with nothing granted the guest sees no environment at all')),
      'docker-node': cell(
        contained('no host value', "the container has the image's own variables (PATH, HOME, ...); no host value"),
        conf('env-dump: with nothing granted the guest sees no environment at all'),
      ),
      'docker-python': cell(
        contained('no host value', "the container has the image's own variables (PATH, HOME, ...); no host value"),
        conf('env-dump: with nothing granted the guest sees no environment at all'),
      ),
      'kubernetes-node': cell(
        contained('no host value', "the image's own variables and the kubelet's KUBERNETES_SERVICE_*/KUBERNETES_PORT* (the API server address); no host value"),
        conf('env-dump: with nothing granted the guest sees no environment at all'),
        file(K8S_TESTS, 'the plugin sees the granted env only'),
      ),
      'kubernetes-python': cell(
        contained('no host value', "the image's own variables and the kubelet's KUBERNETES_SERVICE_*/KUBERNETES_PORT* (the API server address); no host value"),
        conf('env-dump: with nothing granted the guest sees no environment at all'),
      ),
    },
  },
  {
    id: 'env.granted',
    group: 'env',
    attack: 'variables beyond the granted ones',
    cells: {
      worker: cell(contained('granted only'), conf('env-dump: exactly the granted variables, with their values')),
      wasmtime: cell(contained('granted only'), conf('env-dump: exactly the granted variables, with their values')),
      'docker-node': cell(
        contained('granted only', "the container has the image's own variables (PATH, HOME, ...); no host value"),
        conf('env-dump: exactly the granted variables, with their values'),
      ),
      'docker-python': cell(
        contained('granted only', "the container has the image's own variables (PATH, HOME, ...); no host value"),
        conf('env-dump: exactly the granted variables, with their values'),
      ),
      'kubernetes-node': cell(
        contained('granted only', "the image's own variables and the kubelet's KUBERNETES_SERVICE_*/KUBERNETES_PORT* beside the granted ones"),
        conf('env-dump: exactly the granted variables, with their values'),
        file(K8S_TESTS, 'the plugin sees the granted env only'),
      ),
      'kubernetes-python': cell(
        contained('granted only', "the image's own variables and the kubelet's KUBERNETES_SERVICE_*/KUBERNETES_PORT* beside the granted ones"),
        conf('env-dump: exactly the granted variables, with their values'),
      ),
    },
  },
  {
    id: 'env.other-plugin',
    group: 'env',
    attack: "another plugin's granted secret, loaded on the same engine",
    cells: everywhere(cell(contained('not visible'), matrix)),
  },

  // ---- network ----
  {
    id: 'net.none',
    group: 'net',
    attack: 'any connection with no network grant (TCP, HTTP)',
    cells: {
      worker: cell(contained('denied'), conf('net: with no network granted, TCP and HTTP are refused')),
      wasmtime: cell(
        contained('engine-unavailable', 'refused at load: a component importing wasi:http/outgoing-handler is refused (no allowlist in the CLI)'),
        conf('net: with no network granted, TCP and HTTP are refused'),
      ),
      'docker-node': cell(
        contained('denied', 'no network interface but loopback'),
        conf('net: with no network granted, TCP and HTTP are refused'),
        file(DOCKER_FILES, 'no network grant: no interface but loopback, direct connections fail'),
      ),
      'docker-python': cell(contained('denied', 'no network interface but loopback'), conf('net: with no network granted, TCP and HTTP are refused')),
    },
  },
  {
    id: 'net.name',
    group: 'net',
    attack: 'a host name or port not on the allowlist',
    cells: {
      worker: cell(contained('denied'), conf('net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent')),
      wasmtime: wasmtimeNoNet,
      'docker-node': cell(
        contained('denied (403)'),
        conf('net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent'),
        file('test/engines/docker/network.test.ts', 'only the allowlisted host:port is reachable, through the proxy; refusals are reported'),
      ),
      'docker-python': cell(
        contained('denied (403)'),
        conf('net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent'),
        file('test/engines/docker/network.test.ts', 'a python plugin goes through the proxy with plain HTTP requests (absolute form) too'),
      ),
    },
  },
  {
    id: 'net.ip',
    group: 'net',
    attack: 'an IP address the grant does not name',
    cells: {
      worker: cell(contained('denied'), conf('net: with an HTTP allowlist, other hosts and raw sockets are still refused')),
      wasmtime: wasmtimeNoNet,
      'docker-node': cell(
        contained('denied (403)'),
        conf('net: with an HTTP allowlist, other hosts and raw sockets are still refused'),
        file('test/egress/dial.test.ts', 'IP-literal targets are refused unless the grant names the address'),
      ),
      'docker-python': cell(
        contained('denied (403)'),
        conf('net: with an HTTP allowlist, other hosts and raw sockets are still refused'),
        file('test/egress/dial.test.ts', 'IP-literal targets are refused unless the grant names the address'),
      ),
    },
  },
  {
    id: 'net.rebind',
    group: 'net',
    attack: 'DNS rebinding: an allowlisted name resolving to a loopback, private or metadata address',
    cells: {
      worker: cell(
        contained(
          'denied (destination-IP-prohibited)',
          'fixed here: wasi:http now goes through the egress proxy on loopback (it used to be resolved by preview2-shim, unchecked)',
        ),
        file(
          'test/security/network-route.test.ts',
          'matrix net.rebind × worker: an allowlisted name resolving to a loopback or private address is refused; nothing is sent',
        ),
        file(
          'test/security/network-route.test.ts',
          'worker wasi:http: a name is resolved once by the route and the request goes to that address with its own Host',
        ),
      ),
      wasmtime: wasmtimeNoNet,
      'docker-node': cell(
        contained('denied (403 private-address)', "the egress proxy, the container's only way out, resolves once and checks every address"),
        file('test/egress/dial.test.ts', 'a name that resolves to a private, loopback or metadata address is refused even though it is allowlisted'),
        file('test/egress/dial.test.ts', 'each request resolves its name exactly once and connects to that answer (no rebinding)'),
        file('test/engines/docker/network.test.ts', 'only the allowlisted host:port is reachable, through the proxy; refusals are reported'),
      ),
      'docker-python': cell(
        contained('denied (403 private-address)', "the egress proxy, the container's only way out, resolves once and checks every address"),
        file('test/egress/dial.test.ts', 'a name that resolves to a private, loopback or metadata address is refused even though it is allowlisted'),
        file('test/egress/dial.test.ts', 'each request resolves its name exactly once and connects to that answer (no rebinding)'),
        file('test/engines/docker/network.test.ts', 'a python plugin goes through the proxy with plain HTTP requests (absolute form) too'),
      ),
    },
  },
  {
    id: 'net.bypass',
    group: 'net',
    attack: 'proxy bypass: a raw socket to an allowed host, or using the route without its token',
    cells: {
      worker: cell(
        contained('denied', 'wasi:sockets is always denied; the loopback route serves only requests carrying its per-plugin token'),
        conf('net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent'),
        file('test/capabilities/network/route.test.ts', 'the route serves only requests carrying its token; CONNECT is refused'),
      ),
      wasmtime: wasmtimeNoNet,
      'docker-node': cell(
        contained('denied', "the plugin's network is internal: the proxy is its only way out"),
        conf('net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent'),
        file('test/engines/docker/network.test.ts', 'only the allowlisted host:port is reachable, through the proxy; refusals are reported'),
      ),
      'docker-python': cell(
        contained('denied', "the plugin's network is internal: the proxy is its only way out"),
        conf('net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent'),
      ),
    },
  },

  {
    id: 'net.dns',
    group: 'net',
    attack: 'DNS as a way out: query names carrying data to a name server',
    cells: {
      worker: cell(
        contained('denied', 'wasi:sockets name lookup is always denied; wasi:http names are resolved by the egress route'),
        file('test/capabilities/network/wasi.test.ts', 'wasi:sockets is denied even when HTTP is granted'),
      ),
      wasmtime: cell(
        contained('denied', 'name lookup is off (-S allow-ip-name-lookup=n), and any network grant is refused at load'),
        file('test/engines/wasmtime/flags.test.ts', 'nothing granted: network, env and stdin off explicitly, limits from resources'),
        file('test/engines/wasmtime/flags.test.ts', 'any network grant is refused: the CLI has no allowlist'),
      ),
      'docker-node': cell(
        contained(
          'nowhere',
          "fixed here: Docker's embedded resolver forwarded unknown names to the host's resolvers (CVE-2024-29018 where that is on loopback); its only upstream is now the container's own loopback",
        ),
        matrix,
      ),
      'docker-python': cell(
        contained(
          'nowhere',
          "fixed here: Docker's embedded resolver forwarded unknown names to the host's resolvers (CVE-2024-29018 where that is on loopback); its only upstream is now the container's own loopback",
        ),
        matrix,
      ),
    },
  },

  {
    id: 'net.loopback',
    group: 'net',
    attack: "the host's loopback beyond a loopback grant (`127.0.0.1:port`): another port, another loopback address, `localhost` unnamed",
    cells: {
      worker: cell(
        contained('denied (403)', "the egress route runs on the host, so `127.0.0.1:port` is the host's loopback, that port only"),
        file(
          'test/capabilities/network/loopback.test.ts',
          "worker route: a grant of 127.0.0.1:port reaches the host's loopback server; another loopback port and a bare localhost grant are refused",
        ),
      ),
      wasmtime: wasmtimeNoNet,
      'docker-node': cell(
        contained(
          'denied (403)',
          "fixed here: the grant meant the proxy container's own loopback; the proxy now dials the host's through a relay in Airlock's process that serves only the granted loopback ports (refused at load with a remote daemon)",
        ),
        file('test/engines/docker/loopback.test.ts', "a node plugin granted 127.0.0.1:port reaches the host's loopback server; another port is refused"),
        file('test/engines/docker/loopback.test.ts', 'the relay connects to a granted loopback port and refuses every other target itself'),
      ),
      'docker-python': cell(
        contained(
          'denied (403)',
          "fixed here: the grant meant the proxy container's own loopback; the proxy now dials the host's through a relay in Airlock's process that serves only the granted loopback ports (refused at load with a remote daemon)",
        ),
        file('test/engines/docker/loopback.test.ts', "a python plugin granted 127.0.0.1:port reaches the host's loopback server; another port is refused"),
        file('test/engines/docker/loopback.test.ts', "without a loopback grant a Docker plugin does not reach the host's loopback"),
      ),
    },
  },

  // ---- resource exhaustion ----
  {
    id: 'res.cpu',
    group: 'res',
    attack: 'CPU: an endless loop',
    cells: {
      ...everywhere(
        cell(
          contained('timeout'),
          conf('loop: an infinite loop is stopped at resources.timeout, twice'),
          conf('loop: a per-call timeout below the grant stops the call; an abort stops it too'),
        ),
      ),
      'kubernetes-node': cell(
        contained('timeout', 'the Pod is deleted and a fresh one serves the next call'),
        file(K8S_TESTS, 'a timed-out call and an aborted call each delete their Pod'),
      ),
    },
  },
  {
    id: 'res.memory',
    group: 'res',
    attack: 'memory bomb',
    cells: {
      worker: cell(contained('memory-limit'), conf('membomb: growing past resources.memory is memory-limit')),
      wasmtime: cell(contained('memory-limit'), conf('membomb: growing past resources.memory is memory-limit')),
      'docker-node': cell(
        contained('memory-limit'),
        conf('membomb: growing past resources.memory is memory-limit'),
        file(DOCKER_FILES, 'memory bomb: the kernel kills it at the memory limit, reported as memory-limit'),
      ),
      'docker-python': cell(
        contained('memory-limit'),
        conf('membomb: growing past resources.memory is memory-limit'),
        file(DOCKER_FILES, 'memory bomb in python: memory-limit as well'),
      ),
      'kubernetes-node': cell(
        contained('memory-limit', 'the kubelet reports OOMKilled; a fresh Pod follows'),
        file(K8S_TESTS, 'a plugin past its memory limit is memory-limit'),
      ),
    },
  },
  {
    id: 'res.fork',
    group: 'res',
    attack: 'fork bomb',
    cells: {
      worker: cell(
        na('WASI 0.2 has no process creation; a component importing anything beyond the WASI and airlock imports fails to instantiate'),
        file('test/engines/wasm/transpile.test.ts', 'a missing import fails closed at instantiation'),
      ),
      wasmtime: cell(
        na('WASI 0.2 has no process creation; an import beyond WASI is named and refused before the CLI runs'),
        file('test/engines/wasmtime/compile.test.ts', 'WASI 0.2 imports link; anything else is named'),
      ),
      'docker-node': cell(contained('EAGAIN (pids limit)'), matrix),
      'docker-python': cell(
        contained('timeout (pids limit)'),
        file(DOCKER_FILES, 'fork bomb: the pids limit holds it, the timeout ends the call, a fresh container follows'),
      ),
    },
  },
  {
    id: 'res.output',
    group: 'res',
    attack: 'output flood: a result over resources.output (up to 4 MB)',
    cells: everywhere(cell(contained('output-limit'), conf('bigout: a result over resources.output is output-limit; one just under passes'))),
  },
  {
    id: 'res.logs',
    group: 'res',
    attack: 'log flood: 1 MB on stdout and on stderr',
    cells: everywhere(cell(contained('truncated'), conf('bigout: giant stdout and stderr are cut at resources.logs and marked truncated'))),
  },
  {
    id: 'res.input',
    group: 'res',
    attack: 'huge input: 100 MiB of JSON to one call',
    cells: cellsOf(
      contained('invalid-input', 'larger than the call channel (64 MiB) allows'),
      contained('invalid-input', 'inputs over 128 KiB do not fit one --invoke argument (a documented wasmtime limitation)'),
      contained('memory-limit', 'the container dies at its memory limit reading it; a fresh one serves the next call'),
      contained('memory-limit', 'the container dies at its memory limit reading it; a fresh one serves the next call'),
      matrix,
    ),
  },
  {
    id: 'res.random',
    group: 'res',
    attack: '1 GiB of random bytes in one request',
    cells: {
      worker: cell(contained('trap'), conf('random-bomb: asking for 1 GiB of random bytes traps without the host allocating it')),
      wasmtime: cell(contained('trap'), conf('random-bomb: asking for 1 GiB of random bytes traps without the host allocating it')),
      'docker-node': cell(
        contained('memory-limit', 'the bytes are made inside the container, which meets its memory limit'),
        conf('random-bomb: asking for 1 GiB of random bytes traps without the host allocating it'),
      ),
      'docker-python': cell(
        contained('memory-limit', 'the bytes are made inside the container, which meets its memory limit'),
        conf('random-bomb: asking for 1 GiB of random bytes traps without the host allocating it'),
      ),
    },
  },

  // ---- host interference ----
  {
    id: 'host.kill',
    group: 'host',
    attack: "killing the host's workers or processes (exit, abort, kill)",
    cells: {
      worker: cell(
        contained('trap', 'a guest has no process API: exit and abort trap its own instance, and a fresh one serves the next call'),
        file('test/capabilities/env/wasi.test.ts', 'exit traps the instance instead of ending the worker thread'),
        conf('trap: a trap is trap, and the next call gets a fresh instance that traps again'),
        file('test/engines/wasm/worker.test.ts', 'a worker that dies mid-call gives crash, and a fresh worker takes its place'),
      ),
      wasmtime: cell(
        contained('trap', 'no process API; a trap ends only its own per-call process'),
        conf('trap: a trap is trap, and the next call gets a fresh instance that traps again'),
      ),
      'docker-node': cell(
        contained(
          'ESRCH / crash',
          "the host's pids are not in the container's pid namespace (ESRCH); killing its own init or host ends only that container (crash), and a fresh one follows",
        ),
        matrix,
      ),
      'docker-python': cell(
        contained(
          'ESRCH / crash',
          "the host's pids are not in the container's pid namespace (ESRCH); killing its own init or host ends only that container (crash), and a fresh one follows",
        ),
        matrix,
      ),
      'kubernetes-python': cell(
        contained('crash', 'the plugin process ends only its own Pod (crash), and a fresh Pod serves the next call'),
        file(K8S_TESTS, 'a Pod whose process dies mid-call is a crash'),
      ),
    },
  },
  {
    id: 'host.stdout',
    group: 'host',
    attack: "writing to the host's stdout: fake results and forged protocol lines",
    cells: {
      worker: cell(
        contained('captured'),
        file('test/engines/wasm/index.test.ts', "stdout and stderr are captured into the call's logs, not the host's stdio"),
        conf("state: stdout and stderr are the call's logs, apart from the result"),
      ),
      wasmtime: cell(
        contained('captured'),
        file('test/engines/wasmtime/wave.test.ts', 'the printed result is found after guest stdout, even when the guest prints result-like text'),
        file('test/engines/wasmtime/outcome.test.ts', 'a guest printing a fake timeout diagnostic on stderr does not change the class'),
      ),
      'docker-node': cell(
        contained('plugin-error', "a forged host line is the plugin's own error, never the host's"),
        file(DOCKER_FILES, ": host errors forged on the protocol stream are the plugin's errors; the container is kept"),
        file(DOCKER_FILES, 'output flood: prints are cut at the log limit, an oversized result is output-limit'),
      ),
      'docker-python': cell(
        contained('plugin-error', "a forged host line is the plugin's own error, never the host's"),
        file(DOCKER_FILES, ": host errors forged on the protocol stream are the plugin's errors; the container is kept"),
        file(DOCKER_FILES, 'MemoryError raised by a python plugin is its own error, not memory-limit; the next call is served'),
      ),
    },
  },
  {
    id: 'host.other-files',
    group: 'host',
    attack: "reading another plugin's granted files, by their host path",
    cells: everywhere(cell(contained('errno'), matrix)),
  },

  // ---- manifest and protocol ----
  {
    id: 'proto.malformed',
    group: 'proto',
    attack: 'malformed frames on the engine protocol',
    cells: {
      worker: cell(
        na("the guest writes no frames: the worker's channel is written by Airlock's own code; a guest only returns a string, which is data"),
        conf('echo: echo returns its input byte for byte'),
      ),
      wasmtime: cell(
        contained('crash', "the result is parsed from the CLI's output after the guest's own; output without a well-formed result is crash"),
        file('test/engines/wasmtime/wave.test.ts', 'malformed results do not parse'),
        file('test/engines/wasmtime/wave.test.ts', 'whatever the guest printed first, the split returns the real result (property)'),
        file('test/engines/wasmtime/outcome.test.ts', 'abort, signals, exits without a result and unknown failures'),
      ),
      'docker-node': cell(
        contained('plugin-error'),
        file('test/engines/docker/protocol.test.ts', 'anything else is refused'),
        file(DOCKER_FILES, ": host errors forged on the protocol stream are the plugin's errors; the container is kept"),
      ),
      'docker-python': cell(
        contained('plugin-error'),
        file('test/engines/docker/protocol.test.ts', 'anything else is refused'),
        file(DOCKER_FILES, ": host errors forged on the protocol stream are the plugin's errors; the container is kept"),
      ),
    },
  },
  {
    id: 'proto.oversized',
    group: 'proto',
    attack: 'oversized frames (a result or protocol line of megabytes)',
    cells: {
      worker: cell(
        contained('output-limit'),
        conf('bigout: a result over resources.output is output-limit; one just under passes'),
        file('test/engines/wasm/index.test.ts', 'output over resources.output is output-limit'),
      ),
      wasmtime: cell(
        contained('output-limit'),
        file('test/engines/wasmtime/outcome.test.ts', 'a result over resources.output is output-limit'),
        conf('bigout: a result over resources.output is output-limit; one just under passes'),
      ),
      'docker-node': cell(contained('output-limit'), file(DOCKER_FILES, 'a protocol line past the engine bound is output-limit and the container is replaced')),
      'docker-python': cell(contained('output-limit'), matrix),
    },
  },
  {
    id: 'proto.ids',
    group: 'proto',
    attack: 'ids that collide: a reply forged for the call in flight',
    cells: {
      worker: cell(
        na("no ids cross from the guest: one call at a time per worker, sequenced by Airlock's code; the guest only returns"),
        file('test/engines/wasm/index.test.ts', 'calls past concurrency + queue are overloaded; aborting a running call kills its worker'),
      ),
      wasmtime: cell(na('one process per call: there is no id to collide with')),
      'docker-node': cell(
        contained('plugin-error'),
        file(DOCKER_FILES, ": host errors forged on the protocol stream are the plugin's errors; the container is kept"),
      ),
      'docker-python': cell(
        contained('plugin-error'),
        file(DOCKER_FILES, ": host errors forged on the protocol stream are the plugin's errors; the container is kept"),
      ),
    },
  },
  {
    id: 'proto.unicode',
    group: 'proto',
    attack: 'unicode tricks in names: look-alike, zero-width, bidi and full-width characters in plugin, tool and host names',
    cells: everywhere(
      cell(
        contained('invalid-manifest / denied', 'checked before any engine: the manifest refuses such names; an allowlist compares punycode forms'),
        file('test/security/manifest.test.ts', 'matrix proto.unicode: look-alike, invisible and bidi characters in names are refused before any engine'),
      ),
    ),
  },

  // ---- data: build sandbox (componentize-js, componentize-py, clang, core modules) ----
  {
    id: 'data.build-escape',
    group: 'data',
    attack:
      "build-time code escape: a plugin's top-level code run by componentize-py/-js while building, or a C source's #include/.incbin, writes a .pth into the host's site-packages, writes $HOME or Node's folder, reads a host file, execs, reaches the network",
    cells: {
      worker: cell(
        contained(
          'not visible',
          'every build step (clang, componentize-js, componentize-py, the core-module wrap and export check) runs under bubblewrap: toolchain read-only, plugin read-only, one output folder, no network, no env, no capabilities',
        ),
        file('test/build/escape.test.ts', "a Python plugin's build-time code cannot plant a .pth"),
        file('test/build/escape.test.ts', "a JS plugin's build-time code cannot import a host file"),
        file('test/build/escape.test.ts', 'a C source cannot .incbin a host file'),
        file('test/build/escape.test.ts', 'a component or core module entry is parsed in the sandboxed child'),
        file('test/build/sandbox.test.ts', 'native code in the sandbox cannot write site-packages'),
      ),
      wasmtime: cell(
        contained('not visible', 'the same build as the worker column: the wasmtime engine runs the component built in the sandbox'),
        file('test/build/escape.test.ts', "a Python plugin's build-time code cannot plant a .pth"),
        file('test/build/escape.test.ts', "a JS plugin's build-time code cannot import a host file"),
        file('test/build/escape.test.ts', 'a C source cannot .incbin a host file'),
        file('test/build/sandbox.test.ts', 'native code in the sandbox cannot write site-packages'),
      ),
      'docker-node': cell(
        contained('not run', 'the image build runs no plugin code: npm install --ignore-scripts, in Docker'),
        file('test/engines/docker/build.test.ts', 'package.json scripts (preinstall, install, postinstall, prepare) do not run during the build'),
      ),
      'docker-python': cell(
        contained('not run', 'the image build runs no plugin code: pip install --only-binary=:all:, in Docker'),
        file('test/engines/docker/build.test.ts', "the project's setup.py never runs"),
      ),
    },
  },
  {
    id: 'data.build-exhaustion',
    group: 'data',
    attack: 'build resource exhaustion: a source that makes the toolchain eat memory (.incbin "/dev/zero"), CPU, processes, disk or output, or never finish',
    cells: {
      worker: cell(
        contained(
          'build-failed',
          'rlimits (data, CPU, file size), pids and memory cgroups (as root), a bounded /tmp, a wall-clock kill of the whole sandbox, bounded stdout/stderr; the error names the limit and its variable',
        ),
        file('test/build/escape.test.ts', 'a C source that .incbins /dev/zero fails build-failed naming the memory limit'),
        file('test/build/sandbox.test.ts', 'a fork bomb stops at the process limit'),
        file('test/build/sandbox.test.ts', 'processes that each stay under the memory limit but together exceed it'),
        file('test/build/sandbox.test.ts', 'a step that spins stops at its CPU-time limit'),
        file('test/build/sandbox.test.ts', 'a step past its wall time is killed whole'),
        file('test/build/sandbox.test.ts', 'a step cannot write a file past the file-size limit'),
        file('test/build/sandbox.test.ts', "a step's stdout and stderr are kept only up to the output bound"),
      ),
      wasmtime: cell(
        contained('build-failed', 'the same build as the worker column'),
        file('test/build/escape.test.ts', 'a C source that .incbins /dev/zero fails build-failed naming the memory limit'),
        file('test/build/sandbox.test.ts', 'a step past its wall time is killed whole'),
      ),
      'docker-node': cell(
        contained('build-failed', 'each RUN step has bounded memory and CPU, the whole image build a timeout'),
        file('test/engines/docker/build.test.ts', 'a build past its timeout is cancelled and fails with build-failed'),
      ),
      'docker-python': cell(
        contained('build-failed', 'each RUN step has bounded memory and CPU, the whole image build a timeout'),
        file('test/engines/docker/build.test.ts', 'a build past its timeout is cancelled and fails with build-failed'),
      ),
    },
  },

  // ---- data: plugin folder files (bounded reader, manifest caps, ignore files) ----
  {
    id: 'data.filetypes',
    group: 'data',
    attack:
      'hostile file types in the plugin folder: plugin.yaml, entry, wasm, ignore or dependency file (or any file a build or hash reads) as a FIFO, socket, device, symlink loop or symlink out of the folder (/dev/zero, /etc)',
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest / build-failed',
          'checked on the host before any engine: refused unopened by src/plugin-files (lstat, then O_NOFOLLOW|O_NONBLOCK open and fstat); no thread-pool slot is held',
        ),
        file('test/manifest/files.test.ts', 'is an invalid-manifest problem, refused without reading it'),
        file('test/manifest/files.test.ts', 'a FIFO plugin.yaml does not park the thread pool'),
        file(
          'test/plugin-files/read.test.ts',
          'FIFOs do not park the thread pool: while many are read, an unrelated readFile and another plugin validate complete',
        ),
        file('test/plugin-files/ignore.test.ts', 'not skipped and never blocking'),
        file('test/engines/docker/context.test.ts', 'a dependency file that is a FIFO, device or symlink out fails the context with build-failed'),
        file('test/build/inputs.test.ts', 'fails the build with build-failed naming it'),
        file('test/content-hash.test.ts', 'a FIFO, socket, device, symlink loop or symlink out in the folder fails the hash with build-failed'),
        file('test/selector/component.test.ts', 'a component that is a FIFO, a device, a link out of the plugin folder or over the size cap is invalid'),
      ),
    ),
  },
  {
    id: 'data.oversize',
    group: 'data',
    attack:
      'oversized files and folders: a huge plugin.yaml or ignore file, a file above its cap, a folder with too many files, too many bytes or nested too deep',
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest / build-failed',
          'checked on the host before any engine: sizes come from fstat/lstat before any byte is read; the walker stops at the first entry past a cap',
        ),
        file('test/plugin-files/read.test.ts', 'a file above the cap is refused before it is read'),
        file('test/manifest/caps.test.ts', '11,000 tools: refused by the manifest byte cap before YAML is parsed'),
        file('test/plugin-files/walk.test.ts', 'a folder with too many entries is refused'),
        file('test/plugin-files/walk.test.ts', 'a folder nested deeper than the cap is refused'),
        file('test/plugin-files/walk.test.ts', 'files adding up past the byte cap are refused before any is read'),
        file('test/engines/docker/context.test.ts', 'a context over the file cap fails with build-failed'),
      ),
    ),
  },
  {
    id: 'data.amplification',
    group: 'data',
    attack:
      'manifest amplification: thousands of tools, tool schemas nested deep or megabytes long (or shared by YAML aliases), huge descriptions, long permission lists',
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest',
          "checked by the manifest schema before any engine; the tool count is checked before any schema is compiled, a schema's depth and size before it is",
        ),
        file('test/manifest/caps.test.ts', 'more tools than the cap: one problem at `tools`, and no tool schema is compiled'),
        file('test/manifest/caps.test.ts', 'a tool schema nested past the depth cap or past the size cap is a problem at its field, not compiled'),
        file('test/manifest/caps.test.ts', 'descriptions, lists and text fields past their caps are problems at their field'),
        file('test/manifest/caps.test.ts', 'a manifest at every cap at once validates'),
        file('test/manifest/caps.test.ts', 'tools sharing one schema through YAML aliases: compiled once'),
      ),
    ),
  },
  {
    id: 'data.ignoreglobs',
    group: 'data',
    attack: 'ignore-file patterns built to backtrack (`**/a*a*a*…b`), or thousands of them',
    cells: everywhere(
      cell(
        contained('build-failed', 'matched without regular expressions (a linear glob matcher); pattern count and length are capped'),
        file('test/plugin-files/glob.test.ts', 'patterns that make a backtracking regex take exponential time answer at once here'),
        file('test/plugin-files/ignore.test.ts', 'too many patterns, or one too long, is a build-failed error naming the file'),
      ),
    ),
  },

  // ---- data: regular expressions and schemas (manifest patterns, tool schemas, outputs) ----
  {
    id: 'data.redos-manifest',
    group: 'data',
    attack:
      "ReDoS in the manifest's own fields: a 30-character mount (20 s on the old pattern, doubling per character), 10^5-character names, versions, hosts, sizes, env names; 10^5 unknown keys",
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest',
          'checked before any engine: every pattern over plugin text is linear (no nested quantifiers, length first), the rest are loops',
        ),
        file('test/manifest/linear-regexp.test.ts', 'a 10^5-character mount that almost matches is refused without backtracking (the MOUNT pattern)'),
        file('test/manifest/linear-regexp.test.ts', "the manifest's other patterns finish on 10^5-character hostile values"),
        file('test/manifest/linear-regexp.test.ts', 'a manifest with 10^5 unknown keys and a repeated one is checked in linear time'),
        file('test/security/hostile-data.test.ts', 'matrix data.redos: hostile manifest patterns, schema patterns and a validation bomb end with their codes'),
      ),
    ),
  },
  {
    id: 'data.redos-input-schema',
    group: 'data',
    attack: "ReDoS `pattern` / `patternProperties` in a tool's input schema, matched against a 10^5-character input",
    cells: everywhere(
      cell(
        contained('invalid-input', 'checked before any engine, on RE2 (linear time); backreferences and lookaround are invalid-manifest at validate'),
        file('test/host/validation.test.ts', 'ReDoS pattern in an input schema: small inputs are checked inline on RE2, large ones off the loop; both refuse'),
        file(
          'test/manifest/linear-regexp.test.ts',
          'a schema pattern RE2 cannot run (backreference, lookaround) is a manifest problem naming the tool and the field',
        ),
        file('test/security/hostile-data.test.ts', 'matrix data.redos: hostile manifest patterns, schema patterns and a validation bomb end with their codes'),
      ),
    ),
  },
  {
    id: 'data.redos-output-schema',
    group: 'data',
    attack: "ReDoS `pattern` in a tool's output schema, with the plugin returning the text that triggers it",
    cells: everywhere(
      cell(
        contained('invalid-output', 'checked on the host after any engine, on RE2; a large result on the validator thread'),
        file('test/host/validation.test.ts', 'ReDoS pattern in an output schema: a large result is refused with invalid-output, the loop turning meanwhile'),
        file('test/security/hostile-data.test.ts', 'matrix data.redos: hostile manifest patterns, schema patterns and a validation bomb end with their codes'),
      ),
    ),
  },
  {
    id: 'data.validation-bomb',
    group: 'data',
    attack: 'output validation bomb: a result whose schema check is quadratic (`uniqueItems` over 60 000 objects), or nested 10^5 deep',
    cells: everywhere(
      cell(
        contained(
          'timeout / invalid-output',
          "large results are checked on a validator thread (256 MiB heap) within the call's remaining timeout; nesting past 512 levels is refused before parsing",
        ),
        file(
          'test/host/validation.test.ts',
          'output validation bomb: a quadratic uniqueItems over a large result ends in timeout while the event loop keeps turning',
        ),
        file('test/host/validation.test.ts', 'a result nested deeper than the limit is found by one pass, strings and escapes skipped'),
        file('test/security/hostile-data.test.ts', 'matrix data.redos: hostile manifest patterns, schema patterns and a validation bomb end with their codes'),
      ),
    ),
  },

  // ---- serve: authenticated HTTP serving ----
  {
    id: 'serve.http-no-token',
    group: 'serve',
    attack:
      'an unauthenticated MCP call over HTTP: any local user, or anyone who reaches an exposed address, opens a session and calls a tool with the server grants',
    cells: everywhere(
      cell(
        contained('401', 'a bearer token is required on every request, before any session lookup or body parse; --no-auth only on loopback'),
        file('test/mcp/auth.test.ts', 'a tool call with no token, a wrong token or a token of another length is refused 401; the right token calls the tool'),
        file('test/cli/serve.test.ts', 'serve --http binds loopback, needs the token it prints'),
        file('test/cli/serve.test.ts', 'serve --http 0.0.0.0 warns loudly and the URL it prints answers with the token (and only with it)'),
        file('test/cli/serve.test.ts', 'serve --no-auth serves loopback without a token, and is refused with a non-loopback host'),
      ),
    ),
  },
  {
    id: 'serve.http-wrong-token',
    group: 'serve',
    attack: 'a wrong bearer token (same length, another length, another scheme), or a session id used without the token',
    cells: everywhere(
      cell(
        contained('401', 'constant-time comparison of SHA-256 digests; the same answer as no token'),
        file('test/mcp/auth.test.ts', 'a missing and a wrong token get the same 401 answer'),
        file('test/mcp/auth.test.ts', 'a session id without the token is refused 401 before the session or the body is looked at'),
        file('test/mcp/auth.test.ts', 'bearerCheck accepts exactly the token'),
      ),
    ),
  },
  {
    id: 'serve.http-other-user',
    group: 'serve',
    attack: 'another local user reads the generated token (its file or folder) or calls the HTTP server without it',
    cells: everywhere(
      cell(
        contained('EACCES / 401', 'the token file is 0600 in a 0700 folder, never written through a planted link; never on the command line'),
        file('test/cli/serve.test.ts', 'another local user (nobody) cannot read the token file and gets 401'),
        file('test/mcp/token-file.test.ts', 'written mode 0600 in a folder of mode 0700'),
        file('test/mcp/token-file.test.ts', 'a link planted at the file path is replaced, not written through'),
      ),
    ),
  },

  // ---- serve: disk quotas on writable grants ----
  {
    id: 'serve.disk-bytes',
    group: 'serve',
    attack: 'disk exhaustion: writing past resources.disk through a read-write grant (one big file, many small appends, concurrent instances)',
    cells: {
      worker: cell(
        contained(
          'errno',
          'ENOSPC inside the plugin once resources.disk is reached (what fits is written); the grants count as one volume, existing files included, shared by every instance',
        ),
        file(QUOTA, 'one big file: the write past resources.disk fails with ENOSPC'),
        file(QUOTA, 'many small appends stop at the quota with ENOSPC'),
        file(QUOTA, 'concurrent instances share one quota'),
        file(QUOTA, 'deleting frees quota'),
      ),
      wasmtime: cell(
        contained('engine-unavailable', QUOTA_WASMTIME),
        file(QUOTA_ENGINES, 'wasmtime refuses a read-write grant; the selector runs the plugin on the worker engine'),
      ),
      'docker-node': cell(contained('permission-denied', QUOTA_DOCKER), file(QUOTA_ENGINES, 'Docker refuses a read-write grant with permission-denied')),
      'docker-python': cell(contained('permission-denied', QUOTA_DOCKER), file(QUOTA_ENGINES, 'Docker refuses a read-write grant with permission-denied')),
    },
  },
  {
    id: 'serve.disk-files',
    group: 'serve',
    attack: 'file-count exhaustion: creating files and folders past resources.files through a read-write grant',
    cells: {
      worker: cell(
        contained('errno', 'EDQUOT inside the plugin once resources.files entries exist (files, folders, links; existing ones included)'),
        file(QUOTA, 'creating files past resources.files fails with EDQUOT'),
        file(QUOTA, 'the counters follow rename, link, unlink, truncate, set-size and pwrite exactly'),
      ),
      wasmtime: cell(
        contained('engine-unavailable', QUOTA_WASMTIME),
        file(QUOTA_ENGINES, 'wasmtime refuses a read-write grant; the selector runs the plugin on the worker engine'),
      ),
      'docker-node': cell(contained('permission-denied', QUOTA_DOCKER), file(QUOTA_ENGINES, 'Docker refuses a read-write grant with permission-denied')),
      'docker-python': cell(contained('permission-denied', QUOTA_DOCKER), file(QUOTA_ENGINES, 'Docker refuses a read-write grant with permission-denied')),
    },
  },

  // ---- serve: output, secrets, env names, protected paths, cache root ----
  {
    id: 'serve.terminal-escapes',
    group: 'serve',
    attack:
      'terminal escapes in output: OSC 52 clipboard writes, OSC 8 links, screen clears, U+009B and U+202E in results, logs, error messages and tool descriptions, printed to a file or CI log',
    cells: everywhere(
      cell(
        contained(
          'escaped',
          'after any engine: every byte the CLI prints passes one function that writes controls and bidi/invisible characters as \\uXXXX, TTY or not; --json stays valid and round-trips',
        ),
        file('test/cli/output-safety.test.ts', 'terminal escapes: call prints the result, logs and error message of a plugin escaped into a file'),
        file('test/cli/output-safety.test.ts', 'terminal escapes: list and inspect show a tool description escaped'),
        file('test/cli/output-safety.test.ts', 'terminal escapes: validate echoes hostile manifest values escaped'),
      ),
    ),
  },
  {
    id: 'serve.secret-values',
    group: 'serve',
    attack: 'secret values in diagnostics: granted env values printed by inspect --json, errors or logs',
    cells: everywhere(
      cell(
        contained('names only', 'before any engine: inspect names each granted variable and whether it is set; refusals name the variable'),
        file('test/cli/secrets.test.ts', 'secret values: inspect and inspect --json name granted env variables and whether set, never the value'),
        file('test/cli/secrets.test.ts', 'secret values: a refused env grant names the variable, not its value'),
      ),
    ),
  },
  {
    id: 'serve.env-proto-names',
    group: 'serve',
    attack:
      'prototype names in env grants: toString, constructor, __proto__, hasOwnProperty as env names (a function as the value, an internal error, a silently dropped grant)',
    cells: everywhere(
      cell(
        contained(
          'ordinary names',
          'own-property lookups and null-prototype maps in the grants and in each engine mapping: granted when set and allowed, absent when unset, refused otherwise',
        ),
        file('test/grants/env-names.test.ts', 'granted with the host value when set, absent when unset'),
        file('test/grants/env-names.test.ts', 'refused with the usual message when the policy does not allow them'),
        file('test/grants/env-names.test.ts', 'reach every engine mapping unchanged'),
      ),
    ),
  },
  {
    id: 'serve.host-control-paths',
    group: 'serve',
    attack:
      'host-control paths as grants: container runtime sockets and data roots (Docker, containerd, CRI-O, Podman, kubelet), /proc, /sys, /dev, the host root, or a folder containing one (/var)',
    cells: everywhere(
      cell(
        contained('permission-denied', 'before any engine, whatever the policy: the path, a folder inside it or one containing it is refused with what it is'),
        file('test/grants/host-control.test.ts', 'the path, a folder inside it and a folder containing it are each refused with the reason'),
        file('test/grants/host-control.test.ts', 'host-control paths: computeGrants refuses the ones that exist here'),
        file('test/grants/host-control.test.ts', 'host-control paths: rootless sockets under $XDG_RUNTIME_DIR and storage under $HOME are refused'),
      ),
    ),
  },
  {
    id: 'serve.cache-root',
    group: 'serve',
    attack:
      'cache root mode/owner: another local user plants code in a group/other-writable cache root, or one they own (the seal detects corruption, not who wrote an entry)',
    cells: everywhere(
      cell(
        contained(
          'permission-denied',
          "before any engine: such a root is refused naming its path, mode or owner and the fix; a new root is 0700; a 0755 one of the user's own is repaired to 0700",
        ),
        file('test/paths.test.ts', 'cache root mode/owner: a root group or others may write to'),
        file('test/paths.test.ts', 'cache root mode/owner: a root owned by another user is refused'),
      ),
    ),
  },
  // ---- trust: digests, lock file, signatures, registries (issue 17) ----
  {
    id: 'trust.tampered-file',
    group: 'trust',
    attack: 'a plugin file changed after it was reviewed (locked) or signed: one byte of its code, a file added',
    cells: everywhere(
      cell(
        contained(
          'lock-mismatch',
          'before any build, at load: the digest (manifest and files) differs from the lock, naming the plugin, both digests and `airlock lock`; under a trust policy the signature no longer verifies (signature-invalid)',
        ),
        file('test/trust/lock.test.ts', 'a tampered file is refused with lock-mismatch naming the plugin, both digests and the fix, before any engine opens'),
        file('test/trust/sign.test.ts', 'a file changed after signing: verify and load refuse it with signature-invalid, before any build'),
      ),
    ),
  },
  {
    id: 'trust.cache-swap',
    group: 'trust',
    attack: "a swapped artefact in the cache: another plugin's valid component in place of a plugin's built one",
    cells: {
      worker: cell(
        contained(
          'rebuilt',
          "the seal names each cached file's sha256: the entry is discarded and rebuilt before an engine runs it; the swapped bytes never run",
        ),
        file('test/trust/cache.test.ts', "another plugin's component swapped into the build cache is discarded and rebuilt"),
      ),
      wasmtime: cell(
        contained('rebuilt', 'the same build-cache seal, and the .cwasm native code has its own sha256 seal and is compiled again when it differs'),
        file('test/trust/cache.test.ts', "another plugin's component swapped into the build cache is discarded and rebuilt"),
        file('test/reliability/faults.test.ts', 'while a wasmtime plugin runs is compiled again before the next call'),
      ),
      'docker-node': cell(
        na(
          "the image store is the Docker daemon's: whoever can retag an image there controls the daemon (root on the host); `airlock build` shows the image id to pin",
        ),
      ),
      'docker-python': cell(
        na(
          "the image store is the Docker daemon's: whoever can retag an image there controls the daemon (root on the host); `airlock build` shows the image id to pin",
        ),
      ),
    },
  },
  {
    id: 'trust.tool-description',
    group: 'trust',
    attack: "a reviewed tool's description or schema rewritten later (the rug pull of tool poisoning), on disk or republished under the same registry tag",
    cells: everywhere(
      cell(
        contained(
          'lock-mismatch',
          "before any build: the lock holds a sha256 of each tool's description, schemas and annotations; the error names the changed tool",
        ),
        file('test/trust/lock.test.ts', 'a changed tool description is refused with lock-mismatch naming the tool, before any engine opens'),
        file('test/trust/oci/artifact.test.ts', 'a plugin republished under the same tag with a changed tool description is refused by the lock'),
      ),
    ),
  },
  {
    id: 'trust.wrong-signer',
    group: 'trust',
    attack:
      'a plugin signed by a key the host does not trust (or trusts only for other plugin names), a signature moved onto another plugin, or none when one is required',
    cells: everywhere(
      cell(
        contained(
          'untrusted-signer',
          'before any build: the trust policy lists which minisign keys may sign which names; signature-invalid and signature-missing for the other cases',
        ),
        file('test/trust/sign.test.ts', 'a wrong signer is refused with untrusted-signer, before any build'),
        file('test/trust/sign.test.ts', 'a signer trusted only for other plugin names is refused with untrusted-signer'),
        file('test/trust/sign.test.ts', 'a signature moved onto another plugin does not verify for it'),
        file('test/trust/sign.test.ts', 'an unsigned plugin is refused with signature-missing when the policy requires signatures'),
        file('test/trust/oci/artifact.test.ts', 'a pulled plugin signed by a key the policy does not trust is refused with untrusted-signer'),
      ),
    ),
  },
  {
    id: 'trust.registry-bytes',
    group: 'trust',
    attack: 'a registry serving other bytes for a digest: a blob changed in its storage, a manifest that is not the one its digest names',
    cells: everywhere(
      cell(
        contained(
          'digest-mismatch',
          'while it streams, before anything is unpacked or built: every blob and digest-pinned manifest is hashed and size-capped; nothing is left behind',
        ),
        file('test/trust/oci/artifact.test.ts', 'one byte changed in the registry storage: pull refuses it with digest-mismatch and leaves nothing behind'),
        file('test/trust/oci/artifact.test.ts', 'a registry serving another manifest for a digest reference is refused with digest-mismatch'),
      ),
    ),
  },
  {
    id: 'trust.bundle-entries',
    group: 'trust',
    attack:
      'a pulled source bundle with an absolute path, `..`, a symlink, hard link, device or FIFO, a duplicate, or more entries or bytes than a plugin folder may hold',
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest',
          'before anything is built: the extractor writes only new regular files and folders inside a fresh staging folder, capped like a plugin folder',
        ),
        file('test/plugin-files/tar.test.ts', 'an archive with an absolute path is refused'),
        file('test/plugin-files/tar.test.ts', 'an archive with a .. segment is refused'),
        file('test/plugin-files/tar.test.ts', 'an archive with a symlink is refused'),
        file('test/plugin-files/tar.test.ts', 'an archive with a character device is refused'),
        file('test/plugin-files/tar.test.ts', 'the entry count and the total size are capped'),
      ),
    ),
  },
  // ---- data: guest errors and build output (issue 19) ----
  {
    id: 'data.guest-error-text',
    group: 'data',
    attack:
      'hostile tool-error text: a tool throws a 1 MiB message full of terminal escapes (screen clear, OSC 52 clipboard write, colours) for the host to show',
    cells: {
      worker: cell(
        contained('plugin-error', 'the message is cut to 4096 characters and its escape sequences and control characters removed before the host reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: a huge message is cut to MAX_MESSAGE_CHARS before anything else reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: escape sequences and control characters are removed, newlines and tabs kept'),
        file('test/engines/plugin-error.test.ts', 'hostile guest error text on the worker engine: a 1 MiB message of escapes is cut and cleaned'),
      ),
      wasmtime: cell(
        contained('plugin-error', 'the message is cut to 4096 characters and its escape sequences and control characters removed before the host reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: a huge message is cut to MAX_MESSAGE_CHARS before anything else reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: escape sequences and control characters are removed, newlines and tabs kept'),
        file('test/engines/plugin-error.test.ts', 'hostile guest error text on wasmtime: a 1 MiB message of escapes is cut and cleaned'),
      ),
      'docker-node': cell(
        contained('plugin-error', 'the message is cut to 4096 characters and its escape sequences and control characters removed before the host reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: a huge message is cut to MAX_MESSAGE_CHARS before anything else reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: escape sequences and control characters are removed, newlines and tabs kept'),
        file('test/engines/plugin-error.test.ts', 'hostile guest error text on Docker (node): a 1 MiB message of escapes is cut and cleaned'),
      ),
      'docker-python': cell(
        contained('plugin-error', 'the message is cut to 4096 characters and its escape sequences and control characters removed before the host reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: a huge message is cut to MAX_MESSAGE_CHARS before anything else reads it'),
        file('test/engines/plugin-error.test.ts', 'guest error text: escape sequences and control characters are removed, newlines and tabs kept'),
        file('test/engines/plugin-error.test.ts', 'hostile guest error text on Docker (python): a 1 MiB message of escapes is cut and cleaned'),
      ),
    },
  },
  {
    id: 'data.build-output-text',
    group: 'data',
    attack:
      'hostile build output: build-time plugin code (or a dependency) prints terminal escapes, a Rust backtrace or the same line over and over into the build-failed message',
    cells: everywhere(
      cell(
        contained('build-failed', 'escapes and control characters removed, backtraces and repeated lines dropped; the raw text only in details.raw (JSON)'),
        file('test/build/build-output.test.ts', 'build output: ANSI escapes and control characters are removed'),
        file('test/build/build-output.test.ts', 'build output: a Rust backtrace and its RUST_BACKTRACE note are dropped'),
        file('test/build/build-output.test.ts', 'build output: a run of equal lines is kept once'),
      ),
    ),
  },
  // ---- data: wasm dependencies and templates (issue 19) ----
  {
    id: 'data.dependency-build',
    group: 'data',
    attack:
      "dependencies at build time made to run plugin-chosen code or read host files: an sdist's setup.py, pip options in requirements.txt (-r /etc/passwd, --find-links ~/.ssh, an index of the plugin's), a direct URL, a bundled import of a host file, a Rust build script reading host files or the network, a .cargo/config.toml naming programs, a git or other-registry crate fetched from the host's network",
    cells: {
      worker: cell(
        contained(
          'build-failed / not run',
          'JS: esbuild only parses, in the sandbox, and refuses any input outside the plugin folder; Python: requirements reduced to plain names (options, URLs, paths refused), pip installs wheels only from the host index; Rust: crates.io sources only (checked offline first), cargo vendor reads no plugin config, build scripts run offline in the sandbox',
        ),
        file('test/build/js-deps.test.ts', 'an import of a file outside the plugin folder is refused'),
        file('test/build/python-deps.test.ts', 'pip options and direct references in requirements.txt are refused'),
        file('test/build/python-deps.test.ts', 'is a build error naming it and suggesting Docker; no sdist is built'),
        file('test/build/rust.test.ts', 'a Rust build script runs in the sandbox: no host file, no network'),
        file('test/build/rust.test.ts', 'a crate from anywhere but crates.io (git, another index, a [patch] or [replace] however TOML spells it)'),
      ),
      wasmtime: cell(
        contained('build-failed / not run', 'the same build as the worker column: the wasmtime engine runs the component built in the sandbox'),
        file('test/build/js-deps.test.ts', 'an import of a file outside the plugin folder is refused'),
        file('test/build/python-deps.test.ts', 'pip options and direct references in requirements.txt are refused'),
        file('test/build/rust.test.ts', 'a Rust build script runs in the sandbox: no host file, no network'),
      ),
      'docker-node': cell(
        contained('not run', 'the image build runs no plugin code: npm install --ignore-scripts, in Docker'),
        file('test/engines/docker/build.test.ts', 'package.json scripts (preinstall, install, postinstall, prepare) do not run during the build'),
      ),
      'docker-python': cell(
        contained('not run', 'the image build runs no plugin code: the same requirements reduction, then pip install --only-binary=:all:, in Docker'),
        file('test/engines/docker/build.test.ts', "the project's setup.py never runs"),
      ),
    },
  },
  {
    id: 'data.dependency-size',
    group: 'data',
    attack: 'a huge dependency folder: a node_modules with more files or bytes than a plugin folder may hold, read and hashed on every build and load',
    cells: {
      worker: cell(
        contained(
          'build-failed',
          "a component's node_modules is bundled, so it is in the content hash and counts toward the folder bounds (20,000 entries, 512 MiB), refused by lstat before a byte is read, naming `npm install --omit=dev`",
        ),
        file('test/build/js-deps.test.ts', 'a node_modules past the folder bounds is refused before any build step reads it'),
      ),
      wasmtime: cell(
        contained('build-failed', 'the same build as the worker column'),
        file('test/build/js-deps.test.ts', 'a node_modules past the folder bounds is refused before any build step reads it'),
      ),
      'docker-node': cell(
        na(
          "Docker leaves the folder's node_modules out of the image context and its content hash (the default ignores) and installs package.json's dependencies in the image",
        ),
      ),
      'docker-python': cell(na('a Python plugin has no node_modules: its dependencies are installed in the image from requirements.txt or pyproject.toml')),
    },
  },
  // ---- serve: authoring and set-up (issue 19) ----
  {
    id: 'serve.schema-typo',
    group: 'serve',
    attack: 'a misspelt keyword in a tool schema (requried, minLenght): silently ignored, so the tool is handed input nothing checked',
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest',
          "before any engine: every subschema's keywords are checked as Ajv's strict mode does, at validate and load alike, naming the key's file:line:column; the walk is bounded by the schema caps",
        ),
        file('test/manifest/keywords.test.ts', 'a misspelt keyword in a tool schema is invalid-manifest'),
        file('test/manifest/keywords.test.ts', 'validate and load agree'),
        file('test/manifest/keywords.test.ts', 'a hostile schema of thousands of unknown keywords is reported up to a bound'),
      ),
    ),
  },
  {
    id: 'serve.engine-switch',
    group: 'serve',
    attack:
      'an explicitly chosen engine silently replaced: --engine wasmtime with grants it refuses (a read-only or read-write folder) runs on another engine, or falls back to one when loading fails',
    cells: everywhere(
      cell(
        contained('engine-unavailable', 'before any engine: a forced engine runs the plugin or fails with its refusal; it has no fallbacks'),
        file('test/selector/select.test.ts', 'wasm plugin, wasmtime configured but a read-only grant: engine-unavailable with the refusal'),
        file('test/selector/select.test.ts', 'an explicit engine never has fallbacks, whatever the plugin'),
        file('test/cli/inspect.test.ts', 'a read-only grant fails engine-unavailable with the refusal, never the worker engine instead'),
      ),
    ),
  },
  {
    id: 'serve.prune-reach',
    group: 'serve',
    attack:
      'airlock prune as a deletion primitive: a symlink named like a cache entry leading out of the cache root, an image Airlock did not build (unlabelled, or tagged outside airlock-plugin/)',
    cells: everywhere(
      cell(
        contained(
          'untouched',
          'on the host: only names Airlock writes, lstat-checked (a symlink is neither followed nor removed), inside the real cache root; only images labelled airlock.managed and tagged airlock-plugin/',
        ),
        file('test/prune/index.test.ts', 'prune removes older builds, builds of deleted folders and their derived forms'),
        file('test/prune/index.test.ts', 'only airlock-managed, airlock-plugin/ tagged images are removed'),
      ),
    ),
  },
  // ---- serve: usage, audit and grants at run time (issue 18) ----
  {
    id: 'serve.revoked-grant-pooled',
    group: 'serve',
    attack: 'a plugin keeps using a folder after the operator revoked it at run time, through the warm instance that opened it before',
    cells: {
      worker: cell(
        contained('errno', 'the pool is replaced; the next call runs without the preopen'),
        file(
          'test/host/grants-runtime.test.ts',
          'worker engine: a filesystem grant revoked between two calls refuses the second, without a restart; granted back it works again',
        ),
      ),
      wasmtime: cell(
        contained('errno', 'the next process runs without the --dir'),
        file('test/host/grants-runtime.test.ts', 'wasmtime: a filesystem grant revoked between two calls refuses the second'),
      ),
      'docker-node': cell(
        contained('errno', 'a fresh container without the mount'),
        file(
          'test/host/grants-runtime.test.ts',
          'Docker: a filesystem grant revoked between two calls refuses the second (a fresh container without the mount)',
        ),
      ),
      'docker-python': cell(
        contained('errno', 'a fresh container without the mount'),
        file('test/host/grants-runtime.test.ts', 'Docker (Python): a filesystem grant revoked between two calls refuses the second'),
      ),
    },
  },
  {
    id: 'serve.agent-grants-itself',
    group: 'serve',
    attack: "an agent's MCP session widens its own grants through the grant/revoke tools",
    cells: everywhere(
      cell(
        contained(
          '401 / permission-denied',
          'the operator tools are on their own endpoint and token, never listed to an agent; a grant never exceeds the host policy',
        ),
        file(
          'test/mcp/operator.test.ts',
          'operator tools: off the agent session, behind their own token; a revoke refuses the agent next call; a grant stays within the policy',
        ),
        file('test/host/grants-runtime.test.ts', 'a grant at run time never goes beyond the host policy, and a revocation persists across hosts'),
      ),
    ),
  },
  {
    id: 'serve.audit-tamper',
    group: 'serve',
    attack: 'a line of the audit log edited or removed to hide what a plugin did',
    cells: everywhere(
      cell(
        contained('named by audit verify', 'each line carries the sha256 of the one before and a sequence number'),
        file('test/audit/log.test.ts', 'audit verify: an edited line is named'),
        file('test/audit/log.test.ts', 'audit verify: a removed line is named'),
      ),
    ),
  },
  {
    id: 'serve.status-page-markup',
    group: 'serve',
    attack: 'markup or script in plugin-written text (names, refusal reasons) run in the operator status page',
    cells: everywhere(
      cell(
        contained('escaped', 'every plugin-written text is HTML-escaped; the page allows no script (CSP)'),
        file('test/status/page.test.ts', 'plugin-written text is escaped on the page'),
        file('test/status/page.test.ts', 'the status page shows plugins and grants, a live call and a refusal, behind the token'),
      ),
    ),
  },
  // ---- host: remote Docker (issue 16) ----
  // A remote daemon is a configuration of the docker engine (DOCKER_HOST / the policy's docker:), not an engine of
  // the registry, so it has no column of its own: these rows are its proofs, in the Docker columns.
  {
    id: 'host.remote-fs-grant',
    group: 'host',
    attack:
      'a read-write filesystem grant on a remote Docker daemon: a bind mount there names a path on the daemon’s machine (whatever it holds), not the granted folder',
    cells: {
      worker: cell(na('no daemon: the worker engine opens the granted folder on this machine itself')),
      wasmtime: cell(na('no daemon: wasmtime opens the granted folder on this machine itself (--dir)')),
      'docker-node': cell(
        contained('engine-unavailable', 'refused at load (and by the selector) naming the grant and the fix; nothing is created on the daemon'),
        file('test/engines/docker/remote/engine.test.ts', 'a read-write grant is refused on a remote daemon with its reason'),
      ),
      'docker-python': cell(
        contained('engine-unavailable', 'refused at load (and by the selector) naming the grant and the fix; nothing is created on the daemon'),
        file('test/engines/docker/remote/engine.test.ts', 'a read-write grant is refused on a remote daemon with its reason'),
      ),
    },
  },
  {
    id: 'host.remote-ro-grant',
    group: 'host',
    attack: 'writing to a read-only grant on a remote Docker daemon (its copy lives there, in a volume): overwrite a granted file, add one',
    cells: {
      worker: cell(na('no daemon: the worker engine opens the granted folder on this machine itself')),
      wasmtime: cell(na('no daemon: wasmtime opens the granted folder on this machine itself (--dir)')),
      'docker-node': cell(
        contained('errno', 'EROFS: the copy is mounted read-only, no bind mount; removed when the plugin closes'),
        file('test/engines/docker/remote/engine.test.ts', 'a read-only grant on a remote daemon is copied into a volume there'),
      ),
      'docker-python': cell(
        contained('errno', 'EROFS: the copy is mounted read-only, no bind mount; removed when the plugin closes'),
        file('test/engines/docker/remote/engine.test.ts', 'a read-only grant on a remote daemon is copied into a volume there'),
        file('test/engines/docker/remote/cli.test.ts', 'airlock call with a read-only grant on the remote daemon'),
      ),
    },
  },
  {
    id: 'host.remote-wrong-cert',
    group: 'host',
    attack:
      'a man in the middle posing as the remote Docker daemon (a certificate the configured CA did not sign), or a daemon that refuses Airlock’s client certificate',
    cells: {
      worker: cell(na('no daemon: the worker engine runs in this process')),
      wasmtime: cell(na('no daemon: wasmtime is a local process')),
      'docker-node': cell(
        contained(
          'engine-unavailable',
          'mutual TLS, the daemon always verified against the configured CA: nothing is sent; the error names the CA or certificate file',
        ),
        file('test/engines/docker/remote/engine.test.ts', 'a daemon whose certificate another CA signed is refused as untrusted'),
        file('test/engines/docker/remote/engine.test.ts', 'a client certificate the daemon does not trust is refused at the handshake'),
      ),
      'docker-python': cell(
        contained(
          'engine-unavailable',
          'mutual TLS, the daemon always verified against the configured CA: nothing is sent; the error names the CA or certificate file',
        ),
        file('test/engines/docker/remote/engine.test.ts', 'a daemon whose certificate another CA signed is refused as untrusted'),
        file('test/engines/docker/remote/engine.test.ts', 'a client certificate the daemon does not trust is refused at the handshake'),
      ),
    },
  },
  {
    id: 'host.remote-ssh-hostkey',
    group: 'host',
    attack: 'an SSH host posing as the Docker host (`ssh://` daemon): a host key known_hosts does not list for it; dockerode’s ssh transport accepts any',
    cells: {
      worker: cell(na('no daemon: the worker engine runs in this process')),
      wasmtime: cell(na('no daemon: wasmtime is a local process')),
      'docker-node': cell(
        contained('engine-unavailable', 'the host key is checked against known_hosts before any request; the error names the file and the fix'),
        file('test/engines/docker/remote/ssh.test.ts', 'a host key known_hosts does not list for the host is refused'),
      ),
      'docker-python': cell(
        contained('engine-unavailable', 'the host key is checked against known_hosts before any request; the error names the file and the fix'),
        file('test/engines/docker/remote/ssh.test.ts', 'a host key known_hosts does not list for the host is refused'),
      ),
    },
  },
  {
    id: 'host.remote-plain-tcp',
    group: 'host',
    attack: 'a plain-TCP Docker daemon (tcp:// without TLS): anyone reaching the port runs root containers there, anyone on the path can pose as it',
    cells: {
      worker: cell(na('no daemon: the worker engine runs in this process')),
      wasmtime: cell(na('no daemon: wasmtime is a local process')),
      'docker-node': cell(
        contained('engine-unavailable', 'refused before anything is sent unless accepted by name (AIRLOCK_DOCKER_INSECURE=1, policy docker.insecure: true)'),
        file('test/engines/docker/remote/engine.test.ts', 'plain TCP is refused unless explicitly accepted'),
      ),
      'docker-python': cell(
        contained('engine-unavailable', 'refused before anything is sent unless accepted by name (AIRLOCK_DOCKER_INSECURE=1, policy docker.insecure: true)'),
        file('test/engines/docker/remote/engine.test.ts', 'plain TCP is refused unless explicitly accepted'),
      ),
    },
  },
  // ---- hunt (hostile data) ----
  {
    id: 'net.lookup-pool',
    group: 'net',
    attack: "slow names under a wildcard grant, many at once, to hold every libuv thread-pool slot with lookups and stall the host's file I/O",
    cells: {
      worker: cell(
        contained(
          'connect-timeout',
          'at most two lookups at once for the whole process (half the pool); the others wait, bounded, and leave at their deadline unstarted',
        ),
        file('test/egress/lookup.test.ts', 'at most two lookups run at once'),
        file('test/egress/lookup.test.ts', 'a waiting lookup whose deadline passes leaves the queue and never starts'),
      ),
      wasmtime: wasmtimeNoNet,
      'docker-node': cell(
        contained('connect-timeout', "the proxy resolves in its own container (its own thread pool), bounded the same way; the host's pool is not involved"),
        file('test/egress/lookup.test.ts', 'at most two lookups run at once'),
      ),
      'docker-python': cell(
        contained('connect-timeout', "the proxy resolves in its own container (its own thread pool), bounded the same way; the host's pool is not involved"),
        file('test/egress/lookup.test.ts', 'at most two lookups run at once'),
      ),
    },
  },
  {
    id: 'data.registry-config',
    group: 'data',
    attack: 'a registry serving a wasm config blob (its digest right) that is not JSON, or JSON null, to `airlock pull`',
    cells: everywhere(
      cell(
        contained('registry-error', 'before anything is unpacked: "not an Airlock plugin artifact: its config is not a JSON object", not an internal error'),
        file('test/trust/oci/artifact.test.ts', 'a registry serving a wasm config that is not JSON (its digest right) is refused as not an Airlock artifact'),
        file('test/trust/oci/artifact.test.ts', 'a registry serving a wasm config that is JSON null (its digest right) is refused as not an Airlock artifact'),
      ),
    ),
  },
  {
    id: 'serve.audit-forge',
    group: 'serve',
    attack:
      'plugin-chosen text (a manifest key quoted in a refusal) with bidi overrides, C1 controls or line separators in an audit line, to reorder or hide part of it for whoever reads the log',
    cells: everywhere(
      cell(
        contained(
          'escaped',
          'before any engine: every sink gets the line with those characters as JSON \\uXXXX escapes; it parses to the same values and verifies',
        ),
        file('test/audit/log.test.ts', 'a manifest key with bidi and C1 control characters reaches the audit line escaped'),
      ),
    ),
  },
  {
    id: 'data.registry-redirect-name',
    group: 'data',
    attack:
      'a registry redirecting a pull to an https host name it controls the DNS of, resolving to loopback or a private address (a request from the host into its own network)',
    cells: everywhere(
      cell(
        contained(
          'registry-error',
          'before any engine: a redirected read resolves the name itself and connects only to what it checked (public unicast); nothing connects to the private address',
        ),
        file('test/trust/oci/client.test.ts', 'a blob read redirected to an https name that resolves to loopback is refused where it would connect'),
      ),
    ),
  },
  {
    id: 'data.ignore-cost',
    group: 'data',
    attack:
      'an ignore file within its caps written to be slow: `*a*a*a…` patterns against names of `a`s (every position alive on every character: seconds per path on the event loop), or thousands of `[…]` class ranges',
    cells: {
      worker: cell(na('ignore files are read by the Docker engine only (its build context)')),
      wasmtime: cell(na('ignore files are read by the Docker engine only (its build context)')),
      // The context is walked here, before a local or remote daemon sees it.
      'docker-node': cell(
        contained(
          'build-failed / bounded',
          'on the host, before the image build: a bit-parallel matcher whose cost per path does not depend on the pattern shape; more than 512 class ranges is refused naming the file',
        ),
        file(
          'test/plugin-files/ignore.test.ts',
          'a hostile ignore file (`*a*a*a…` patterns up to the size cap) against names of `a`s costs about what a plain one',
        ),
        file('test/plugin-files/ignore.test.ts', 'more than 512 `[…]` class ranges over an ignore file is a build-failed error naming it'),
        file('test/plugin-files/glob.test.ts', 'the bit-parallel matcher answers as the plain position-set matcher does'),
      ),
      'docker-python': cell(
        contained(
          'build-failed / bounded',
          'on the host, before the image build: a bit-parallel matcher whose cost per path does not depend on the pattern shape; more than 512 class ranges is refused naming the file',
        ),
        file(
          'test/plugin-files/ignore.test.ts',
          'a hostile ignore file (`*a*a*a…` patterns up to the size cap) against names of `a`s costs about what a plain one',
        ),
        file('test/plugin-files/ignore.test.ts', 'more than 512 `[…]` class ranges over an ignore file is a build-failed error naming it'),
        file('test/plugin-files/glob.test.ts', 'the bit-parallel matcher answers as the plain position-set matcher does'),
      ),
      'remote-node': cell(
        contained(
          'build-failed / bounded',
          'on the host, before the image build: a bit-parallel matcher whose cost per path does not depend on the pattern shape; more than 512 class ranges is refused naming the file',
        ),
        file(
          'test/plugin-files/ignore.test.ts',
          'a hostile ignore file (`*a*a*a…` patterns up to the size cap) against names of `a`s costs about what a plain one',
        ),
        file('test/plugin-files/ignore.test.ts', 'more than 512 `[…]` class ranges over an ignore file is a build-failed error naming it'),
        file('test/plugin-files/glob.test.ts', 'the bit-parallel matcher answers as the plain position-set matcher does'),
      ),
      'remote-python': cell(
        contained(
          'build-failed / bounded',
          'on the host, before the image build: a bit-parallel matcher whose cost per path does not depend on the pattern shape; more than 512 class ranges is refused naming the file',
        ),
        file(
          'test/plugin-files/ignore.test.ts',
          'a hostile ignore file (`*a*a*a…` patterns up to the size cap) against names of `a`s costs about what a plain one',
        ),
        file('test/plugin-files/ignore.test.ts', 'more than 512 `[…]` class ranges over an ignore file is a build-failed error naming it'),
        file('test/plugin-files/glob.test.ts', 'the bit-parallel matcher answers as the plain position-set matcher does'),
      ),
    },
  },
  {
    id: 'data.cli-line-forge',
    group: 'data',
    attack:
      "newlines in plugin-chosen text the CLI shows (an entry file name, a filesystem path, quoted in inspect or in a refusal) spelling grant lines that are not the plugin's, to mislead its review",
    cells: everywhere(
      cell(
        contained('escaped', 'before any engine: inspect shows such values on their own line as \\u000a, and each refusal problem is one line (\\n)'),
        file('test/cli/inspect.test.ts', 'inspect: newlines in an entry file name or a filesystem path cannot forge grant lines'),
        file('test/cli/inspect.test.ts', 'inspect: a refusal quoting a filesystem path with newlines keeps each problem on one line'),
      ),
    ),
  },
  {
    id: 'serve.telemetry-size',
    group: 'serve',
    attack:
      "a plugin whose build fails with a huge error text (a 200 KB `#error`, up to the build output bound) put whole into every load and build span's status, held by the SDK until exported",
    cells: everywhere(
      cell(
        contained('bounded', 'before any engine: a span status message is cut at 1024 characters (attributes are codes, names and validated tool names)'),
        file(
          'test/telemetry/otel.test.ts',
          'a build error the plugin writes (a 200 KB #error) reaches the load and build spans cut to a bounded status message',
        ),
      ),
    ),
  },
  {
    id: 'data.requirements-size',
    group: 'data',
    attack:
      "a Python component's requirements.txt reduced to megabytes of requirements (up to the build's 256 MiB file limit), read back whole into host memory and handed to pip with the host's network",
    cells: {
      worker: cell(
        contained(
          'build-failed',
          'on the host, before pip runs: the reduced list is read with the bounded reader (1 MiB) and refused naming the dependency file',
        ),
        file('test/build/python-deps.test.ts', 'a requirements list past 1 MiB is refused naming the dependency file'),
      ),
      wasmtime: cell(
        contained(
          'build-failed',
          'on the host, before pip runs: the reduced list is read with the bounded reader (1 MiB) and refused naming the dependency file',
        ),
        file('test/build/python-deps.test.ts', 'a requirements list past 1 MiB is refused naming the dependency file'),
      ),
      'docker-node': cell(na('a node plugin has no requirements.txt')),
      'docker-python': cell(na('requirements are read and installed inside the image build, in the builder container, not by the host')),
    },
  },
  {
    id: 'serve.protocol-stray',
    group: 'serve',
    attack:
      'a plugin in a container or Pod writing protocol lines of its own to the host stream between calls (results no call waits for, `ready` again, megabyte lines) to keep the host parsing them, or while its instance is being deleted',
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const HS = 'test/engines/host-stream.test.ts';
      const noStream = cell(na('no in-container host stream: a wasm guest answers through the host’s own call channel, one answer per call'));
      const stray = cell(
        contained(
          'crash',
          'the shared host stream (Docker and Kubernetes) takes only what the protocol expects then: a stray answer ends the instance, and its later bytes are dropped unread; the host’s own answer after a look-alike is dropped once',
        ),
        file(HS, 'a result no call is waiting for breaks the instance'),
        file(HS, 'once the instance broke, its later lines are dropped unparsed'),
        file(HS, 'one repeat of an answer'),
        file(DOCKER_FILES, 'host errors forged on the protocol stream are the plugin'),
      );
      const shared = cell(stray.outcome, ...stray.proofs.slice(0, 3));
      return {
        worker: noStream,
        wasmtime: noStream,
        'docker-node': stray,
        'docker-python': stray,
        'kubernetes-node': shared,
        'kubernetes-python': shared,
        'remote-node': shared,
        'remote-python': shared,
      };
    })(),
  },
  {
    id: 'data.listing-flood',
    group: 'data',
    attack:
      'a plugin folder holding millions of names in one folder (ignored by its .airlockignore, or not), so that listing it for a build, a content hash or a grant copy holds them all in host memory before any bound is checked',
    cells: everywhere(
      cell(
        contained(
          'build-failed',
          'on the host, before any engine: folders are listed in batches (opendir), counting every name, ignored ones too, and the walk stops at 100,000 names',
        ),
        file('test/plugin-files/walk.test.ts', 'a folder listing more entries than the listing cap is refused, ignored ones included'),
        file('test/plugin-files/walk.test.ts', 'a folder with too many entries is refused'),
      ),
    ),
  },
  {
    id: 'data.build-output-flood',
    group: 'data',
    attack:
      "build-time plugin code (a Rust build script, in the sandbox) writing millions of files beside the build's output, for the host to list whole when it looks for the built .wasm",
    cells: ((): RowInput['cells'] => {
      const bounded = cell(
        contained('build-failed', "on the host: cargo's output folder is listed in batches and refused past 1000 entries, naming it"),
        file('test/build/rust.test.ts', 'a Rust build script filling the output folder with names is refused by a bounded listing'),
      );
      const image = cell(na('a node or python plugin is built into an image by the Docker daemon; the host lists no build output'));
      return { worker: bounded, wasmtime: bounded, ...containers(image) };
    })(),
  },
  {
    id: 'data.wave-parse-cost',
    group: 'data',
    attack:
      'a wasmtime guest printing up to its output and log limits (tens of MiB) of result-like text (`ok("`, `err({` markers, escapes) for the host to parse on its event loop, every marker a start tried to the end',
    cells: ((): RowInput['cells'] => {
      const noText = cell(
        na('no printed text to parse: the result comes back as a string through the engine’s own channel or as one JSON line (native JSON.parse)'),
      );
      return {
        worker: noText,
        wasmtime: cell(
          contained(
            'bounded',
            'on the host: each start is checked over character codes without decoding, planted markers cost about what a plain result of the same size does, and only the result that parses is decoded (once, into one buffer)',
          ),
          file('test/engines/wasmtime/wave.test.ts', 'whatever result-like text a guest printed, finding the result costs about what a plain printed result'),
          file('test/engines/wasmtime/wave.test.ts', 'whatever the guest printed first, the split returns the real result'),
        ),
        ...containers(noText),
      };
    })(),
  },
  {
    id: 'data.load-error-text',
    group: 'data',
    attack:
      'a node or python entry that fails while loading with a huge message full of terminal escapes (or prints them while loading), a malformed protocol line of escapes, or escapes on stderr before its container or Pod ends: carried into the load, protocol or exit error',
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const noHost = cell(na('no in-container host, protocol line or stderr tail: a component that fails to start is a trap the engine reports itself'));
      const cut = cell(
        contained(
          'trap',
          'the shared host stream cuts and cleans the plugin text (escapes and controls removed) before the error is made: the fatal message, load-time prints and code to 4096 characters, a malformed line to 200, the stderr tail to its last 20 lines',
        ),
        file('test/engines/host-stream.test.ts', 'a fatal load error is cut and cleaned like any guest error text'),
        file('test/engines/host-stream.test.ts', 'plugin text in a protocol or exit error is cleaned'),
      );
      return {
        worker: noHost,
        wasmtime: noHost,
        ...containers(cut),
        'remote-node': cut,
        'remote-python': cut,
      };
    })(),
  },
  {
    id: 'data.context-memory',
    group: 'data',
    attack:
      'a plugin folder at the size bounds (512 MiB of files) loaded on Docker: its build context held whole in host memory (twice: the files and their tar) on every load, cached image or not',
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const noContext = cell(na('no image build context: a component is built and hashed by the bounded walker and reader (src/plugin-files)'));
      const streamed = cell(
        contained(
          'bounded',
          'on the host: the files are read one at a time for the tag, then again as the context streams to the daemon; a file changed in between fails the build (build-failed)',
        ),
        file('test/engines/docker/build.test.ts', 'a prepared build holds no plugin file in memory'),
      );
      return {
        worker: noContext,
        wasmtime: noContext,
        ...containers(streamed),
        'remote-node': streamed,
        'remote-python': streamed,
      };
    })(),
  },
  {
    id: 'serve.line-trickle',
    group: 'serve',
    attack:
      'a plugin in a container or Pod writing a line that never ends one byte at a time (between calls too), so the host keeps an object per byte (a line bound of tens of MiB held as gigabytes), or keeps tens of MiB for every idle instance',
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const noLines = cell(
        na(
          'no line protocol: a wasm guest answers through the host’s own call channel or a process whose output the spawn helper keeps as head and tail bytes',
        ),
      );
      const bytes = cell(
        contained(
          'bounded',
          'the shared line splitter keeps an unfinished line as bytes in one buffer (doubled as it grows, up to the line bound), whatever the chunks it came in; between calls an unfinished line past 64 KiB ends the instance',
        ),
        file('test/engines/lines.test.ts', 'a line trickled in one-byte chunks costs its bytes, not an object per chunk'),
        file('test/engines/host-stream.test.ts', 'between calls an unfinished line may hold only a little'),
      );
      return {
        worker: noLines,
        wasmtime: noLines,
        ...containers(bytes),
        'remote-node': bytes,
        'remote-python': bytes,
      };
    })(),
  },
  {
    id: 'serve.spawn-trickle',
    group: 'serve',
    attack:
      'a wasmtime guest writing its output one byte per write, up to its head and tail windows (tens of MiB), so the spawn helper every wasmtime call shares keeps an object per byte and grows by gigabytes or dies',
    cells: ((): RowInput['cells'] => {
      const noHelper = cell(na('the spawn helper serves the wasmtime engine only: this engine reads its instance’s output otherwise'));
      return {
        worker: noHelper,
        wasmtime: cell(
          contained('bounded', 'the helper keeps head and tail as bytes in two buffers (the tail’s at most twice its window, compacted), whatever the chunks'),
          file('test/spawn/head-tail.test.ts', 'a stream printed one byte at a time costs its kept bytes, not an object per chunk'),
          file('test/spawn/head-tail.test.ts', 'head and tail are the first and last bytes, however the stream is cut into chunks'),
        ),
        ...containers(noHelper),
      };
    })(),
  },
  {
    id: 'data.build-output-trickle',
    group: 'data',
    attack:
      'build-time plugin code (module top-level code componentize-py or componentize-js runs, in the sandbox) printing one byte per write, so the host keeping the step’s output tail holds an object per byte',
    cells: ((): RowInput['cells'] => {
      const bounded = cell(
        contained(
          'bounded',
          'on the host: a build step’s stdout and stderr tails are kept as bytes by the spawn helper’s bound (HeadTail), whatever the chunks',
        ),
        file('test/spawn/head-tail.test.ts', 'a stream printed one byte at a time costs its kept bytes, not an object per chunk'),
        file('test/build/sandbox.test.ts', "a step's stdout and stderr are kept only up to the output bound"),
      );
      const image = cell(na('a node or python plugin is built into an image by the Docker daemon, whose output the host follows as bounded messages'));
      return { worker: bounded, wasmtime: bounded, ...containers(image) };
    })(),
  },
  {
    id: 'serve.log-trickle',
    group: 'serve',
    attack:
      "a wasm guest writing its logs one byte per write up to resources.logs (1 MiB by the default policy), so the worker's log capture keeps a copy per write in the host process: hundreds of MB per call",
    cells: ((): RowInput['cells'] => {
      const copied = cell(
        contained('bounded', 'each stream’s bytes are copied into one buffer (doubled as it grows, within the log limit), not one copy per write'),
        file('test/capabilities/stdio/capture.test.ts', 'a guest writing its logs one byte per write costs the bytes kept, not an object per write'),
      );
      const elsewhere = cell(na('the guest’s prints are kept by its container’s in-container host, in the container’s memory, and come back as one line'));
      const helper = cell(
        contained(
          'bounded',
          'the guest’s prints go to the spawn helper, which keeps them as head and tail bytes (serve.spawn-trickle); the host copies the kept text once',
        ),
        file('test/spawn/head-tail.test.ts', 'a stream printed one byte at a time costs its kept bytes, not an object per chunk'),
      );
      return {
        worker: copied,
        wasmtime: helper,
        ...containers(elsewhere),
      };
    })(),
  },
  {
    id: 'serve.lookup-share',
    group: 'serve',
    attack:
      "one plugin asking its egress proxy for slow names without end (a wildcard grant) to fill the process's shared lookup queue and hold both lookup slots, so every other plugin's requests fail at once or time out",
    cells: ((): RowInput['cells'] => {
      const ownProcess = cell(
        na('each plugin’s proxy runs in its own container or Pod, with its own resolver and thread pool: nothing is shared with another plugin'),
      );
      return {
        worker: cell(
          contained(
            'bounded',
            'each proxy holds at most one of the two shared slots and one place in their queue; its other lookups wait (bounded) in its own queue, so another plugin waits for at most one of its lookups',
          ),
          file('test/egress/lookup.test.ts', "one plugin's lookups cannot starve another's"),
        ),
        wasmtime: wasmtimeNoNet,
        ...containers(ownProcess),
      };
    })(),
  },
  {
    id: 'serve.proxy-log',
    group: 'serve',
    attack:
      "an egress proxy the plugin took over (it sits on the plugin's network) writing a log line that never ends, or decisions of another shape (`__proto__`, objects for strings), for the host to read back as egress events",
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const PL = 'test/engines/proxy-log.test.ts';
      const inProcess = cell(na('the proxy runs in the host’s own process: its decisions are passed as objects, never read back from a log'));
      const read = cell(
        contained(
          'bounded',
          'Docker and Kubernetes read the proxy’s log through one reader: lines past 64 KiB dropped to their end, a decision passed on only in the shape the proxy writes',
        ),
        file(PL, 'a line that never ends holds at most the line bound'),
        file(PL, 'a decision of another shape is dropped'),
      );
      const docker = cell(read.outcome, ...read.proofs, file('test/engines/docker/network.test.ts', 'refusals are reported'));
      return {
        worker: inProcess,
        wasmtime: wasmtimeNoNet,
        'docker-node': docker,
        'docker-python': docker,
        'kubernetes-node': read,
        'kubernetes-python': read,
        'remote-node': read,
        'remote-python': read,
      };
    })(),
  },
  {
    id: 'serve.guest-listing',
    group: 'serve',
    attack:
      'a wasm guest listing a granted folder of millions of names (or one it filled through a read-write grant), or opening listings without end, so the host reads every name into its memory at once',
    cells: ((): RowInput['cells'] => {
      const D = 'test/capabilities/filesystem/descriptor.test.ts';
      const ownProcess = cell(na('the guest lists through its own kernel calls in its container or Pod; the host reads no listing'));
      return {
        worker: cell(
          contained(
            'bounded',
            'a listing stream reads the directory in batches of 32 (opendir), one entry per guest call, and holds an fd counted against the worker’s 1024; it is closed at its end, when dropped, or with the instance',
          ),
          file(D, 'a guest listing a folder of 100,000 names holds one batch of them on the host'),
          file(D, 'a listing stream holds an fd of the plugin'),
        ),
        wasmtime: cell(na('the wasmtime CLI lists for its guest in its own process (the spawn helper’s child), not in the host process')),
        ...containers(ownProcess),
      };
    })(),
  },
  {
    id: 'serve.audit-flood',
    group: 'serve',
    attack:
      "a plugin making refused (or allowed) connections without end, the same or to ever-new hosts, so the audit log's line per egress decision fills the host's disk",
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const A = 'test/audit/log.test.ts';
      const windowed = cell(
        contained(
          'bounded',
          'per plugin and minute, the first 32 different decisions are written whole; repeats and any past the 32nd are counted and said in an egress-summary line when the minute ends or the log closes; the chain verifies',
        ),
        file(A, 'a plugin refused the same connection 10,000 times writes one egress line'),
        file(A, 'a plugin refused for thousands of different hosts writes the first 32 whole'),
        file(A, 'an egress window that ended is summarised before the next decision'),
      );
      return {
        worker: windowed,
        wasmtime: wasmtimeNoNet,
        ...containers(windowed),
        'remote-node': windowed,
        'remote-python': windowed,
      };
    })(),
  },
  {
    id: 'data.parent-swap',
    group: 'data',
    attack:
      'a folder on the path of a plugin file (its entry, a source) swapped for a symlink to a folder outside between the check and the open, so the host opens what is there (a FIFO, a device, a file on a mount that hangs) before noticing',
    cells: everywhere(
      cell(
        contained(
          'build-failed',
          'on the host, before any engine: the file is opened one folder at a time from the plugin folder, each O_NOFOLLOW through the last one’s fd, so the swapped folder fails the open and nothing outside is opened',
        ),
        file(
          'test/plugin-files/read-swap.test.ts',
          'a parent folder swapped for a symlink after the check is refused without opening what it leads to (async)',
        ),
        file('test/plugin-files/read-swap.test.ts', 'a parent folder swapped for a symlink after the check is refused without opening what it leads to (sync)'),
      ),
    ),
  },
  {
    id: 'data.link-target-touched',
    group: 'data',
    attack:
      'a symlink in the plugin folder to a path on a hung network mount or an automounter’s folder (`/net/<host>/…`): resolving it (realpath) stats the target, holding the event loop or a thread-pool slot as long as the mount hangs, or makes the host mount a share from a host the plugin names',
    cells: everywhere(
      cell(
        contained(
          'invalid-manifest / build-failed',
          'on the host, before any engine: the path is walked one name at a time inside the folder (lstat, readlink), and a link’s target is refused as outside from its text, before anything it names is looked at',
        ),
        file(
          'test/plugin-files/inside.test.ts',
          'a link out of the folder is refused as outside from its text, without resolving what it names (a loop or a missing path out there is never looked at)',
        ),
      ),
    ),
  },
  {
    id: 'data.build-step-forge',
    group: 'data',
    attack:
      'build-time plugin code (a Python package’s setup.py in the image build) printing millions of lines that look like the builder’s `Step N/M : …`, each one a progress notification to every MCP call waiting for the build',
    cells: ((): RowInput['cells'] & Partial<Record<ClusterColumn | DerivedColumn, Cell>> => {
      const BS = 'test/engines/docker/build-steps.test.ts';
      const component = cell(na('a component build tells one line of its own (the entry and toolchain), never a line of the build’s output'));
      const steps = cell(
        contained(
          'bounded',
          'on the host: only the daemon’s next step counts (N one more than the last, M as step 1 said), so a build has at most M steps; look-alikes are output, never progress',
        ),
        file(BS, 'build output that looks like step lines is output'),
        file(BS, 'a step line out of the daemon’s order'),
      );
      const cluster = cell(na('the Kubernetes engine passes on only an image build’s end (built or up to date), no step or output line'));
      return {
        worker: component,
        wasmtime: component,
        'docker-node': steps,
        'docker-python': steps,
        'kubernetes-node': cluster,
        'kubernetes-python': cluster,
        'remote-node': steps,
        'remote-python': steps,
      };
    })(),
  },
  {
    id: 'data.watch-ignored',
    group: 'data',
    attack:
      'a plugin folder whose ignored part (node_modules, a folder its .airlockignore names) holds millions of names and folders, served with `--watch`: the recursive watch lists all of it on the event loop and holds an inotify watch per folder, though no load reads it',
    cells: everywhere(
      cell(
        contained(
          'bounded',
          'on the host, before any engine: the watch leaves out what the plugin ignores, so it lists and watches only what a load walks (itself bounded)',
        ),
        file('test/host/watch-bounds.test.ts', 'folders the plugin ignores (node_modules, its .airlockignore) are not watched, nor listed'),
        file('test/host/watch-bounds.test.ts', 'a change in a folder that is not ignored still reloads'),
      ),
    ),
  },
  // ---- host: lazy workers and standby (issue 21) ----
  // ---- kubernetes (issue 16) ----
  ...CLUSTER_ROWS(),
  // ---- kubernetes network (issue 16) ----
  // No Pods on the other engines: their cells say so; the proofs are the Kubernetes engine's columns.
  ...((): RowInput[] => {
    const NET = 'test/engines/kubernetes/network.test.ts';
    const NET_CLUSTER = 'test/engines/kubernetes/network-cluster.test.ts';
    const noPods = (what: string): Cell => cell(na(`no Pods, no NetworkPolicy: ${what}`));
    const onCluster = (c: Cell): RowInput['cells'] => ({
      worker: noPods('the worker engine’s guest has no socket of its own; wasi:http goes through its loopback proxy (net rows)'),
      wasmtime: noPods('any network grant is refused on wasmtime (net rows)'),
      'docker-node': noPods('a Docker plugin sits on an internal network whose only way out is its proxy container (net rows)'),
      'docker-python': noPods('a Docker plugin sits on an internal network whose only way out is its proxy container (net rows)'),
      'kubernetes-node': c,
      'kubernetes-python': c,
    });
    const granted = file(
      NET_CLUSTER,
      'with a network grant, a plugin Pod reaches the granted address only through the proxy Pod, other hosts are refused by name, no other Pod reaches the proxy',
    );
    return [
      {
        id: 'cluster.net-direct',
        group: 'cluster',
        attack: 'a plugin Pod connects straight to an address: with no network grant, or around its egress proxy with one (a raw socket, DNS)',
        cells: onCluster(
          cell(
            contained(
              'dropped',
              'NetworkPolicy: no grant, no rule in either direction; with one, TCP to its proxy Pod’s port only, no DNS; enforced in the test cluster by kube-router’s firewall',
            ),
            file(
              NET_CLUSTER,
              'without a network grant, one policy selects the plugin Pods with no rule in either direction, the cluster drops their connections',
            ),
            granted,
            file(NET, 'with a network grant the plugin Pods may reach only the proxy Pod on its port: no other address, no DNS, nothing in'),
          ),
        ),
      },
      {
        id: 'cluster.net-allowlist',
        group: 'cluster',
        attack: 'a plugin asks its egress proxy for a host or a port its grant does not name',
        cells: onCluster(
          cell(
            contained(
              '403',
              'the proxy Pod refuses, naming the host or port; each decision is an egress event; the proxy Pod itself leaves only on the allowlisted ports',
            ),
            granted,
            file(NET, 'the proxy may leave only on the ports the allowlist names'),
          ),
        ),
      },
      {
        id: 'cluster.net-borrow-proxy',
        group: 'cluster',
        attack: 'another Pod of the namespace uses a plugin’s egress proxy to borrow its allowlist',
        cells: onCluster(
          cell(
            contained('dropped', 'the proxy’s NetworkPolicy admits only its plugin’s Pods, on its port'),
            granted,
            file(NET, "the proxy's policy admits only the plugin's Pods on the proxy port"),
          ),
        ),
      },
      {
        id: 'cluster.net-loopback',
        group: 'cluster',
        attack: 'a network grant naming this machine’s loopback (127.0.0.1:port) on a cluster, where a Pod’s loopback is its own',
        cells: onCluster(
          cell(
            contained('engine-unavailable', 'refused at load, naming the entry'),
            file(NET, 'a network grant is given, but one naming the loopback of this machine is refused with the entry named'),
          ),
        ),
      },
    ];
  })(),
];

const REMOTE = 'test/engines/docker/remote/hostile.test.ts';
const REMOTE_ENGINE = 'test/engines/docker/remote/engine.test.ts';
const REMOTE_RW =
  "the case grants a read-write folder, which a remote daemon cannot mount (the path would name one on the daemon's machine) nor copy (the writes would stay there); read-only grants are copied into a volume there";

/**
 * The remote columns' own cells (one for both, or one per column), where the Docker engine on a remote daemon differs from the local socket or
 * is proved by its own tests (./engines.ts runs the remote cells of ./cells/ on the TLS daemon).
 */
const REMOTE_CELLS: Record<string, Cell | Partial<Record<DerivedColumn, Cell>>> = {
  // remote-node: the matrix cell test runs on the TLS daemon (derived).
  'res.fork': { 'remote-python': cell(contained('timeout (pids limit)'), file(REMOTE, 'a Python fork bomb: the pids limit holds it')) },
  'fs.swap': cell(
    na(
      'no bind mount on a remote daemon: a read-only grant is copied through the bounded plugin-tree walker (symlinks only inside, no FIFOs or devices) and a read-write grant is refused',
    ),
    file(REMOTE_ENGINE, 'a read-only grant on a remote daemon is copied into a volume there'),
  ),
  'net.loopback': cell(
    contained('engine-unavailable', "refused at load: a loopback grant could not mean this machine's loopback from a remote daemon's containers"),
    file('test/engines/docker/loopback.test.ts', 'with a remote daemon a loopback grant is refused before anything is created'),
  ),
  'host.stdout': cell(
    contained('plugin-error', "a forged host line is the plugin's own error, never the host's"),
    file(REMOTE, "host errors forged on the protocol stream are the plugin's errors"),
  ),
  'proto.malformed': cell(contained('plugin-error'), file(REMOTE, "host errors forged on the protocol stream are the plugin's errors")),
  'proto.ids': cell(contained('plugin-error'), file(REMOTE, "host errors forged on the protocol stream are the plugin's errors")),
  'proto.oversized': cell(contained('output-limit'), file(REMOTE, 'a protocol line past the engine bound is output-limit and the container is replaced')),
  'data.build-escape': cell(
    contained('not run', 'the image build runs no plugin code (npm --ignore-scripts, pip wheels only), on the daemon through the API'),
    file(REMOTE, 'no package.json script and no setup.py has run'),
  ),
  'data.dependency-build': cell(
    contained('not run', 'the image build runs no plugin code (npm --ignore-scripts, pip wheels only), on the daemon through the API'),
    file(REMOTE, 'no package.json script and no setup.py has run'),
  ),
  'data.build-exhaustion': cell(
    contained('build-failed', 'the whole image build has a timeout, on the remote daemon too'),
    file(REMOTE, 'a build past its timeout fails with build-failed'),
  ),
  'fs.hardlink': cell(
    contained('engine-unavailable', `refused at load: ${REMOTE_RW}`),
    file(REMOTE_ENGINE, 'a read-write grant is refused on a remote daemon with its reason'),
  ),
  'host.other-files': cell(
    contained('engine-unavailable', `refused at load: ${REMOTE_RW}`),
    file(REMOTE_ENGINE, 'a read-write grant is refused on a remote daemon with its reason'),
  ),
  'serve.disk-bytes': cell(
    contained('engine-unavailable', `refused at load: ${REMOTE_RW}`),
    file(REMOTE_ENGINE, 'a read-write grant is refused on a remote daemon with its reason'),
  ),
  'serve.disk-files': cell(
    contained('engine-unavailable', `refused at load: ${REMOTE_RW}`),
    file(REMOTE_ENGINE, 'a read-write grant is refused on a remote daemon with its reason'),
  ),
  'serve.revoked-grant-pooled': cell(
    contained('errno', 'a fresh container without the volume'),
    file(REMOTE, 'a read-only grant revoked between two calls refuses the second'),
    file(REMOTE, 'a Python plugin’s read-only grant revoked between two calls refuses the second'),
  ),
};

/** A derived column's cell: its own if the row gives one, else its base cell with the proofs that ran on it (see DERIVED). */
function derivedCell(row: RowInput, column: DerivedColumn): Cell {
  const remote = REMOTE_CELLS[row.id];
  const own = row.cells[column] ?? (remote !== undefined && 'outcome' in remote ? remote : remote?.[column]);
  if (own !== undefined) return own;
  const { base, ownTests, conformance } = DERIVED[column];
  const cell = row.cells[base];
  // A case the derived column refuses to load (its own limitation): the cell is that refusal, proved by the case.
  const fixture = `conformance-${COLUMN_ENGINE[base].runtime ?? ''}`;
  const refusals = cell.proofs.flatMap((p) => {
    const lim = 'conformance' in p ? limitationFor(conformance, p.conformance, fixture) : undefined;
    return lim !== undefined && lim.engine === conformance && 'load' in lim.instead ? [{ proof: p, code: lim.instead.load }] : [];
  });
  if (refusals.length > 0 && refusals[0] !== undefined)
    return cell_(contained(refusals[0].code, `refused at load: ${REMOTE_RW}`), ...refusals.map((r) => r.proof));
  // everywhere(): one defence for every column, before any engine; its file proofs hold for this column too.
  const shared = WRITTEN_COLUMNS.every((c) => row.cells[c] === cell);
  const proofs = cell.proofs.filter((p) => !('file' in p) || shared || ownTests.some((dir) => p.file.startsWith(dir)));
  return { outcome: cell.outcome, proofs };
}

/**
 * A Docker cell's file proofs that hold for the Kubernetes columns too: tests on the test cluster, and tests of code
 * the Kubernetes engine runs unchanged: the egress proxy (its Pod runs the same files as Docker's proxy container,
 * src/engines/kubernetes/egress-pod.ts), the host-side cleaning of a guest's error text (the shared host stream), and
 * the image build and its context (the engine builds with the Docker engine on this machine's daemon). A title
 * naming Docker is a run on Docker, and does not count.
 */
const CLUSTER_TESTS = [
  'test/engines/kubernetes/',
  'test/egress/',
  'test/engines/plugin-error.test.ts',
  'test/engines/docker/build.test.ts',
  'test/plugin-files/',
];
const onCluster = (p: Proof): boolean => 'file' in p && CLUSTER_TESTS.some((d) => p.file.startsWith(d)) && !/\bDocker\b/.test(p.title);
const K8S_PATH =
  "the case grants a folder of this machine, and a Pod runs on a cluster node, where a hostPath volume would name that node's files: every filesystem grant is refused";

/**
 * Rows whose attack needs a filesystem grant (the attacker's, or a victim's granted files): on Kubernetes no plugin
 * gets one, so the attack never starts. Proved on the cluster by the conformance cases granting a folder read-write
 * and read-only (each refused at load there) and the engine test of a path grant.
 */
const NEEDS_PATH_GRANT = new Set([
  'fs.hardlink',
  'fs.swap',
  'host.other-files',
  'serve.disk-bytes',
  'serve.disk-files',
  'serve.revoked-grant-pooled',
  'host.remote-fs-grant',
  'host.remote-ro-grant',
]);
const PATH_REFUSED = cell(
  contained(
    'engine-unavailable',
    "refused at load: the attack needs a filesystem grant, and a Pod runs on a cluster node, where a hostPath volume would name that node's files: every filesystem grant is refused",
  ),
  conf('fs-escape: a read-write grant allows create, write, read, mkdir, rename and unlink'),
  conf('fs-escape: a read-only grant is readable at its mount path'),
  file(K8S_TESTS, 'a path grant and a cluster not stated to enforce NetworkPolicy are refused at load'),
);

/** Kubernetes cells of rows written without them, proved by tests on the test cluster (Docker's are cell tests). */
const FORGED = cell(
  contained('plugin-error', "a forged host line is the plugin's own error, never the host's; the Pod is kept"),
  file(K8S_TESTS, "on a Pod: host errors forged on the protocol stream are the plugin's errors; the Pod is kept"),
);
const K8S_NET = 'test/engines/kubernetes/network.test.ts';
const K8S_CLIENT = 'test/engines/kubernetes/client.test.ts';
/** A Pod spec has no pids field: the bound is the node kubelet's podPidsLimit (128 in the test cluster; README: limitations). */
const POD_PIDS = "the node kubelet's podPidsLimit bounds the Pod's processes (a Pod spec has no pids field; the test checks the kubelet's before the bomb)";
const CLUSTER_CELLS: Record<string, Cell | Partial<Record<ClusterColumn, Cell>>> = {
  'net.loopback': cell(
    contained('engine-unavailable', "refused at load: a Pod's loopback is its own, so a grant naming this machine's cannot be given"),
    file(K8S_NET, 'on an enforcing cluster a network grant is given, but one naming the loopback of this machine is refused with the entry named'),
  ),
  'net.dns': cell(
    contained('dropped', "NetworkPolicy: no DNS from the plugin's Pods (the proxy resolves); with no grant no connection at all"),
    file(
      'test/engines/kubernetes/network-cluster.test.ts',
      'without a network grant, one policy selects the plugin Pods with no rule in either direction, the cluster drops their connections',
    ),
    file(K8S_NET, 'with a network grant the plugin Pods may reach only the proxy Pod on its port: no other address, no DNS, nothing in'),
  ),
  'host.kill': cell(
    contained(
      'crash',
      "abort() ends only its own Pod (crash, the pause container being PID 1), and a fresh Pod serves the next call; the host's pids are not in the Pod's pid namespace",
    ),
    conf('trap: a trap is trap, and the next call gets a fresh instance that traps again'),
    file(K8S_TESTS, "/proc is the Pod's own"),
  ),
  'host.stdout': FORGED,
  'proto.malformed': FORGED,
  'proto.ids': FORGED,
  'proto.oversized': {
    'kubernetes-node': cell(
      contained('output-limit', 'the Pod is replaced'),
      file(K8S_TESTS, 'a protocol line past the engine bound is output-limit and the Pod is replaced'),
    ),
    'kubernetes-python': cell(
      contained('output-limit', 'the Pod is replaced'),
      file(K8S_TESTS, 'a python plugin writing protocol lines past the engine bound to its own stdout: output-limit, and the Pod is replaced'),
    ),
  },
  'res.fork': {
    'kubernetes-node': cell(
      contained('EAGAIN (pids limit)', `${POD_PIDS}; children past it are refused and the plugin still answers`),
      file(K8S_TESTS, "a fork bomb in a node Pod: children are refused at the node's podPidsLimit (EAGAIN)"),
    ),
    'kubernetes-python': cell(
      contained('timeout (pids limit)', `${POD_PIDS}; the timeout ends the call and a fresh Pod follows`),
      file(K8S_TESTS, "a fork bomb in a python Pod: the node's podPidsLimit holds it"),
    ),
  },
  'res.input': {
    'kubernetes-node': cell(
      contained('memory-limit', 'the Pod dies at its memory limit reading it (OOMKilled); a fresh Pod serves the next call'),
      file(K8S_TESTS, ': 100 MiB of input to one call is memory-limit (the Pod dies reading it)'),
    ),
    'kubernetes-python': cell(
      contained('memory-limit', 'the Pod dies at its memory limit reading it (OOMKilled); a fresh Pod serves the next call'),
      file(K8S_TESTS, ': 100 MiB of input to one call is memory-limit (the Pod dies reading it)'),
    ),
  },
  // The remote-daemon rows' Kubernetes counterpart: the engine reaches no Docker daemon for a Pod, only the API server.
  'host.remote-wrong-cert': cell(
    contained(
      'engine-unavailable',
      "no daemon is reached; the API server is checked against the kubeconfig's CA: a certificate another CA signed is refused before any request, the error naming the CA file",
    ),
    file(K8S_TESTS, "the cluster's API server checked against a CA that did not sign it is refused as untrusted"),
    file(K8S_CLIENT, 'an API server whose certificate another CA signed is refused as untrusted'),
  ),
  'host.remote-ssh-hostkey': cell(
    na(
      'no SSH transport: the engine reaches only the API server, at the https:// address its kubeconfig names, checked against its CA (host.remote-wrong-cert)',
    ),
  ),
  'host.remote-plain-tcp': cell(
    contained(
      'engine-unavailable',
      'a kubeconfig naming an http:// API server, or setting insecure-skip-tls-verify, is refused before any request, naming the file and the fix (no opt-in)',
    ),
    file(K8S_CLIENT, 'a kubeconfig naming a plain http:// API server is refused before any request'),
    file(K8S_CLIENT, 'a kubeconfig with insecure-skip-tls-verify is refused'),
  ),
  'env.other-plugin': cell(
    contained('not visible', "each plugin's Pods get only its own grant"),
    file(K8S_TESTS, "another plugin's granted secret is not visible in a second plugin's Pods"),
  ),
  'fs.proc': cell(
    contained('no host data', "the Pod's own /proc: its environment is the grant's and the image's, pid 1 its pause container, no host process"),
    file(K8S_TESTS, "/proc is the Pod's own"),
  ),
};

/**
 * A Kubernetes cell of a row written without one: CLUSTER_CELLS or PATH_REFUSED where they apply, else the cell
 * from its Docker cell (same runtime): the Kubernetes engine runs the Docker engine's image and
 * in-container host as a Pod, and the conformance suite runs every Docker case there (test/conformance/engines.ts,
 * on the test cluster). The cell is Docker's, proved by its conformance cases (and any file proofs under
 * CLUSTER_TESTS); a case Kubernetes refuses to load makes the cell that refusal; a Docker cell proved only by tests
 * that do not run on a cluster (the matrix cell tests, Docker's own) is NOT_ON_CLUSTER.
 */
function fromDocker(row: RowInput, base: 'docker-node' | 'docker-python'): Cell {
  const written = CLUSTER_CELLS[row.id];
  const column = base === 'docker-node' ? 'kubernetes-node' : 'kubernetes-python';
  const given = written !== undefined && 'outcome' in written ? written : written?.[column];
  if (given !== undefined) return given;
  if (NEEDS_PATH_GRANT.has(row.id)) return PATH_REFUSED;
  const cell = row.cells[base];
  const fixture = `conformance-${COLUMN_ENGINE[base].runtime ?? ''}`;
  const own = (name: string) => {
    const lim = limitationFor('kubernetes', name, fixture);
    return lim?.engine === 'kubernetes' ? lim : undefined;
  };
  const refused = (p: Proof): boolean => {
    const lim = 'conformance' in p ? own(p.conformance) : undefined;
    return lim !== undefined && 'load' in lim.instead;
  };
  const confs = cell.proofs.filter((p): p is { conformance: string } => 'conformance' in p);
  const ran = confs.filter((p) => !refused(p));
  // Every case of the cell refused at load (they grant a folder): the cell is that refusal, proved by the cases.
  if (ran.length === 0 && confs.length > 0) return cell_(contained('engine-unavailable', `refused at load: ${K8S_PATH}`), ...confs);
  // A case whose result Kubernetes documents differently from Docker: Docker's cell would not say so.
  const differs = ran.find((p) => own(p.conformance) !== undefined);
  if (differs !== undefined) throw new Error(`${row.id}: "${differs.conformance}" has a Kubernetes limitation of its own; write the row's Kubernetes cells`);
  const proofs = [...ran, ...cell.proofs.filter(onCluster)];
  // Not applicable on Docker (the build, the image store): the Kubernetes engine builds with the Docker engine.
  if (proofs.length === 0 && cell.outcome.kind === 'na') return cell;
  if (proofs.length === 0) return NOT_ON_CLUSTER;
  const note = K8S_NOTES[row.id];
  const outcome = note === undefined || cell.outcome.kind !== 'contained' ? cell.outcome : contained(cell.outcome.code, note);
  return { outcome, proofs };
}

/**
 * The Kubernetes cells of a row written without them: a defence before any engine (the same cell in every
 * column, proved by file tests) holds there too; anything else follows the Docker cell of its runtime (fromDocker).
 */
function clusterCells(row: RowInput): Record<ClusterColumn, Cell> {
  const c = row.cells;
  const same = c.worker === c.wasmtime && c.worker === c['docker-node'] && c.worker === c['docker-python'];
  const beforeEngines = same && c.worker.proofs.length > 0 && c.worker.proofs.every((p) => 'file' in p);
  return {
    'kubernetes-node': c['kubernetes-node'] ?? (beforeEngines ? c.worker : fromDocker(row, 'docker-node')),
    'kubernetes-python': c['kubernetes-python'] ?? (beforeEngines ? c.worker : fromDocker(row, 'docker-python')),
  };
}

export const ROWS: Row[] = INPUT.map((row) => ({
  ...row,
  cells: {
    ...row.cells,
    ...clusterCells(row),
    ...Object.fromEntries((Object.keys(DERIVED) as DerivedColumn[]).map((c) => [c, derivedCell(row, c)])),
  } as Record<Column, Cell>,
}));

export function rowById(id: string): Row {
  const r = ROWS.find((x) => x.id === id);
  if (r === undefined) throw new Error(`no matrix row ${id}`);
  return r;
}

/** The title of a matrix cell test: `matrix <row> × <column>: <outcome>`. */
export function cellTitle(row: Row, column: Column): string {
  const o = row.cells[column].outcome;
  return `matrix ${row.id} × ${column}: ${o.kind === 'contained' ? `contained (${o.code})` : o.kind}`;
}

/** The Kubernetes engine's own rows: attacks that exist only where a plugin runs as a Pod. */
function CLUSTER_ROWS(): RowInput[] {
  const k8s = (c: Cell): RowInput['cells'] => ({
    worker: cell(na(`${NO_CLUSTER} (a worker thread)`)),
    wasmtime: cell(na(`${NO_CLUSTER} (a wasmtime process)`)),
    'docker-node': cell(na(`${NO_CLUSTER} (a container on the Docker daemon)`)),
    'docker-python': cell(na(`${NO_CLUSTER} (a container on the Docker daemon)`)),
    'kubernetes-node': c,
    'kubernetes-python': c,
  });
  const hardened = file(K8S_TESTS, 'the Pod as the API server admitted it has every hardening field');
  return [
    {
      id: 'cluster.hostpath',
      group: 'cluster',
      attack: 'a filesystem grant turned into a hostPath volume: on a cluster node it names that node’s files, not the granted folder',
      cells: k8s(
        cell(
          contained('engine-unavailable', 'refused at load and by the selector, naming the grant; no Pod mounts a host path'),
          file(K8S_TESTS, 'a path grant and a cluster not stated to enforce NetworkPolicy are refused at load'),
          file('test/engines/kubernetes/pod-spec.test.ts', 'a path grant is refused (no hostPath)'),
        ),
      ),
    },
    {
      id: 'cluster.network-unenforced',
      group: 'cluster',
      attack: 'a Pod on a cluster whose network plugin ignores NetworkPolicy: the deny-all policy is accepted but nothing enforces it',
      cells: k8s(
        cell(
          contained('engine-unavailable', 'every plugin is refused unless the host policy states kubernetes.networkPolicy: enforced'),
          file(K8S_TESTS, 'a path grant and a cluster not stated to enforce NetworkPolicy are refused at load'),
        ),
      ),
    },
    {
      id: 'cluster.api-token',
      group: 'cluster',
      attack: 'the plugin talks to the cluster’s API server with its Pod’s service-account token',
      cells: k8s(cell(contained('no token', 'automountServiceAccountToken: false; nothing under /var/run/secrets'), hardened)),
    },
    {
      id: 'cluster.privilege',
      group: 'cluster',
      attack: 'a Pod running as root, with capabilities, privilege escalation, a writable root or no seccomp profile',
      cells: k8s(
        cell(
          contained(
            'hardened Pod',
            'uid 10001, runAsNonRoot, read-only root, capabilities drop ALL, no escalation, seccomp RuntimeDefault, read back from the API server',
          ),
          hardened,
        ),
      ),
    },
    {
      id: 'cluster.env',
      group: 'cluster',
      attack: 'host environment variables (secrets) reaching the Pod',
      cells: k8s(
        cell(
          contained(
            'not visible',
            'granted names only, beside the image’s own and the kubelet’s KUBERNETES_SERVICE_*/KUBERNETES_PORT* (the API server address)',
          ),
          file(K8S_TESTS, 'the plugin sees the granted env only'),
        ),
      ),
    },
    {
      id: 'cluster.runaway',
      group: 'cluster',
      attack: 'a call that never returns, or is abandoned, keeps its Pod busy',
      cells: k8s(
        cell(
          contained('timeout', 'the Pod is deleted and a fresh one serves the next call; an abort does the same (aborted)'),
          file(K8S_TESTS, 'a timed-out call and an aborted call each delete their Pod'),
        ),
      ),
    },
    {
      id: 'cluster.orphans',
      group: 'cluster',
      attack: 'Pods left running on the cluster after the Airlock process that made them died',
      cells: k8s(
        cell(
          contained('deleted', 'labelled with their engine instance’s Lease; the next instance deletes those whose Lease ran out'),
          file(K8S_TESTS, 'orphans: the Pods, NetworkPolicies and expired lease of instances that are gone are deleted'),
        ),
      ),
    },
  ];
}
