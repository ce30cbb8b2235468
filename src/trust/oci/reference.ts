/**
 * OCI references: `[oci://]registry[:port]/repository[:tag][@sha256:…]`, the
 * registry always named (no default registry a typo could silently reach).
 * A loopback registry is spoken to over plain HTTP, any other over HTTPS.
 */
import { AirlockError } from '../../errors.ts';

export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** `http://host:port` or `https://host[:port]`. */
  base: string;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REGISTRY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$/;

function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0]!;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function bad(ref: string, why: string): AirlockError {
  return new AirlockError(
    'invalid-input',
    `${JSON.stringify(ref)} is not an OCI reference: ${why}; write registry/repository:tag, e.g. localhost:5000/plugins/weather:1.0.0`,
  );
}

export function parseReference(text: string): Reference {
  const ref = text.startsWith('oci://') ? text.slice('oci://'.length) : text;
  const slash = ref.indexOf('/');
  if (slash <= 0) throw bad(text, 'it names no registry');
  const registry = ref.slice(0, slash);
  if (!REGISTRY.test(registry)) throw bad(text, `${JSON.stringify(registry)} is not a registry host[:port]`);
  let rest = ref.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(text, 'the digest is not sha256:<64 hex digits>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, `${JSON.stringify(tag)} is not a tag`);
  }
  if (!REPOSITORY.test(rest) || rest.length > 255) throw bad(text, `${JSON.stringify(rest)} is not a repository name (lower case, digits, . _ - and /)`);
  const base = `${isLoopback(registry) ? 'http' : 'https'}://${registry}`;
  return { registry, repository: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }), base };
}

export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
