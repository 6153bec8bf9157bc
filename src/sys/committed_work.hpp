// Work that must not stop halfway: a refresh that the server has answered with a rotated refresh
// token must reach the cache, or the old token is spent and the new one is lost.
//
// Why a child process: between the moment the server consumes the old refresh token and the
// moment the rename puts the new one on disk there is a window of about a millisecond. A signal
// that tokenctl can catch is easy to hold off, but SIGKILL (`kill -9`, the OOM killer, a
// supervisor giving up on a script) is not. So the exchange and the write run in a forked child
// that ignores the terminal's signals and runs in a session of its own; the command waits for it.
// If the command itself is killed, or its whole process group (kill -9 -PGID), the child still
// finishes its (time-bounded) exchange and write, then exits; the cache lock it holds keeps every
// other tokenctl waiting until then. Only a kill aimed at the child itself, or at a whole cgroup
// (systemd stopping a unit, a container ending), can still land in the window.
#pragma once

#include <functional>
#include <string>

namespace tokenctl::sys {

// Run `work` in a forked child process, in a new session, that ignores SIGINT, SIGTERM, SIGHUP,
// SIGQUIT, SIGPIPE, SIGUSR1 and SIGUSR2, wait for it, and return the string `work` returned there
// (sent back through a pipe).
// Rethrows an Error that `work` threw as a plain Error with the same kind, message and hint: a
// subclass (OAuthError, HttpError) arrives as its base, so decide on the subtype inside `work`.
// Throws Error(failure) when the child cannot be started or ends without an answer (killed,
// crashed).
std::string run_to_completion(const std::function<std::string()>& work);

} // namespace tokenctl::sys
