// Drawing a QR code on a terminal with Unicode half blocks (login --device, for a phone): two
// modules per character row, so that the modules come out about square. Pure: a module matrix in,
// lines of text out; the encoding itself is libqrencode's (src/sys/qr_encode.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tokenctl {

// A QR code's modules, without its quiet zone: `size` by `size`, row by row, true for dark.
struct QrMatrix {
  int size = 0;
  std::vector<bool> dark;

  // Return whether the module at column `x`, row `y` is dark (false outside the matrix).
  [[nodiscard]] bool at(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size && dark[static_cast<std::size_t>(y * size + x)];
  }
};

// The light margin around the code that scanners need (ISO/IEC 18004: 4 modules).
inline constexpr int k_qr_quiet_zone = 4;

// How a QR code reaches the screen. A scanner wants dark modules on a light ground; a terminal's
// own colours may be either way round. The light modules (the quiet zone too) are always the ink
// (the blocks, in the foreground colour) and the dark ones the ground, as `qrencode -t UTF8` draws
// them: with the colours set, that is right on every theme; without, right on a dark theme, the
// more common one. The light modules as ink also survive a font whose blocks leave a thin gap
// between lines far better than the dark ones would (the gap, in the ground colour, then crosses
// light modules with dark lines, which scanners tolerate: tests/e2e/qr.test.mjs measures it).
enum class QrStyle {
  plain,     // no escape codes (NO_COLOR, TERM=dumb): the terminal's own colours
  colors8,   // white on black from the 8-colour palette (ESC[37;40m), each line reset (ESC[0m)
  colors256, // white on black from the 256-colour cube (ESC[38;5;231;48;5;16m), which themes leave
             // alone (some light themes swap palette colours 0 and 7), each line reset
};

// Return the style for a terminal described by TERM, COLORTERM ("" when unset) and whether
// NO_COLOR is set (and not empty): plain for NO_COLOR and for TERM unset or "dumb"; the
// 256-colour cube when TERM names 256 colours or COLORTERM says truecolor or 24bit; else colors8.
[[nodiscard]] QrStyle qr_style_for(std::string_view term, std::string_view colorterm, bool no_color);

// The size of a drawing of `m`: columns (one per module, the quiet zone included) and lines.
struct QrDrawingSize {
  int columns = 0;
  int lines = 0;
};
[[nodiscard]] QrDrawingSize qr_drawing_size(const QrMatrix& m);

// Draw `m` with its quiet zone as lines of text (without newlines): each character is two modules
// one above the other, as ' ', '▀', '▄' or '█' (UTF-8), the light ones as ink; an odd last row is
// paired with a light one.
// Return no lines when the drawing is wider than `columns` or has more lines than `lines` (0: the
// terminal's height is not known, any number of lines will do), or when `m` is empty.
[[nodiscard]] std::vector<std::string> draw_qr(const QrMatrix& m, QrStyle style, int columns, int lines = 0);

} // namespace tokenctl
