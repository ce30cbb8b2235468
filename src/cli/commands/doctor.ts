import { checkBaseImages, checkNode, checkToolchains, formatCheck } from '../../doctor/index.ts';
import { formatProbes, probeEngines, probesFor } from '../../engines/probe.ts';
import { engineSettings } from '../../grants/grant.ts';
import { parseFlags, policyFromFlags } from '../flags.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check Node, the engines, the build toolchains and base images, and how to install what is missing',
  help: `Usage: airlock doctor [--policy policy.yaml] [--json]

Checks what Airlock needs here, each with what it found or why it is missing
and how to fix it:
  Node       the version running Airlock (package.json engines)
  engines    the WebAssembly worker engine (Node itself), the wasmtime CLI
             Docker and Kubernetes: available or not, version and where;
             with --policy, the Docker daemon and the cluster it names
  toolchains what \`airlock build\` uses per entry: componentize-js (.js),
             componentize-py (.py), clang with wasi-libc (.c), bubblewrap
             (the build sandbox), cargo with the wasm32-wasip2 target (Rust)
  images     the Docker base images node and python plugins are built on

Options:
  --policy <file>  host policy YAML: probe the remote Docker daemon and the
                   Kubernetes cluster it names (its \`docker:\`, \`kubernetes:\`)
  --json           print the checks as JSON
  -h, --help       show this help

Exit status: 0 when Node is supported and every engine is available (or,
like Kubernetes without a policy naming a cluster, not configured), 1
otherwise (the others still work: wasm plugins need no Docker). A missing
toolchain or base image is reported but only limits the plugins that need it.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json', 'policy']);
    if (positionals.length > 0) throw new UsageError('doctor takes no arguments');
    const node = checkNode();
    const settings = values.policy === undefined ? undefined : engineSettings(policyFromFlags(values, io));
    const probe = async () => (settings === undefined ? probeEngines() : probesFor(settings, await probeEngines()));
    const [engines, toolchains] = await Promise.all([probe(), checkToolchains()]);
    const images = await checkBaseImages(undefined, engines.docker.available);
    if (values.json === true) io.stdout(`${JSON.stringify({ node, engines, toolchains, images }, null, 2)}\n`);
    else {
      const lines = ['Node', formatCheck(node), '', 'Engines', ...formatProbes(engines), '', 'Build toolchains', ...toolchains.map(formatCheck)];
      if (images.length > 0) lines.push('', 'Docker base images', ...images.map(formatCheck));
      io.stdout(`${lines.join('\n')}\n`);
    }
    return node.ok && Object.values(engines).every((p) => p.available || p.unconfigured === true) ? 0 : 1;
  },
};
