// tokenctl list: one row per profile, from the config and the cache alone (no network).
#include <CLI/CLI.hpp>

#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {
namespace {

int run_list(Context& ctx) {
  const Config& config = ctx.config();
  const TokenCache cache = ctx.store().load();
  const TimePoint now = ctx.now();
  if (ctx.json()) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& p : config.profiles) {
      const auto it = cache.tokens.find(p.name);
      const TokenSet* set = it == cache.tokens.end() ? nullptr : &it->second;
      nlohmann::json row = {{"name", p.name}, {"host", p.host}, {"status", status_name(token_status(set, now))}};
      add_expiry_json(row, set, now);
      rows.push_back(std::move(row));
    }
    ctx.out << json_text(rows, 2) << '\n';
    return 0;
  }
  if (config.profiles.empty()) {
    ctx.info("no profiles in " + config.path + "; create one with: tokenctl login -p NAME --host URL");
    return 0;
  }
  std::size_t name_width = 7, host_width = 4;
  for (const auto& p : config.profiles) {
    name_width = std::max(name_width, p.name.size());
    host_width = std::max(host_width, p.host.size());
  }
  ctx.out << std::left << std::setw(int(name_width) + 2) << "PROFILE" << std::setw(int(host_width) + 2) << "HOST"
          << std::setw(13) << "STATUS" << "TIME LEFT\n";
  for (const auto& p : config.profiles) {
    const auto it = cache.tokens.find(p.name);
    const TokenSet* set = it == cache.tokens.end() ? nullptr : &it->second;
    ctx.out << std::left << std::setw(int(name_width) + 2) << p.name << std::setw(int(host_width) + 2) << sanitize(p.host)
            << std::setw(13) << status_name(token_status(set, now)) << time_left_text(set, now) << '\n';
  }
  return 0;
}

} // namespace

Command register_list(CLI::App& parent) {
  auto* app = parent.add_subcommand("list", "List the profiles and the state of their tokens");
  return {app, [](Context& ctx) { return run_list(ctx); }};
}

} // namespace tokenctl::cli
