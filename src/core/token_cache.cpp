// The token cache format: reading it defensively, writing it in a stable order.
//
// The cache holds secrets and may be truncated, hand-edited or hostile. Every way it can be wrong
// becomes one Error(failure) that names the file, says what is wrong (the member's path, never its
// value) and how to recover. nlohmann's own exception texts quote the bytes they read, so they are
// never passed on: a parse error is reported by its byte offset only. Size and nesting depth are
// checked before parsing, because the parser recurses. Profile names are echoed in member paths
// only when they look like profile names; any other key is shown as <name not shown>.
#include "tokenctl/token_cache.hpp"

#include <nlohmann/json.hpp>

#include "core/json_guard.hpp"
#include "core/plain_json.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr const char* k_recovery = "run \"tokenctl login\" again or delete the file";

// Build the error for a cache whose problem is `what` ("is empty", "is damaged (...)").
Error cache_error(const std::string& path, const std::string& what) {
  return Error(ErrorKind::failure, "token cache " + path + " " + what + "; " + k_recovery);
}

[[noreturn]] void throw_damaged(const std::string& path, const std::string& what) {
  throw cache_error(path, "is damaged (" + what + ")");
}

// Return whether `key` may be echoed: the shape of a profile name, which is no secret.
bool printable_key(std::string_view key) {
  if (key.empty() || key.size() > 64 || key == "." || key == "..") return false;
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Reads the members of one token set, naming each by its path for messages.
class SetReader {
public:
  SetReader(const std::string& path, const Json& object, std::string label)
      : m_path(path), m_object(object), m_label(std::move(label)) {}

  // Store member `key` in `out` if present; throw unless it is a string.
  void string(const char* key, std::string& out) const {
    if (const Json* v = member(key)) out = as_string(*v, key);
  }

  // Store member `key` in `out` if present; throw unless it is an RFC 3339 time.
  void time(const char* key, std::optional<TimePoint>& out) const {
    const Json* v = member(key);
    if (v == nullptr) return;
    out = parse_rfc3339(as_string(*v, key));
    if (!out) throw_damaged(m_path, name(key) + " is not an RFC 3339 time");
  }

  // Store member `key` in `out` if present; throw unless it is an array of strings.
  void strings(const char* key, std::vector<std::string>& out) const {
    const Json* v = member(key);
    if (v == nullptr) return;
    if (!v->is_array()) throw_damaged(m_path, name(key) + " is not an array");
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) out.push_back(as_string((*v)[i], key, i));
  }

  // Store member `key` in `out` if present; throw unless it is true or false.
  void boolean(const char* key, bool& out) const {
    const Json* v = member(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) throw_damaged(m_path, name(key) + " is not true or false");
    out = v->get<bool>();
  }

  // Call `f(key, reader)` for every member, each of which must be an object.
  template <class F>
  void each_object(F f) const {
    for (const auto& [key, value] : m_object.items()) {
      const std::string label = m_label + "." + (printable_key(key) ? key : std::string("<key not shown>"));
      if (!value.is_object()) throw_damaged(m_path, label + " is not an object");
      f(key, SetReader(m_path, value, label));
    }
  }

  // Return a reader for the object member `key`, or nullopt if it is absent; throw if not an object.
  [[nodiscard]] std::optional<SetReader> object(const char* key) const {
    const Json* v = member(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_object()) throw_damaged(m_path, name(key) + " is not an object");
    return SetReader(m_path, *v, name(key));
  }

  [[nodiscard]] const std::string& path() const { return m_path; }
  [[nodiscard]] const std::string& label() const { return m_label; }

private:
  [[nodiscard]] const Json* member(const char* key) const {
    const auto it = m_object.find(key);
    return it == m_object.end() ? nullptr : &*it;
  }
  [[nodiscard]] std::string name(const char* key) const { return m_label + "." + key; }
  // The member's label is made only for the error: `list` reads thousands of these.
  [[nodiscard]] std::string as_string(const Json& v, const char* key,
                                      std::optional<std::size_t> index = std::nullopt) const {
    if (!v.is_string())
      throw_damaged(m_path, name(key) + (index ? "[" + std::to_string(*index) + "]" : "") + " is not a string");
    return v.get<std::string>();
  }

  const std::string& m_path;
  const Json& m_object;
  std::string m_label;
};

