#pragma once
// What a stage needs on the host before it launches: the files the catalogue generated for it
// (kubeconfig, static pod manifests) and its shared mounts.

#include "kna/error.hpp"
#include "kna/spec.hpp"

namespace kna::app {

// Writes each of spec.files whose content or mode differs from what is on disk (atomically;
// parent folders created), then makes spec.shared_dirs shared mounts. Unchanged files are not
// touched, so a kubelet watching its manifest folder sees no change. The error names the file or
// folder.
Status prepare_stage_host(const StageSpec& spec);

}  // namespace kna::app
