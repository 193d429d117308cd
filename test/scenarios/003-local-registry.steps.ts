// Seed 003_1f570e1afeed732f.txt (7.搭建本地私有仓库), "安装运行 docker-registry" and
// "在私有仓库上传、搜索、下载镜像": the registry on :5000 with its data in /opt/data/registry,
// docker tag/push of centos to 127.0.0.1:5000, curl /v2/_catalog, docker image rm and pull.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '003_1f570e1afeed732f.txt',
  section: '安装运行 docker-registry / 在私有仓库上传、搜索、下载镜像 / 用 curl 查看仓库中的镜像',
  run: {
    serve: 'REGISTRY_HTTP_ADDR=:5000 REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/opt/data/registry berth serve',
    // docker pull centos: here, a `docker save` tarball of it.
    load: 'podman load -i centos.tar',
    tag: 'podman tag centos:latest 127.0.0.1:5000/centos:latest',
    push: 'podman push --tls-verify=false 127.0.0.1:5000/centos:latest',
    catalog: 'curl 127.0.0.1:5000/v2/_catalog',
    rmi: 'podman image rm 127.0.0.1:5000/centos:latest',
    pull: 'podman pull --tls-verify=false 127.0.0.1:5000/centos:latest',
    // berth's own client: no engine, no image store, the tarball in and out.
    berthPush: 'berth push centos.tar 127.0.0.1:5000/centos:latest',
    berthPull: 'berth pull 127.0.0.1:5000/centos:latest -o centos-copy.tar',
    tags: 'curl 127.0.0.1:5000/v2/centos/tags/list',
    data: 'ls /opt/data/registry',
  },
  cannotRun: {
    'docker run -d -p 5000:5000 -v /opt/data/registry:/var/lib/registry registry': 'needs a Docker engine: berth serve takes the same settings as REGISTRY_* variables',
    'docker pull centos': 'needs a Docker engine and Docker Hub; the test starts from a docker save tarball of an image named centos:latest',
    'sysctl net.ipv4.ip_forward': "is about the Docker engine's port mapping (the document's iptables error); berth listens on the port itself",
  },
} satisfies Steps;
