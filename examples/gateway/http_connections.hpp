#pragma once
/// @file
/// Which connections the HTTP server keeps when it is full: the admission policy.
///
/// Every open connection is in one of three states: `head` (waiting for, or reading, a
/// request head), `idle` (kept alive between requests, no byte of the next one yet) or
/// `busy` (reading a body, running the handler, writing the answer). A new connection is
/// admitted when its address has fewer than `max_per_ip` connections and the server fewer
/// than `max_connections`. When one of the two limits is reached, one connection (of that
/// address, or of any address) is reclaimed to make room, in this order:
///   1. the longest-idle keep-alive connection;
///   2. the oldest connection whose head has been incomplete for at least `slow_head`
///      (a slowloris, or a flood connection that sent nothing);
/// and when there is none of either, the newcomer is refused (closed at once).
/// Busy connections, and heads younger than `slow_head`, are never reclaimed.
///
/// Single-threaded: the server runs on one io_context thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace gateway::http {

/// Connection counters of one listener (exposed in /metrics).
struct connection_stats {
  std::uint64_t accepted = 0;             ///< connections admitted
  std::uint64_t refused_per_ip = 0;       ///< closed at once: the address had max_per_ip connections
  std::uint64_t refused_global = 0;       ///< closed at once: max_connections, nothing to reclaim
  std::uint64_t reclaimed_idle = 0;       ///< idle keep-alive connections closed to admit another
  std::uint64_t reclaimed_slow_head = 0;  ///< slow heads closed to admit another
  std::uint64_t reclaimed_drain = 0;      ///< idle or request-less connections closed by a drain
  std::uint64_t head_timeouts = 0;        ///< head not complete within the header deadline
  std::uint64_t body_timeouts = 0;        ///< body not received (or answer not sent) within the body deadline
  std::uint64_t idle_timeouts = 0;        ///< keep-alive connections closed after the idle limit
};

/// The open connections of one listener and the admission policy above.
class connection_table {
 public:
  using clock = std::chrono::steady_clock;
  enum class state { head, idle, busy };
  enum class verdict { admitted, refused_per_ip, refused_global };

  /// One connection; owned by its session, registered here while it is open.
  struct entry {
    std::string ip;
    state st = state::head;
    clock::time_point since{};     ///< when it entered its state
    bool has_bytes = false;        ///< part of a request was received (drain keeps it)
    bool reclaimed = false;        ///< closed by the table: the session must end
    std::function<void()> cancel;  ///< cancels the session's socket operations
    bool listed = false;
    std::list<entry*>::iterator pos{};
  };

  connection_table(std::size_t max_connections, std::size_t max_per_ip, std::chrono::milliseconds slow_head)
      : max_(max_connections), max_per_ip_(max_per_ip), slow_head_(slow_head) {}

  /// Admits `e` (its `ip` set) in state `head`, reclaiming another connection if needed.
  verdict admit(entry& e, clock::time_point now) {
    if (count_of(e.ip) >= max_per_ip_ && !reclaim_one(&e.ip, now)) {
      ++stats_.refused_per_ip;
      return verdict::refused_per_ip;
    }
    if (open_ >= max_ && !reclaim_one(nullptr, now)) {
      ++stats_.refused_global;
      return verdict::refused_global;
    }
    ++open_;
    ++per_ip_[e.ip];
    e.st = state::head;
    e.since = now;
    e.has_bytes = false;
    e.listed = true;
    e.pos = heads_.insert(heads_.end(), &e);
    ++stats_.accepted;
    return verdict::admitted;
  }

  /// `e` now waits for (or reads) a request head; its head deadline starts `now`.
  void to_head(entry& e, clock::time_point now, bool has_bytes) { move(e, state::head, now, has_bytes); }
  /// `e` is kept alive, waiting for the next request.
  void to_idle(entry& e, clock::time_point now) { move(e, state::idle, now, false); }
  /// `e` has a request in progress past its head.
  void to_busy(entry& e, clock::time_point now) { move(e, state::busy, now, true); }
  /// The first bytes of the request on a fresh connection arrived (state stays `head`).
  void got_bytes(entry& e) { e.has_bytes = true; }

  /// Unregisters `e` (no-op if it was reclaimed).
  void remove(entry& e) {
    if (!e.listed) return;
    list_of(e.st).erase(e.pos);
    e.listed = false;
    --open_;
    if (auto it = per_ip_.find(e.ip); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  }

  /// Drain: closes every connection without a request in progress (idle, or no byte of a
  /// request yet). Returns how many.
  std::size_t reclaim_unstarted() {
    std::size_t n = 0;
    for (auto* list : {&idle_, &heads_})
      for (auto it = list->begin(); it != list->end();) {
        entry* e = *it++;
        if (e->st == state::idle || !e->has_bytes) {
          reclaim(*e);
          ++n;
        }
      }
    stats_.reclaimed_drain += n;
    return n;
  }

  /// Closes every connection (end of a drain that timed out). Returns how many.
  std::size_t reclaim_all() {
    std::size_t n = 0;
    for (auto* list : {&idle_, &heads_, &busy_})
      while (!list->empty()) {
        reclaim(*list->front());
        ++n;
      }
    return n;
  }

  std::size_t open() const noexcept { return open_; }
  /// Connections in state `busy` (requests in progress past their head).
  std::size_t busy() const noexcept { return busy_.size(); }
  connection_stats& stats() noexcept { return stats_; }
  const connection_stats& stats() const noexcept { return stats_; }

 private:
  std::list<entry*>& list_of(state s) { return s == state::head ? heads_ : s == state::idle ? idle_ : busy_; }

  std::size_t count_of(const std::string& ip) const {
    auto it = per_ip_.find(ip);
    return it == per_ip_.end() ? 0 : it->second;
  }

  void move(entry& e, state to, clock::time_point now, bool has_bytes) {
    e.has_bytes = has_bytes;
    if (!e.listed) return;
    auto& from = list_of(e.st);
    auto& dest = list_of(to);
    dest.splice(dest.end(), from, e.pos);  // the iterator stays valid, now in `dest`
    e.st = to;
    e.since = now;
  }

  void reclaim(entry& e) {
    remove(e);
    e.reclaimed = true;
    if (e.cancel) e.cancel();
  }

  // Reclaims the longest-idle connection, else the oldest slow head (of `ip` when given).
  bool reclaim_one(const std::string* ip, clock::time_point now) {
    for (entry* e : idle_)
      if (!ip || e->ip == *ip) {
        reclaim(*e);
        ++stats_.reclaimed_idle;
        return true;
      }
    for (entry* e : heads_) {  // ordered by `since`: stop at the first young one
      if (now - e->since < slow_head_) break;
      if (!ip || e->ip == *ip) {
        reclaim(*e);
        ++stats_.reclaimed_slow_head;
        return true;
      }
    }
    return false;
  }

  std::size_t max_, max_per_ip_;
  std::chrono::milliseconds slow_head_;
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::list<entry*> heads_, idle_, busy_;
  connection_stats stats_;
};

}  // namespace gateway::http
