// Seed 000_9544d956e9b46c70.txt (DC/OS: 使用专用 Docker 注册表), sections
// "将专用 Docker 注册表凭据以 URI 引用" and "引用密钥存储库中的专用 Docker 注册表凭据" (对于服务, 对于 pod).
// The app and pod definitions are the document's, with its image placeholder replaced by the image
// this scenario pushes.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '000_9544d956e9b46c70.txt',
  section: '将专用 Docker 注册表凭据以 URI 引用 / 引用密钥存储库中的专用 Docker 注册表凭据',
  run: {
    // The registry: TLS with berth's CA, htpasswd logins.
    tlsInit: 'berth tls init --host some.docker.host.com --out certs',
    certsDir: 'mkdir -p /etc/docker/certs.d/some.docker.host.com:5000',
    trustCa: 'cp certs/ca.crt /etc/docker/certs.d/some.docker.host.com:5000/ca.crt',
    addUser: "printf '%s' 'hard-to-guess-password' | berth user add foo --file htpasswd --password-stdin",
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
auth:
  htpasswd:
    realm: basic-realm
    path: htpasswd
EOF`,
    serve: 'berth serve config.yml',
    push: 'berth push repo.tar some.docker.host.com:5000/namespace/repo:latest --creds foo:hard-to-guess-password',

    // The document's way: docker login, then an archive of ~/.docker.
    dockerLogin: "echo 'hard-to-guess-password' | docker login some.docker.host.com:5000 -u foo --password-stdin",
    cdHome: 'cd ~',
    tarDocker: 'tar -czf docker.tar.gz .docker',
    listArchive: 'tar -tvf ~/docker.tar.gz',

    // berth's way: the archive straight from the login, whatever ~/.docker holds.
    archive: "printf '%s' 'hard-to-guess-password' | berth login some.docker.host.com:5000 -u foo --password-stdin --archive docker.tar.gz",
    listBerthArchive: 'tar -tvf docker.tar.gz',
    copyToEtc: 'cp docker.tar.gz /etc/docker.tar.gz',
    // What Mesos' fetcher does with "fetch": [{"uri": "file:///etc/docker.tar.gz"}]: unpack into the
    // task's sandbox, which is the HOME the image is pulled with.
    unpack: 'mkdir -p /mnt/mesos/sandbox && tar -xzf /etc/docker.tar.gz -C /mnt/mesos/sandbox',
    pullWithHome: 'HOME=/mnt/mesos/sandbox skopeo copy docker://some.docker.host.com:5000/namespace/repo:latest oci:/mnt/mesos/sandbox/repo:latest',
    pullWithAuthfile: 'skopeo copy --authfile /mnt/mesos/sandbox/.docker/config.json docker://some.docker.host.com:5000/namespace/repo:latest oci:repo-copy:latest',
    pullAnonymous: 'skopeo copy docker://some.docker.host.com:5000/namespace/repo:latest oci:anonymous:latest',
    // 步骤 2: the service definition with "fetch". The document gives this file no name; it is named
    // after the app's id here.
    uriApp: `cat > some-name-or-id.json <<'EOF'
{
  "id": "/some/name/or/id",
  "cpus": 1,
  "mem": 1024,
  "instances": 1,
  "container": {
    "type": "DOCKER",
    "docker": {
      "image": "some.docker.host.com:5000/namespace/repo"
    }
  },
  "fetch": [
    {
      "uri": "file:///etc/docker.tar.gz"
    }
  ]
}
EOF`,

    // Secret store: the config.json itself.
    printConfig: "printf '%s' 'hard-to-guess-password' | berth login some.docker.host.com:5000 -u foo --password-stdin --print-config > config.json",
    showConfig: 'cat config.json',
    base64: 'echo -n foo:hard-to-guess-password | base64',
    pullWithSecret: 'podman pull --authfile config.json some.docker.host.com:5000/namespace/repo:latest',
    // 对于服务: docker.pullConfig names the secret (UCR only: container.type MESOS).
    serviceApp: `cat > mesos-docker.json <<'EOF'
{
  "id": "/mesos-docker",
  "container": {
    "docker": {
      "image": "some.docker.host.com:5000/namespace/repo",
      "pullConfig": {
        "secret": "pullConfigSecret"
      }
    },
    "type": "MESOS"
  },
  "secrets": {
    "pullConfigSecret": {
      "source": "/mesos-docker/pullConfig"
    }
  },
  "args": ["hello"],
  "cpus": 0.2,
  "mem": 16.0,
  "instances": 1
}
EOF`,
    // 对于 pod: containers[].image.pullConfig names the secret (image.kind DOCKER only).
    podDefinition: `cat > simple-pod.json <<'EOF'
{
  "id": "/simple-pod",
  "containers": [
    {
      "name": "simpletask1",
      "exec": {
        "command": {
          "shell": "env && sleep 1000"
        }
      },
      "resources": {
        "cpus": 0.1,
        "mem": 32
      },
      "image": {
        "kind": "DOCKER",
        "id": "some.docker.host.com:5000/namespace/repo",
        "pullConfig": {
          "secret": "pullConfigSecret"
        }
      }
    }
  ],
  "networks": [
    {
      "mode": "host"
    }
  ],
  "secrets": {
    "pullConfigSecret": {
      "source": "/pod/pullConfig"
    }
  }
}
EOF`,
    // What the pod's secret /pod/pullConfig holds is the same config.json: the pull the UCR makes with it.
    pullForPod: 'skopeo copy --authfile config.json docker://some.docker.host.com:5000/namespace/repo:latest oci:simple-pod:latest',
    // A Mac's docker login keeps the password in the keychain: config.json only names the helper.
    keychainConfig: `echo '{"credsStore": "osxkeychain"}' > ~/.docker/config.json`,
  },
  cannotRun: {
    'dcos marathon app add some-name-or-id.json': 'needs a DC/OS cluster (Marathon); the archive is unpacked and used for a pull the way the Mesos fetcher and the Docker containerizer do',
    'dcos security secrets create --file=config.json mesos-docker/pullConfig': 'needs a DC/OS Enterprise cluster; the test pulls with config.json as the Universal Container Runtime would (skopeo/podman --authfile)',
    'dcos marathon app add mesos-docker.json': "needs a DC/OS cluster (Marathon, UCR); the test checks the definition's pullConfig names the secret holding config.json, and pulls with that file",
    'dcos security secrets create --file=config.json pod/pullConfig': 'needs a DC/OS Enterprise cluster; the secret /pod/pullConfig would hold the same config.json, which the test pulls with (skopeo --authfile)',
    'dcos marathon pod add simple-pod.json': "needs a DC/OS cluster (Marathon pods, UCR); the test checks the pod's image.pullConfig names the secret holding config.json, and pulls the pod's image with that file",
  },
} satisfies Steps;
