// Seed 002_0bc5fa207a63b3ba.txt (DC/OS 搭建私有容器仓库), "使用自签名证书搭建私有容器仓库": a self-signed
// certificate whose CN and subjectAltName are the registry's VIP (192.168.0.1), the registry with
// REGISTRY_HTTP_TLS_* from the Marathon app's env, the certificate trusted through certs.d on every
// agent (the cure for Jenkins slaves' "x509: certificate signed by unknown authority").
import type { Steps } from './harness.ts';

export const steps = {
  seed: '002_0bc5fa207a63b3ba.txt',
  section: '使用自签名证书搭建私有容器仓库 (创建自签名证书, 部署Registry到DCOS集群)',
  run: {
    cdHome: 'cd ~',
    mkdirCerts: 'mkdir certs',
    cdCerts: 'cd certs',
    copyCnf: 'cp /opt/mesosphere/packages/openssl--8042860cf76ca9ef965af9ee6d59acace266356e/etc/ssl/openssl.cnf ./openssl.cnf',
    addSan: 'sed -i "/\\[ v3_ca \\]/a subjectAltName = IP:192.168.0.1" ./openssl.cnf',
    req: 'openssl req -config ./openssl.cnf -newkey rsa:2048 -nodes -keyout domain.key -x509 -days 365 -out domain.crt -subj "/C=CN/ST=SH/L=Shang Hai/O=example.com/CN=192.168.0.1"',
    showSan: 'openssl x509 -in domain.crt -noout -ext subjectAltName',
    // The Marathon app's volumes: the certificates and the data directory on the host.
    hostCerts: 'sudo mkdir -p /etc/privateregistry/certs && sudo cp domain.crt domain.key /etc/privateregistry/certs/',
    // The Marathon app's env, and its VIP 192.168.0.1:443 as the listening address.
    serve: 'REGISTRY_HTTP_TLS_CERTIFICATE=/etc/privateregistry/certs/domain.crt REGISTRY_HTTP_TLS_KEY=/etc/privateregistry/certs/domain.key REGISTRY_HTTP_SECRET=123456secret REGISTRY_HTTP_ADDR=192.168.0.1:443 REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data/docker-registry berth serve',
    // An agent (or a Jenkins slave) before it trusts the certificate...
    inspect: 'skopeo inspect docker://192.168.0.1/jenkins/slave:latest',
    // ... and after: on every agent.
    certsD: 'sudo mkdir -p /etc/docker/certs.d/192.168.0.1',
    trust: 'sudo cp ~/certs/domain.crt /etc/docker/certs.d/192.168.0.1/ca.crt',
    push: 'berth push slave.tar 192.168.0.1/jenkins/slave:latest',
    pull: 'podman pull 192.168.0.1/jenkins/slave:latest',
    catalog: 'curl -s --cacert /etc/docker/certs.d/192.168.0.1/ca.crt https://192.168.0.1/v2/_catalog',
  },
  cannotRun: {
    'for i in $(curl -sS master.mesos:5050/slaves | jq \'.slaves[] | .hostname\' | tr -d \'"\'); do ssh "$i" -oStrictHostKeyChecking=no "sudo sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=1"; done':
      "needs a DC/OS cluster's agents (and changes their kernels); berth is reached here without the layer 4 load balancer",
    'dcos marathon app add registry.json': 'needs a DC/OS cluster (Marathon, VIPs, Marathon-LB); berth serve runs with the same env, certificate files and data directory',
  },
} satisfies Steps;
