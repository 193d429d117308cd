// Seed 001_f296c11737f51901.txt (docker registry, "使用nginx验证代理"): a self-signed certificate,
// an htpasswd file, the registry's config.yml, nginx.conf with basic auth and the
// Docker-Distribution-Api-Version map in front, /etc/hosts and certs.d on the client, docker login.
import type { Steps } from './harness.ts';

export const steps = {
  seed: '001_f296c11737f51901.txt',
  section: '使用nginx验证代理 (steps 1-7, 其他docker程序如何访问到搭建的私服)',
  run: {
    // 1. The document's certificate: CN only, no subjectAltName.
    certCnOnly: 'mkdir -p ~/docker-registry && openssl req -subj "/CN=registry.com/" -newkey rsa:4096 -nodes -sha256 -keyout ~/docker-registry/domain.key -x509 -days 365 -out ~/docker-registry/domain.crt',
    // ... and the one clients built with Go 1.15 or later accept: the name in subjectAltName too.
    certWithSan: 'openssl req -subj "/CN=registry.com/" -addext "subjectAltName=DNS:registry.com" -newkey rsa:4096 -nodes -sha256 -keyout ~/docker-registry/domain.key -x509 -days 365 -out ~/docker-registry/domain.crt',
    // 2. The password file (bcrypt, which nginx reads too).
    htpasswd: "printf '%s' zhongkejf | berth user add zkp --file ~/docker-registry/nginx.htpasswd --password-stdin",
    // 3. config.yml as in the document.
    config: `cat > ~/docker-registry/config.yml <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  host: http://registry.com:5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF`,
    // 4. The registry (the document: docker run -p 127.0.0.1:5000:5000 ... registry:2.6.0).
    serve: 'berth serve ~/docker-registry/config.yml',
    // 5. nginx.conf as in the document.
    nginxConf: String.raw`cat > ~/docker-registry/nginx.conf <<'EOF'
events {
  worker_connections 1024;
}
http {
  upstream docker-registry {
    server registry:5000;
  }
  ## Set a variable to help us decide if we need to add the
  ## 'Docker-Distribution-Api-Version' header.
  ## The registry always sets this header.
  ## In the case of nginx performing auth, the header will be unset
  ## since nginx is auth-ing before proxying.
  map $upstream_http_docker_distribution_api_version $docker_distribution_api_version {
    '' 'registry/2.0';
  }
  server {
    listen 443 ssl;
    server_name myregistrydomain.com;
    # SSL
    ssl_certificate /etc/nginx/conf.d/domain.crt;
    ssl_certificate_key /etc/nginx/conf.d/domain.key;
    # Recommendations from https://raymii.org/s/tutorials/Strong_SSL_Security_On_nginx.html
    ssl_protocols TLSv1.1 TLSv1.2;
    ssl_ciphers 'EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH';
    ssl_prefer_server_ciphers on;
    ssl_session_cache shared:SSL:10m;
    # disable any limits to avoid HTTP 413 for large image uploads
    client_max_body_size 0;
    # required to avoid HTTP 411: see Issue #1486 (https://github.com/docker/docker/issues/1486)
    chunked_transfer_encoding on;
    location /v2/ {
      # Do not allow connections from docker 1.5 and earlier
      # docker pre-1.6.0 did not properly set the user agent on ping, catch "Go *" user agents
      if ($http_user_agent ~ "^(docker\/1\.(3|4|5(?!\.[0-9]-dev))|Go ).*$" ) {
        return 404;
      }
      # To add basic authentication to v2 use auth_basic setting.
      auth_basic "Registry realm";
      auth_basic_user_file /etc/nginx/conf.d/nginx.htpasswd;
      ## If $docker_distribution_api_version is empty, the header will not be added.
      ## See the map directive above where this variable is defined.
      add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;
      proxy_pass http://docker-registry;
      proxy_set_header Host $http_host; # required for docker client's sake
      proxy_set_header X-Real-IP $remote_addr; # pass on real client's IP
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 900;
    }
  }
}
EOF`,
    // 6. nginx (the document: docker run -p 5043:443 --link registry:registry ... nginx:1.11.10).
    nginx: "nginx -p ~/docker-registry/ -c nginx.conf -e error.log -g 'daemon off; user root; pid nginx.pid;'",
    // On the client: the CA where docker (and skopeo, podman, berth) look for it.
    certsD: 'mkdir -p /etc/docker/certs.d/registry.com:5043',
    copyCa: 'cp ~/docker-registry/domain.crt /etc/docker/certs.d/registry.com:5043/ca.crt',
    loginWithEmail: 'docker login -u=zkp -p=zhongkejf -e=ci@zhongkejf.com registry.com:5043',
    login: 'docker login -u=zkp -p=zhongkejf registry.com:5043',
    push: 'berth push alpine-linux.tar registry.com:5043/alpine-linux:jdk-7',
    pull: 'podman pull registry.com:5043/alpine-linux:jdk-7',
    inspect: 'skopeo inspect docker://registry.com:5043/alpine-linux:jdk-7',
    pingAnonymous: 'curl -si --cacert ~/docker-registry/domain.crt https://registry.com:5043/v2/',
    ping: 'curl -si --cacert ~/docker-registry/domain.crt -u zkp:zhongkejf https://registry.com:5043/v2/',
    startUpload: 'curl -si --cacert ~/docker-registry/domain.crt -u zkp:zhongkejf -X POST https://registry.com:5043/v2/alpine-linux/blobs/uploads/',
    dropHost: "sed -i '/host: http:/d' ~/docker-registry/config.yml",
    rm: 'berth rm registry.com:5043/alpine-linux:jdk-7',
    tags: 'curl -s --cacert ~/docker-registry/domain.crt -u zkp:zhongkejf https://registry.com:5043/v2/alpine-linux/tags/list',
  },
  cannotRun: {
    'docker run -d -p 127.0.0.1:5000:5000 --restart=always --name registry -v ~/docker-registry/config.yml:/etc/docker/registry/config.yml registry:2.6.0': 'needs a Docker engine: berth serve runs the same config.yml',
    'docker run -d -p 5043:443 --link registry:registry --name nginx -v ~/docker-registry:/etc/nginx/conf.d -v ~/docker-registry/nginx.conf:/etc/nginx/nginx.conf:ro nginx:1.11.10': "needs a Docker engine: Debian's nginx runs the same nginx.conf",
    // The operating system's trust store, as the document does it on Ubuntu and on Red Hat.
    'cp domain.crt /usr/local/share/ca-certificates/registry.com:5043.crt': "would change this machine's system trust store; certs.d/<host:port>/ca.crt is enough for every client here",
    'update-ca-certificates': "would change this machine's system trust store; certs.d/<host:port>/ca.crt is enough for every client here",
    'cp domain.crt /etc/pki/ca-trust/source/anchors/registry.com:5043.crt': "Red Hat's trust store: this machine is Debian (no /etc/pki/ca-trust), and certs.d/<host:port>/ca.crt is enough for every client here",
    'update-ca-trust': "Red Hat's tool, not on Debian (its equivalent is update-ca-certificates, above); certs.d/<host:port>/ca.crt is enough for every client here",
    'update-ca-trust enable': 'Red Hat (Oracle Linux 6) only, not on Debian; certs.d/<host:port>/ca.crt is enough for every client here',
    'docker pull registry.com:5043/alpine-linux:jdk-7': 'needs a Docker engine: podman pull does the same pull',
    'docker run -it --name test registry.com:5043/alpine-linux:jdk-7 sh': 'needs a Docker engine (and podman run cannot run containers on this machine)',
  },
} satisfies Steps;
