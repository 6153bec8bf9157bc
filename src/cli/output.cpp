#include "cli/output.hpp"

namespace tokenctl::cli {

std::string time_left_text(const TokenSet* set, TimePoint now) {
  if (set == nullptr) return "-";
  if (!set->expiry) return "unknown";
  const auto left = *set->expiry - now;
  if (left <= Seconds(0)) return "expired " + format_duration(-left) + " ago";
  return format_duration(left);
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', true, nlohmann::json::error_handler_t::replace);
}

void add_expiry_json(nlohmann::json& object, const TokenSet* set, TimePoint now) {
  if (set == nullptr || !set->expiry) {
    object["expiry"] = nullptr;
    object["expires_in"] = nullptr;
    return;
  }
  object["expiry"] = format_rfc3339(*set->expiry);
  object["expires_in"] = (*set->expiry - now).count();
}

} // namespace tokenctl::cli
