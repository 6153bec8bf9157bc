// Drawing a QR code's modules as half blocks (tokenctl/qr.hpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tokenctl/qr.hpp"

using namespace tokenctl;

namespace {

// A matrix from rows of '#' (dark) and '.' (light).
QrMatrix matrix(const std::vector<std::string>& rows) {
  QrMatrix m;
  m.size = static_cast<int>(rows.size());
  for (const auto& row : rows) {
    REQUIRE(row.size() == rows.size());
    for (char c : row) m.dark.push_back(c == '#');
  }
  return m;
}

// Back from a plain drawing to its rows, '#' for ink (a light module): two rows per line.
std::vector<std::string> undraw(const std::vector<std::string>& lines) {
  std::vector<std::string> rows;
  for (const auto& line : lines) {
    std::string top, bottom;
    for (std::size_t i = 0; i < line.size();) {
      const std::string cell = line[i] == ' ' ? " " : line.substr(i, 3);
      i += cell.size();
      top += cell == "\u2588" || cell == "\u2580" ? '#' : '.';
      bottom += cell == "\u2588" || cell == "\u2584" ? '#' : '.';
    }
    rows.push_back(top);
    rows.push_back(bottom);
  }
  return rows;
}

const std::string k_full_line = [] {
  std::string s;
  for (int i = 0; i < 11; ++i) s += "\u2588";
  return s;
}();

// 3 by 3, so that the drawing (with the quiet zone, 11 by 11) has an odd height.
const std::vector<std::string> k_small = {
    "#.#",
    ".#.",
    "###",
};

} // namespace

TEST_SUITE_BEGIN("core.qr");

TEST_CASE("the size of a drawing: the quiet zone of 4 on each side, two rows a line") {
  CHECK(qr_drawing_size(matrix(k_small)).columns == 11);
  CHECK(qr_drawing_size(matrix(k_small)).lines == 6);
  QrMatrix version1;
  version1.size = 21;
  version1.dark.assign(21 * 21, false);
  CHECK(qr_drawing_size(version1).columns == 29);
  CHECK(qr_drawing_size(version1).lines == 15);
  CHECK(qr_drawing_size(QrMatrix{}).columns == 0);
}

TEST_CASE("plain: exact lines of a known matrix, the light modules as ink, the odd last row over a light one") {
  const auto lines = draw_qr(matrix(k_small), QrStyle::plain, 80);
  const std::vector<std::string> expected = {
      k_full_line, k_full_line,
      // rows 0 and 1 of the matrix (#.# over .#.), in 4 columns of quiet zone each side
      "\u2588\u2588\u2588\u2588\u2584\u2580\u2584\u2588\u2588\u2588\u2588",
      // row 2 (###) over the quiet zone
      "\u2588\u2588\u2588\u2588\u2584\u2584\u2584\u2588\u2588\u2588\u2588", k_full_line,
      k_full_line, // the drawing's 11th row, over nothing (light)
  };
  CHECK(lines == expected);
}

TEST_CASE("colors8 and colors256: white on black around every line, then the colours reset") {
  const auto plain = draw_qr(matrix(k_small), QrStyle::plain, 80);
  const auto eight = draw_qr(matrix(k_small), QrStyle::colors8, 80);
  const auto cube = draw_qr(matrix(k_small), QrStyle::colors256, 80);
  REQUIRE(eight.size() == plain.size());
  REQUIRE(cube.size() == plain.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    CHECK(eight[i] == "\x1b[37;40m" + plain[i] + "\x1b[0m");
    CHECK(cube[i] == "\x1b[38;5;231;48;5;16m" + plain[i] + "\x1b[0m");
  }
}

TEST_CASE("the quiet zone: 4 light modules around the code, whatever its edge") {
  const QrMatrix all_dark = matrix({"###", "###", "###"});
  const auto rows = undraw(draw_qr(all_dark, QrStyle::plain, 80));
  REQUIRE(rows.size() == 12); // 11 rows drawn and the light one under the last
  for (std::size_t y = 0; y < 12; ++y) {
    for (std::size_t x = 0; x < 11; ++x) {
      const bool in_code = x >= 4 && x < 7 && y >= 4 && y < 7;
      CHECK_MESSAGE((rows[y][x] == '#') == !in_code, "x=" << x << " y=" << y);
    }
  }
}

TEST_CASE("width fitting: drawn when it fits exactly, nothing when one column short") {
  const QrMatrix m = matrix(k_small);
  CHECK(draw_qr(m, QrStyle::colors256, 11).size() == 6);
  CHECK(draw_qr(m, QrStyle::colors256, 10).empty());
  CHECK(draw_qr(m, QrStyle::plain, 0).empty());
  CHECK(draw_qr(m, QrStyle::plain, -1).empty());
  // Each line is exactly as wide as said: one character per module column.
  for (const auto& line : draw_qr(m, QrStyle::plain, 11)) {
    std::size_t characters = 0;
    for (unsigned char c : line) characters += (c & 0xC0) != 0x80 ? 1 : 0;
    CHECK(characters == 11);
  }
}

TEST_CASE("height fitting: nothing when there are fewer lines than it needs, 0 lines meaning not known") {
  const QrMatrix m = matrix(k_small);
  CHECK(draw_qr(m, QrStyle::colors8, 80, 6).size() == 6);
  CHECK(draw_qr(m, QrStyle::colors8, 80, 5).empty());
  CHECK(draw_qr(m, QrStyle::colors8, 80, 0).size() == 6);
}

TEST_CASE("even and odd sizes round trip through the drawing") {
  for (int size : {1, 2, 4, 21, 25}) {
    QrMatrix m;
    m.size = size;
    for (int i = 0; i < size * size; ++i) m.dark.push_back((i * 7 + i / size) % 3 == 0);
    const auto lines = draw_qr(m, QrStyle::plain, 200);
    REQUIRE(lines.size() == static_cast<std::size_t>(qr_drawing_size(m).lines));
    const auto rows = undraw(lines);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        CHECK((rows[static_cast<std::size_t>(y + 4)][static_cast<std::size_t>(x + 4)] == '#') == !m.at(x, y));
  }
}

TEST_CASE("an empty or inconsistent matrix draws nothing") {
  CHECK(draw_qr(QrMatrix{}, QrStyle::colors256, 80).empty());
  QrMatrix short_data;
  short_data.size = 3;
  short_data.dark.assign(8, true);
  CHECK(draw_qr(short_data, QrStyle::colors256, 80).empty());
}

TEST_CASE("qr_style_for: plain without colours, the 256-colour cube where the terminal has it") {
  CHECK(qr_style_for("xterm-256color", "", false) == QrStyle::colors256);
  CHECK(qr_style_for("tmux-256color", "", false) == QrStyle::colors256);
  CHECK(qr_style_for("xterm-kitty", "truecolor", false) == QrStyle::colors256);
  CHECK(qr_style_for("alacritty", "24bit", false) == QrStyle::colors256);
  CHECK(qr_style_for("xterm", "", false) == QrStyle::colors8);
  CHECK(qr_style_for("linux", "", false) == QrStyle::colors8);
  CHECK(qr_style_for("vt100", "yes", false) == QrStyle::colors8);
  CHECK(qr_style_for("xterm-256color", "truecolor", true) == QrStyle::plain); // NO_COLOR
  CHECK(qr_style_for("dumb", "", false) == QrStyle::plain);
  CHECK(qr_style_for("", "truecolor", false) == QrStyle::plain);
}

TEST_SUITE_END();
