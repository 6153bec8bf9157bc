#include "cli/countdown.hpp"

#include <unistd.h>

#include <algorithm>
#include <ostream>

#include "sys/terminal.hpp"
#include "tokenctl/countdown.hpp"

namespace tokenctl::cli {
namespace {

constexpr const char* k_erase_to_end = "\x1b[K"; // EL: erase from the cursor to the end of the line

} // namespace

Countdown::Countdown(Context& ctx, std::string waiting, Clock::time_point deadline)
    : m_ctx(ctx), m_waiting(std::move(waiting)), m_deadline(deadline) {
  m_active = !ctx.global.quiet && !ctx.global.verbose && sys::terminal_size(STDERR_FILENO).has_value() &&
             !sys::dumb_terminal();
}

Countdown::~Countdown() { clear(); }

Countdown::Clock::time_point Countdown::tick(Clock::time_point now) {
  if (!m_active) return Clock::time_point::max();
  // The whole seconds left, rounded up: "1s left" until the very end.
  const auto left = std::chrono::ceil<std::chrono::seconds>(std::max(m_deadline - now, Clock::duration::zero()));
  const auto size = sys::terminal_size(STDERR_FILENO);
  const std::string line = countdown_line(m_waiting, left, size ? size->columns : 0);
  if (line.empty()) {
    clear();
  } else {
    m_ctx.err << '\r' << line << k_erase_to_end << std::flush;
    m_drawn = true;
  }
  if (left <= std::chrono::seconds(0)) return Clock::time_point::max();
  return m_deadline - (left - std::chrono::seconds(1)); // when the number shown drops by one
}

void Countdown::clear() {
  if (!m_drawn) return;
  m_ctx.err << '\r' << k_erase_to_end << std::flush;
  m_drawn = false;
}

void CountdownClock::sleep_for(std::chrono::milliseconds d) {
  const auto end = Countdown::Clock::now() + d;
  for (;;) {
    const auto now = Countdown::Clock::now();
    if (now >= end) return;
    const auto next = std::min(m_countdown.tick(now), end);
    m_inner.sleep_for(std::chrono::ceil<std::chrono::milliseconds>(next - now));
  }
}

} // namespace tokenctl::cli
