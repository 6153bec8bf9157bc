#include "tokenctl/device.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

std::string str(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<long long> seconds(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (v < 0 || v > 86400.0 * 7) return std::nullopt;
  return static_cast<long long>(v);
}

} // namespace

DeviceAuthorization parse_device_authorization(const HttpResponse& response, const std::string& endpoint) {
  const auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (doc.is_object() && doc.contains("error")) {
    const std::string code = str(doc, "error").substr(0, 100);
    throw OAuthError(ErrorKind::failure, "the device authorization endpoint " + endpoint + " answered " + code, code,
                     str(doc, "error_description").substr(0, 300));
  }
  if (response.status >= 500 || response.status == 429 || !doc.is_object())
    throw Error(ErrorKind::network, "the device authorization endpoint " + endpoint + " failed with HTTP " +
                                        std::to_string(response.status));
  DeviceAuthorization d;
  d.device_code = str(doc, "device_code");
  d.user_code = str(doc, "user_code");
  d.verification_uri = str(doc, "verification_uri");
  d.verification_uri_complete = str(doc, "verification_uri_complete");
  const auto expires = seconds(doc, "expires_in");
  if (d.device_code.empty() || d.user_code.empty() || d.verification_uri.empty() || !expires)
    throw Error(ErrorKind::failure, "the device authorization response from " + endpoint +
                                        " lacks device_code, user_code, verification_uri or expires_in");
  // The addresses go to a browser and to the user: the same rule as the authorization endpoint
  // (https, http only on loopback), so that no server can hand over file:, javascript: or an
  // option such as "--renderer-cmd-prefix=...".
  for (const auto& [name, uri] : {std::pair<const char*, const std::string*>{"verification_uri", &d.verification_uri},
                                  {"verification_uri_complete", &d.verification_uri_complete}}) {
    if (uri->empty()) continue;
    if (const std::string problem = endpoint_url_problem(*uri); !problem.empty())
      throw Error(ErrorKind::failure,
                  "the device authorization endpoint " + endpoint + " sent a " + name +
                      " that tokenctl will not open (" + problem + ")",
                  "the server's device flow is broken or hostile; log in without --device");
  }
  d.expires_in = Seconds(*expires);
  if (const auto interval = seconds(doc, "interval"); interval && *interval > 0) d.interval = Seconds(*interval);
  return d;
}

TokenResponse poll_device_token(HttpClient& http, WallClock& clock, const std::string& token_endpoint,
                                const ClientAuth& auth, const DeviceAuthorization& device, Seconds give_up_after,
                                const std::string& ca_file) {
  const bool code_limits = device.expires_in <= give_up_after;
  const auto deadline = clock.now() + std::min(give_up_after, device.expires_in);
  const HttpRequest request =
      form_post(token_endpoint, {{"grant_type", std::string(k_device_grant)}, {"device_code", device.device_code}},
                auth, ca_file);
  std::chrono::milliseconds interval = device.interval;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.now());
    if (left.count() <= 0) {
      if (code_limits)
        throw Error(ErrorKind::failure, "the sign-in was not completed in time: the device code expired",
                    "run tokenctl login --device again");
      throw Error(ErrorKind::failure,
                  "the sign-in was not completed in time (within --timeout " + format_duration(give_up_after) + ")",
                  "run tokenctl login --device again, with a longer --timeout if needed");
    }
    // The last wait ends at the deadline, and one last poll follows it.
    clock.sleep_for(std::min(interval, left));
    try {
      return parse_token_response(http.send(request), {token_endpoint, auth.method});
    } catch (const OAuthError& e) {
      if (e.code() == "authorization_pending") continue;
      if (e.code() == "slow_down") {
        interval += k_slow_down_step;
        continue;
      }
      if (e.code() == "access_denied") throw Error(ErrorKind::failure, "the sign-in was denied (access_denied)");
      if (e.code() == "expired_token")
        throw Error(ErrorKind::failure, "the device code expired before the sign-in was completed (expired_token)",
                    "run tokenctl login --device again");
      throw;
    } catch (const HttpError&) {
      interval *= 2; // RFC 8628 section 3.5: back off after a connection failure
    }
  }
}

} // namespace tokenctl
