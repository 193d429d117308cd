// Seed 003_1f570e1afeed732f.txt (7.搭建本地私有仓库), "注意事项", the DOCKER_OPTS of "Ubuntu 14.04, Debian 7
// Wheezy" (upstart) and the daemon.json of "Ubuntu 16.04+, Debian 8+, centos 7": a registry on a LAN address over plain HTTP is refused until it is listed
// in insecure-registries; registry-mirror(s) sends Docker Hub pulls to a mirror. Here daemon.json's
// two keys become a registries.conf drop-in that skopeo, podman and buildah read, and the mirror is
// berth's pull-through cache (distribution's proxy.remoteurl).
import type { Steps } from './harness.ts';

export const steps = {
  seed: '003_1f570e1afeed732f.txt',
  section: '注意事项 / DOCKER_OPTS (upstart), daemon.json: insecure-registries, registry-mirror / 其他 (Docker for Windows, Docker for Mac)',
  run: {
    serve: 'REGISTRY_HTTP_ADDR=192.168.199.100:5000 berth serve',
    load: 'podman load -i centos.tar',
    tag: 'podman tag centos:latest 192.168.199.100:5000/centos:latest',
    push: 'podman push 192.168.199.100:5000/centos:latest',
    mirrorConfig: `cat > mirror.yml <<'EOF'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry-mirror
http:
  addr: 192.168.199.100:5001
proxy:
  remoteurl: https://registry-1.docker.io
EOF`,
    mirror: 'berth serve mirror.yml',
    registriesConf: `cat > /etc/containers/registries.conf.d/berth.conf <<'EOF'
# daemon.json "insecure-registries": ["192.168.199.100:5000"]
[[registry]]
location = "192.168.199.100:5000"
insecure = true

# daemon.json "registry-mirrors": ["http://192.168.199.100:5001"]
[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "192.168.199.100:5001"
insecure = true
EOF`,
    berthPush: 'berth push centos.tar 192.168.199.100:5000/centos:7 --insecure',
    catalog: 'curl 192.168.199.100:5000/v2/_catalog',
    pullHub: 'podman pull docker.io/library/centos:latest',
    mirrorCatalog: 'curl 192.168.199.100:5001/v2/_catalog',
    mirrorPush: 'berth push centos.tar 192.168.199.100:5001/library/centos:mine --insecure',
  },
  cannotRun: {
    // Ubuntu 14.04, Debian 7 (upstart): the same two settings as dockerd flags. The document writes
    // --insecure-registries, which dockerd does not know; the flag is --insecure-registry.
    [`echo 'DOCKER_OPTS="--registry-mirror=https://registry.docker-cn.com --insecure-registry=192.168.199.100:5000"' >> /etc/default/docker`]:
      'there is no Docker engine (dockerd) or upstart here; the registries.conf drop-in carries the same two settings for skopeo, podman and buildah',
    'service docker restart': 'there is no Docker engine or upstart here; skopeo, podman and buildah read registries.conf at every command, nothing restarts',
    'systemctl restart docker': 'there is no Docker engine here; skopeo, podman and buildah read registries.conf at every command, nothing restarts',
  },
} satisfies Steps;
