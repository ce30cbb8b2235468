/**
 * The test cluster's own PKI, made by `openssl` in the cluster's folder: a CA, the API server's serving
 * certificate for 127.0.0.1, a client certificate per component (the Node and RBAC authorizers read the
 * user from CN and the groups from O), the kubelet's serving certificate and the service-account key pair.
 */
import { join } from 'node:path';
import { type KeyPair, makeCa, openssl } from '../helpers/ca.ts';

export interface ClusterPki {
  dir: string;
  ca: string;
  apiserver: KeyPair;
  kubelet: KeyPair;
  /** The API server's client certificate towards kubelets (logs, exec, attach). */
  apiserverKubeletClient: KeyPair;
  clients: Record<'admin' | 'node' | 'scheduler' | 'controllerManager', KeyPair>;
  serviceAccount: { key: string; pub: string };
}

export type { KeyPair } from '../helpers/ca.ts';

export function makeClusterPki(dir: string, nodeName: string): ClusterPki {
  const ca = makeCa('airlock test cluster CA', dir);
  const client = (who: string, subject: string): KeyPair => ca.issue(who, subject, 'extendedKeyUsage=clientAuth');
  const server = (who: string, names: string): KeyPair => ca.issue(who, `/CN=${who}`, `subjectAltName=${names}\nextendedKeyUsage=serverAuth`);
  // The service-account signing key: RSA, the API server's default for it.
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    ca: ca.ca,
    // 10.0.0.1: the `kubernetes` Service's address in the service range the API server is given.
    apiserver: server('kube-apiserver', 'IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes.default.svc'),
    kubelet: server('kubelet', `IP:127.0.0.1,DNS:${nodeName}`),
    apiserverKubeletClient: client('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client'),
    clients: {
      admin: client('admin', '/O=system:masters/CN=airlock-admin'),
      node: client('node', `/O=system:nodes/CN=system:node:${nodeName}`),
      scheduler: client('scheduler', '/CN=system:kube-scheduler'),
      controllerManager: client('controller-manager', '/CN=system:kube-controller-manager'),
    },
    serviceAccount: { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') },
  };
}

/** A kubeconfig for `user`'s key pair against the API server at `server`. */
export function kubeconfig(pki: ClusterPki, server: string, user: KeyPair): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: airlock-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.ca}`,
    'users:',
    '- name: user',
    '  user:',
    `    client-certificate: ${user.cert}`,
    `    client-key: ${user.key}`,
    'contexts:',
    '- name: airlock-test',
    '  context:',
    '    cluster: airlock-test',
    '    user: user',
    'current-context: airlock-test',
    '',
  ].join('\n');
}
