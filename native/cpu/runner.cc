#include "runner.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace resnode::cpu {
namespace {

// One runner: a thread that waits for a function, runs it, and reports back.
struct Runner {
  std::mutex mu;
  std::condition_variable cv;
  const std::function<void()>* fn = nullptr;  // set by the caller, cleared when done
  bool done = false;
  std::exception_ptr error;

  void loop() {
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return fn != nullptr; });
      const std::function<void()>* f = fn;
      lk.unlock();
      std::exception_ptr e;
      try {
        (*f)();
      } catch (...) {
        e = std::current_exception();
      }
      lk.lock();
      error = e;
      fn = nullptr;
      done = true;
      cv.notify_all();
    }
  }
};

class Runners {
 public:
  static Runners& instance() {
    // Never destroyed: runners sleep in their loop at process exit (the addon is linked with
    // -z nodelete, as for the thread pool's workers).
    static Runners* r = new Runners();
    return *r;
  }

  void run(const std::function<void()>& fn) {
    Runner* r = take();
    {
      std::unique_lock<std::mutex> lk(r->mu);
      r->done = false;
      r->fn = &fn;
      r->cv.notify_all();
      r->cv.wait(lk, [&] { return r->done; });
    }
    const std::exception_ptr e = r->error;
    r->error = nullptr;
    give_back(r);
    if (e) std::rethrow_exception(e);
  }

  int count() {
    std::lock_guard<std::mutex> lk(mu_);
    return int(all_.size());
  }

 private:
  Runner* take() {
    std::lock_guard<std::mutex> lk(mu_);
    if (!idle_.empty()) {
      Runner* r = idle_.back();  // the most recently used: its caches and its core are warm
      idle_.pop_back();
      return r;
    }
    auto* r = new Runner();
    all_.push_back(r);
    std::thread([r] { r->loop(); }).detach();
    return r;
  }

  void give_back(Runner* r) {
    std::lock_guard<std::mutex> lk(mu_);
    idle_.push_back(r);
  }

  std::mutex mu_;
  std::vector<Runner*> idle_;  // a stack: last given back, first taken
  std::vector<Runner*> all_;
};

}  // namespace

void run_on_runner(const std::function<void()>& fn) { Runners::instance().run(fn); }

int runner_count() { return Runners::instance().count(); }

}  // namespace resnode::cpu
