// The one status line that counts the time left while login waits, on a terminal (the man page: "While
// login waits for the browser on a terminal, one status line counts down the time left"):
// rewritten in place with \r, and cleared before any other message and at the end.
#pragma once

#include <chrono>
#include <string>

#include "cli/context.hpp"

namespace tokenctl::cli {

class Countdown {
public:
  using Clock = std::chrono::steady_clock;

  // Count down to `deadline` as "WAITING: 4m 59s left (Ctrl-C to cancel)" on ctx.err, when
  // standard error is a terminal that takes escape codes (TERM set, not "dumb") and neither -q
  // nor -v is given (-v prints the requests meanwhile); otherwise do nothing at all.
  Countdown(Context& ctx, std::string waiting, Clock::time_point deadline);
  Countdown(const Countdown&) = delete;
  Countdown& operator=(const Countdown&) = delete;
  // Clear the line.
  ~Countdown();

  // Return whether the line is drawn at all.
  [[nodiscard]] bool active() const { return m_active; }
  // Draw the line for `now`; return when the time shown changes next (time_point::max() when
  // the countdown is inactive or has reached 0).
  Clock::time_point tick(Clock::time_point now);
  // Clear the line (before another message is printed); the next tick draws it again.
  void clear();

private:
  Context& m_ctx;
  std::string m_waiting;
  Clock::time_point m_deadline;
  bool m_active = false;
  bool m_drawn = false;
};

// A wall clock that draws `countdown` while it sleeps (the device flow's polling).
class CountdownClock : public WallClock {
public:
  CountdownClock(WallClock& inner, Countdown& countdown) : m_inner(inner), m_countdown(countdown) {}
  std::chrono::system_clock::time_point now() override { return m_inner.now(); }
  void sleep_for(std::chrono::milliseconds d) override;

private:
  WallClock& m_inner;
  Countdown& m_countdown;
};

} // namespace tokenctl::cli
