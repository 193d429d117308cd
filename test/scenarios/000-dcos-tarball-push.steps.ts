// Seed 000_9544d956e9b46c70.txt (DC/OS, 使用专用 Docker 注册表), section
// "将自定义镜像推送到 tarball 的专用注册表": a `docker save` tarball (marathon-dcos-ee.<version>.tar)
// loaded, re-tagged and pushed to the private registry.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '000_9544d956e9b46c70.txt',
  section: '将自定义镜像推送到 tarball 的专用注册表',
  run: {
    serve: 'REGISTRY_HTTP_ADDR=:5000 berth serve',
    push: 'berth push marathon-dcos-ee.1.4.0-RC4_1.9.4.tar localhost:5000/mesosphere/marathon-dcos-ee:1.4.0-RC4_1.9.4',
    tags: 'berth tags localhost:5000/mesosphere/marathon-dcos-ee',
    pushUppercase: 'berth push marathon-dcos-ee.1.4.0-RC4_1.9.4.tar localhost:5000/mesosphere/Marathon-DCOS-EE:1.4.0-RC4_1.9.4',
    podmanLoad: 'podman load -i marathon-dcos-ee.1.4.0-RC4_1.9.4.tar',
    podmanImages: 'podman images',
    podmanTag: 'podman tag mesosphere/marathon-dcos-ee:1.4.0-RC4_1.9.4 localhost:5000/mesosphere/marathon-dcos-ee:podman',
    podmanPush: 'podman push --tls-verify=false localhost:5000/mesosphere/marathon-dcos-ee:podman',
  },
  cannotRun: {
    'docker load -i marathon-dcos-ee.1.4.0-RC4_1.9.4.tar': 'needs a Docker engine; berth push reads the tarball itself (and podman load does what docker load does)',
    'docker push localhost:5000/mesosphere/marathon-dcos-ee:1.4.0-RC4_1.9.4': 'needs a Docker engine; berth push and podman push cover it',
  },
} satisfies Steps;
