// Nesting depth of JSON text, measured without parsing it.
//
// nlohmann::json parses recursively, so a file of 100 000 '[' would exhaust the stack before
// any of our checks ran. This scan is iterative and linear; it does not validate the text, it
// only has to be right about brackets that are outside strings.
#include "core/json_guard.hpp"

namespace tokenctl {

int json_nesting_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
    case '"': in_string = true; break;
    case '[':
    case '{':
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
      break;
    case ']':
    case '}':
      if (depth > 0) --depth;
      break;
    default: break;
    }
  }
  return deepest;
}

} // namespace tokenctl
