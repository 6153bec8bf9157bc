#include "cli/login_callback.hpp"

#include <unistd.h>

#include <optional>

#include "tokenctl/callback_page.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::cli {
namespace {

constexpr std::size_t k_max_pasted_bytes = 64 * 1024;

// Reads redirect addresses pasted on a terminal (a browser on another machine, whose redirect to
// this machine's loopback address failed).
class PasteReader {
public:
  PasteReader(Context& ctx, std::string redirect, bool bare)
      : m_ctx(ctx), m_redirect(std::move(redirect)), m_bare(bare) {}

  // Read what is there; return the query of a complete pasted redirect address, if one came.
  std::optional<std::string> read() {
    char buf[4096];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      m_eof = true;
      return std::nullopt;
    }
    m_buffer.append(buf, static_cast<std::size_t>(n));
    if (m_buffer.size() > k_max_pasted_bytes) m_buffer.clear();
    for (auto nl = m_buffer.find('\n'); nl != std::string::npos; nl = m_buffer.find('\n')) {
      const std::string line(trim(std::string_view(m_buffer).substr(0, nl), " \r"));
      m_buffer.erase(0, nl + 1);
      if (line.empty()) continue;
      for (const std::string& prefix : {m_redirect + "?", m_bare ? m_redirect + "/?" : std::string()})
        if (!prefix.empty() && line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
      m_ctx.notice("tokenctl: that is not the address of this login; paste the whole address, starting with " +
                   m_redirect + "?");
    }
    return std::nullopt;
  }
  [[nodiscard]] bool eof() const { return m_eof; }

private:
  Context& m_ctx;
  std::string m_redirect;
  bool m_bare;
  std::string m_buffer;
  bool m_eof = false;
};

} // namespace

CallbackWait::CallbackWait(Context& ctx, const ClientSettings& client, std::string redirect, CallbackExpectation expect,
                           std::string authorization_url, std::string start_secret, Seconds timeout)
    : m_ctx(ctx), m_redirect(std::move(redirect)),
      m_callback_path(client.redirect_path.empty() ? "/" : client.redirect_path),
      m_bare_redirect(client.redirect_path.empty()), m_expect(std::move(expect)),
      m_authorization_url(std::move(authorization_url)), m_start_path("/start/" + start_secret),
      m_deadline(std::chrono::steady_clock::now() + timeout), m_timeout(timeout) {
  m_timeout_message = "no answer from the browser within " + format_duration(timeout) + "; run tokenctl login again";
}

std::string CallbackWait::start_url(int port) const {
  return "http://127.0.0.1:" + std::to_string(port) + m_start_path;
}

net::CallbackReply CallbackWait::on_request(std::string_view path, std::string_view query) {
  if (path == m_start_path) {
    if (!m_started) {
      m_started = true;
      return net::CallbackReply{302, status_page(302, "Found"), false, m_authorization_url};
    }
    m_raced = true; // someone else has this address too: end the login (see the header)
    return net::CallbackReply{410, error_page("address_reused", "This sign-in address was already used."), true};
  }
  if (path != m_callback_path) return net::CallbackReply{404, status_page(404, "Not Found"), false};
  CallbackResult checked = check_callback(query, m_expect);
  if (checked.kind == CallbackResult::Kind::foreign) {
    ignore_foreign("a callback", false);
    return net::CallbackReply{400, error_page(checked.error, "This is not the sign-in tokenctl is waiting for."),
                              false};
  }
  m_result = std::move(checked);
  m_answered = true;
  if (m_result.kind == CallbackResult::Kind::code) return net::CallbackReply{200, success_page(), true};
  return net::CallbackReply{400, error_page(m_result.error, m_result.error_description), true};
}

bool CallbackWait::on_pasted(std::string_view query) {
  CallbackResult checked = check_callback(query, m_expect);
  if (checked.kind == CallbackResult::Kind::foreign) {
    ignore_foreign("a pasted address", true); // someone is typing: say it every time
    return false;
  }
  m_result = std::move(checked);
  m_answered = true;
  return true;
}

// Anyone on this machine can send the listener a request, so one without this login's state must
// not end the login: it is answered 400, reported, and the login goes on waiting.
void CallbackWait::ignore_foreign(const char* what, bool every_time) {
  if (m_ignored++ == 0 || every_time) {
    if (m_countdown != nullptr) m_countdown->clear();
    m_ctx.warn(std::string("ignored ") + what +
               " whose state does not match this login (a forged or stale "
               "redirect); still waiting for the browser");
    if (m_countdown != nullptr) (void)m_countdown->tick(std::chrono::steady_clock::now());
  }
  m_timeout_message = "no answer from the browser within " + format_duration(m_timeout) + " (" +
                      std::to_string(m_ignored) + " callback" + (m_ignored == 1 ? "" : "s") +
                      " for another login ignored); run tokenctl login again";
}

std::string CallbackWait::code(net::LoopbackListener& listener, bool paste) {
  const net::CallbackHandler handler = [this](std::string_view path, std::string_view query) {
    return on_request(path, query);
  };
  if (paste) {
    m_ctx.notice("If the browser is on another machine, sign in there, then paste here the address it was sent to");
    m_ctx.notice("(it starts with " + m_redirect + "?) and press Enter.");
    PasteReader reader(m_ctx, m_redirect, m_bare_redirect);
    net::FdWatch watch;
    watch.fd = STDIN_FILENO;
    watch.on_readable = [&] {
      const auto query = reader.read();
      return query ? on_pasted(*query) : reader.eof();
    };
    listener.serve(m_deadline, m_timeout_message, handler, watch);
  }
  // Without --no-browser, or once standard input has ended: the browser may still come.
  if (!m_answered && !m_raced) {
    Countdown countdown(m_ctx, "Waiting for the browser", m_deadline);
    struct Showing {
      CallbackWait& wait;
      ~Showing() { wait.m_countdown = nullptr; }
    } showing{*this};
    net::Ticker ticker;
    if (countdown.active()) {
      m_countdown = &countdown;
      ticker = [&countdown](std::chrono::steady_clock::time_point now) { return countdown.tick(now); };
    }
    listener.serve(m_deadline, m_timeout_message, handler, {}, ticker);
  }
  return outcome();
}

std::string CallbackWait::outcome() const {
  if (m_raced)
    throw Error(ErrorKind::failure,
                "the one-time sign-in address was opened twice: another program on this machine may be trying to "
                "take over this login, so it was stopped",
                "run tokenctl login again; if this repeats, check who else can read your processes' arguments");
  if (m_result.kind == CallbackResult::Kind::denied) {
    std::string message = "the authorization server refused the login: " + m_result.error;
    if (!m_result.error_description.empty()) message += ": " + m_result.error_description;
    throw Error(ErrorKind::failure, message);
  }
  if (m_result.kind == CallbackResult::Kind::rejected)
    throw Error(ErrorKind::failure, "login refused: " + m_result.error, "run tokenctl login again");
  return m_result.code;
}

} // namespace tokenctl::cli
