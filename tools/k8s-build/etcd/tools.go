//go:build tools

// Package tools pins the etcd server that scripts/build-k8s-artifacts.sh
// builds, so that `go mod tidy` keeps its dependencies in go.mod and go.sum.
// The file is never compiled (build tag "tools").
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
