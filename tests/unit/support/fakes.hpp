// Test doubles for the ports: a scripted HTTP client and a manual clock.
#pragma once

#include <deque>
#include <functional>
#include <stdexcept>
#include <vector>

#include "tokenctl/ports.hpp"

namespace tokenctl::test {

// Serves scripted responses (or throws scripted errors) in order and records every request.
class FakeHttp : public HttpClient {
public:
  std::vector<HttpRequest> requests;
  std::deque<std::function<HttpResponse()>> script;

  void respond(long status, std::string body, Headers headers = {{"Content-Type", "application/json"}}) {
    script.push_back([=] { return HttpResponse{status, headers, body}; });
  }
  void fail(std::string message, bool reached_server) {
    script.push_back([=]() -> HttpResponse { throw HttpError(message, reached_server); });
  }
  HttpResponse send(const HttpRequest& request) override {
    requests.push_back(request);
    if (script.empty()) throw std::logic_error("FakeHttp: unexpected request to " + request.url);
    auto next = script.front();
    script.pop_front();
    return next();
  }
};

class FakeClock : public WallClock {
public:
  std::chrono::system_clock::time_point t{std::chrono::seconds(1'800'000'000)};
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::system_clock::time_point now() override { return t; }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    t += d;
  }
};

} // namespace tokenctl::test
