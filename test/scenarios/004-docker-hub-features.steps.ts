// Seed 004_6812c7fe10beb796.txt (第五章), "Docker 公共存储库（Docker Hub）" and "将图像推送到 Docker Hub":
// what the document lists as Docker Hub's features beyond storing images (search, WebHooks,
// organisations and teams for user management), docker login/logout, and the push of
// username/cowsay-dockerfile, done against berth.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '004_6812c7fe10beb796.txt',
  section: 'Docker 公共存储库（Docker Hub） / 将图像推送到 Docker Hub',
  run: {
    admin: "printf '%s' admin-password | berth user add admin --file htpasswd --password-stdin",
    config: `cat > config.yml <<'EOF'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
auth:
  htpasswd:
    realm: basic-realm
    path: htpasswd
notifications:
  endpoints:
    - name: ci
      url: http://ci.example.com:8080/hooks/registry
      timeout: 2s
      backoff: 1s
berth:
  auth:
    accesscontrol:
      enabled: true
      admins: [admin]
EOF`,
    serve: 'berth serve config.yml',
    // An account (DTR style: the administrator creates it), then an organisation (a team) owning the namespace username/, with username as a member.
    user: `curl -s -u admin:admin-password -H 'Content-Type: application/json' -d '{"name": "username", "password": "username-password"}' http://localhost:5000/api/v1/users`,
    team: `curl -s -u admin:admin-password -H 'Content-Type: application/json' -d '{"name": "cowsay-team"}' http://localhost:5000/api/v1/teams`,
    member: 'curl -s -u admin:admin-password -X PUT http://localhost:5000/api/v1/teams/cowsay-team/members/username',
    grant: `curl -s -u admin:admin-password -H 'Content-Type: application/json' -d '{"subject": {"kind": "team", "name": "cowsay-team"}, "scope": {"kind": "namespace", "name": "username"}, "role": "write"}' http://localhost:5000/api/v1/permissions`,
    login: 'docker login -u username -p username-password localhost:5000',
    push: 'berth push cowsay-dockerfile.tar localhost:5000/username/cowsay-dockerfile',
    search: 'podman search --tls-verify=false localhost:5000/cowsay',
    searchApi: "curl -s -u username:username-password 'http://localhost:5000/v1/search?q=cowsay'",
    logout: 'docker logout localhost:5000',
    pushLoggedOut: 'berth push cowsay-dockerfile.tar localhost:5000/username/cowsay-dockerfile:2',
  },
  cannotRun: {
    'docker search centos': 'needs a Docker engine (the CLI asks the daemon); podman search asks the same /v1/search API',
  },
} satisfies Steps;
