// A scripted HTTP server on 127.0.0.1 for unit tests: a thread that answers connections one at a
// time, in order, with canned actions, and records what it received (liboauth2's test server
// does the same). Header-only; include it from a test file.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tokenctl::test {

struct ScriptedAction {
  enum class Kind {
    reply,       // read the request, send `bytes`, close
    raw_at_once, // send `bytes` right after accepting, without reading, then close
    silent,      // read the request and never answer (until the server stops)
    close        // read the request and close without answering
  };
  Kind kind = Kind::reply;
  std::string bytes;
};

struct RecordedRequest {
  std::string head; // request line and headers, as received
  std::string body; // as many bytes as Content-Length said
  [[nodiscard]] std::string request_line() const { return head.substr(0, head.find("\r\n")); }
};

// Return a complete HTTP/1.1 response with a Content-Length (unless `headers` has one already).
inline std::string http_response(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body, bool add_length = true) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (add_length) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n" + body;
  return out;
}

class ScriptedServer {
public:
  ScriptedServer() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_fd, 8) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("scripted server: cannot listen");
    m_port = ntohs(addr.sin_port);
    if (::pipe(m_stop) != 0) throw std::runtime_error("scripted server: pipe");
    m_thread = std::thread([this] { run(); });
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  ~ScriptedServer() {
    char c = 'x';
    static_cast<void>(::write(m_stop[1], &c, 1));
    m_thread.join();
    ::close(m_fd);
    ::close(m_stop[0]);
    ::close(m_stop[1]);
  }

  [[nodiscard]] int port() const { return m_port; }
  // Return "http://127.0.0.1:PORT" + path (or another scheme).
  [[nodiscard]] std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(m_port) + path;
  }
  void push(ScriptedAction action) {
    std::lock_guard lock(m_mutex);
    m_actions.push_back(std::move(action));
  }
  void reply(int status, const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
    push({ScriptedAction::Kind::reply, http_response(status, headers, body)});
  }
  [[nodiscard]] std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  [[nodiscard]] int connections() const { return m_connections.load(); }

private:
  // Wait until `fd` is readable or the server stops; return false when stopping or on timeout.
  bool wait_readable(int fd, int timeout_ms) const {
    pollfd fds[2] = {{fd, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
    int n = ::poll(fds, 2, timeout_ms);
    return n > 0 && (fds[1].revents & POLLIN) == 0 && fds[0].revents != 0;
  }

  RecordedRequest read_request(int fd) const {
    std::string data;
    char buf[4096];
    std::size_t head_end = std::string::npos, need = 0;
    while (wait_readable(fd, 5000)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos)
        need = head_end + 4 + content_length(data.substr(0, head_end));
      if (head_end != std::string::npos && data.size() >= need) break;
    }
    if (head_end == std::string::npos) return {data, ""};
    return {data.substr(0, head_end + 2), data.substr(head_end + 4)};
  }

  static std::size_t content_length(std::string head) {
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = head.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
  }

  static void send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  void serve_one(int fd) {
    ScriptedAction action{ScriptedAction::Kind::reply, http_response(599, {}, "no scripted response")};
    {
      std::lock_guard lock(m_mutex);
      if (!m_actions.empty()) {
        action = std::move(m_actions.front());
        m_actions.pop_front();
      }
    }
    if (action.kind == ScriptedAction::Kind::raw_at_once) {
      send_all(fd, action.bytes);
      wait_readable(fd, 2000);
      return;
    }
    RecordedRequest request = read_request(fd);
    {
      std::lock_guard lock(m_mutex);
      m_requests.push_back(request);
    }
    if (action.kind == ScriptedAction::Kind::reply) send_all(fd, action.bytes);
    if (action.kind == ScriptedAction::Kind::silent) {
      pollfd stop{m_stop[0], POLLIN, 0};
      ::poll(&stop, 1, 60'000);
    }
  }

  void run() {
    while (wait_readable(m_fd, -1)) {
      int fd = ::accept(m_fd, nullptr, nullptr);
      if (fd < 0) continue;
      ++m_connections;
      serve_one(fd);
      ::close(fd);
    }
  }

  int m_fd = -1;
  int m_port = 0;
  int m_stop[2] = {-1, -1};
  mutable std::mutex m_mutex;
  std::deque<ScriptedAction> m_actions;
  std::vector<RecordedRequest> m_requests;
  std::atomic<int> m_connections{0};
  std::thread m_thread;
};

} // namespace tokenctl::test
