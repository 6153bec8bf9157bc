// The loopback listener: a tiny non-blocking HTTP/1.1 server for one authorization response.
//
// Anything on this machine, and any web page through the browser, can reach the port, so the
// listener trusts nothing: a request head is size-limited and must arrive within the client
// timeout, the Host header must name our own address (DNS rebinding), only GET reaches the
// handler, and connections are polled side by side so that a client that connects and stays
// silent cannot hold up the browser's real redirect. After answering, we wait briefly for the
// client to close first: the side that closes first keeps the port in TIME_WAIT, and since we
// bind without SO_REUSEADDR, that would keep the next login from binding the same fixed port.
// For the same reason, a connection we end ourselves (past its deadline, evicted by newer ones,
// or left over when the login is done) is closed with a reset (SO_LINGER 0), which leaves no
// TIME_WAIT behind: a flood of such connections would otherwise block the port for a minute.
#include "net/loopback_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sys/fd.hpp"
#include "tokenctl/callback_page.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/http_request.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::net {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds k_linger{1000}; // how long to wait for the client to close
constexpr int k_listen_backlog = 64;
constexpr std::size_t k_max_head_bytes = k_max_request_line + k_max_header_block + 2;

using sys::Fd;

enum class Phase { reading, writing, lingering, closed };

struct Client {
  Fd fd;
  Clock::time_point deadline;
  Phase phase = Phase::reading;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  bool final = false;       // carries the done reply
  bool peer_closed = false; // end of stream or an error seen: closing leaves no TIME_WAIT anyway
};

// Close `client`'s socket; when the peer has not closed first, with a reset (see the top).
void close_socket(Client& client) {
  if (client.fd.get() >= 0 && !client.peer_closed) {
    const linger reset_on_close{1, 0};
    ::setsockopt(client.fd.get(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  }
  client.fd.reset();
}

const char* reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 302: return "Found";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 410: return "Gone";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  default: return "Status";
  }
}

std::string make_response(int status, const std::string& html, const std::string& location) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  if (!location.empty() && location.find_first_of("\r\n") == std::string::npos) out += "Location: " + location + "\r\n";
  out += "Content-Type: text/html; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(html.size()) + "\r\n";
  out += "Cache-Control: no-store\r\n";
  out += "Referrer-Policy: no-referrer\r\n";
  out += "X-Content-Type-Options: nosniff\r\n";
  if (status == 405) out += "Allow: GET\r\n";
  out += "Connection: close\r\n\r\n";
  out += html;
  return out;
}

CallbackReply error_reply(int status) { return {status, status_page(status, reason_phrase(status)), false}; }

bool host_is_ours(const RequestHead& head, int port) {
  if (head.count("Host") != 1) return false;
  const std::string host = ascii_lower(head.header("Host"));
  std::string suffix = ":" + std::to_string(port);
  return host == "127.0.0.1" + suffix || host == "localhost" + suffix;
}

// Decide the reply to a complete (or refused) request head.
CallbackReply route(const HeadParse& parsed, int port, const CallbackHandler& handler) {
  if (parsed.status == HeadStatus::too_large) return error_reply(431);
  if (parsed.status != HeadStatus::ok) return error_reply(400);
  if (!host_is_ours(parsed.head, port)) return error_reply(400);
  if (parsed.head.method != "GET") return error_reply(405);
  return handler(parsed.head.path, parsed.head.query);
}

