// The main of the `unit` program: doctest's, except that a run whose filters select no test case
// fails. CTest runs each case alone by its name (--test-case=NAME --source-file=*/FILE); a name
// that no longer selects its case (renamed, or cut at a ';' by CMake's list splitting) would
// otherwise run nothing and pass.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

bool g_ran = false;      // a test run (not a listing) ended
unsigned g_selected = 0; // test cases that passed the filters

// Notes how many test cases the filters selected; reports nothing.
struct SelectedCount : doctest::IReporter {
  explicit SelectedCount(const doctest::ContextOptions& /*options*/) {}
  void report_query(const doctest::QueryData& /*data*/) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    g_ran = true;
    g_selected = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData& /*data*/) override {}
  void test_case_reenter(const doctest::TestCaseData& /*data*/) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& /*stats*/) override {}
  void test_case_exception(const doctest::TestCaseException& /*e*/) override {}
  void subcase_start(const doctest::SubcaseSignature& /*signature*/) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& /*data*/) override {}
  void log_message(const doctest::MessageData& /*data*/) override {}
  void test_case_skipped(const doctest::TestCaseData& /*data*/) override {}
};

} // namespace

REGISTER_LISTENER("selected-count", 1, SelectedCount);

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  if (context.shouldExit() || status != 0 || !g_ran) return status;
  if (g_selected == 0) {
    std::fputs("unit: no test case matches the filters given (under CTest: a TEST_CASE name with a ';' is cut "
               "there when registered; write ' - ' instead)\n",
               stderr);
    return 1;
  }
  return status;
}
