// Work done inside a network namespace on a short-lived thread: setns(CLONE_NEWNET) changes only the
// calling thread, and what that thread opens (a socket, a TAP queue) keeps the namespace for life.
#pragma once
#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <thread>

#include "fd.h"

namespace tapswitch {

struct NamespaceError {
  int err = 0;
  const char* syscall = "";
};

// A namespace as `ip netns` names it lives under /run/netns; a path stays as it is.
inline std::string NamespacePath(const std::string& netns) {
  return netns.find('/') == std::string::npos ? "/run/netns/" + netns : netns;
}

// Runs body() on a thread that entered the namespace at `path`; returns why it could not get there.
template <typename Body>
NamespaceError RunInNamespace(const std::string& path, Body body) {
  NamespaceError failure;
  auto enter = [&]() {
    Fd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) {
      failure = {errno, "open netns"};
      return;
    }
    if (setns(ns.get(), CLONE_NEWNET) < 0) {
      failure = {errno, "setns"};
      return;
    }
    body();
  };
  try {
    std::thread worker(enter);
    worker.join();
  } catch (const std::system_error& e) {
    failure = {e.code().value(), "std::thread"};
  }
  return failure;
}

}  // namespace tapswitch
