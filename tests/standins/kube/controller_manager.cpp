// A stand-in for kube-controller-manager (not the real program), written for kube-node-agent's
// tests and demo: it takes the flags the agent's static pod manifest and kubeadm pass, watches the
// API server's /healthz and serves its own on 127.0.0.1:10252. It runs no controllers.

#include "kube/components.hpp"
#include "kube/standin_control_plane.hpp"

namespace kna::standins {

int controller_manager_main(int argc, char** argv) {
  return control_plane_main({"kube-controller-manager", 10252, true}, argc, argv);
}

}  // namespace kna::standins
