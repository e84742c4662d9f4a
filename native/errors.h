// Errors cross into JavaScript as Error objects whose `code` is the errno name and whose message names the fix.
#pragma once
#include <napi.h>
#include <string>

namespace tapswitch {

// Throws a JS Error with .code (errno name), .errno, .syscall and a message that says what to do.
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& subject);

// Builds the message ThrowErrno would use; exposed for paths that report rather than throw.
std::string DescribeErrno(int err, const char* syscall, const std::string& subject);

const char* ErrnoName(int err);

[[noreturn]] void ThrowUsage(Napi::Env env, const std::string& message);

}  // namespace tapswitch
