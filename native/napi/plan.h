// Plan handles (createPlan / runPlanSync / runPlan in plan.cc).
#pragma once
#include <napi.h>

namespace resnode::napi {

// [sync] If `v` is a plan handle of this addon, drops the plan now and returns
// true (idempotent); false for any other value.
bool ReleasePlan(Napi::Env env, const Napi::Value& v);

}  // namespace resnode::napi
