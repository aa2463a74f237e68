// The one-line checks of the standalone C++ harnesses (threadpool_test,
// split_test): each prints "ok: ..." or "FAIL: ...", and main returns
// check_failures() ? 1 : 0.
#pragma once
#include <cstdio>

namespace resnode::cpu::testing {

inline int& check_failures() {
  static int failures = 0;
  return failures;
}

inline void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) ++check_failures();
}

}  // namespace resnode::cpu::testing
