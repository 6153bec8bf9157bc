// tokenctl netrc [--all] [--write] [--file FILE] [--login NAME]: refresh as `token` does, then
// print `machine HOST login token password TOKEN` lines, or merge them into a netrc file
// (entries for the same machines replaced in place, every other byte kept, 0600, atomic, locked,
// a symlinked file updated at its target). netrc gives HTTP Basic credentials: user `token`
// (or the profile's netrc_login), password the access token.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/shape_options.hpp"
#include "cli/token_service.hpp"
#include "sys/files.hpp"
#include "sys/netrc_file.hpp"
#include "sys/os.hpp"
#include "tokenctl/netrc.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {
namespace {

struct NetrcOptions {
  ShapeOptions shape;
  bool all = false;
  bool write = false;
  std::string file;
  std::string login;
};

std::vector<const Profile*> chosen_profiles(const NetrcOptions& o, Context& ctx) {
  if (!o.all) {
    ctx.narrow_config_to_profile();
    return {&ctx.profile()};
  }
  const TokenCache cache = ctx.store().load();
  std::vector<const Profile*> out;
  for (const auto& p : ctx.config().profiles)
    if (cache.tokens.count(p.name) || machine_grant(p)) out.push_back(&p);
  return out;
}

// The entries of the chosen profiles, with fresh tokens; a profile that fails is reported and the
// others go on (`worst` gets the exit status).
std::vector<NetrcEntry> fresh_entries(const NetrcOptions& o, Context& ctx, int& worst) {
  std::vector<NetrcEntry> entries;
  worst = for_each_profile(ctx, chosen_profiles(o, ctx), [&](const Profile& p) {
    NetrcEntry e;
    e.machine = netrc_machine_for(p.host);
    if (std::any_of(entries.begin(), entries.end(), [&](const NetrcEntry& x) { return x.machine == e.machine; })) {
      ctx.warn("profile \"" + p.name + "\" has the same machine (" + e.machine + ") as an earlier profile; skipped");
      return;
    }
    e.login = !o.login.empty() ? o.login : p.netrc_login.value_or("token");
    Freshness freshness;
    freshness.shape = o.shape.shape();
    e.password = fresh_token_set(ctx, p, freshness).access_token;
    check_netrc_entry(e);
    entries.push_back(std::move(e));
  });
  return entries;
}

std::string netrc_path(const NetrcOptions& o) {
  if (!o.file.empty()) return o.file;
  if (const auto env = sys::env("NETRC")) return *env;
  const auto home = sys::env("HOME");
  if (!home) throw Error(ErrorKind::config, "HOME is not set; name the netrc file with --file");
  return *home + "/.netrc";
}

void write_entries(const NetrcOptions& o, Context& ctx, const std::vector<NetrcEntry>& entries) {
  const std::string path = netrc_path(o);
  MergeReport report;
  const sys::NetrcTarget target =
      sys::NetrcStore(path).update([&](const std::string& text) { return merge_netrc(text, entries, report); });
  for (const auto& w : report.warnings) ctx.warn(w);
  if (target.exists && (target.mode & 077) != 0)
    ctx.info("Tightened the permissions of " + target.path + " from " + octal_mode(target.mode) + " to 0600.");
  std::string what;
  if (!report.replaced.empty()) what += std::to_string(report.replaced.size()) + " replaced";
  if (!report.added.empty()) what += (what.empty() ? "" : ", ") + std::to_string(report.added.size()) + " added";
  ctx.info("Wrote " + std::to_string(entries.size()) + " entr" + (entries.size() == 1 ? "y" : "ies") + " to " +
           target.path + (target.via_symlink ? " (the target of " + path + ")" : "") +
           (what.empty() ? "" : ": " + what) + ".");
}

int run_netrc(const NetrcOptions& o, Context& ctx) {
  int worst = 0;
  const std::vector<NetrcEntry> entries = fresh_entries(o, ctx, worst);
  if (entries.empty()) {
    if (worst == 0) ctx.info("No profile holds tokens; nothing to write.");
    return worst;
  }
  if (o.write) {
    write_entries(o, ctx, entries);
    return worst;
  }
  for (const auto& e : entries) {
    const std::string line = format_netrc_entry(e);
    const std::string warning = netrc_line_warning(e.machine, line.size());
    if (!warning.empty()) ctx.warn(warning);
    ctx.out << line << '\n';
  }
  return worst;
}

} // namespace

Command register_netrc(CLI::App& parent) {
  auto o = std::make_shared<NetrcOptions>();
  auto* app = parent.add_subcommand("netrc", "Print .netrc entries with fresh tokens, or merge them into a netrc file");
  app->add_flag("--all", o->all, "Every profile that holds tokens");
  app->add_flag("--write", o->write, "Merge into the netrc file instead of printing");
  app->add_option("--file", o->file, "The netrc file for --write (default: $NETRC, else ~/.netrc)");
  add_shape_options(*app, o->shape);
  app->add_option("--login", o->login, "The login to write (default: the profile's netrc_login, else \"token\")");
  return {app, [o](Context& ctx) { return run_netrc(*o, ctx); }};
}

} // namespace tokenctl::cli
