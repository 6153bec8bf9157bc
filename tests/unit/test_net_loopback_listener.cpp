// The loopback listener, driven by raw sockets from helper threads.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "net/loopback_listener.hpp"
#include "tokenctl/callback_page.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string k_timeout_message = "no answer from the browser within 5m; run tokenctl login again";

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

struct RawResponse {
  int status = 0; // 0: closed without an answer
  std::string head;
  std::string body;
  bool has(const std::string& header_line) const {
    return head.find("\r\n" + header_line + "\r\n") != std::string::npos;
  }
};

// Read one response (head, then Content-Length bytes) and close, as a browser does.
RawResponse read_response(int fd) {
  std::string data;
  char buf[4096];
  std::size_t need = std::string::npos;
  pollfd p{fd, POLLIN, 0};
  while (data.size() < need && ::poll(&p, 1, 10000) > 0) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    std::size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos && need == std::string::npos) {
      std::size_t at = data.find("Content-Length: ");
      need = end + 4 + (at < end ? std::stoul(data.substr(at + 16)) : 0);
    }
  }
  ::close(fd);
  RawResponse response;
  std::size_t end = data.find("\r\n\r\n");
  if (data.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return response;
  response.status = std::stoi(data.substr(9, 3));
  response.head = data.substr(0, end + 2);
  response.body = data.substr(end + 4);
  return response;
}

RawResponse round_trip(int port, const std::string& request) {
  int fd = connect_to(port);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  return read_response(fd);
}

std::string get_request(const std::string& target, const std::string& host, const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: test\r\n\r\n";
}

std::string our_host(int port) { return "127.0.0.1:" + std::to_string(port); }

// A handler like login's: /callback ends it, anything else is 404.
struct Recorder {
  std::vector<std::string> calls;
  net::CallbackReply operator()(std::string_view path, std::string_view query) {
    calls.push_back(std::string(path) + "?" + std::string(query));
    if (path != "/callback") return {404, status_page(404, "Not Found"), false};
    return {200, success_page(), true};
  }
};

void serve_briefly(net::LoopbackListener& listener, Recorder& recorder, std::chrono::milliseconds limit = 10s) {
  listener.serve(Clock::now() + limit, k_timeout_message, std::ref(recorder));
}

// Return true when the listener has ended this connection: a reset (how it drops a client, so as
// to leave no TIME_WAIT on its port) or, had it closed gracefully, end of stream.
bool ended_by_listener(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return false;
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

bool can_bind(int port) {
  try {
    net::LoopbackListener::bind_loopback(port);
    return true;
  } catch (const Error&) {
    return false;
  }
}

} // namespace

TEST_SUITE_BEGIN("net.loopback_listener");

TEST_CASE("an ephemeral port - the callback reaches the handler and gets a safe HTML page") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  CHECK(port > 0);
  auto client = std::async(std::launch::async, [&] {
    return round_trip(port, get_request("/callback?code=abc&state=s%20t", our_host(port)));
  });
  Recorder recorder;
  serve_briefly(listener, recorder);
  RawResponse response = client.get();
  REQUIRE(recorder.calls == std::vector<std::string>{"/callback?code=abc&state=s%20t"});
  CHECK(response.status == 200);
  CHECK(response.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(response.has("Content-Type: text/html; charset=utf-8"));
  CHECK(response.has("Cache-Control: no-store"));
  CHECK(response.has("Referrer-Policy: no-referrer"));
  CHECK(response.has("Connection: close"));
  CHECK(response.has("Content-Length: " + std::to_string(success_page().size())));
  CHECK(response.body == success_page());
}

TEST_CASE("a stray /favicon.ico gets 404 and serving continues") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  auto client = std::async(std::launch::async, [&] {
    RawResponse favicon = round_trip(port, get_request("/favicon.ico", our_host(port)));
    RawResponse callback = round_trip(port, get_request("/callback?code=x", our_host(port)));
    return std::make_pair(favicon, callback);
  });
  Recorder recorder;
  serve_briefly(listener, recorder);
  auto [favicon, callback] = client.get();
  CHECK(favicon.status == 404);
  CHECK(favicon.head.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(callback.status == 200);
  CHECK(recorder.calls == std::vector<std::string>{"/favicon.ico?", "/callback?code=x"});
}

TEST_CASE("a request whose Host is not our address is refused before the handler") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  const std::string p = std::to_string(port);
  auto client = std::async(std::launch::async, [&] {
    std::vector<int> statuses;
    for (const std::string& host :
         std::vector<std::string>{"evil.example:" + p, "127.0.0.1:1", "127.0.0.1", "[::1]:" + p})
      statuses.push_back(round_trip(port, get_request("/callback?code=x", host)).status);
    statuses.push_back(round_trip(port, "GET /callback?code=x HTTP/1.1\r\n\r\n").status);
    statuses.push_back(
        round_trip(port, "GET /callback HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nHost: evil:" + p + "\r\n\r\n").status);
    statuses.push_back(round_trip(port, get_request("/favicon.ico", "LocalHost:" + p)).status);
    statuses.push_back(round_trip(port, get_request("/callback?code=y", "localhost:" + p)).status);
    return statuses;
  });
  Recorder recorder;
  serve_briefly(listener, recorder);
  CHECK(client.get() == std::vector<int>{400, 400, 400, 400, 400, 400, 404, 200});
  CHECK(recorder.calls == std::vector<std::string>{"/favicon.ico?", "/callback?code=y"});
}

