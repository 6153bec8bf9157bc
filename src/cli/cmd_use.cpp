// tokenctl use NAME: make NAME the default profile (default_profile in the config), keeping every
// other byte of the file, atomically, under the config's lock.
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "sys/config_file.hpp"

namespace tokenctl::cli {
namespace {

struct UseOptions {
  std::string name;
};

int run_use(const UseOptions& o, Context& ctx) {
  const std::string path = ctx.config().path;
  sys::update_config_text(path, [&](const std::string& text) {
    // Checked under the lock, on the text that is rewritten.
    const Config now = text.empty() ? Config{} : parse_config(text, path);
    if (now.find(o.name) == nullptr)
      throw Error(ErrorKind::config, "no profile \"" + o.name + "\" in " + path,
                  "create it with: tokenctl login -p " + o.name + " --host URL");
    if (now.default_profile == o.name) return std::optional<std::string>();
    return std::optional<std::string>(set_default_profile(text, o.name, path));
  });
  ctx.info("The default profile is now \"" + o.name + "\" (" + path + ").");
  ctx.reload_config();
  if (const auto choice = ctx.profile_choice(); choice.name != o.name) {
    const std::string by = choice.source == ProfileSource::profile_file ? choice.file
                           : choice.source == ProfileSource::flag       ? std::string("-p")
                                                                        : std::string("TOKENCTL_PROFILE");
    ctx.warn("here, profile \"" + choice.name + "\" stays in effect: " + by + " names it");
  }
  return 0;
}

} // namespace

Command register_use(CLI::App& parent) {
  auto options = std::make_shared<UseOptions>();
  auto* app = parent.add_subcommand("use", "Make a profile the default (default_profile in the config)");
  app->add_option("name", options->name, "The profile")->required();
  return {app, [options](Context& ctx) { return run_use(*options, ctx); }};
}

} // namespace tokenctl::cli
