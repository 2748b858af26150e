// The Flannel CNI plugin (the `flannel` binary the DaemonSet's init container
// copies to /opt/cni/bin). Its own module, github.com/flannel-io/cni-plugin, is
// not served by the Go module proxy; it was forked in 2021 from
// plugins/meta/flannel of github.com/containernetworking/plugins, whose last
// release with it is v0.9.1. That code is built here unchanged, with the CNI
// library raised to a release that speaks the CNI spec 1.0.0 the manifest's
// conflist declares (v0.8.1 stops at 0.4.0).
module kube-atelier.local/k8s-images/flannel-cni

go 1.22

require github.com/containernetworking/plugins v0.9.1

require (
	github.com/Microsoft/go-winio v0.4.11 // indirect
	github.com/Microsoft/hcsshim v0.8.6 // indirect
	github.com/buger/jsonparser v0.0.0-20180808090653-f4dd9f5a6b44 // indirect
	github.com/containernetworking/cni v1.2.3 // indirect
	github.com/sirupsen/logrus v1.0.6 // indirect
	github.com/vishvananda/netns v0.0.4 // indirect
	golang.org/x/crypto v0.23.0 // indirect
	golang.org/x/sys v0.20.0 // indirect
	golang.org/x/term v0.20.0 // indirect
)

replace github.com/containernetworking/cni => github.com/containernetworking/cni v1.2.3
