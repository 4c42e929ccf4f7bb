#pragma once
// The command line: run, plan, config, status, version.

namespace kna::app {

int main_cli(int argc, char** argv);

}  // namespace kna::app
