// The loopback HTTP listener that receives the authorization response (RFC 8252 section 7.3).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "sys/fd.hpp"

namespace tokenctl::net {

inline constexpr std::chrono::milliseconds k_client_timeout{5000};
inline constexpr std::size_t k_max_clients = 16;

struct CallbackReply {
  CallbackReply(int status_, std::string html_, bool done_ = false, std::string location_ = {})
      : status(status_), html(std::move(html_)), done(done_), location(std::move(location_)) {}
  int status = 200;
  std::string html;
  bool done = false;    // stop serving once this reply is sent
  std::string location; // a Location header (with status 302), or ""
};

using CallbackHandler = std::function<CallbackReply(std::string_view path, std::string_view query)>;

// An extra descriptor to watch while serving (pasted input on a terminal, for instance).
struct FdWatch {
  int fd = -1;                       // -1: none
  std::function<bool()> on_readable; // called when `fd` is readable or closed; true: stop serving
};

// Something to do now and then while serving (the countdown on a terminal): called when serving
// starts and then whenever the time it last returned has come; it returns when to call it next
// (time_point::max(): never again). Empty: none.
using Ticker = std::function<std::chrono::steady_clock::time_point(std::chrono::steady_clock::time_point now)>;

class LoopbackListener {
public:
  // Bind 127.0.0.1:`port` (0: any free port) without SO_REUSEADDR or SO_REUSEPORT, and listen.
  // Throws Error(failure) "cannot listen on 127.0.0.1:8020: port 8020 is in use (set --port or
  // redirect_port)", or with the system's reason for other failures.
  static LoopbackListener bind_loopback(int port);

  // Moving is allowed; the socket is closed (and the port free) when the listener goes.

  // Return the bound port.
  [[nodiscard]] int port() const noexcept { return m_port; }
  // Set how long one connection may take to send its request (default k_client_timeout).
  void set_client_timeout(std::chrono::milliseconds timeout) noexcept { m_client_timeout = timeout; }

  // Serve until `handler` returns a reply with done set (returns once it is sent), `extra`
  // asks to stop, or `deadline` passes: then throw Error(failure, timeout_message).
  // Only GET requests whose Host is 127.0.0.1:PORT or localhost:PORT reach `handler`, with the
  // path and the raw query; others get 400 (bad head or Host), 405 (method) or 431 (too large),
  // and serving goes on. Connections are served side by side, each with its own deadline, at
  // most k_max_clients at once (the oldest is dropped), so a silent one blocks nobody. `tick`
  // is called as it asks (see Ticker) until the done reply is on its way or the deadline passes.
  void serve(std::chrono::steady_clock::time_point deadline, const std::string& timeout_message,
             const CallbackHandler& handler, const FdWatch& extra = {}, const Ticker& tick = {});

private:
  LoopbackListener(sys::Fd fd, int port) : m_fd(std::move(fd)), m_port(port) {}

  sys::Fd m_fd;
  int m_port = 0;
  std::chrono::milliseconds m_client_timeout = k_client_timeout;
};

} // namespace tokenctl::net