TokenSet read_token_set(const SetReader& r, int depth = 0) {
  TokenSet set;
  r.string("access_token", set.access_token);
  r.string("token_type", set.token_type);
  r.time("expiry", set.expiry);
  r.time("issued_at", set.issued_at);
  r.string("refresh_token", set.refresh_token);
  r.time("refresh_expiry", set.refresh_expiry);
  std::string where;
  r.string("refresh_token_in", where);
  if (!where.empty() && where != "keyring") throw_damaged(r.path(), r.label() + ".refresh_token_in is not \"keyring\"");
  set.refresh_in_keyring = where == "keyring";
  r.string("id_token", set.id_token);
  r.strings("scopes", set.scopes);
  r.string("client_id", set.client_id);
  if (const auto e = r.object("endpoints")) {
    Endpoints& ep = set.endpoints;
    e->string("issuer", ep.issuer);
    e->string("authorization_endpoint", ep.authorization_endpoint);
    e->string("token_endpoint", ep.token_endpoint);
    e->string("revocation_endpoint", ep.revocation_endpoint);
    e->string("device_authorization_endpoint", ep.device_authorization_endpoint);
    e->string("userinfo_endpoint", ep.userinfo_endpoint);
    e->strings("grant_types", ep.grant_types);
    e->strings("token_endpoint_auth_methods", ep.token_endpoint_auth_methods);
    e->boolean("iss_parameter_supported", ep.iss_parameter_supported);
  }
  r.string("issued_token_type", set.issued_token_type);
  if (depth == 0)
    if (const auto v = r.object("variants"))
      v->each_object([&](const std::string& key, const SetReader& variant) {
        set.variants[key] = read_token_set(variant, depth + 1);
      });
  return set;
}

// Parse `bytes` as JSON, turning every parser exception into a message without the bytes.
Json parse_json(std::string_view bytes, const std::string& path) {
  try {
    return Json::parse(bytes.begin(), bytes.end());
  } catch (const Json::parse_error& e) {
    throw_damaged(path, "not JSON at byte " + std::to_string(e.byte));
  } catch (const Json::exception&) {
    throw_damaged(path, "not JSON: a number is out of range");
  }
}

// Parse cache bytes: the fast reader for what tokenctl writes, else the depth check and nlohmann
// (whose errors are the ones reported).
Json parse_checked_json(std::string_view bytes, const std::string& path) {
  if (auto plain = parse_plain_json(bytes, k_token_cache_max_depth)) return std::move(*plain);
  if (json_nesting_depth(bytes, k_token_cache_max_depth) > k_token_cache_max_depth)
    throw cache_error(path, "is nested too deeply (more than " + std::to_string(k_token_cache_max_depth) + " levels)");
  return parse_json(bytes, path);
}

void check_version(const Json& root, const std::string& path) {
  const auto it = root.find("version");
  if (it == root.end()) throw_damaged(path, "version is missing");
  if (!it->is_number_integer()) throw_damaged(path, "version is not an integer");
  if (*it != k_token_cache_version)
    throw cache_error(path, "has version " + it->dump() + ", which this tokenctl does not read");
}

void put_string(OrderedJson& out, const char* key, const std::string& value) {
  if (!value.empty()) out[key] = value;
}

