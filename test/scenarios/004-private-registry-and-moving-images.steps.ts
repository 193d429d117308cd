// Seed 004_6812c7fe10beb796.txt (第五章：在容器化应用程序之间移动), "安装私有本地 Docker 注册表" and
// "在主机之间移动镜像": docker run -p 5000:5000 registry, the cowsay image tagged and pushed to
// localhost:5000, and images carried between hosts as `docker save | gzip` bundles.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '004_6812c7fe10beb796.txt',
  section: '安装私有本地 Docker 注册表 / 在主机之间移动镜像',
  run: {
    serve: 'REGISTRY_HTTP_ADDR=:5000 berth serve',
    load: 'podman load -i cowsay-dockerfile.tar',
    tag: 'podman tag test/cowsay-dockerfile localhost:5000/cowsay-dockerfile',
    push: 'podman push --tls-verify=false localhost:5000/cowsay-dockerfile',
    tags: 'curl localhost:5000/v2/cowsay-dockerfile/tags/list',
    berthPush: 'berth push ubuntu.tar localhost:5000/ubuntu:latest',
    save: 'berth pull localhost:5000/ubuntu:latest -o ubuntu-bundle.tar && gzip ubuntu-bundle.tar',
    // The other host: its own registry.
    serveOther: 'REGISTRY_HTTP_ADDR=:5001 REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry-other berth serve',
    pushBundle: 'berth push ubuntu-bundle.tar.gz localhost:5001/ubuntu:latest',
    otherTags: 'curl localhost:5001/v2/ubuntu/tags/list',
    load2: 'gunzip -c ubuntu-bundle.tar.gz | podman load',
  },
  cannotRun: {
    'docker build -t test/cowsay-dockerfile .': "needs a Docker engine (RUN apt-get); the test starts from a docker save tarball of test/cowsay-dockerfile",
    'docker run -p 5000:5000 registry': 'needs a Docker engine: berth serve listens on :5000 itself',
    'docker export prickly_sammet | gzip > ubuntu.tar.gz': 'needs a running container (a Docker engine); export/import carry a container filesystem, not an image, so no registry is involved',
    'gunzip -c ubuntu.tar.gz | docker import - ubuntu-sample': 'needs a Docker engine',
  },
} satisfies Steps;
