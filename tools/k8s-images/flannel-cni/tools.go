//go:build tools

// Package tools pins the Flannel CNI plugin that scripts/build-k8s-images.sh
// builds, so that `go mod tidy` keeps its dependencies in go.mod and go.sum.
// The file is never compiled (build tag "tools").
package tools

import (
	_ "github.com/containernetworking/plugins/plugins/meta/flannel"
)
