// What `berth tls init` prints: the server side (config.yml or REGISTRY_* variables) and, for
// every name the certificate carries, what each kind of client needs to trust the CA. Paths and
// commands only; nothing here reads or prints a key.
import { hostPort, type SubjectNames } from './names.ts';

export interface InstructionInput {
  names: SubjectNames;
  port: number;
  caCert: string;
  serverCert: string;
  serverKey: string;
}

export function instructions(i: InstructionInput): string {
  const hosts = [...i.names.dns.filter((d) => !d.startsWith('*.')), ...i.names.ips].map((n) => hostPort(n, i.port));
  const wildcard = i.names.dns.filter((d) => d.startsWith('*.'));
  const first = hosts[0] ?? hostPort(wildcard[0].replace('*', 'registry'), i.port);
  const out: string[] = [];
  const section = (title: string, lines: string[]) => out.push(`${title}`, ...lines.map((l) => (l ? `  ${l}` : '')), '');

  section('1. The registry: in config.yml', [
    'http:',
    `  addr: :${i.port}`,
    '  tls:',
    `    certificate: ${i.serverCert}`,
    `    key: ${i.serverKey}`,
    '',
    'or in the environment (the same keys, as registry:2 reads them):',
    `  REGISTRY_HTTP_ADDR=:${i.port} \\`,
    `  REGISTRY_HTTP_TLS_CERTIFICATE=${i.serverCert} \\`,
    `  REGISTRY_HTTP_TLS_KEY=${i.serverKey} berth serve`,
    '',
    'berth picks up new files at these paths without a restart. Behind nginx or another proxy',
    'that terminates TLS, give it the same two files (nginx: ssl_certificate, ssl_certificate_key).',
  ]);

  const perHost = (f: (h: string) => string[]) => hosts.flatMap((h) => f(h));
  section('2. Docker Engine: on every machine that pushes or pulls (no restart needed)', [
    `copy ${i.caCert} to the machine, then:`,
    ...perHost((h) => [`sudo mkdir -p /etc/docker/certs.d/${h}`, `sudo cp ca.crt /etc/docker/certs.d/${h}/ca.crt`]),
  ]);
  section('3. podman, buildah, skopeo, CRI-O (containers/image)', [
    ...perHost((h) => [`sudo mkdir -p /etc/containers/certs.d/${h}`, `sudo cp ca.crt /etc/containers/certs.d/${h}/ca.crt`]),
    'or per command: skopeo copy --dest-cert-dir DIR ... (DIR holding ca.crt)',
  ]);
  section('4. containerd (Kubernetes nodes, nerdctl, ctr --hosts-dir /etc/containerd/certs.d)', [
    ...perHost((h) => [
      `sudo mkdir -p /etc/containerd/certs.d/${h}`,
      `sudo cp ca.crt /etc/containerd/certs.d/${h}/ca.crt`,
      `sudo tee /etc/containerd/certs.d/${h}/hosts.toml <<'TOML'`,
      `server = "https://${h}"`,
      '',
      `[host."https://${h}"]`,
      '  capabilities = ["pull", "resolve", "push"]',
      `  ca = "/etc/containerd/certs.d/${h}/ca.crt"`,
      'TOML',
    ]),
    'and once per node, in /etc/containerd/config.toml (then restart containerd):',
    '  [plugins."io.containerd.grpc.v1.cri".registry]',
    '    config_path = "/etc/containerd/certs.d"',
  ]);
  const file = (i.names.dns[0] ?? i.names.ips[0]).replace(/[^A-Za-z0-9.-]/g, '_');
  section('5. The system trust store (curl, git, language runtimes; some Docker versions need it too)', [
    'Debian, Ubuntu:',
    `  sudo cp ca.crt /usr/local/share/ca-certificates/berth-${file}.crt`,
    '  sudo update-ca-certificates',
    'RHEL, CentOS, Fedora, Rocky, Alma:',
    `  sudo cp ca.crt /etc/pki/ca-trust/source/anchors/berth-${file}.crt`,
    '  sudo update-ca-trust',
    'then restart the Docker daemon if it should use the system store (systemctl restart docker).',
  ]);
  section('Check it', [`curl --cacert ${i.caCert} https://${first}/v2/`, `docker pull ${first}/library/alpine:latest`]);
  if (wildcard.length) out.push(`(${wildcard.join(', ')}: use the actual registry name, e.g. ${first}, in the paths above.)`, '');
  return out.join('\n');
}
