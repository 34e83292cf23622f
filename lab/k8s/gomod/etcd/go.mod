module chaos360.local/etcd-binary

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.16
