#!/usr/bin/env bash
# The sandbox cloud: a minimal but real OpenStack control plane on this machine,
# from Debian bookworm's packages (OpenStack Zed): MariaDB, RabbitMQ, memcached,
# Keystone, Glance, Placement, Nova (nova-compute with the fake driver) and
# Neutron (ML2 without agents). Everything listens on 127.0.0.1 only.
#
# A stand-in for a real cloud: the APIs, quotas, scheduling and port/IP
# allocation are real; servers have no machine behind them, so their addresses
# (fixed and floating) are invented and must never be contacted.
#
#   scripts/sandbox-cloud.sh up            start (installing packages on first use) and seed
#   scripts/sandbox-cloud.sh down [--purge] stop every service; --purge also drops its databases
#   scripts/sandbox-cloud.sh status        exit 0 when every API answers
#   scripts/sandbox-cloud.sh env           the export that points openstacksdk at its clouds.yaml
#                                          (clouds: sandbox, sandbox-admin; no OS_CLOUD, so a
#                                          task that forgets its cloud fails instead of guessing)
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

STATE=$ATELIER_CACHE/sandbox-cloud
RUN=$STATE/run
CLOUDS_YAML=$STATE/clouds.yaml
# nova-compute registers under this name because the ML2 "test" mechanism
# driver (neutron.tests) binds ports only on hosts with this name.
COMPUTE_HOST=host-ovs-filter-active
PACKAGES=(mariadb-server rabbitmq-server memcached python3-memcache keystone glance-api
  placement-api nova-api nova-conductor nova-scheduler neutron-server python3-openstackclient
  uwsgi uwsgi-plugin-python3 curl)
SERVICES=(keystone glance placement nova-api nova-conductor nova-scheduler neutron nova-compute)
ENDPOINTS=("keystone http://127.0.0.1:5000/v3" "glance http://127.0.0.1:9292/"
  "placement http://127.0.0.1:8778/" "nova http://127.0.0.1:8774/" "neutron http://127.0.0.1:9696/")

t0=$SECONDS
phase() { log "[$((SECONDS - t0))s] $*"; }

# Runs a command detached in its own process group, so `down` can stop it and
# everything it forked with one signal.
start_bg() {
  local name=$1
  shift
  setsid "$@" >"$RUN/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_until() {
  local what=$1 i
  for i in $(seq 1 300); do
    if eval "$what" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "timed out waiting for: $what (logs in $RUN)"
}

answers() { curl -s -o /dev/null --max-time 5 "$1"; }

all_answer() {
  local entry
  for entry in "${ENDPOINTS[@]}"; do answers "${entry#* }" || return 1; done
}

password() {
  # Generated once per machine and kept private: it guards every service account.
  if [ ! -s "$STATE/password" ]; then
    (umask 077 && openssl rand -hex 16 >"$STATE/password")
  fi
  cat "$STATE/password"
}

start_infrastructure() {
  mkdir -p /run/mysqld /run/rabbitmq /var/log/rabbitmq
  chown mysql:mysql /run/mysqld
  chown rabbitmq:rabbitmq /run/rabbitmq /var/log/rabbitmq
  mysqladmin ping >/dev/null 2>&1 || start_bg mariadb /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1
  pgrep -x memcached >/dev/null || start_bg memcached /usr/bin/memcached -u memcache -l 127.0.0.1 -m 64
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    (cd /var/lib/rabbitmq && start_bg rabbitmq su rabbitmq -s /bin/sh -c \
      'RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 exec /usr/lib/rabbitmq/bin/rabbitmq-server')
  fi
  wait_until "mysqladmin ping"
  mysql <<SQL
CREATE DATABASE IF NOT EXISTS keystone; CREATE DATABASE IF NOT EXISTS glance;
CREATE DATABASE IF NOT EXISTS placement; CREATE DATABASE IF NOT EXISTS nova_api;
CREATE DATABASE IF NOT EXISTS nova; CREATE DATABASE IF NOT EXISTS nova_cell0;
CREATE DATABASE IF NOT EXISTS neutron;
CREATE USER IF NOT EXISTS 'os'@'127.0.0.1' IDENTIFIED BY '$PW';
ALTER USER 'os'@'127.0.0.1' IDENTIFIED BY '$PW';
GRANT ALL PRIVILEGES ON *.* TO 'os'@'127.0.0.1';
SQL
  wait_until "rabbitmqctl -q await_startup"
  rabbitmqctl -q add_user openstack "$PW" >/dev/null 2>&1 || rabbitmqctl -q change_password openstack "$PW" >/dev/null
  rabbitmqctl -q set_permissions openstack '.*' '.*' '.*' >/dev/null
}