OrderedJson write_token_set(const TokenSet& set, bool variant = false) {
  OrderedJson out = OrderedJson::object();
  put_string(out, "access_token", set.access_token);
  out["token_type"] = set.token_type;
  if (set.expiry) out["expiry"] = format_rfc3339(*set.expiry);
  if (set.issued_at) out["issued_at"] = format_rfc3339(*set.issued_at);
  put_string(out, "refresh_token", set.refresh_token);
  if (set.refresh_expiry) out["refresh_expiry"] = format_rfc3339(*set.refresh_expiry);
  if (set.refresh_in_keyring) out["refresh_token_in"] = "keyring";
  put_string(out, "id_token", set.id_token);
  if (!set.scopes.empty()) out["scopes"] = set.scopes;
  put_string(out, "issued_token_type", set.issued_token_type);
  if (variant) return out;
  put_string(out, "client_id", set.client_id);
  const Endpoints& ep = set.endpoints;
  OrderedJson endpoints = OrderedJson::object();
  put_string(endpoints, "issuer", ep.issuer);
  put_string(endpoints, "authorization_endpoint", ep.authorization_endpoint);
  put_string(endpoints, "token_endpoint", ep.token_endpoint);
  put_string(endpoints, "revocation_endpoint", ep.revocation_endpoint);
  put_string(endpoints, "device_authorization_endpoint", ep.device_authorization_endpoint);
  put_string(endpoints, "userinfo_endpoint", ep.userinfo_endpoint);
  if (!ep.grant_types.empty()) endpoints["grant_types"] = ep.grant_types;
  if (!ep.token_endpoint_auth_methods.empty())
    endpoints["token_endpoint_auth_methods"] = ep.token_endpoint_auth_methods;
  endpoints["iss_parameter_supported"] = ep.iss_parameter_supported;
  out["endpoints"] = std::move(endpoints);
  if (!set.variants.empty()) {
    OrderedJson variants = OrderedJson::object();
    for (const auto& [key, v] : set.variants) variants[key] = write_token_set(v, true);
    out["variants"] = std::move(variants);
  }
  return out;
}

} // namespace

TokenCache parse_token_cache(std::string_view bytes, const std::string& path) {
  if (bytes.empty()) throw cache_error(path, "is empty");
  if (bytes.size() > k_token_cache_max_bytes)
    throw cache_error(path, "is too large (more than " + std::to_string(k_token_cache_max_bytes) + " bytes)");
  const Json root = parse_checked_json(bytes, path);
  if (!root.is_object()) throw_damaged(path, "the top level is not an object");
  check_version(root, path);
  const auto tokens = root.find("tokens");
  if (tokens == root.end()) throw_damaged(path, "tokens is missing");
  if (!tokens->is_object()) throw_damaged(path, "tokens is not an object");

  TokenCache cache;
  for (const auto& [name, value] : tokens->items()) {
    const std::string label = printable_key(name) ? "tokens." + name : std::string("tokens.<name not shown>");
    if (!value.is_object()) throw_damaged(path, label + " is not an object");
    cache.tokens[name] = read_token_set(SetReader(path, value, label));
  }
  return cache;
}

TokenSet parse_token_set_json(std::string_view set_json, const std::string& name, const std::string& path) {
  const std::string label = printable_key(name) ? "tokens." + name : std::string("tokens.<name not shown>");
  const Json value = parse_checked_json(set_json, path);
  if (!value.is_object()) throw_damaged(path, label + " is not an object");
  return read_token_set(SetReader(path, value, label));
}

std::string serialize_token_cache(const TokenCache& cache) {
  OrderedJson tokens = OrderedJson::object();
  for (const auto& [name, set] : cache.tokens) tokens[name] = write_token_set(set);
  OrderedJson root = OrderedJson::object();
  root["version"] = k_token_cache_version;
  root["tokens"] = std::move(tokens);
  std::string text;
  try {
    text = root.dump(2, ' ', false, OrderedJson::error_handler_t::strict) + "\n";
  } catch (const OrderedJson::exception&) {
    throw Error(ErrorKind::failure, "cannot save the token cache: a token or name is not valid UTF-8");
  }
  // The writer never makes a cache that the reader would refuse.
  if (text.size() > k_token_cache_max_bytes)
    throw Error(ErrorKind::failure,
                "cannot save the token cache: it would be larger than " + std::to_string(k_token_cache_max_bytes) +
                    " bytes, which tokenctl does not read back",
                "forget the token sets of profiles you no longer use: tokenctl revoke -p NAME");
  return text;
}

} // namespace tokenctl
