// Seed 004_6812c7fe10beb796.txt (第五章), "Docker Trusted Registry (DTR)" and the DTR steps of "Docker
// 通用控制平面": image management behind the firewall with a web console, LDAP users and role-based
// access, "new repository" made private, and the settings page (domain, TLS, storage). The UCP
// steps (docker-machine VMs, docker/ucp install and join, UCP's CA fetched with curl -k) cannot run
// here; berth needs no control plane, and its CA is the ca.crt `berth tls init` writes.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '004_6812c7fe10beb796.txt',
  section: 'Docker Trusted Registry (DTR) / Docker 通用控制平面 (DTR UI: 新存储库, 私有, 设置)',
  run: {
    // The registry's own CA and certificate (DTR's "TLS 证书"), trusted where docker, skopeo,
    // podman and berth look for it: what UCP's `curl -k https://.../ca > ucp-ca.pem` is for.
    tlsInit: 'berth tls init --host localhost --out certs',
    certsDir: 'mkdir -p /etc/docker/certs.d/localhost:5000',
    trustCa: 'cp certs/ca.crt /etc/docker/certs.d/localhost:5000/ca.crt',
    config: `cat > config.yml <<'EOF'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  host: https://localhost:5000
  tls:
    certificate: certs/server.crt
    key: certs/server.key
berth:
  auth:
    accesscontrol:
      enabled: true
    ldap:
      url: ldap://ldap.example.org:389
      binddn: cn=berth,ou=services,dc=example,dc=org
      bindpassword: svc-bind-Secr3t-0xC0FFEE
      basedn: dc=example,dc=org
      admingroups: [registry-admins]
      teammapping:
        developers: dev
EOF`,
    serve: 'berth serve config.yml',
    // alice is in the directory group registry-admins: a site administrator.
    adminLogin: 'docker login -u alice -p alice-pass-1 localhost:5000',
    team: `curl -s -u alice:alice-pass-1 -H 'Content-Type: application/json' -d '{"name": "dev"}' --cacert certs/ca.crt https://localhost:5000/api/v1/teams`,
    grant: `curl -s -u alice:alice-pass-1 -H 'Content-Type: application/json' -d '{"subject": {"kind": "team", "name": "dev"}, "scope": {"kind": "namespace", "name": "dev"}, "role": "write"}' --cacert certs/ca.crt https://localhost:5000/api/v1/permissions`,
    // bob is in the group developers (team dev); carol is not.
    pushBob: 'berth push app.tar localhost:5000/dev/app:1.0 --creds bob:bob-pass-2',
    pushCarol: 'berth push app.tar localhost:5000/dev/app:1.1 --creds carol:carol-pass-3',
    anonymous: 'skopeo inspect --no-creds docker://localhost:5000/dev/app:1.0',
  },
  cannotRun: {
    // Docker 通用控制平面: two VirtualBox VMs, UCP installed on node1, node2 joined.
    'docker-machine create -d virtualbox --virtualbox-memory "2000" --virtualbox-disk-size "5000" node1':
      'needs docker-machine and VirtualBox (neither is here, and docker-machine is discontinued); berth is one process on the registry host, with no cluster under it',
    'docker-machine create -d virtualbox --virtualbox-memory "2000" node2': 'needs docker-machine and VirtualBox; berth needs no second node',
    'eval $(docker-machine env node1)': "points the docker CLI at node1's Docker engine: there is no VM or engine here",
    'docker run --rm -it -v /var/run/docker.sock:/var/run/docker.sock --name ucp docker/ucp install -i --swarm-port 3376 --host-address $(docker-machine ip node1)':
      'needs a Docker engine and Docker UCP (a discontinued, licensed product); berth needs no control plane: berth serve is the registry, its console and its sign-in',
    'eval $(docker-machine env node2)': "points the docker CLI at node2's Docker engine: there is no VM or engine here",
    'docker run --rm -it -v /var/run/docker.sock:/var/run/docker.sock --name ucp docker/ucp join -i --host-address $(docker-machine ip node2)': 'needs a Docker engine and a UCP controller to join',
    'curl -k https://192.168.99.101:443/ca > ucp-ca.pem':
      "needs UCP, which serves its CA at /ca (fetched without verification: whoever answers is trusted); berth's CA is the ca.crt berth tls init wrote, copied to each client's certs.d",
    'docker run -it --rm docker/dtr install --ucp-url https://192.168.99.101:443/ --ucp-node node2 --dtr-load-balancer 192.168.99.102 --ucp-username admin --ucp-password 123456 --ucp-ca "$(cat ucp-ca.pem)"':
      'needs Docker UCP on docker-machine VMs; berth serve is the whole registry, console included',
  },
} satisfies Steps;
