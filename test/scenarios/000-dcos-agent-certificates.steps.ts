// Seed 000_9544d956e9b46c70.txt (DC/OS, 使用专用 Docker 注册表), section
// "配置代理以使用 Docker 注册表的自定义证书": the registry's CA in /etc/docker/certs.d/<host:port>/ca.crt
// and, hashed, in /var/lib/dcos/pki/tls/certs on every agent.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '000_9544d956e9b46c70.txt',
  section: '配置代理以使用 Docker 注册表的自定义证书',
  run: {
    tlsInit: 'berth tls init --host registry.mycompany.com --out certs',
    config: `cat > config.yml <<'EOF'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  tls:
    certificate: certs/server.crt
    key: certs/server.key
EOF`,
    serve: 'berth serve config.yml',
    inspect: 'skopeo inspect docker://registry.mycompany.com:5000/team/app:1.0',
    mkdirCertsD: 'sudo mkdir -p /etc/docker/certs.d/registry.mycompany.com:5000',
    copyCa: 'sudo cp certs/ca.crt /etc/docker/certs.d/registry.mycompany.com:5000/ca.crt',
    push: 'berth push app.tar registry.mycompany.com:5000/team/app:1.0',
    mkdirDcos: 'sudo mkdir -p /var/lib/dcos/pki/tls/certs',
    copyDcos: 'sudo cp /etc/docker/certs.d/registry.mycompany.com:5000/ca.crt /var/lib/dcos/pki/tls/certs/docker-registry-ca.crt',
    cdDcos: 'cd /var/lib/dcos/pki/tls/certs/',
    hash: 'openssl x509 -hash -noout -in docker-registry-ca.crt',
    link: 'sudo ln -s /var/lib/dcos/pki/tls/certs/docker-registry-ca.crt /var/lib/dcos/pki/tls/certs/$(openssl x509 -hash -noout -in docker-registry-ca.crt).0',
    curlCapath: 'curl --capath /var/lib/dcos/pki/tls/certs https://registry.mycompany.com:5000/v2/team/app/tags/list',
    verify: 'openssl verify -CApath /var/lib/dcos/pki/tls/certs ~/certs/server.crt',
    pull: 'podman pull registry.mycompany.com:5000/team/app:1.0',
  },
  cannotRun: {},
} satisfies Steps;
