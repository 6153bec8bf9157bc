// ModuleHttpClient over the real libcurl module code (linked into this test), against a
// scripted loopback server.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "net/http_client.hpp"
#include "abi/net_module.h"
#include "support/scripted_server.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using tokenctl::test::ScriptedAction;
using tokenctl::test::ScriptedServer;

namespace {

const tokenctl_net_module& linked_module() { return *tokenctl_net_module_v1(); }

net::ModuleHttpClient client_with(net::HttpClientOptions options = {}) {
  return net::ModuleHttpClient(std::move(options), &linked_module);
}

// A port on which nothing listens (bound, then closed).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A module whose http_perform only counts calls: proves that nothing was sent.
int g_perform_calls = 0;
int counting_perform(const tokenctl_http_request*, long*, char*, size_t) {
  ++g_perform_calls;
  return TOKENCTL_HTTP_FAILED;
}
const tokenctl_net_module k_counting_module{
    TOKENCTL_NET_ABI_VERSION, counting_perform, nullptr, nullptr, nullptr, nullptr};
const tokenctl_net_module& counting_module() { return k_counting_module; }

HttpRequest get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  return request;
}

template <class F>
std::string http_error_of(F&& f, bool& reached) {
  try {
    f();
  } catch (const HttpError& e) {
    reached = e.reached_server();
    CHECK(e.exit_code() == 4);
    return e.what();
  }
  FAIL("no HttpError thrown");
  return "";
}

// A TLS server (openssl s_server -www) with a certificate for 127.0.0.1 from a throwaway CA.
class TlsServer {
public:
  // Start it; false (with `why`) when the openssl command is missing or fails.
  bool start(std::string& why) {
    char dir_template[] = "/tmp/tokenctl-tls-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      why = "mkdtemp failed";
      return false;
    }
    m_dir = dir_template;
    const std::string script =
        "cd " + m_dir +
        " && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
        "-subj /CN=tokenctl-test-ca -days 2 -addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr "
        "-subj /CN=127.0.0.1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "-extfile ext.cnf";
    if (std::system(("(" + script + ") >/dev/null 2>&1").c_str()) != 0) {
      why = "the openssl command is missing or failed";
      return false;
    }
    m_port = closed_port();
    m_pid = ::fork();
    if (m_pid == 0) {
      const std::string accept = "127.0.0.1:" + std::to_string(m_port);
      const std::string cert = m_dir + "/server.pem", key = m_dir + "/server.key";
      int null_fd = ::open("/dev/null", O_WRONLY); // no stdio here: its buffers belong to the parent
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(), "-cert", cert.c_str(),
               "-key", key.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100; ++i) { // readiness probe: up to 5 s
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(m_port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    why = "openssl s_server did not start";
    return false;
  }
  ~TlsServer() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
    if (!m_dir.empty()) std::system(("rm -rf " + m_dir).c_str());
  }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(m_port) + path;
  }
  [[nodiscard]] std::string ca_file() const { return m_dir + "/ca.pem"; }

private:
  std::string m_dir;
  int m_port = 0;
  pid_t m_pid = -1;
};

} // namespace

TEST_SUITE_BEGIN("net.http_client");

TEST_CASE("status - headers and body come back as the server sent them") {
  ScriptedServer server;
  server.reply(201, {{"X-Test", "a  b"}, {"Content-Type", "application/json"}}, "{\"ok\":true}");
  auto client = client_with();
  HttpResponse response = client.send(get(server.url("/thing")));
  CHECK(response.status == 201);
  CHECK(response.header("x-test") == "a  b");
  CHECK(response.header("CONTENT-TYPE") == "application/json");
  CHECK(response.header("missing").empty());
  CHECK(response.body == "{\"ok\":true}");
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].request_line() == "GET /thing HTTP/1.1");
  CHECK(requests[0].head.find("\r\nUser-Agent: tokenctl/") != std::string::npos);
}

TEST_CASE("a loopback host is reached directly even with a proxy in the environment") {
  ScriptedServer server;
  server.reply(204, {}, "");
  ScriptedServer proxy; // would answer 599 for anything sent to it
  ::setenv("http_proxy", proxy.url("").c_str(), 1);
  ::setenv("HTTPS_PROXY", proxy.url("").c_str(), 1);
  long status = 0;
  CHECK_NOTHROW(status = client_with().send(get(server.url("/direct"))).status);
  ::unsetenv("http_proxy");
  ::unsetenv("HTTPS_PROXY");
  CHECK(status == 204);
  CHECK(proxy.connections() == 0);
}

TEST_CASE("a 4xx or 5xx status is a response - not an error") {
  ScriptedServer server;
  server.reply(400, {}, "{\"error\":\"invalid_grant\"}");
  auto response = client_with().send(get(server.url("/token")));
  CHECK(response.status == 400);
  CHECK(response.body == "{\"error\":\"invalid_grant\"}");
}

