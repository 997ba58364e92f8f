#pragma once
/// @file process.hpp
/// A child process started with fork/exec, owned RAII-style.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace redis_ha::test {

/// How to start a child_process.
struct spawn_options {
  /// When non-empty, the child's stdout and stderr are appended to this file (stdin is
  /// /dev/null); otherwise the child inherits the parent's stdio.
  std::string output_path;
  /// Signal delivered to the child when the thread that spawned it exits (PR_SET_PDEATHSIG),
  /// so servers do not outlive a crashed or killed test. 0 disables it. Spawn from a
  /// long-lived thread (e.g. the test's main thread).
  int parent_death_signal = SIGKILL;
};

/// A running (or finished) child process. Move-only; the destructor SIGKILLs and reaps a
/// child that is still running.
class child_process {
public:
  child_process() = default;

  /// Starts `argv[0]` (looked up in PATH) with arguments `argv`. Throws std::system_error
  /// when fork or exec fails.
  static child_process spawn(const std::vector<std::string>& argv, const spawn_options& options = {}) {
    if (argv.empty()) throw std::invalid_argument("child_process::spawn: empty argv");
    // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);

    int output_fd = -1;
    if (!options.output_path.empty()) {
      output_fd = ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (output_fd < 0)
        throw std::system_error(errno, std::generic_category(), "open " + options.output_path);
    }
    int exec_pipe[2];  // reports exec failure: closed by a successful exec (O_CLOEXEC)
    if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
      const int error = errno;
      if (output_fd >= 0) ::close(output_fd);
      throw std::system_error(error, std::generic_category(), "pipe2");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int error = errno;
      if (output_fd >= 0) ::close(output_fd);
      ::close(exec_pipe[0]);
      ::close(exec_pipe[1]);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      if (options.parent_death_signal != 0) {
        ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
        if (::getppid() != parent) ::_exit(127);
      }
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      struct sigaction default_action {};
      default_action.sa_handler = SIG_DFL;
      ::sigaction(SIGPIPE, &default_action, nullptr);
      if (output_fd >= 0) {
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
        ::dup2(output_fd, STDOUT_FILENO);
        ::dup2(output_fd, STDERR_FILENO);
      }
      ::execvp(args[0], args.data());
      const int error = errno;
      [[maybe_unused]] auto written = ::write(exec_pipe[1], &error, sizeof error);
      ::_exit(127);
    }
    if (output_fd >= 0) ::close(output_fd);
    ::close(exec_pipe[1]);
    int exec_error = 0;
    ssize_t n;
    do n = ::read(exec_pipe[0], &exec_error, sizeof exec_error);
    while (n < 0 && errno == EINTR);
    ::close(exec_pipe[0]);
    child_process child;
    child.pid_ = pid;
    if (n == sizeof exec_error) {
      child.wait();
      throw std::system_error(exec_error, std::generic_category(), "exec " + argv[0]);
    }
    return child;
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}
  child_process& operator=(child_process&& other) noexcept {
    if (this != &other) {
      kill();
      pid_ = std::exchange(other.pid_, -1);
      status_ = other.status_;
    }
    return *this;
  }
  ~child_process() { kill(); }

  /// Process id while the child has not been reaped, -1 otherwise.
  pid_t pid() const noexcept { return pid_; }

  /// True while the child has not exited (reaps it if it has).
  bool running() noexcept { return pid_ > 0 && !try_reap(); }

  /// Sends `sig` to a running child; no-op once it has been reaped.
  void signal(int sig) noexcept {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  /// Waits up to `timeout` for the child to exit; returns its exit code (see exit_code())
  /// or std::nullopt on timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!try_reap()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_code();
  }

  /// Blocks until the child exits; returns its exit code (see exit_code()).
  int wait() noexcept {
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, 0);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        status_ = r == pid_ ? status : 0;
        pid_ = -1;
      }
    }
    return exit_code();
  }

  /// SIGKILL (resuming a stopped child is not needed) and reap; no-op when not running.
  void kill() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait();
  }

  /// SIGTERM, then SIGKILL if the child has not exited after `grace`; reaps it.
  void terminate(std::chrono::milliseconds grace) noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);  // a stopped process only handles SIGTERM once continued
    if (!wait_for(grace)) kill();
  }

  /// Exit code of the reaped child: its exit status, or 128 + signal number if killed by a
  /// signal (shell convention). Meaningless while running.
  int exit_code() const noexcept {
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return 255;
  }

private:
  bool try_reap() noexcept {
    if (pid_ <= 0) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) return false;
    status_ = r == pid_ ? status : 0;
    pid_ = -1;
    return true;
  }

  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace redis_ha::test
