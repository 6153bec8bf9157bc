// netrc files and merges: parsing never throws; a merge either refuses (Error) or keeps every
// byte outside the entries it replaces, and merging the same update again changes nothing.
#include <cstdint>
#include <string>

#include "tokenctl/error.hpp"
#include "tokenctl/netrc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const tokenctl::NetrcFile file = tokenctl::parse_netrc(text);
  (void)file;
  const std::vector<tokenctl::NetrcEntry> updates = {{"api.example.com", "token", "NEWTOKEN.abc-123"}};
  try {
    tokenctl::MergeReport report;
    const std::string merged = tokenctl::merge_netrc(text, updates, report);
    tokenctl::MergeReport again_report;
    if (tokenctl::merge_netrc(merged, updates, again_report) != merged) __builtin_trap();
    const tokenctl::NetrcFile after = tokenctl::parse_netrc(merged);
    int ours = 0;
    for (const auto& b : after.blocks)
      if (b.name == "api.example.com" && b.password == "NEWTOKEN.abc-123") ++ours;
    if (ours != 1 || after.problem) __builtin_trap();
  } catch (const tokenctl::Error&) {}
  return 0;
}
