#pragma once
// Stand-ins for the Kubernetes components no registry here offers, in one multi-call binary like
// the real hyperkube: `hyperkube kubelet ...`, or called through a link named after a component.
// Each honours the part of its real program's interface that kube-node-agent and kubectl rely on.

namespace kna::standins {

int apiserver_main(int argc, char** argv);           // kube-apiserver
int kubelet_main(int argc, char** argv);             // kubelet
int proxy_main(int argc, char** argv);               // kube-proxy
int controller_manager_main(int argc, char** argv);  // kube-controller-manager
int scheduler_main(int argc, char** argv);           // kube-scheduler

}  // namespace kna::standins