TEST_CASE("other methods get 405 - garbage 400 - an oversized head 431 - serving continues") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  auto client = std::async(std::launch::async, [&] {
    std::vector<RawResponse> responses;
    responses.push_back(round_trip(port, get_request("/callback?code=x", our_host(port), "POST")));
    responses.push_back(round_trip(port, "\x16\x03\x01 not http\r\n\r\n"));
    responses.push_back(round_trip(port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n"));
    responses.push_back(round_trip(port, get_request("/callback?code=z", our_host(port))));
    return responses;
  });
  Recorder recorder;
  serve_briefly(listener, recorder);
  auto responses = client.get();
  REQUIRE(responses.size() == 4);
  CHECK(responses[0].status == 405);
  CHECK(responses[0].has("Allow: GET"));
  CHECK(responses[1].status == 400);
  CHECK(responses[2].status == 431);
  CHECK(responses[3].status == 200);
  CHECK(recorder.calls == std::vector<std::string>{"/callback?code=z"});
}

TEST_CASE("the deadline ends serving with exactly the message given") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  Recorder recorder;
  auto start = Clock::now();
  CHECK_THROWS_WITH_AS(listener.serve(start + 300ms, k_timeout_message, std::ref(recorder)), k_timeout_message.c_str(),
                       Error);
  auto elapsed = Clock::now() - start;
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 3s);
  CHECK(recorder.calls.empty());
  try {
    listener.serve(Clock::now() + 10ms, k_timeout_message, std::ref(recorder));
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
  }
}

TEST_CASE("silent clients that connect and send nothing do not block the real callback") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  SUBCASE("one silent client") {
    int silent = connect_to(port);
    ::send(silent, "GET /call", 9, MSG_NOSIGNAL); // and then nothing more
    auto start = Clock::now();
    auto client = std::async(std::launch::async,
                             [&] { return round_trip(port, get_request("/callback?code=x", our_host(port))); });
    Recorder recorder;
    serve_briefly(listener, recorder);
    CHECK(client.get().status == 200);
    CHECK(Clock::now() - start < 2s); // well before the silent client's own 5 s deadline
    ::close(silent);
  }
  SUBCASE("more silent clients than the listener keeps: the oldest are dropped") {
    std::vector<int> silent;
    auto client = std::async(std::launch::async, [&] {
      for (std::size_t i = 0; i < net::k_max_clients + 4; ++i) silent.push_back(connect_to(port));
      std::this_thread::sleep_for(200ms);
      return round_trip(port, get_request("/callback?code=x", our_host(port)));
    });
    Recorder recorder;
    serve_briefly(listener, recorder);
    CHECK(client.get().status == 200);
    // The first silent connection was dropped: it reads a reset, not a hang.
    CHECK(ended_by_listener(silent.front()));
    for (int fd : silent) ::close(fd);
  }
}

TEST_CASE("a silent client is closed after the client timeout") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  listener.set_client_timeout(200ms);
  const int port = listener.port();
  int silent = connect_to(port);
  auto start = Clock::now();
  auto closed_after = std::async(std::launch::async, [&] {
    pollfd p{silent, POLLIN, 0};
    ::poll(&p, 1, 5000);
    auto waited = Clock::now() - start;
    round_trip(port, get_request("/callback", our_host(port)));
    return waited;
  });
  Recorder recorder;
  serve_briefly(listener, recorder);
  auto waited = closed_after.get();
  CHECK(waited >= 150ms);
  CHECK(waited < 3s);
  CHECK(ended_by_listener(silent));
  ::close(silent);
}

TEST_CASE("an extra descriptor can end serving") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  REQUIRE(::write(pipe_fds[1], "x", 1) == 1);
  int calls = 0;
  net::FdWatch watch{pipe_fds[0], [&] {
                       ++calls;
                       return true;
                     }};
  Recorder recorder;
  listener.serve(Clock::now() + 5s, k_timeout_message, std::ref(recorder), watch);
  CHECK(calls == 1);
  CHECK(recorder.calls.empty());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("a port in use: the exact message") {
  auto first = net::LoopbackListener::bind_loopback(0);
  const std::string p = std::to_string(first.port());
  CHECK_THROWS_WITH_AS(
      net::LoopbackListener::bind_loopback(first.port()),
      ("cannot listen on 127.0.0.1:" + p + ": port " + p + " is in use (set --port or redirect_port)").c_str(), Error);
  CHECK_THROWS_WITH_AS(net::LoopbackListener::bind_loopback(70000),
                       "cannot listen on 127.0.0.1:70000: not a port number", Error);
}