// Send what is pending; return false when the connection failed.
bool flush(Client& client) {
  while (client.sent < client.out.size()) {
    ssize_t n = ::send(client.fd.get(), client.out.data() + client.sent, client.out.size() - client.sent, MSG_NOSIGNAL);
    if (n > 0) {
      client.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  // No shutdown(SHUT_WR) here: the client, told "Connection: close", should close first.
  client.phase = Phase::lingering;
  client.deadline = Clock::now() + k_linger;
  return true;
}

// Read what is available (a bounded amount per call, so that a client that floods us cannot
// keep the loop to itself); return false at end of stream or on error.
bool fill(Client& client, std::size_t limit) {
  char buf[4096];
  for (int round = 0; round < 8; ++round) {
    ssize_t n = ::recv(client.fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      if (client.phase == Phase::reading && client.in.size() < limit)
        client.in.append(buf, std::min(static_cast<std::size_t>(n), limit - client.in.size()));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true; // more may be waiting: poll() will say so
}

int poll_timeout_ms(Clock::time_point now, Clock::time_point until) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
}

} // namespace

LoopbackListener LoopbackListener::bind_loopback(int port) {
  const std::string where = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": ";
  if (port < 0 || port > 65535) throw Error(ErrorKind::failure, where + "not a port number");
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw Error(ErrorKind::failure, where + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EADDRINUSE)
      throw Error(ErrorKind::failure,
                  where + "port " + std::to_string(port) + " is in use (set --port or redirect_port)");
    throw Error(ErrorKind::failure, where + std::strerror(errno));
  }
  if (::listen(fd.get(), k_listen_backlog) != 0) throw Error(ErrorKind::failure, where + std::strerror(errno));
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw Error(ErrorKind::failure, where + std::strerror(errno));
  return LoopbackListener(std::move(fd), ntohs(addr.sin_port));
}

namespace {

// One serve() call: the connections and what to do with their events.
class Session {
public:
  Session(int listen_fd, int port, std::chrono::milliseconds client_timeout, const CallbackHandler& handler)
      : m_listen_fd(listen_fd), m_port(port), m_client_timeout(client_timeout), m_handler(handler) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Close what is still connected (serving timed out or failed), with a reset where we close first.
  ~Session() {
    for (auto& client : m_clients) close_socket(client);
  }

  // Return true once the done reply has been delivered (or its connection ended).
  [[nodiscard]] bool finished() const { return m_finished; }
  // Return true once the handler is done and only its reply is still being delivered.
  [[nodiscard]] bool finishing() const { return m_finishing; }

  // Close connections past their deadline; return the earliest remaining deadline.
  Clock::time_point expire(Clock::time_point now, Clock::time_point overall) {
    Clock::time_point next = overall;
    for (auto& client : m_clients) {
      if (client.deadline <= now)
        close(client);
      else
        next = std::min(next, client.deadline);
    }
    std::erase_if(m_clients, [](const Client& c) { return c.phase == Phase::closed; });
    return next;
  }

  // Append the poll entries: the listening socket (unless finishing), then one per client.
  void fill_pollfds(std::vector<pollfd>& fds) const {
    if (!m_finishing) fds.push_back({m_listen_fd, POLLIN, 0});
    append_client_pollfds(fds);
  }

  // Handle the events of the entries fill_pollfds() wrote, starting at `first`.
  void handle(const std::vector<pollfd>& fds, std::size_t first) {
    std::size_t i = first;
    bool accept_ready = false;
    if (!m_finishing) accept_ready = (fds[i++].revents & POLLIN) != 0;
    std::size_t count = m_clients.size(); // accept() below may append: handle only the polled ones
    for (std::size_t k = 0; k < count; ++k, ++i)
      if (fds[i].revents != 0) on_event(m_clients[k]);
    std::erase_if(m_clients, [](const Client& c) { return c.phase == Phase::closed; });
    if (accept_ready && !m_finishing) accept_all();
  }

private:
  // One poll entry per client: readable while it sends its request, writable while it gets the reply.
  void append_client_pollfds(std::vector<pollfd>& fds) const {
    for (const auto& client : m_clients)
      fds.push_back({client.fd.get(), static_cast<short>(client.phase == Phase::writing ? POLLOUT : POLLIN), 0});
  }

  void close(Client& client) {
    close_socket(client);
    client.phase = Phase::closed;
    if (client.final) m_finished = true;
  }

  // Accept what is waiting, at most k_max_clients per round (a flood must not starve the rest).
  void accept_all() {
    for (std::size_t round = 0; round < k_max_clients; ++round) {
      int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if ((errno == EMFILE || errno == ENFILE) && !m_clients.empty()) evict_oldest();
        return; // EAGAIN: nothing more to accept
      }
      if (m_clients.size() >= k_max_clients) make_room();
      Client client;
      client.fd = Fd(fd);
      if (m_finishing) { // make_room served the callback: this one is not needed
        close_socket(client);
        return;
      }
      client.deadline = Clock::now() + m_client_timeout;
      m_clients.push_back(std::move(client));
    }
  }

  // The table is full: first serve the clients whose request has arrived since the last poll (the
  // browser's callback must not lose its place to a flood that connected after it), then, if that
  // freed nothing, drop the oldest.
  void make_room() {
    std::vector<pollfd> fds;
    append_client_pollfds(fds);
    if (::poll(fds.data(), fds.size(), 0) > 0) {
      for (std::size_t k = 0; k < fds.size() && !m_finishing; ++k)
        if (fds[k].revents != 0) on_event(m_clients[k]);
      std::erase_if(m_clients, [](const Client& c) { return c.phase == Phase::closed; });
    }
    if (m_clients.size() >= k_max_clients) evict_oldest();
  }

  void evict_oldest() {
    close(m_clients.front());
    m_clients.erase(m_clients.begin());
  }

  void on_event(Client& client) {
    if (client.phase == Phase::closed) return; // dropped by finish_with() during this round
    if (client.phase == Phase::writing) {
      if (!flush(client)) close(client);
      return;
    }
    bool open = fill(client, k_max_head_bytes);
    if (!open) client.peer_closed = true;
    if (client.phase == Phase::lingering) {
      if (!open) close(client); // the client closed first: no TIME_WAIT on our side
      return;
    }
    HeadParse parsed = parse_request_head(client.in);
    if (parsed.status == HeadStatus::incomplete && open) return;
    if (parsed.status == HeadStatus::incomplete) {
      close(client);
      return;
    } // closed mid-head
    if (m_finishing) {
      close(client);
      return;
    }
    CallbackReply reply = route(parsed, m_port, m_handler);
    client.out = make_response(reply.status, reply.html, reply.location);
    client.phase = Phase::writing;
    client.deadline = Clock::now() + m_client_timeout;
    if (reply.done) finish_with(client);
    if (!flush(client)) close(client);
  }

  // The handler is done: drop every other connection and stop accepting.
  void finish_with(Client& chosen) {
    chosen.final = true;
    m_finishing = true;
    for (auto& client : m_clients)
      if (&client != &chosen) close(client);
  }

  int m_listen_fd;
  int m_port;
  std::chrono::milliseconds m_client_timeout;
  const CallbackHandler& m_handler;
  std::vector<Client> m_clients;
  bool m_finishing = false;
  bool m_finished = false;
};

} // namespace

