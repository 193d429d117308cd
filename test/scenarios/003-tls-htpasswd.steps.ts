// Seed 003_1f570e1afeed732f.txt (7.搭建本地私有仓库), "私有仓库高级配置": a private CA and a site
// certificate for docker.funet8.com made with openssl step by step, /etc/docker/registry/config.yml
// with htpasswd auth and TLS, /etc/hosts, docker login, push/pull, and a push refused after logout.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '003_1f570e1afeed732f.txt',
  section: '私有仓库高级配置 (准备站点证书, 配置私有仓库, 测试私有仓库功能)',
  run: {
    caKey: 'openssl genrsa -out "root-ca.key" 4096',
    caCsr: `openssl req -new -key "root-ca.key" -out "root-ca.csr" -sha256 -subj '/C=CN/ST=Shanxi/L=Datong/O=Your Company Name/CN=Your Company Name Docker Registry CA'`,
    caCnf: `cat > root-ca.cnf <<'EOF'
[root_ca]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical, nonRepudiation, cRLSign, keyCertSign
subjectKeyIdentifier=hash
EOF`,
    caCrt: 'openssl x509 -req -days 3650 -in "root-ca.csr" -signkey "root-ca.key" -sha256 -out "root-ca.crt" -extfile "root-ca.cnf" -extensions root_ca',
    siteKey: 'openssl genrsa -out "docker.funet8.com.key" 4096',
    siteCsr: `openssl req -new -key "docker.funet8.com.key" -out "site.csr" -sha256 -subj '/C=CN/ST=Shanxi/L=Datong/O=Your Company Name/CN=docker.funet8.com'`,
    siteCnf: `cat > site.cnf <<'EOF'
[server]
authorityKeyIdentifier=keyid,issuer
basicConstraints = critical,CA:FALSE
extendedKeyUsage=serverAuth
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = DNS:docker.funet8.com, IP:127.0.0.1
subjectKeyIdentifier=hash
EOF`,
    siteCrt: 'openssl x509 -req -days 750 -in "site.csr" -sha256 -CA "root-ca.crt" -CAkey "root-ca.key" -CAcreateserial -out "docker.funet8.com.crt" -extfile "site.cnf" -extensions server',
    sslDir: 'mkdir -p /etc/docker/registry/ssl',
    sslCopy: 'cp docker.funet8.com.crt docker.funet8.com.key /etc/docker/registry/ssl/',
    config: `cat > /etc/docker/registry/config.yml <<'EOF'
version: 0.1
log:
  accesslog:
    disabled: true
  level: debug
  formatter: text
  fields:
    service: registry
    environment: staging
storage:
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
auth:
  htpasswd:
    realm: basic-realm
    path: /etc/docker/registry/auth/nginx.htpasswd
http:
  addr: :443
  host: https://docker.funet8.com
  headers:
    X-Content-Type-Options: [nosniff]
  http2:
    disabled: false
  tls:
    certificate: /etc/docker/registry/ssl/docker.funet8.com.crt
    key: /etc/docker/registry/ssl/docker.funet8.com.key
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF`,
    authDir: 'mkdir /etc/docker/registry/auth/',
    htpasswd: "printf '%s' funet8-123456 | berth user add admin --file /etc/docker/registry/auth/nginx.htpasswd --password-stdin",
    serve: 'berth serve /etc/docker/registry/config.yml',
    // The document leaves this out: clients must trust the private CA.
    certsD: 'mkdir -p /etc/docker/certs.d/docker.funet8.com',
    trust: 'cp root-ca.crt /etc/docker/certs.d/docker.funet8.com/ca.crt',
    login: 'docker login -u admin -p funet8-123456 docker.funet8.com',
    // docker pull ubuntu:17.10: here, a docker save tarball of it.
    load: 'podman load -i ubuntu-17.10.tar',
    tag: 'podman tag ubuntu:17.10 docker.funet8.com/username/ubuntu:17.10',
    push: 'podman push docker.funet8.com/username/ubuntu:17.10',
    rmi: 'podman image rm docker.funet8.com/username/ubuntu:17.10',
    pull: 'podman pull docker.funet8.com/username/ubuntu:17.10',
    logout: 'docker logout docker.funet8.com',
    berthPush: 'berth push ubuntu-17.10.tar docker.funet8.com/username/ubuntu:17.10',
  },
  cannotRun: {
    'docker-compose up -d': 'needs a Docker engine (and the document\'s docker-compose.yml lost its indentation: "service must be a mapping"); berth serve runs the same config.yml',
    'docker pull ubuntu:17.10': 'needs a Docker engine and Docker Hub; the test starts from a docker save tarball of ubuntu:17.10',
  },
} satisfies Steps;