TEST_CASE("the port is free after destruction - also after serving a callback") {
  int port = 0;
  {
    auto listener = net::LoopbackListener::bind_loopback(0);
    port = listener.port();
    CHECK_FALSE(can_bind(port));
  }
  CHECK(can_bind(port));
  {
    auto listener = net::LoopbackListener::bind_loopback(port);
    auto client = std::async(std::launch::async, [&] {
      round_trip(port, get_request("/favicon.ico", our_host(port)));
      return round_trip(port, get_request("/callback?code=x", our_host(port)));
    });
    Recorder recorder;
    serve_briefly(listener, recorder);
    CHECK(client.get().status == 200);
  }
  CHECK(can_bind(port)); // no TIME_WAIT on our side: the client closed first
}

// A connection the listener closes first must not leave a TIME_WAIT (or FIN_WAIT) socket on its
// port: we bind without SO_REUSEADDR, so one would keep the next login from binding a fixed port.
TEST_CASE("connections the listener drops leave the port free at once") {
  int port = 0;
  std::vector<int> attackers;
  {
    auto listener = net::LoopbackListener::bind_loopback(0);
    listener.set_client_timeout(300ms);
    port = listener.port();
    auto client = std::async(std::launch::async, [&] {
      attackers.push_back(connect_to(port)); // silent: dropped at its deadline
      std::this_thread::sleep_for(600ms);
      for (std::size_t i = 0; i < net::k_max_clients + 2; ++i) attackers.push_back(connect_to(port)); // 2 evicted
      std::this_thread::sleep_for(100ms);
      return round_trip(port, get_request("/callback?code=x", our_host(port))); // the rest dropped when done
    });
    Recorder recorder;
    serve_briefly(listener, recorder);
    CHECK(client.get().status == 200);
  }
  // Every attacker's connection was ended by the listener; none has closed its own side yet.
  REQUIRE(attackers.size() == net::k_max_clients + 3);
  for (int fd : attackers) CHECK(ended_by_listener(fd));
  CHECK(can_bind(port));
  for (int fd : attackers) ::close(fd);
}

TEST_CASE("a moved listener keeps the socket - the moved-from one owns nothing") {
  auto a = net::LoopbackListener::bind_loopback(0);
  const int port = a.port();
  net::LoopbackListener b(std::move(a));
  CHECK(b.port() == port);
  CHECK_FALSE(can_bind(port));
}

TEST_CASE("a ticker: called when serving starts, then when it asks, and the timeout is unchanged") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  Recorder recorder;
  std::vector<Clock::time_point> ticks;
  const net::Ticker ticker = [&](Clock::time_point now) {
    ticks.push_back(now);
    return now + 100ms;
  };
  const auto start = Clock::now();
  CHECK_THROWS_WITH_AS(listener.serve(start + 550ms, k_timeout_message, std::ref(recorder), {}, ticker),
                       k_timeout_message.c_str(), Error);
  const auto took = Clock::now() - start;
  CHECK(took >= 550ms);
  CHECK(took < 1500ms);
  REQUIRE(ticks.size() >= 3); // 6 on time (0, 100, ... 500 ms); fewer on a busy machine, never more
  CHECK(ticks.size() <= 6);
  CHECK(ticks.front() - start < 50ms);
  for (std::size_t i = 1; i < ticks.size(); ++i) CHECK(ticks[i] - ticks[i - 1] >= 100ms);
  CHECK(recorder.calls.empty());
}

TEST_CASE("a ticker that asks for no more ticks is not called again, and the callback still ends serving") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  int ticks = 0;
  const net::Ticker ticker = [&](Clock::time_point) {
    ++ticks;
    return Clock::time_point::max();
  };
  auto client = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(200ms);
    return round_trip(port, get_request("/callback?code=c", our_host(port)));
  });
  Recorder recorder;
  listener.serve(Clock::now() + 10s, k_timeout_message, std::ref(recorder), {}, ticker);
  CHECK(client.get().status == 200);
  CHECK(ticks == 1);
  CHECK(recorder.calls == std::vector<std::string>{"/callback?code=c"});
}

TEST_CASE("fast ticks do not disturb a request sent slowly, nor the reply") {
  auto listener = net::LoopbackListener::bind_loopback(0);
  const int port = listener.port();
  int ticks = 0;
  const net::Ticker ticker = [&](Clock::time_point now) {
    ++ticks;
    return now + 5ms;
  };
  auto client = std::async(std::launch::async, [&] {
    const int fd = connect_to(port);
    const std::string request = get_request("/callback?code=slow", our_host(port));
    for (std::size_t at = 0; at < request.size(); at += 16) {
      ::send(fd, request.data() + at, std::min<std::size_t>(16, request.size() - at), MSG_NOSIGNAL);
      std::this_thread::sleep_for(20ms);
    }
    return read_response(fd);
  });
  Recorder recorder;
  listener.serve(Clock::now() + 10s, k_timeout_message, std::ref(recorder), {}, ticker);
  const RawResponse response = client.get();
  CHECK(response.status == 200);
  CHECK(response.body == success_page());
  CHECK(recorder.calls == std::vector<std::string>{"/callback?code=slow"});
  CHECK(ticks >= 5);
}

TEST_SUITE_END();
