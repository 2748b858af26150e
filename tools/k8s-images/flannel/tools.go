//go:build tools

// Package tools pins the Flannel commands that scripts/build-k8s-images.sh
// builds (flanneld and install-conf), so that `go mod tidy` keeps their
// dependencies in go.mod and go.sum. The file is never compiled (build tag "tools").
package tools

import (
	_ "github.com/flannel-io/flannel"
	_ "github.com/flannel-io/flannel/cmd/install_conf"
)
