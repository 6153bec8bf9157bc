// The .netrc parser, read the way curl 7.84 to 8.10 reads it (Debian 12 ships 7.88.1).
//
// Tokens are separated by blanks and newlines; a token starting with '"' is a quoted string
// (\n, \r, \t and \X escapes) that must end on its line; an unquoted token starting with '#'
// makes the rest of its line a comment; keywords are case-insensitive. `macdef NAME` skips
// the following lines up to an empty one. Entries are read as keyword and value pairs.
//
// Why "problems": the merger keeps bytes it does not own, but it must know where our entry
// starts and ends, and the readers of the file (curl 7.x, curl 8.11+, Python, wget) must see
// the same entries before and after. Wherever they would disagree (a comment where a value
// should be, a value that is a keyword, a macro body line of only blanks), or where curl
// fails (an unterminated quoted string), the text gets a problem and the merger refuses it.
#include "tokenctl/netrc.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_entry_keyword(std::string_view word) {
  return iequals(word, "machine") || iequals(word, "default") || iequals(word, "macdef");
}

enum class TokenKind { end, word, comment };

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t begin = 0; // raw bytes, quotes included
  std::size_t end = 0;
  std::size_t line = 0;
  std::size_t line_start = 0; // offset of the start of the token's line
  bool at_line_start = false; // only blanks precede it on its line
  std::string value;          // unquoted and unescaped
};

// Splits the text into tokens, counting lines; also skips macro lines for the parser.
class Lexer {
public:
  explicit Lexer(std::string_view text) : m_text(text) {}

  // Return the next word or comment token, or an end token; sets `problem` on a bad quoted string.
  Token next(std::optional<NetrcProblem>& problem) {
    while (m_pos < m_text.size() && is_space(m_text[m_pos])) step();
    Token token;
    token.begin = m_pos;
    token.line = m_line;
    token.line_start = m_line_start;
    if (m_pos >= m_text.size()) return token;
    token.at_line_start = true;
    for (std::size_t i = m_line_start; i < m_pos; ++i)
      if (!is_space(m_text[i])) token.at_line_start = false;
    if (m_text[m_pos] == '#') {
      token.kind = TokenKind::comment;
      while (m_pos < m_text.size() && m_text[m_pos] != '\n') step();
    } else if (m_text[m_pos] == '"') {
      token.kind = TokenKind::word;
      read_quoted(token, problem);
    } else {
      token.kind = TokenKind::word;
      while (m_pos < m_text.size() && !is_space(m_text[m_pos])) token.value += m_text[step()];
    }
    token.end = m_pos;
    return token;
  }

  // Return the first word after a `macdef` keyword on its line, and move to the next line.
  std::string read_macro_name() {
    while (m_pos < m_text.size() && is_blank(m_text[m_pos])) step();
    std::string name;
    while (m_pos < m_text.size() && !is_space(m_text[m_pos])) name += m_text[step()];
    while (m_pos < m_text.size() && m_text[m_pos] != '\n') step();
    if (m_pos < m_text.size()) step();
    return name;
  }

  // Skip a macro body up to and including its empty line; return whether one closed it.
  bool skip_macro_body(std::optional<NetrcProblem>& problem) {
    while (m_pos < m_text.size()) {
      const std::size_t start = m_pos;
      const std::size_t line = m_line;
      while (m_pos < m_text.size() && m_text[m_pos] != '\n') step();
      const std::string_view content = m_text.substr(start, m_pos - start);
      if (m_pos < m_text.size()) step();
      if (content.empty() || content == "\r") return true;
      bool only_spaces = true;
      for (char c : content) only_spaces = only_spaces && is_space(c);
      if (only_spaces || content.front() == '\r') {
        problem = NetrcProblem{line, "a macdef body line holds only blanks (or starts with a carriage return): "
                                     "curl versions and Python disagree on where the macro ends"};
        return false;
      }
    }
    return false;
  }

  // Return the offset just past the newline of the line holding `offset` (or the text's end).
  [[nodiscard]] std::size_t line_end(std::size_t offset) const {
    const std::size_t newline = m_text.find('\n', offset);
    return newline == std::string_view::npos ? m_text.size() : newline + 1;
  }

  [[nodiscard]] std::size_t position() const { return m_pos; }

private:
  std::size_t step() {
    if (m_text[m_pos] == '\n') {
      ++m_line;
      m_line_start = m_pos + 1;
    }
    return m_pos++;
  }

  void read_quoted(Token& token, std::optional<NetrcProblem>& problem) {
    step();
    bool escape = false;
    bool closed = false;
    while (m_pos < m_text.size() && m_text[m_pos] != '\n') {
      char c = m_text[step()];
      if (escape) {
        escape = false;
        c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
      } else if (c == '\\') {
        escape = true;
        continue;
      } else if (c == '"') {
        closed = true;
        break;
      }
      token.value += c;
    }
    if (!closed)
      problem = NetrcProblem{token.line, "unterminated quoted string"};
    else if (m_pos < m_text.size() && !is_space(m_text[m_pos]))
      problem = NetrcProblem{token.line, "a quoted string is followed by other characters without a blank"};
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  std::size_t m_line = 1;
  std::size_t m_line_start = 0;
};

class Parser {
public:
  explicit Parser(std::string_view text) : m_text(text), m_lexer(text) {}

