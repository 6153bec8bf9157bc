#include "tokenctl/qr.hpp"

namespace tokenctl {
namespace {

constexpr const char* k_upper = "\u2580"; // ▀
constexpr const char* k_lower = "\u2584"; // ▄
constexpr const char* k_full = "\u2588";  // █
constexpr const char* k_white_on_black_8 = "\x1b[37;40m";
constexpr const char* k_white_on_black_256 = "\x1b[38;5;231;48;5;16m";
constexpr const char* k_reset = "\x1b[0m";

// The character for a top and a bottom module, each true when it is drawn as ink.
const char* cell(bool top, bool bottom) {
  if (top && bottom) return k_full;
  if (top) return k_upper;
  if (bottom) return k_lower;
  return " ";
}

} // namespace

QrStyle qr_style_for(std::string_view term, std::string_view colorterm, bool no_color) {
  if (no_color || term.empty() || term == "dumb") return QrStyle::plain;
  if (term.find("256color") != std::string_view::npos || colorterm == "truecolor" || colorterm == "24bit")
    return QrStyle::colors256;
  return QrStyle::colors8;
}

QrDrawingSize qr_drawing_size(const QrMatrix& m) {
  if (m.size <= 0) return {};
  const int side = m.size + 2 * k_qr_quiet_zone;
  return {side, (side + 1) / 2};
}

std::vector<std::string> draw_qr(const QrMatrix& m, QrStyle style, int columns, int lines) {
  if (m.size <= 0 || m.dark.size() != static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size)) return {};
  const QrDrawingSize need = qr_drawing_size(m);
  if (need.columns > columns || (lines > 0 && need.lines > lines)) return {};
  const int side = need.columns;
  const int origin = -k_qr_quiet_zone; // drawing coordinates start in the quiet zone
  // The ink is the light modules (see QrStyle). Outside the matrix is light: the quiet zone, and
  // the row under an odd last row.
  const auto ink = [&](int x, int y) { return !m.at(origin + x, origin + y); };
  const char* colors = style == QrStyle::colors8     ? k_white_on_black_8
                       : style == QrStyle::colors256 ? k_white_on_black_256
                                                     : "";
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(need.lines));
  for (int y = 0; y < side; y += 2) {
    std::string line = colors;
    for (int x = 0; x < side; ++x) line += cell(ink(x, y), ink(x, y + 1));
    if (style != QrStyle::plain) line += k_reset;
    out.push_back(std::move(line));
  }
  return out;
}

} // namespace tokenctl
