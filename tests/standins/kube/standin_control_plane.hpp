#pragma once
// What the controller-manager and scheduler stand-ins share: both only watch the API server's
// /healthz (over TLS with the kubeconfig's CA and client certificate for an https server) and
// serve their own, plain, on --address:--port.

#include <string>

namespace kna::standins {

struct ControlPlaneComponent {
  std::string name;  // "kube-scheduler"
  int healthz_port;  // the real program's --port default
  bool controller_manager;
};

int control_plane_main(const ControlPlaneComponent& component, int argc, char** argv);

}  // namespace kna::standins