void LoopbackListener::serve(std::chrono::steady_clock::time_point deadline, const std::string& timeout_message,
                             const CallbackHandler& handler, const FdWatch& extra, const Ticker& tick) {
  Session session(m_fd.get(), m_port, m_client_timeout, handler);
  std::vector<pollfd> fds;
  Clock::time_point next_tick = tick ? Clock::time_point::min() : Clock::time_point::max();
  for (;;) {
    Clock::time_point now = Clock::now();
    // Once the done reply is on its way, only its own (short) deadline counts.
    Clock::time_point next = session.expire(now, session.finishing() ? Clock::time_point::max() : deadline);
    if (session.finished()) return;
    if (now >= deadline && !session.finishing()) throw Error(ErrorKind::failure, timeout_message);
    if (!session.finishing() && now >= next_tick) {
      // A ticker that asks for "now" again would spin the loop: at most once a millisecond.
      next_tick = std::max(tick(now), now + std::chrono::milliseconds(1));
    }
    if (!session.finishing()) next = std::min(next, next_tick);
    fds.clear();
    const bool watch_extra = extra.fd >= 0 && extra.on_readable && !session.finishing();
    if (watch_extra) fds.push_back({extra.fd, POLLIN, 0});
    session.fill_pollfds(fds);
    int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms(now, next));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::failure, std::string("cannot wait for the browser: ") + std::strerror(errno));
    }
    if (ready == 0) continue;
    if (watch_extra && fds[0].revents != 0 && extra.on_readable()) return;
    session.handle(fds, watch_extra ? 1 : 0);
    if (session.finished()) return;
  }
}

} // namespace tokenctl::net
