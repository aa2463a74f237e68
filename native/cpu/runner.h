// The threads that run async work (a model's plan, an op) in place of the libuv thread that
// picked it up. libuv hands queued work to its waiting threads in turn, so after an idle moment
// consecutive runs land on different threads, and each run's first layers pay for its thread's
// cold start (measured: after a 200 ms pause the first four runs of ResNet-18 int8 took 1.7x
// their steady time with libuv's 4 threads, and 1.1x with one). An idle runner is taken most
// recently used first, so a serial stream of runs keeps reusing one warm thread; concurrent
// runs get one runner each.
#pragma once
#include <functional>

namespace resnode::cpu {

// Runs fn on a runner thread and returns when it is done; what fn throws is rethrown here.
void run_on_runner(const std::function<void()>& fn);

// Runner threads started so far (for tests): at most the number of runs ever in flight at once.
int runner_count();

}  // namespace resnode::cpu
