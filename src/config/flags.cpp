#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "config/options.hpp"
#include "kna/config_load.hpp"

namespace kna {

void add_config_flags(CLI::App& app, ConfigInputs* inputs) {
  // trigger_on_parse runs each callback as its flag is read, so inputs->flags keeps the order of
  // the command line and a repeated --set is recorded every time.
  app.add_option_function<std::string>(
         "--config", [inputs](const std::string& path) { inputs->config_path = path; },
         fmt::format("JSON configuration file (default {})", kDefaultConfigPath))
      ->type_name("FILE")
      ->trigger_on_parse();
  for (const auto& name : config::option_names()) {
    if (name.flag.empty()) continue;
    std::string help(name.help);
    if (!name.env.empty()) help += fmt::format(" (env {})", name.env);
    app.add_option_function<std::string>(
           std::string(name.flag),
           [inputs, key = std::string(name.key)](const std::string& value) {
             inputs->flags.emplace_back(key, value);
           },
           help)
        ->type_name("VALUE")
        ->trigger_on_parse();
  }
  app.add_option_function<std::string>(
         "--set",
         [inputs](const std::string& assignment) {
           const auto eq = assignment.find('=');
           inputs->flags.emplace_back(assignment.substr(0, eq), assignment.substr(eq + 1));
         },
         "set any configuration key, e.g. --set stages.etcd.image=IMAGE (repeatable)")
      ->type_name("KEY=VALUE")
      ->check(
          [](const std::string& assignment) -> std::string {
            const auto eq = assignment.find('=');
            if (eq == std::string::npos || eq == 0)
              return fmt::format(
                  "--set expects KEY=VALUE, such as stages.etcd.image=IMAGE, got "
                  "\"{}\"",
                  assignment);
            return "";
          },
          "KEY=VALUE")
      ->trigger_on_parse();
}

}  // namespace kna
