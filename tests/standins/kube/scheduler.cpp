// A stand-in for kube-scheduler (not the real program), written for kube-node-agent's tests and
// demo: it takes the flags the agent's static pod manifest and kubeadm pass, watches the API
// server's /healthz and serves its own on 127.0.0.1:10251. It schedules nothing.

#include "kube/components.hpp"
#include "kube/standin_control_plane.hpp"

namespace kna::standins {

int scheduler_main(int argc, char** argv) {
  return control_plane_main({"kube-scheduler", 10251, false}, argc, argv);
}

}  // namespace kna::standins