  NetrcFile run() {
    const std::size_t newline = m_text.find('\n');
    m_file.crlf = newline != std::string_view::npos && newline > 0 && m_text[newline - 1] == '\r';
    // A carriage return that does not end a line makes the line endings ambiguous: rewriting such a
    // file could change how curl splits it (fuzz finding), so it is reported and left alone.
    for (std::size_t i = 0, line = 1; i < m_text.size(); ++i) {
      if (m_text[i] == '\n') ++line;
      if (m_text[i] == '\r' && (i + 1 == m_text.size() || m_text[i + 1] != '\n')) {
        m_file.problem = NetrcProblem{line, "a carriage return that does not end a line"};
        return m_file;
      }
    }
    while (!m_file.problem) {
      const Token token = m_lexer.next(m_file.problem);
      if (m_file.problem) break;
      if (token.kind == TokenKind::end) {
        close_entry(nullptr);
        break;
      }
      if (token.kind == TokenKind::comment) continue;
      if (is_entry_keyword(token.value)) {
        close_entry(&token);
        if (iequals(token.value, "macdef"))
          read_macdef(token);
        else
          open_entry(token);
      } else if (m_open && (iequals(token.value, "login") || iequals(token.value, "password") ||
                            iequals(token.value, "account"))) {
        read_pair(token);
      } else if (m_open) {
        m_last = token; // unknown keyword: curl skips it, it stays in the entry
      }
    }
    return std::move(m_file);
  }

private:
  [[nodiscard]] std::size_t block_begin(const Token& keyword) const {
    return keyword.at_line_start ? keyword.line_start : keyword.begin;
  }

  // Return the start of the comment lines directly above `begin`, not reaching back before `floor`.
  [[nodiscard]] std::size_t comments_above(std::size_t begin, std::size_t floor) const {
    std::size_t result = begin;
    while (result > floor && m_text[result - 1] == '\n') {
      const std::size_t previous_newline = result >= 2 ? m_text.rfind('\n', result - 2) : std::string_view::npos;
      const std::size_t start = previous_newline == std::string_view::npos ? 0 : previous_newline + 1;
      if (start < floor) break;
      std::size_t first = start;
      while (first < result - 1 && is_blank(m_text[first])) ++first;
      if (first >= result - 1 || m_text[first] != '#') break;
      result = start;
    }
    return result;
  }

  NetrcBlock start_block(NetrcBlockKind kind, const Token& keyword) const {
    NetrcBlock block;
    block.kind = kind;
    block.line = keyword.line;
    block.begin = block_begin(keyword);
    const std::size_t floor = m_file.blocks.empty() ? 0 : m_file.blocks.back().end;
    block.comment_begin = keyword.at_line_start ? comments_above(block.begin, floor) : block.begin;
    return block;
  }

  void open_entry(const Token& keyword) {
    const bool machine = iequals(keyword.value, "machine");
    m_open = start_block(machine ? NetrcBlockKind::machine : NetrcBlockKind::default_entry, keyword);
    m_last = keyword;
    if (!machine) return;
    const Token name = m_lexer.next(m_file.problem);
    if (m_file.problem) return;
    if (name.kind == TokenKind::end)
      m_file.problem = NetrcProblem{keyword.line, "'machine' without a host name"};
    else if (name.kind == TokenKind::comment)
      m_file.problem = NetrcProblem{name.line, "a comment where the host name after 'machine' should be"};
    else {
      m_open->name = name.value;
      m_last = name;
    }
  }

  void read_pair(const Token& key) {
    std::string keyword(key.value);
    for (char& c : keyword) c = ascii_lower(c);
    const Token value = m_lexer.next(m_file.problem);
    if (m_file.problem) return;
    if (value.kind == TokenKind::end) {
      m_file.problem = NetrcProblem{key.line, "'" + keyword + "' without a value"};
      return;
    }
    if (value.kind == TokenKind::comment) {
      m_file.problem = NetrcProblem{value.line, "a comment where the value of '" + keyword + "' should be"};
      return;
    }
    if (is_entry_keyword(value.value)) {
      std::string found(value.value);
      for (char& c : found) c = ascii_lower(c);
      m_file.problem = NetrcProblem{value.line, "'" + keyword + "' is followed by the keyword '" + found + "'"};
      return;
    }
    if (keyword == "login" && !m_open->has_login) {
      m_open->login = value.value;
      m_open->has_login = true;
    } else if (keyword == "password" && !m_open->has_password) {
      m_open->password = value.value;
      m_open->has_password = true;
    }
    m_last = value;
  }

  // End the open entry before `next` (a keyword), or at the end of the text when it is null.
  void close_entry(const Token* next) {
    if (!m_open) return;
    m_open->end = next != nullptr && next->line == m_last.line ? next->begin : m_lexer.line_end(m_last.end);
    m_file.blocks.push_back(std::move(*m_open));
    m_open.reset();
  }

  void read_macdef(const Token& keyword) {
    NetrcBlock block = start_block(NetrcBlockKind::macdef, keyword);
    block.name = m_lexer.read_macro_name();
    block.terminated = m_lexer.skip_macro_body(m_file.problem);
    block.end = m_lexer.position();
    if (!m_file.problem) m_file.blocks.push_back(std::move(block));
  }

  std::string_view m_text;
  Lexer m_lexer;
  NetrcFile m_file;
  std::optional<NetrcBlock> m_open;
  Token m_last; // the open entry's last token so far
};

} // namespace

NetrcFile parse_netrc(std::string_view text) {
  const std::size_t nul = text.find('\0');
  NetrcFile file = Parser(text.substr(0, nul)).run();
  if (nul != std::string_view::npos && !file.problem) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < nul; ++i) line += text[i] == '\n' ? 1 : 0;
    file.problem = NetrcProblem{line, "a NUL byte"};
  }
  return file;
}

} // namespace tokenctl
