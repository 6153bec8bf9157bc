// tokenctl list: one row per profile, from the config and the cache alone (no network).
#include <CLI/CLI.hpp>

#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "tokenctl/client.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {
namespace {

struct Row {
  const Profile* profile;
  const TokenSet* set; // nullptr: logged out (no set, or one for another issuer or client)
};

std::vector<Row> rows_of(const Config& config, const TokenCache& cache) {
  std::vector<Row> rows;
  for (const auto& p : config.profiles) {
    const auto it = cache.tokens.find(p.name);
    const TokenSet* set = it == cache.tokens.end() || !binding_mismatch(it->second, p).empty() ? nullptr : &it->second;
    rows.push_back({&p, set});
  }
  return rows;
}

std::string login_by_text(const TokenSet* set, TimePoint now) {
  if (set == nullptr || set->refresh_token.empty() || !set->refresh_expiry) return "-";
  if (*set->refresh_expiry <= now) return "now (expired)";
  return "in " + format_duration(*set->refresh_expiry - now);
}

void print_json(Context& ctx, const std::vector<Row>& rows, TimePoint now) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [p, set] : rows) {
    nlohmann::json row = {{"name", p->name}, {"host", p->host}, {"status", status_name(token_status(set, now))}};
    add_expiry_json(row, set, now);
    row["refresh_expiry"] = set != nullptr && set->refresh_expiry && !set->refresh_token.empty()
                                ? nlohmann::json(format_rfc3339(*set->refresh_expiry))
                                : nlohmann::json(nullptr);
    row["source"] = p->origin == ProfileOrigin::databricks ? "databricks" : "config";
    row["storage"] = storage_name(p->storage);
    row["variants"] = set != nullptr ? set->variants.size() : 0;
    out.push_back(std::move(row));
  }
  ctx.out << json_text(out, 2) << '\n';
}

void print_table(Context& ctx, const std::vector<Row>& rows, TimePoint now) {
  std::size_t name_width = 7, host_width = 4;
  bool foreign = false; // a profile from .databrickscfg: the SOURCE column says which
  for (const auto& [p, set] : rows) {
    name_width = std::max(name_width, p->name.size());
    host_width = std::max(host_width, sanitize(p->host).size());
    foreign = foreign || p->origin == ProfileOrigin::databricks;
  }
  ctx.out << std::left << std::setw(int(name_width) + 2) << "PROFILE" << std::setw(int(host_width) + 2) << "HOST"
          << std::setw(13) << "STATUS" << std::setw(18) << "TIME LEFT" << (foreign ? std::setw(15) : std::setw(0))
          << "LOGIN NEEDED" << (foreign ? "SOURCE" : "") << '\n';
  for (const auto& [p, set] : rows) {
    std::string left = time_left_text(set, now);
    if (set != nullptr && !set->variants.empty())
      left += " +" + std::to_string(set->variants.size()) + (set->variants.size() == 1 ? " variant" : " variants");
    ctx.out << std::left << std::setw(int(name_width) + 2) << p->name << std::setw(int(host_width) + 2)
            << sanitize(p->host) << std::setw(13) << status_name(token_status(set, now)) << std::setw(18) << left
            << (foreign ? std::setw(15) : std::setw(0)) << login_by_text(set, now)
            << (foreign ? (p->origin == ProfileOrigin::databricks ? "databricks" : "config") : "") << '\n';
  }
}

// Say which profiles will need a login within a week (their refresh tokens expire).
void warn_logins_due(Context& ctx, const std::vector<Row>& rows, TimePoint now) {
  for (const auto& [p, set] : rows) {
    if (set == nullptr || !login_needed_within(*set, now)) continue;
    const bool expired = *set->refresh_expiry <= now;
    ctx.warn("profile \"" + p->name + "\": the refresh token " +
             (expired ? "expired at " + format_rfc3339(*set->refresh_expiry)
                      : "expires in " + format_duration(*set->refresh_expiry - now) + " (" +
                            format_rfc3339(*set->refresh_expiry) + ")") +
             "; log in again" + (expired ? "" : " before then") + ": tokenctl login -p " + p->name);
  }
}

int run_list(Context& ctx) {
  const Config& config = ctx.config();
  const TokenCache cache = ctx.store().load();
  const TimePoint now = ctx.now();
  const std::vector<Row> rows = rows_of(config, cache);
  if (ctx.json()) {
    print_json(ctx, rows, now);
  } else if (rows.empty()) {
    ctx.info("no profiles in " + config.path + "; create one with: tokenctl login -p NAME --host URL");
    return 0;
  } else {
    print_table(ctx, rows, now);
  }
  warn_logins_due(ctx, rows, now);
  return 0;
}

} // namespace

Command register_list(CLI::App& parent) {
  auto* app = parent.add_subcommand("list", "List the profiles and the state of their tokens");
  return {app, [](Context& ctx) { return run_list(ctx); }};
}

} // namespace tokenctl::cli
