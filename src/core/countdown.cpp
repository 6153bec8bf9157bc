#include "tokenctl/countdown.hpp"

namespace tokenctl {

std::string countdown_time(Seconds left) {
  const long long total = left.count() > 0 ? static_cast<long long>(left.count()) : 0;
  const long long hours = total / 3600;
  const long long minutes = total % 3600 / 60;
  const long long seconds = total % 60;
  std::string out;
  if (hours > 0) out += std::to_string(hours) + "h ";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m ";
  return out + std::to_string(seconds) + "s";
}

std::string countdown_line(std::string_view waiting, Seconds left, int columns) {
  const std::size_t room = static_cast<std::size_t>(columns > 0 ? columns - 1 : 79);
  const std::string time = countdown_time(left) + " left";
  const std::string with_what = std::string(waiting) + ": " + time;
  for (std::string candidate : {with_what + " (Ctrl-C to cancel)", with_what, time})
    if (candidate.size() <= room) return candidate;
  return "";
}

} // namespace tokenctl