TEST_CASE("a POST body and the request headers reach the server byte for byte") {
  ScriptedServer server;
  server.reply(200, {}, "done");
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/token?x=1");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  using namespace std::string_literals;
  request.body = "grant_type=authorization_code&code=a%2Bb\r\n\0tail"s;
  REQUIRE(request.body.size() == 47);
  auto response = client_with().send(request);
  CHECK(response.status == 200);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].request_line() == "POST /token?x=1 HTTP/1.1");
  CHECK(requests[0].body == request.body);
  CHECK(requests[0].head.find("\r\nContent-Type: application/x-www-form-urlencoded\r\n") != std::string::npos);
  CHECK(requests[0].head.find("\r\nAccept: application/json\r\n") != std::string::npos);
  CHECK(requests[0].head.find("Expect:") == std::string::npos);
}

TEST_CASE("a redirect is returned as a response - not followed") {
  ScriptedServer server;
  server.reply(307, {{"Location", server.url("/elsewhere")}}, "");
  server.reply(200, {}, "second");
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/token");
  request.body = "code=one-time";
  auto response = client_with().send(request);
  CHECK(response.status == 307);
  CHECK(response.header("Location") == server.url("/elsewhere"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("with follow_redirects only the final response's headers and body come back") {
  ScriptedServer server;
  server.reply(302, {{"Location", "/final"}, {"X-First", "1"}}, "moved");
  server.reply(200, {{"X-Final", "2"}}, "final body");
  HttpRequest request = get(server.url("/start"));
  request.follow_redirects = true;
  auto response = client_with().send(request);
  CHECK(response.status == 200);
  CHECK(response.body == "final body");
  CHECK(response.header("X-Final") == "2");
  CHECK(response.header("X-First").empty());
  REQUIRE(server.requests().size() == 2);
  CHECK(server.requests()[1].request_line() == "GET /final HTTP/1.1");
}

TEST_CASE("a body over the cap is refused with a message naming the cap") {
  net::HttpClientOptions options;
  options.max_body_bytes = 1024;
  bool reached = false;
  SUBCASE("announced by Content-Length") {
    ScriptedServer server;
    server.reply(200, {}, std::string(2048, 'x'));
    std::string message = http_error_of([&] { client_with(options).send(get(server.url("/big?code=zz"))); }, reached);
    CHECK(message == "response from " + server.url("/big") + " is larger than 1 KiB; refusing it");
    CHECK(reached);
  }
  SUBCASE("not announced: counted while it arrives") {
    ScriptedServer server;
    server.push(
        {ScriptedAction::Kind::reply, test::http_response(200, {}, std::string(100000, 'y'), /*add_length=*/false)});
    std::string message = http_error_of([&] { client_with(options).send(get(server.url("/stream"))); }, reached);
    CHECK(message == "response from " + server.url("/stream") + " is larger than 1 KiB; refusing it");
  }
  SUBCASE("a body of exactly the cap is accepted") {
    ScriptedServer server;
    server.reply(200, {}, std::string(1024, 'z'));
    CHECK(client_with(options).send(get(server.url("/exact"))).body.size() == 1024);
  }
}

TEST_CASE("connection refused: not sent - and the message names the URL without its query") {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/token";
  bool reached = true;
  std::string message = http_error_of([&] { client_with().send(get(url + "?code=SECRETCODE")); }, reached);
  CHECK(message == "cannot connect to " + url + ": Connection refused");
  CHECK_FALSE(reached);
}

TEST_CASE("a server that accepts and never answers times out within the set timeout") {
  ScriptedServer server;
  server.push({ScriptedAction::Kind::silent, ""});
  net::HttpClientOptions options;
  options.total_timeout = std::chrono::milliseconds(1000);
  bool reached = false;
  auto start = std::chrono::steady_clock::now();
  std::string message = http_error_of([&] { client_with(options).send(get(server.url("/slow"))); }, reached);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(message == "timed out after 1s waiting for " + server.url("/slow"));
  CHECK(reached); // the request went out: a one-time credential must not be sent again
  CHECK(elapsed >= std::chrono::milliseconds(900));
  CHECK(elapsed < std::chrono::milliseconds(5000));
}

TEST_CASE("a server that closes without answering is a transfer failure that may have reached it") {
  ScriptedServer server;
  server.push({ScriptedAction::Kind::close, ""});
  bool reached = false;
  std::string message = http_error_of([&] { client_with().send(get(server.url("/gone"))); }, reached);
  CHECK(message.rfind("request to " + server.url("/gone") + " failed: ", 0) == 0);
  CHECK(reached);
}

TEST_CASE("plain http to a non-loopback host is refused before anything is sent (the server's fault: exit 1)") {
  g_perform_calls = 0;
  net::ModuleHttpClient client({}, &counting_module);
  try {
    client.send(get("http://auth.example.com/token?code=x"));
    FAIL("no error");
  } catch (const HttpError&) {
    FAIL("an HttpError means a request was attempted");
  } catch (const Error& e) {
    // Profile URLs are checked when the config is read: a URL refused here came from a server.
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()).rfind("refusing to send a request to http://auth.example.com/token: ", 0) == 0);
    CHECK(std::string(e.what()).find("code=x") == std::string::npos);
  }
  CHECK(g_perform_calls == 0);
}

TEST_CASE("TLS failure: not sent - with the ca_file hint") {
  ScriptedServer server; // speaks plain HTTP: the TLS handshake cannot succeed
  server.push({ScriptedAction::Kind::raw_at_once, test::http_response(200, {}, "not tls")});
  bool reached = true;
  std::string message = http_error_of([&] { client_with().send(get(server.url("/t", "https"))); }, reached);
  CHECK(message.rfind("TLS failure talking to " + server.url("/t", "https") + ": ", 0) == 0);
  CHECK(message.find("; set ca_file in the profile if the server uses a private CA") != std::string::npos);
  CHECK_FALSE(reached);
}

TEST_CASE("an unreadable ca_file is a configuration error naming the file - nothing is sent") {
  ScriptedServer server;
  HttpRequest request = get(server.url("/t", "https"));
  request.ca_file = "/nonexistent/tokenctl-test/ca.pem";
  try {
    client_with().send(request);
    FAIL("no error");
  } catch (const HttpError&) {
    FAIL("expected a configuration error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) == "cannot send a request to " + server.url("/t", "https") +
                                       ": cannot read the CA file /nonexistent/tokenctl-test/ca.pem: "
                                       "No such file or directory");
  }
  CHECK(server.connections() == 0);
}

TEST_CASE("a ca_file without certificates is refused") {
  const std::string path = "/tmp/tokenctl-test-ca-" + std::to_string(::getpid()) + ".pem";
  std::ofstream(path) << "not a certificate\n";
  ScriptedServer server;
  HttpRequest request = get(server.url("/t", "https"));
  request.ca_file = path;
  CHECK_THROWS_WITH_AS(
      client_with().send(request),
      ("cannot send a request to " + server.url("/t", "https") + ": the CA file " + path + " holds no PEM certificate")
          .c_str(),
      Error);
  ::unlink(path.c_str());
  CHECK(server.connections() == 0);
}

TEST_CASE("a private CA in ca_file is trusted - without it the certificate is refused") {
  TlsServer server;
  std::string why;
  if (!server.start(why)) {
    MESSAGE("skipped: " << why);
    return;
  }
  bool reached = true;
  std::string message = http_error_of([&] { client_with().send(get(server.url("/"))); }, reached);
  CHECK(message.rfind("TLS failure talking to " + server.url("/") + ": ", 0) == 0);
  CHECK(message.find("certificate") != std::string::npos);
  CHECK_FALSE(reached);
  HttpRequest request = get(server.url("/"));
  request.ca_file = server.ca_file();
  HttpResponse response = client_with().send(request);
  CHECK(response.status == 200);
  CHECK(response.body.find("s_server") != std::string::npos);
}

TEST_CASE("the verbose log shows the exchange with every planted secret redacted") {
  ScriptedServer server;
  server.reply(200, {{"Content-Type", "application/json"}, {"Set-Cookie", "session=MARKERcookie0123456789"}},
               "{\"access_token\":\"MARKERaccess0123456789\",\"refresh_token\":\"MARKERrefresh012345\","
               "\"id_token\":\"MARKERid0123456789abc\",\"expires_in\":3600}");
  std::vector<std::string> lines;
  net::HttpClientOptions options;
  options.verbose_log = [&](std::string_view line) { lines.emplace_back(line); };
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/token?code=MARKERquerycode1234");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Authorization", "Basic MARKERbasic0123456789"}};
  request.body = "grant_type=refresh_token&refresh_token=MARKERold0123456789&client_secret=MARKERsecret0123&scope=a";
  auto response = client_with(options).send(request);
  REQUIRE(response.status == 200);
  CHECK(response.body.find("MARKERaccess0123456789") != std::string::npos); // the caller gets it all
  std::string all;
  for (const auto& line : lines) all += line + "\n";
  CHECK(all.find("MARKER") == std::string::npos);
  CHECK(all.find("> POST " + server.url("/token?code=[redacted]") + "\n") != std::string::npos);
  CHECK(all.find("> Authorization: Basic [redacted]\n") != std::string::npos);
  CHECK(all.find("> grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]&scope=a\n") !=
        std::string::npos);
  CHECK(all.find("< 200\n") != std::string::npos);
  CHECK(all.find("< Set-Cookie: [redacted]\n") != std::string::npos);
  CHECK(all.find("\"expires_in\":3600") != std::string::npos);
}

TEST_CASE("messages show durations and sizes as a user reads them") {
  CHECK(net::describe_duration(std::chrono::seconds(30)) == "30s");
  CHECK(net::describe_duration(std::chrono::minutes(5)) == "5m");
  CHECK(net::describe_duration(std::chrono::milliseconds(1500)) == "1500ms");
  CHECK(net::describe_size(net::k_max_response_bytes) == "1 MiB");
  CHECK(net::describe_size(64 * 1024) == "64 KiB");
  CHECK(net::describe_size(1000) == "1000 bytes");
  CHECK(net::url_for_messages("https://h/token?code=x#frag") == "https://h/token");
  CHECK(net::url_for_messages("https://h/p#frag") == "https://h/p");
}

TEST_SUITE_END();
