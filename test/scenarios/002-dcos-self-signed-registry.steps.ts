// Seed 002_0bc5fa207a63b3ba.txt (DC/OS 搭建私有容器仓库), "使用自签名证书搭建私有容器仓库": a self-signed
// certificate whose CN and subjectAltName are the registry's VIP (192.168.0.1), the registry with
// REGISTRY_HTTP_TLS_* from the Marathon app's env, the certificate trusted through certs.d on every
// agent (the cure for Jenkins slaves' "x509: certificate signed by unknown authority"); and
// "在集群外部访问容器仓库": the app's HAPROXY_GROUP external label, Marathon-LB on a public agent in
// front of the app's servicePort 5000.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '002_0bc5fa207a63b3ba.txt',
  section: '使用自签名证书搭建私有容器仓库 (创建自签名证书, 部署Registry到DCOS集群, 在集群外部访问容器仓库)',
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
    // ... and after: on every agent. Port 443: the directory is named after the address alone.
    certsD: 'sudo mkdir -p /etc/docker/certs.d/192.168.0.1',
    trust: 'sudo cp ~/certs/domain.crt /etc/docker/certs.d/192.168.0.1/ca.crt',
    push: 'berth push slave.tar 192.168.0.1/jenkins/slave:latest',
    pull: 'podman pull 192.168.0.1/jenkins/slave:latest',
    catalog: 'curl -s --cacert /etc/docker/certs.d/192.168.0.1/ca.crt https://192.168.0.1/v2/_catalog',

    // 在集群外部访问容器仓库: Marathon-LB (HAPROXY_GROUP external) on a public agent, 203.0.113.10 here
    // (the document names none), serves the app's servicePort 5000. nginx plays it, with the
    // registry's own certificate.
    lbDir: 'mkdir -p ~/marathon-lb',
    lbConf: String.raw`cat > ~/marathon-lb/nginx.conf <<'EOF'
events {
  worker_connections 1024;
}
http {
  access_log off;
  server {
    # servicePort 5000 of the app labelled HAPROXY_GROUP external, on the public agent
    listen 203.0.113.10:5000 ssl;
    ssl_certificate /etc/privateregistry/certs/domain.crt;
    ssl_certificate_key /etc/privateregistry/certs/domain.key;
    client_max_body_size 0;
    location / {
      proxy_pass https://192.168.0.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_http_version 1.1;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 900;
    }
  }
}
EOF`,
    lb: "nginx -p ~/marathon-lb/ -c nginx.conf -e error.log -g 'daemon off; user root; pid nginx.pid;'",
    // A machine outside the cluster trusts the same certificate for the public agent's address.
    outsideCertsD: 'sudo mkdir -p /etc/docker/certs.d/203.0.113.10:5000',
    outsideTrust: 'sudo cp ~/certs/domain.crt /etc/docker/certs.d/203.0.113.10:5000/ca.crt',
    outsideInspect: 'skopeo inspect docker://203.0.113.10:5000/jenkins/slave:latest',
    // The document's certificate names only the VIP: add the public agent's address and reissue.
    addOutsideSan: 'sed -i "s/^subjectAltName = IP:192.168.0.1$/subjectAltName = IP:192.168.0.1, IP:203.0.113.10/" ./openssl.cnf',
    outsidePull: 'podman pull 203.0.113.10:5000/jenkins/slave:latest',
    outsidePush: 'berth push slave.tar 203.0.113.10:5000/jenkins/slave:outside',
    tags: 'curl -s --cacert /etc/docker/certs.d/192.168.0.1/ca.crt https://192.168.0.1/v2/jenkins/slave/tags/list',
  },
  cannotRun: {
    'for i in $(curl -sS master.mesos:5050/slaves | jq \'.slaves[] | .hostname\' | tr -d \'"\'); do ssh "$i" -oStrictHostKeyChecking=no "sudo sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=1"; done':
      "needs a DC/OS cluster's agents (and changes their kernels); berth is reached here without the layer 4 load balancer",
    'dcos marathon app add registry.json': 'needs a DC/OS cluster (Marathon, VIPs, Marathon-LB); berth serve runs with the same env, certificate files and data directory, on the VIP address and port 443',
    'dcos package install marathon-lb': 'needs a DC/OS cluster; nginx on the public agent\'s address and the servicePort 5000 plays Marathon-LB, with the registry\'s certificate',
  },
} satisfies Steps;
