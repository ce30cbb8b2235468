/**
 * The test cluster's own PKI, made by `openssl` in the cluster's folder: a CA, the API server's serving
 * certificate for 127.0.0.1, a client certificate per component (the Node and RBAC authorizers read the
 * user from CN and the groups from O), the kubelet's serving certificate and the service-account key pair.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

export interface KeyPair {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeClusterPki(dir: string, nodeName: string): ClusterPki {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=airlock test cluster CA'], dir);
  const sign = (who: string, subject: string, ext: string): KeyPair => {
    writeFileSync(join(dir, `${who}.ext`), ext);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', subject], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.crt`,
        '-days',
        '2',
        '-extfile',
        `${who}.ext`,
      ],
      dir,
    );
    return { cert: join(dir, `${who}.crt`), key: join(dir, `${who}.key`) };
  };
  const client = (who: string, subject: string): KeyPair => sign(who, subject, 'extendedKeyUsage=clientAuth\n');
  const server = (who: string, names: string): KeyPair => sign(who, `/CN=${who}`, `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    ca: join(dir, 'ca.crt'),
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
