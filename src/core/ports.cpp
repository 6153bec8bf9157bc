#include "tokenctl/ports.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {
const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return &value;
  return nullptr;
}

std::string HttpResponse::header(std::string_view name) const {
  const std::string* value = find_header(headers, name);
  return value != nullptr ? *value : "";
}

} // namespace tokenctl
