#!/bin/bash
# A Kubernetes node in a container: containerd, kubelet, kube-proxy and kube-router, each kept running.
# Arguments: node name, zone, node address. Mounted read-only: /opt/k8s/bin, /etc/kubernetes/pki, /opt/k8s/images
# (the lab imports those images into containerd once it answers: `chaos360 lab up`).
set -u
NODE=$1 ZONE=$2 NODE_IP=$3
BIN=/opt/k8s/bin PKI=/etc/kubernetes/pki LOGS=/var/log/k8s
mkdir -p "$LOGS" /etc/containerd /etc/cni/net.d /var/lib/kubelet

supervise() {  # name command...: restart the daemon whenever it exits, as a node's init would
  local name=$1; shift
  ( while true; do "$@" >>"$LOGS/$name.log" 2>&1; echo "$(date +%T) $name exited $?" >>"$LOGS/$name.log"; sleep 2; done ) &
}

mount --make-rshared /
mount -o remount,rw /sys
umount -R /sys/fs/cgroup && mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
for controller in cpu cpuacct cpuset memory devices freezer blkio pids; do
  mkdir -p /sys/fs/cgroup/$controller && mount -t cgroup -o $controller cgroup /sys/fs/cgroup/$controller
done
mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
[ -s /etc/machine-id ] || tr -d - </proc/sys/kernel/random/uuid >/etc/machine-id

cp /node/containerd.toml /etc/containerd/config.toml
cp /node/cni.conflist /etc/cni/net.d/10-chaos360.conflist
supervise containerd containerd
for _ in $(seq 60); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done

supervise kubelet "$BIN/kubelet" --config=/node/kubelet-config.yaml --kubeconfig="$PKI/$NODE.kubeconfig" \
  --hostname-override="$NODE" --node-ip="$NODE_IP" --node-labels="topology.kubernetes.io/zone=$ZONE" \
  --tls-cert-file="$PKI/$NODE-serving.crt" --tls-private-key-file="$PKI/$NODE-serving.key"
supervise kube-proxy "$BIN/kube-proxy" --kubeconfig="$PKI/kube-proxy.kubeconfig" --hostname-override="$NODE" \
  --proxy-mode=iptables --cluster-cidr=10.244.0.0/16 --conntrack-max-per-core=0
# kube-router exits while its Node object or pod CIDR is missing; the supervisor retries it
supervise kube-router env KUBE_ROUTER_CNI_CONF_FILE=/etc/cni/net.d/10-chaos360.conflist NODE_NAME="$NODE" \
  "$BIN/kube-router" --kubeconfig="$PKI/kube-router.kubeconfig" --hostname-override="$NODE" \
  --run-router=true --run-firewall=true --run-service-proxy=false --bgp-graceful-restart=false \
  --enable-cni=true --enable-ibgp=true --enable-overlay=false
exec sleep infinity
