// Ports: the interfaces through which the core and the commands reach the outside world.
// Production implementations: HttpClient in src/net (over the network module); RandomSource,
// Hasher and Signer in src/sys/net_module (OpenSSL, in the module); Browser and WallClock in
// src/sys; SecretStore in src/sys/keyring. Tests substitute their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenctl/error.hpp"

namespace tokenctl {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::string ca_file;           // extra trusted CAs (PEM file), "" for none
  bool follow_redirects = false; // never for credential-bearing POSTs
};

struct HttpResponse {
  long status = 0;
  Headers headers; // names as received
  std::string body;

  // Return the first header of that name (case-insensitive), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

// A transport failure (exit 4). `reached_server()` is false only when the request provably was
// not sent (resolve, connect or TLS handshake failed): only then may a one-time credential be
// sent again.
// Return the first header of that name (case-insensitive), or nullptr.
const std::string* find_header(const Headers& headers, std::string_view name);

class HttpError : public Error {
public:
  HttpError(const std::string& message, bool reached_server)
      : Error(ErrorKind::network, message), m_reached_server(reached_server) {}
  // Return whether the request may have reached the server.
  [[nodiscard]] bool reached_server() const noexcept { return m_reached_server; }

private:
  bool m_reached_server;
};

// Sends one HTTP request. Throws HttpError for transport failures, timeouts, TLS failures and
// bodies over the size cap; any HTTP status is a response, not an error.
class HttpClient {
public:
  virtual ~HttpClient() = default;
  // Perform the request and return the response, whatever its status.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

class RandomSource {
public:
  virtual ~RandomSource() = default;
  // Return `n` bytes from a CSPRNG.
  virtual std::string bytes(std::size_t n) = 0;
};

class Hasher {
public:
  virtual ~Hasher() = default;
  // Return the 32-byte SHA-256 digest of `data`.
  virtual std::string sha256(std::string_view data) = 0;
};

// Signs with a private key that the caller read (PEM text): the JWS signatures of RFC 7523
// client assertions.
class Signer {
public:
  virtual ~Signer() = default;
  // Return the JWS signature (raw bytes, not yet base64url) of `data` with the key for `alg`
  // ("RS256", "PS256", "ES256"); throws Error(config) when the key is unusable or does not fit
  // `alg`, Error(failure) when the crypto library fails.
  virtual std::string sign(std::string_view alg, std::string_view key_pem, std::string_view data) = 0;
  // Return "rsa" (an RSA key of 2048 bits or more: RS256, PS256) or "ec" (EC P-256: ES256);
  // throws Error(config) saying why the key is unusable.
  virtual std::string key_kind(std::string_view key_pem) = 0;
};

class Browser {
public:
  virtual ~Browser() = default;
  // Start a browser on `url` without waiting for it; return false (with a reason) if it failed.
  virtual bool open(const std::string& url, std::string& why_not) = 0;
};

// Where refresh tokens are kept outside the token cache: by profile and issuer (a profile pointed
// at another server gets another item). The one implementation is the desktop's Secret Service
// (storage = "keyring", src/sys/keyring.hpp); with storage = "file" the refresh token is simply a
// field of the cached token set (src/cli/secret_storage.cpp chooses).
class SecretStore {
public:
  virtual ~SecretStore() = default;
  // Keep `secret` for (profile, issuer), labelled `label` where the store shows labels; throws Error.
  virtual void put(const std::string& profile, const std::string& issuer, const std::string& label,
                   const std::string& secret) = 0;
  // Return the secret kept for (profile, issuer), or nullopt when there is none; throws Error.
  virtual std::optional<std::string> get(const std::string& profile, const std::string& issuer) = 0;
  // Forget the secret of (profile, issuer); nothing to forget is fine; throws Error.
  virtual void erase(const std::string& profile, const std::string& issuer) = 0;
};

class WallClock {
public:
  virtual ~WallClock() = default;
  // Return the current time.
  virtual std::chrono::system_clock::time_point now() = 0;
  // Wait for `d` (retry back-off, device-flow polling).
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

} // namespace tokenctl
