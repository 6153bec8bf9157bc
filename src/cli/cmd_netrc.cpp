// tokenctl netrc [--all] [--write] [--file FILE] [--login NAME]: refresh as `token` does, then
// print `machine HOST login token password TOKEN` lines, or merge them into a netrc file
// (entries for the same machines replaced in place, every other byte kept, 0600, atomic, locked,
// a symlinked file updated at its target). netrc gives HTTP Basic credentials: user `token`
// (or the profile's netrc_login), password the access token.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/token_service.hpp"
#include "sys/file_lock.hpp"
#include "sys/files.hpp"
#include "sys/netrc_file.hpp"
#include "sys/os.hpp"
#include "tokenctl/netrc.hpp"

namespace tokenctl::cli {
namespace {

struct NetrcOptions {
  bool all = false;
  bool write = false;
  std::string file;
  std::string login;
};

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::vector<const Profile*> chosen_profiles(const NetrcOptions& o, Context& ctx) {
  if (!o.all) {
    ctx.narrow_config_to_profile();
    return {&ctx.profile()};
  }
  const TokenCache cache = ctx.store().load();
  std::vector<const Profile*> out;
  for (const auto& p : ctx.config().profiles)
    if (cache.tokens.count(p.name) || p.grant == Grant::client_credentials) out.push_back(&p);
  return out;
}

std::vector<NetrcEntry> fresh_entries(const NetrcOptions& o, Context& ctx) {
  std::vector<NetrcEntry> entries;
  for (const Profile* p : chosen_profiles(o, ctx)) {
    NetrcEntry e;
    e.machine = netrc_machine_for(p->host);
    if (std::any_of(entries.begin(), entries.end(), [&](const NetrcEntry& x) { return x.machine == e.machine; })) {
      ctx.warn("profile \"" + p->name + "\" has the same machine (" + e.machine + ") as an earlier profile; skipped");
      continue;
    }
    e.login = !o.login.empty() ? o.login : p->netrc_login.value_or("token");
    e.password = fresh_token_set(ctx, *p, Freshness{}).access_token;
    check_netrc_entry(e);
    entries.push_back(std::move(e));
  }
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
  const sys::NetrcTarget first = sys::resolve_netrc_target(path);
  const auto lock = sys::FileLock::acquire(first.path + ".lock", sys::k_cache_lock_wait);
  const sys::NetrcTarget target = sys::resolve_netrc_target(path);  // again, under the lock
  const std::string text = target.exists ? sys::read_file(target.path, 1024 * 1024, ErrorKind::failure).value_or("") : "";
  MergeReport report;
  const std::string merged = merge_netrc(text, entries, report);
  sys::remove_stale_temporaries(target.path);  // left by a write killed before its rename
  sys::write_file_atomic(target.path, merged, 0600);
  for (const auto& w : report.warnings) ctx.warn(w);
  if (target.exists && (target.mode & 077) != 0)
    ctx.info("Tightened the permissions of " + target.path + " from " + octal(target.mode) + " to 0600.");
  std::string what;
  if (!report.replaced.empty()) what += std::to_string(report.replaced.size()) + " replaced";
  if (!report.added.empty()) what += (what.empty() ? "" : ", ") + std::to_string(report.added.size()) + " added";
  ctx.info("Wrote " + std::to_string(entries.size()) + " entr" + (entries.size() == 1 ? "y" : "ies") + " to " +
           target.path + (target.via_symlink ? " (the target of " + path + ")" : "") + (what.empty() ? "" : ": " + what) + ".");
}

int run_netrc(const NetrcOptions& o, Context& ctx) {
  const std::vector<NetrcEntry> entries = fresh_entries(o, ctx);
  if (entries.empty()) {
    ctx.info("No profile holds tokens; nothing to write.");
    return 0;
  }
  if (o.write) {
    write_entries(o, ctx, entries);
    return 0;
  }
  for (const auto& e : entries) {
    const std::string line = format_netrc_entry(e);
    const std::string warning = netrc_line_warning(e.machine, line.size());
    if (!warning.empty()) ctx.warn(warning);
    ctx.out << line << '\n';
  }
  return 0;
}

} // namespace

Command register_netrc(CLI::App& parent) {
  auto o = std::make_shared<NetrcOptions>();
  auto* app = parent.add_subcommand("netrc", "Print .netrc entries with fresh tokens, or merge them into a netrc file");
  app->add_flag("--all", o->all, "Every profile that holds tokens");
  app->add_flag("--write", o->write, "Merge into the netrc file instead of printing");
  app->add_option("--file", o->file, "The netrc file for --write (default: $NETRC, else ~/.netrc)");
  app->add_option("--login", o->login, "The login to write (default: the profile's netrc_login, else \"token\")");
  return {app, [o](Context& ctx) { return run_netrc(*o, ctx); }};
}

} // namespace tokenctl::cli
