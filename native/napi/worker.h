// The async form of every op: a Napi::AsyncWorker whose Execute() runs pure C++
// on a copied baton (a plain struct of raw pointers and shapes) on the libuv
// pool, then resolves (or rejects) a Promise on the JS thread.
//
// The worker holds a Napi::Reference to every JS object the baton points into
// (the typed arrays and the packed handle), so none is collected during the
// run, and it copies the baton's inputs (Baton::OwnInputs, batons.h) before
// the run leaves the JS thread: detaching or mutating an input mid-run is
// harmless. The references are released on the JS thread when the worker is destroyed.
#pragma once
#include <napi.h>

#include <exception>
#include <string>
#include <initializer_list>
#include <utility>
#include <vector>

#include "../cpu/runner.h"
#include "batons.h"
#include "stats.h"

namespace resnode::napi {

// A baton's name in error messages: its kName (the CPU batons), or an overload
// found by argument-dependent lookup (the CUDA baton names its entry point).
template <typename Baton>
const char* BatonName(const Baton&) {
  return Baton::kName;
}

// How a worker runs its baton off the JS thread: on a runner thread (native/cpu/runner.h), which
// stays warm across a stream of runs where libuv's threads would take turns. An overload found
// by argument-dependent lookup may run a baton elsewhere (the CUDA baton runs on the libuv thread).
template <typename Baton>
void RunAsync(Baton& baton) {
  cpu::run_on_runner([&] { baton.Run(); });
}

template <typename Baton>
class OpWorker : public Napi::AsyncWorker {
 public:
  template <typename Values>
  OpWorker(Napi::Env env, Baton baton, const Values& keep)
      : Napi::AsyncWorker(env, "resnode:op"),
        baton_(std::move(baton)),
        deferred_(Napi::Promise::Deferred::New(env)) {
    for (const Napi::Value& v : keep)
      if (!v.IsEmpty() && (v.IsObject() || v.IsExternal()))
        refs_.push_back(Napi::Persistent(v));
    baton_.OwnInputs(copies_);
    counters().async_in_flight.fetch_add(1);
  }

  ~OpWorker() override { counters().async_in_flight.fetch_sub(1); }

  Napi::Promise GetPromise() const { return deferred_.Promise(); }

 protected:
  // Runs on a libuv thread: no N-API calls here.
  void Execute() override {
    try {
      RunAsync(baton_);
    } catch (const std::exception& e) {
      error_ = std::string("resnode: native ") + BatonName(baton_) + " failed: " + e.what();
    } catch (...) {
      error_ = std::string("resnode: native ") + BatonName(baton_) + " failed";
    }
  }

  // Back on the JS thread: settle the Promise. When a worker_thread is
  // terminated mid-run, this runs during its environment's teardown, where
  // every N-API call fails (and node-addon-api would throw from here, which
  // aborts the process); there is no one left to notify then, so failures
  // are swallowed. The worker then deletes itself, releasing the references.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::HandleScope scope(env);
      if (status == napi_cancelled)
        deferred_.Reject(Napi::Error::New(env, "resnode: native run cancelled").Value());
      else if (error_.empty())
        deferred_.Resolve(env.Undefined());
      else
        deferred_.Reject(Napi::Error::New(env, error_).Value());
    } catch (...) {
    }
    Destroy();
  }

 private:
  Baton baton_;
  std::string error_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
  InputCopies copies_;  // what the baton's inputs point into
};

// [async] Queues baton.Run() on the libuv pool; returns the Promise.
// `keep`: the JS values the baton points into (an initializer list or a vector).
template <typename Baton, typename Values>
Napi::Value QueueBaton(Napi::Env env, Baton baton, const Values& keep) {
  auto* w = new OpWorker<Baton>(env, std::move(baton), keep);
  Napi::Promise p = w->GetPromise();
  w->Queue();  // the worker deletes itself after OnOK/OnError
  return p;
}
template <typename Baton>
Napi::Value QueueBaton(Napi::Env env, Baton baton, std::initializer_list<Napi::Value> keep) {
  return QueueBaton<Baton, std::initializer_list<Napi::Value>>(env, std::move(baton), keep);
}

// [sync] Runs baton.Run() on the calling thread; a C++ exception becomes a JS Error.
template <typename Baton>
void RunBatonSync(Napi::Env env, Baton& baton) {
  try {
    baton.Run();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("resnode: native ") + BatonName(baton) +
                                    " failed: " + e.what());
  }
}

}  // namespace resnode::napi
