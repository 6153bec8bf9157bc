// The command line: parses argv, runs one command, maps every error to an exit status.
#pragma once

namespace tokenctl::cli {

// Run tokenctl with these arguments and return the process exit status.
int run(int argc, char** argv);

} // namespace tokenctl::cli