write_configs() {
  local db="mysql+pymysql://os:$PW@127.0.0.1" auth authtoken
  auth="auth_url = http://127.0.0.1:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
region_name = RegionOne
password = $PW"
  authtoken="[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
memcached_servers = 127.0.0.1:11211
$auth"
  (umask 027
  cat >/etc/keystone/keystone.conf <<EOF
[database]
connection = $db/keystone
[token]
provider = fernet
[cache]
enabled = true
backend = dogpile.cache.memcached
memcache_servers = 127.0.0.1:11211
EOF
  mkdir -p /var/lib/glance/images /var/lib/glance/staging /var/lib/glance/tasks /var/lock/glance
  cat >/etc/glance/glance-api.conf <<EOF
[DEFAULT]
bind_host = 127.0.0.1
workers = 1
enabled_backends = fs:file
[database]
connection = $db/glance
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images
[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = /var/lib/glance/tasks
$authtoken
username = glance
[paste_deploy]
flavor = keystone
[oslo_concurrency]
lock_path = /var/lock/glance
EOF
  cat >/etc/placement/placement.conf <<EOF
[api]
auth_strategy = keystone
[placement_database]
connection = $db/placement
$authtoken
username = placement
EOF
  mkdir -p /var/lib/nova/tmp /var/log/nova
  cat >/etc/nova/nova.conf <<EOF
[DEFAULT]
transport_url = rabbit://openstack:$PW@127.0.0.1:5672/
compute_driver = fake.FakeDriver
my_ip = 127.0.0.1
enabled_apis = osapi_compute
osapi_compute_workers = 1
state_path = /var/lib/nova
[api]
auth_strategy = keystone
[api_database]
connection = $db/nova_api
[database]
connection = $db/nova
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
$authtoken
username = nova
[placement]
$auth
username = placement
[neutron]
$auth
username = neutron
[vnc]
enabled = false
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[oslo_messaging_notifications]
driver = noop
EOF
  printf '[DEFAULT]\nhost = %s\n' "$COMPUTE_HOST" >/etc/nova/nova-compute-host.conf
  mkdir -p /var/lock/neutron /var/log/neutron
  cat >/etc/neutron/neutron.conf <<EOF
[DEFAULT]
bind_host = 127.0.0.1
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = rabbit://openstack:$PW@127.0.0.1:5672/
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
[database]
connection = $db/neutron
$authtoken
username = neutron
[nova]
$auth
username = nova
[oslo_concurrency]
lock_path = /var/lock/neutron
EOF
  cat >/etc/neutron/plugins/ml2/ml2_conf.ini <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
# No agents here: neutron.tests' "test" driver binds ports on '$COMPUTE_HOST'.
mechanism_drivers = test
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
firewall_driver = noop
EOF
  )
  chgrp keystone /etc/keystone/keystone.conf
  chgrp glance /etc/glance/glance-api.conf
  chgrp placement /etc/placement/placement.conf
  chgrp nova /etc/nova/nova.conf /etc/nova/nova-compute-host.conf
  chgrp neutron /etc/neutron/neutron.conf /etc/neutron/plugins/ml2/ml2_conf.ini
}

quietly() {
  "$@" >"$RUN/manage.log" 2>&1 || { cat "$RUN/manage.log" >&2; die "failed: $*"; }
}

sync_schemas() {
  # Each sync takes seconds even with nothing to do: skip them all once done
  # for this package set (the marker goes with `down --purge`).
  local marker
  marker="$STATE/schemas-$(dpkg-query -W -f='${Version}' nova-api keystone neutron-server | sha256sum | cut -c1-12)"
  [ -f "$marker" ] && return 0
  quietly keystone-manage db_sync
  quietly keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone
  quietly keystone-manage credential_setup --keystone-user keystone --keystone-group keystone
  quietly glance-manage db_sync
  quietly placement-manage db sync
  quietly nova-manage api_db sync
  quietly nova-manage cell_v2 map_cell0
  nova-manage cell_v2 list_cells 2>/dev/null | grep -q ' cell1 ' || quietly nova-manage cell_v2 create_cell --name=cell1
  quietly nova-manage db sync
  quietly neutron-db-manage --config-file /etc/neutron/neutron.conf \
    --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head
  touch "$marker"
}

start_apis() {
  # uwsgi must close each connection: pooled client connections get reset otherwise.
  local uwsgi=(uwsgi --plugins python3 --master --enable-threads --lazy-apps --die-on-term
    --buffer-size 65535 --add-header "Connection: close")
  quietly keystone-manage bootstrap --bootstrap-password "$PW" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url http://127.0.0.1:5000/v3/ --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
    --bootstrap-public-url http://127.0.0.1:5000/v3/
  start_bg keystone "${uwsgi[@]}" --processes 1 --threads 4 --http-socket 127.0.0.1:5000 \
    --wsgi-file /usr/bin/keystone-wsgi-public
  wait_until "curl -sf http://127.0.0.1:5000/v3"
  phase "keystone answers"
  seed_identity
  start_bg glance /usr/bin/glance-api --config-file /etc/glance/glance-api.conf
  start_bg placement "${uwsgi[@]}" --processes 1 --threads 4 --http-socket 127.0.0.1:8778 \
    --wsgi-file /usr/bin/placement-api
  # nova-api patches Python with eventlet: one thread per process, or requests hang.
  start_bg nova-api "${uwsgi[@]}" --processes 4 --threads 1 --http-socket 127.0.0.1:8774 \
    --wsgi-file /usr/bin/nova-api-wsgi
  start_bg nova-conductor /usr/bin/nova-conductor --config-file /etc/nova/nova.conf
  start_bg nova-scheduler /usr/bin/nova-scheduler --config-file /etc/nova/nova.conf
  # -O: the "test" ML2 driver asserts things that only hold in neutron's unit tests.
  start_bg neutron /usr/bin/python3 -O /usr/bin/neutron-server --config-file /etc/neutron/neutron.conf \
    --config-file /etc/neutron/plugins/ml2/ml2_conf.ini
  # The nova-compute package would pull qemu and libvirt; python3-nova has the code.
  start_bg nova-compute /usr/bin/python3 -c \
    'import sys; from nova.cmd.compute import main; sys.argv[0] = "nova-compute"; sys.exit(main())' \
    --config-file /etc/nova/nova.conf --config-file /etc/nova/nova-compute-host.conf
  wait_until all_answer
  phase "glance, placement, nova, neutron answer"
}

admin_env() {
  export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=admin OS_PASSWORD=$PW OS_PROJECT_NAME=admin \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 \
    OS_REGION_NAME=RegionOne
}

seed_identity() {
  admin_env
  SANDBOX_PASSWORD=$PW /usr/bin/python3 - <<'PY'
import os
import openstack

password = os.environ["SANDBOX_PASSWORD"]
cloud = openstack.connect()
identity = cloud.identity
service_project = identity.find_project("service") or identity.create_project(
    name="service", domain_id="default")
admin = identity.find_role("admin")
member = identity.find_role("member") or identity.create_role(name="member")
identity.find_role("reader") or identity.create_role(name="reader")
services = {"glance": ("image", 9292, ""), "placement": ("placement", 8778, ""),
            "nova": ("compute", 8774, "/v2.1"), "neutron": ("network", 9696, "")}
for user_name, (service_type, port, path) in services.items():
    user = identity.find_user(user_name) or identity.create_user(
        name=user_name, password=password, domain_id="default")
    identity.update_user(user, password=password)
    identity.assign_project_role_to_user(service_project, user, admin)
    service = identity.find_service(user_name) or identity.create_service(
        name=user_name, type=service_type)
    if not list(identity.endpoints(service_id=service.id)):
        for interface in ("public", "internal", "admin"):
            identity.create_endpoint(service_id=service.id, interface=interface,
                                     region_id="RegionOne", url=f"http://127.0.0.1:{port}{path}")
# The tests' own project and non-admin user, as a trainer would have on a real cloud.
project = identity.find_project("atelier-sandbox") or identity.create_project(
    name="atelier-sandbox", domain_id="default")
user = identity.find_user("atelier") or identity.create_user(
    name="atelier", password=password, domain_id="default", default_project_id=project.id)
identity.update_user(user, password=password)
identity.assign_project_role_to_user(project, user, member)
PY
}

seed_resources() {
  admin_env
  wait_until "openstack hypervisor list -f value -c 'Hypervisor Hostname' | grep -q $COMPUTE_HOST"
  quietly nova-manage cell_v2 discover_hosts
  STATE=$STATE /usr/bin/python3 - <<'PY'
import os
import openstack

cloud = openstack.connect()
# Jetstream2's flavor names and sizes, so cohort files read the same on both.
for name, vcpus, ram_gb, disk in (("m3.small", 2, 6, 20), ("m3.quad", 4, 15, 20),
                                  ("m3.medium", 8, 30, 60)):
    if not cloud.compute.find_flavor(name):
        cloud.compute.create_flavor(name=name, vcpus=vcpus, ram=ram_gb * 1024, disk=disk)
# A few bytes standing in for a Debian image: the fake driver never boots it.
if not cloud.image.find_image("debian-12-sandbox"):
    stand_in = os.path.join(os.environ["STATE"], "stand-in-image.raw")
    with open(stand_in, "wb") as image_file:
        image_file.write(b"kube-atelier sandbox stand-in image\n" * 64)
    cloud.image.create_image(name="debian-12-sandbox", filename=stand_in, disk_format="raw",
                             container_format="bare", visibility="public")
public = cloud.network.find_network("public") or cloud.network.create_network(
    name="public", is_router_external=True, provider_network_type="flat",
    provider_physical_network="public", is_shared=False)
if not cloud.network.find_subnet("public-subnet"):
    # TEST-NET-3: documentation addresses, never routed anywhere.
    cloud.network.create_subnet(name="public-subnet", network_id=public.id, ip_version=4,
                                cidr="203.0.113.0/24", enable_dhcp=False,
                                allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.250"}])
project = cloud.identity.find_project("atelier-sandbox")
cloud.set_compute_quotas(project.id, instances=200, cores=2000, ram=10_000_000,
                         key_pairs=100)
cloud.set_network_quotas(project.id, network=50, subnet=50, router=50, port=1000,
                         floatingip=200, security_group=200, security_group_rule=5000)
PY
}

write_clouds_yaml() {
  (umask 077
  cat >"$CLOUDS_YAML" <<EOF
# Written by scripts/sandbox-cloud.sh: the sandbox cloud on 127.0.0.1.
clouds:
  sandbox:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: atelier
      password: $PW
      project_name: atelier-sandbox
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    api_timeout: 60
  sandbox-admin:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: admin
      password: $PW
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    api_timeout: 60
EOF
  )
}

stop_group() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "$pid"
}

cmd_up() {
  is_root || die "the sandbox cloud runs system services: run as root"
  mkdir -p "$RUN"
  PW=$(password)
  if all_answer && [ -f "$CLOUDS_YAML" ]; then
    log "sandbox cloud already up"
  else
    apt_install "${PACKAGES[@]}"
    phase "packages installed"
    # Leftovers of a crashed run hold the ports: start from a clean slate.
    cmd_down >/dev/null 2>&1 || true
    start_infrastructure
    phase "mariadb, rabbitmq, memcached up"
    write_configs
    sync_schemas
    phase "schemas in sync"
    start_apis
    seed_resources
    write_clouds_yaml
    phase "seeded; sandbox cloud ready"
  fi
  log "use it with: eval \"\$($0 env)\"   (clouds: sandbox, sandbox-admin)"
}

cmd_down() {
  local pids=() name
  if [ "${1:-}" = --purge ]; then
    if ! mysqladmin ping >/dev/null 2>&1; then
      mkdir -p "$RUN" /run/mysqld && chown mysql:mysql /run/mysqld
      start_bg mariadb /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1
      wait_until "mysqladmin ping"
    fi
    mysql -e 'DROP DATABASE IF EXISTS keystone; DROP DATABASE IF EXISTS glance;
      DROP DATABASE IF EXISTS placement; DROP DATABASE IF EXISTS nova_api; DROP DATABASE IF EXISTS nova;
      DROP DATABASE IF EXISTS nova_cell0; DROP DATABASE IF EXISTS neutron;'
  fi
  for name in "${SERVICES[@]}" memcached; do
    pids+=("$(stop_group "$RUN/$name.pid")")
  done
  rabbitmqctl -q stop >/dev/null 2>&1 || true
  rm -f "$RUN/rabbitmq.pid"
  pids+=("$(stop_group "$RUN/mariadb.pid")")
  sleep 3
  for name in "${pids[@]}"; do
    if [ -n "$name" ]; then kill -KILL -- "-$name" 2>/dev/null || true; fi
  done
  epmd -kill >/dev/null 2>&1 || true
  if [ "${1:-}" = --purge ]; then
    rm -rf "$STATE" /var/lib/glance/images/* /etc/keystone/fernet-keys /etc/keystone/credential-keys
  fi
  log "sandbox cloud stopped${1:+ ($1)}"
}

cmd_status() {
  local entry ok=0
  for entry in "${ENDPOINTS[@]}"; do
    if answers "${entry#* }"; then echo "${entry%% *}: up"; else echo "${entry%% *}: down"; ok=1; fi
  done
  return $ok
}

case ${1:-} in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) printf 'export OS_CLIENT_CONFIG_FILE=%q\n' "$CLOUDS_YAML" ;;
  *) die "usage: $0 up | down [--purge] | status | env" ;;
esac
