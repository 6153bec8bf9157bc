// Waiting for the browser's answer to a login: the loopback listener's requests (the one-time
// start address, the redirect with the code) and, on a terminal with --no-browser, redirect
// addresses pasted on standard input.
//
// Why a one-time start address: the browser is started with its address in argv, which every
// local user can read in /proc/PID/cmdline. Were it the authorization URL, another user could
// read this login's state, PKCE challenge and nonce, sign in as himself with them, and deliver his
// own code to this listener with the right state: the victim would store the attacker's tokens.
// So the browser gets http://127.0.0.1:PORT/start/SECRET, which holds nothing of the login; the
// listener answers its first request with a redirect to the authorization URL. Whoever requests it
// second is racing this login (whether the browser or the other user came first): the login ends
// with an error, and the listener closes. What this cannot stop: a local user who can read this
// process's memory, or ptrace the browser (the same user, or root).
#pragma once

#include <string>
#include <string_view>

#include "cli/context.hpp"
#include "cli/countdown.hpp"
#include "net/loopback_listener.hpp"
#include "tokenctl/authorize.hpp"
#include "tokenctl/client.hpp"

namespace tokenctl::cli {

class CallbackWait {
public:
  // Wait for the login that sent the browser to `authorization_url`, expecting `expect`, on the
  // client's redirect `redirect`; `start_secret` names the one-time start address.
  CallbackWait(Context& ctx, const ClientSettings& client, std::string redirect, CallbackExpectation expect,
               std::string authorization_url, std::string start_secret, Seconds timeout);

  // Return the one-time address to give the browser, on the listener's `port`.
  [[nodiscard]] std::string start_url(int port) const;

  // Serve `listener` (and, with `paste`, standard input) until this login's answer comes; return
  // its code. Throws Error(failure) when the server refused the login, the answer must not be
  // used (wrong iss), the start address was requested twice, or the timeout passed. On a
  // terminal, a status line counts down the time left meanwhile, except while pasted input is
  // read (the terminal's echo of what is typed would share its line).
  std::string code(net::LoopbackListener& listener, bool paste);

private:
  net::CallbackReply on_request(std::string_view path, std::string_view query);
  bool on_pasted(std::string_view query);
  void ignore_foreign(const char* what, bool every_time);
  std::string outcome() const;

  Context& m_ctx;
  std::string m_redirect;
  std::string m_callback_path; // "/callback", or "/" for a path-less redirect
  bool m_bare_redirect;
  CallbackExpectation m_expect;
  std::string m_authorization_url;
  std::string m_start_path;
  std::chrono::steady_clock::time_point m_deadline;
  std::string m_timeout_message;
  Seconds m_timeout;
  bool m_started = false;           // the start address was requested
  bool m_raced = false;             // ... and requested again
  bool m_answered = false;          // an answer with this login's state came
  int m_ignored = 0;                // answers for another login, ignored
  Countdown* m_countdown = nullptr; // the status line, while one is drawn
  CallbackResult m_result;
};

} // namespace tokenctl::cli
