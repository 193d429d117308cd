// Seed 004_6812c7fe10beb796.txt (第五章), "确保图像的完整性-签名图像": Docker content trust through a
// Notary server: `notary list` before anything is signed, the image pushed and signed, `notary list`
// showing the signed tag. berth is the registry and the Notary server in one process.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '004_6812c7fe10beb796.txt',
  section: '确保图像的完整性-签名图像',
  run: {
    tlsInit: 'berth tls init --host registry.example.com --out certs',
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
    certsD: 'mkdir -p /etc/docker/certs.d/registry.example.com:5000 && cp certs/ca.crt /etc/docker/certs.d/registry.example.com:5000/ca.crt',
    push: 'berth push cowsay-dockerfile.tar registry.example.com:5000/vkohli/cowsay-dockerfile:latest',
    // The document: mkdir -p ~/.notary && cp cmd/notary/config.json cmd/notary/root-ca.crt ~/.notary
    notaryDir: 'mkdir -p ~/.notary && cp certs/ca.crt ~/.notary/root-ca.crt',
    notaryConfig: `cat > ~/.notary/config.json <<'EOF'
{
  "trust_dir": "~/.docker/trust",
  "remote_server": {
    "url": "https://registry.example.com:5000",
    "root_ca": "root-ca.crt"
  }
}
EOF`,
    listBefore: 'notary -s https://registry.example.com:5000 -d ~/.docker/trust list registry.example.com:5000/vkohli/cowsay-dockerfile',
    passphrases: 'export NOTARY_ROOT_PASSPHRASE=root-passphrase NOTARY_TARGETS_PASSPHRASE=targets-passphrase NOTARY_SNAPSHOT_PASSPHRASE=snapshot-passphrase',
    init: 'notary init registry.example.com:5000/vkohli/cowsay-dockerfile',
    manifest: 'berth inspect --raw registry.example.com:5000/vkohli/cowsay-dockerfile:latest > manifest.json',
    add: 'notary add registry.example.com:5000/vkohli/cowsay-dockerfile latest manifest.json',
    publish: 'notary publish registry.example.com:5000/vkohli/cowsay-dockerfile',
    list: 'notary list registry.example.com:5000/vkohli/cowsay-dockerfile',
    listWithTag: 'notary list registry.example.com:5000/vkohli/cowsay-dockerfile:latest',
    digest: 'berth digest registry.example.com:5000/vkohli/cowsay-dockerfile:latest',
    dockerTls: 'mkdir -p ~/.docker/tls/registry.example.com:5000 && cp certs/ca.crt ~/.docker/tls/registry.example.com:5000/ca.crt',
    trustInspect: 'docker trust inspect --pretty registry.example.com:5000/vkohli/cowsay-dockerfile',
  },
  cannotRun: {
    'DOCKER_CONTENT_TRUST=1 docker push registry.example.com:5000/vkohli/cowsay-dockerfile:latest': 'needs a Docker engine; berth push and notary add/publish put the same image and the same signed target in place',
    'docker-compose up -d': "needs a Docker engine; berth serves the Notary API itself, on the registry's own port",
  },
} satisfies Steps;
