// Seed 004_6812c7fe10beb796.txt (第五章), "Docker Trusted Registry (DTR)" and the DTR steps of "Docker
// 通用控制平面": image management behind the firewall with a web console, LDAP users and role-based
// access, "new repository" made private, and the settings page (domain, TLS, storage).
import type { Steps } from './harness.ts';

export const steps = {
  seed: '004_6812c7fe10beb796.txt',
  section: 'Docker Trusted Registry (DTR) / Docker 通用控制平面 (DTR UI: 新存储库, 私有, 设置)',
  run: {
    config: `cat > config.yml <<'EOF'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
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
    team: `curl -s -u alice:alice-pass-1 -H 'Content-Type: application/json' -d '{"name": "dev"}' http://localhost:5000/api/v1/teams`,
    grant: `curl -s -u alice:alice-pass-1 -H 'Content-Type: application/json' -d '{"subject": {"kind": "team", "name": "dev"}, "scope": {"kind": "namespace", "name": "dev"}, "role": "write"}' http://localhost:5000/api/v1/permissions`,
    // bob is in the group developers (team dev); carol is not.
    pushBob: 'berth push app.tar localhost:5000/dev/app:1.0 --creds bob:bob-pass-2',
    pushCarol: 'berth push app.tar localhost:5000/dev/app:1.1 --creds carol:carol-pass-3',
    anonymous: 'skopeo inspect --no-creds --tls-verify=false docker://localhost:5000/dev/app:1.0',
  },
  cannotRun: {
    'docker run -it --rm docker/dtr install --ucp-url https://192.168.99.101:443/ --ucp-node node2 --dtr-load-balancer 192.168.99.102 --ucp-username admin --ucp-password 123456 --ucp-ca "$(cat ucp-ca.pem)"':
      'needs Docker UCP on docker-machine VMs; berth serve is the whole registry, console included',
  },
} satisfies Steps;
