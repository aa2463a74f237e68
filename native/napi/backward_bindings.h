// Registration of the backward (training) entry points (native/napi/backward.cc).
#pragma once
#include <napi.h>

namespace resnode::napi {

// Adds conv2dBackwardSync, batchNormTrain{Forward,Backward}Sync, reluBackwardSync,
// maxPoolForwardArgmaxSync, maxPoolBackwardSync, globalAveragePoolBackwardSync,
// gemmBackwardSync and softmaxCrossEntropySync to exports.
void RegisterBackward(Napi::Env env, Napi::Object exports);

}  // namespace resnode::napi
